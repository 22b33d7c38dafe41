"""POST /v1/analyze?timeline=true&speakers=true: who spoke when and what each felt, and its 4xx."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from conftest import SR, encode  # noqa: E402
from conversation_helpers import talk  # noqa: E402
from emovox.server import Settings, create_app  # noqa: E402
from timeline_helpers import pitch_model  # noqa: E402


@pytest.fixture(scope="module")
def client():
    app = create_app(Settings(max_duration_s=30), model=pitch_model())
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def wav() -> bytes:
    return encode(talk("LHLH", 3.0)[0], SR, "wav")


def post(client, data: bytes, query: str, name: str = "talk.wav"):
    return client.post(f"/v1/analyze?{query}", files={"file": (name, data, "application/octet-stream")})


def test_segments_per_speaker_summaries_and_display(client, wav):
    r = post(client, wav, "timeline=true&speakers=true")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"file", "duration_s", "model", "window_s", "labels", "num_speakers", "segments",
                         "speakers", "summary", "display"}
    assert body["file"] == "talk.wav" and body["num_speakers"] == 2 and set(body["display"]) == {"happy", "sad"}
    assert [(s["speaker"], s["emotion"]) for s in body["segments"]] == [("S1", "sad"), ("S2", "happy")] * 2
    assert [(s["speaker"], s["dominant"]) for s in body["speakers"]] == [("S1", "sad"), ("S2", "happy")]
    assert body["summary"]["changes"] == 3
    one = post(client, wav, "timeline=true&speakers=true&num_speakers=1").json()
    assert {s["speaker"] for s in one["segments"]} == {"S1"} and one["num_speakers"] == 1
    plain = post(client, wav, "timeline=true").json()
    assert "speakers" not in plain and all("speaker" not in s for s in plain["segments"])


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("speakers=true", "needs timeline=true"),
        ("timeline=true&num_speakers=2", "only applies with speakers=true"),
        ("timeline=true&speakers=true&num_speakers=0", "greater than or equal to 1"),
        ("timeline=true&speakers=true&num_speakers=two", "valid integer"),
        ("timeline=true&speakers=maybe", "valid boolean"),
        ("timeline=true&speakers=true&transcribe=true", "does not take transcribe"),
        ("timeline=true&speakers=true&window_s=-1", "greater than 0"),
    ],
)
def test_bad_options_are_422(client, wav, query, detail):
    r = post(client, wav, query)
    assert r.status_code == 422 and detail in r.text


def test_bad_and_too_long_audio(client):
    r = post(client, b"this is text, not audio" * 20, "timeline=true&speakers=true", name="notes.wav")
    assert r.status_code == 415 and "notes.wav" in r.json()["detail"]
    r = post(client, b"", "timeline=true&speakers=true")
    assert r.status_code == 422
    long = encode(talk("LHLHLHLH", 5.0)[0], SR, "flac")
    r = post(client, long, "timeline=true&speakers=true")
    assert r.status_code == 413 and "30 s" in r.json()["detail"]
    assert client.get("/healthz").status_code == 200
