"""POST /v1/analyze?timeline=true: segments and a summary for an uploaded recording."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from conftest import SR, encode  # noqa: E402
from emovox.analysis.analyze import Analyzer  # noqa: E402
from emovox.server import Settings, create_app  # noqa: E402
from timeline_helpers import PitchBackend, layout, speech_truth  # noqa: E402

PARTS = [("silence", 1.0), ("high", 6.0), ("low", 6.0), ("silence", 2.0), ("low", 2.0), ("silence", 1.0)]


@pytest.fixture(scope="module")
def client():
    app = create_app(Settings(max_duration_s=30), model=Analyzer(PitchBackend(), features=False))
    with TestClient(app) as c:
        yield c


def post(client, data: bytes, query: str = "timeline=true", name: str = "talk.flac"):
    return client.post(f"/v1/analyze?{query}", files={"file": (name, data, "application/octet-stream")})


def test_timeline_segments_summary_and_display(client):
    signal, truth = layout(PARTS)
    r = post(client, encode(signal, SR, "flac"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"file", "duration_s", "model", "window_s", "hop_s", "labels", "segments", "summary",
                         "adapted", "display"}
    assert body["adapted"] is None
    assert body["file"] == "talk.flac" and body["hop_s"] == 1.5 and body["labels"] == ["happy", "sad"]
    assert set(body["display"]) == {"happy", "sad"}
    segments = body["segments"]
    assert segments[0]["start"] == 0.0 and segments[-1]["end"] == pytest.approx(body["duration_s"], abs=1e-3)
    speech = [s for s in segments if s["speech"]]
    assert [s["emotion"] for s in speech] == ["happy", "sad", "sad"]
    assert all(s["emotion"] is None and s["scores"] == {} for s in segments if not s["speech"])
    assert abs(speech[0]["end"] - 7.0) <= 1.5  # the change of voice, within a hop
    assert abs(speech[-1]["start"] - speech_truth(truth)[-1][0]) < 0.3
    assert body["summary"]["dominant"] == "sad" and body["summary"]["changes"] == 1


def test_timeline_options_and_unchanged_default(client):
    signal, _ = layout(PARTS)
    data = encode(signal, SR, "wav")
    fine = post(client, data, "timeline=true&window_s=2&hop_s=0.5").json()
    assert fine["window_s"] == 2.0 and fine["hop_s"] == 0.5
    plain = post(client, data, "features=false").json()
    assert "segments" not in plain and plain["emotion"] in ("happy", "sad")


@pytest.mark.parametrize(
    ("query", "status", "detail"),
    [
        ("timeline=true&window_s=2&hop_s=3", 422, "must not exceed"),
        ("timeline=true&hop_s=0", 422, "greater than 0"),
        ("timeline=true&window_s=abc", 422, "valid number"),
    ],
)
def test_bad_timeline_options(client, query, status, detail):
    r = post(client, encode(layout(PARTS)[0], SR, "wav"), query)
    assert r.status_code == status and detail in r.text


def test_bad_audio_and_too_long(client):
    r = post(client, b"this is text, not audio" * 20, name="notes.wav")
    assert r.status_code == 415 and "notes.wav" in r.json()["detail"]
    long, _ = layout([("high", 20.0), ("silence", 15.0)])
    r = post(client, encode(long, SR, "flac"))
    assert r.status_code == 413 and "30 s" in r.json()["detail"]
    assert client.get("/healthz").status_code == 200
