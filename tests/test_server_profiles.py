"""Voice profiles over HTTP (POST/GET/DELETE /v1/profiles, ?profile= on /v1/analyze) and session
adaptation on /v1/stream, on a small adaptable model built with onnx (random weights)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("onnx")
from fastapi.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

import emovox  # noqa: E402
from adapt_helpers import write_adaptable_model  # noqa: E402
from conftest import SR, encode, speech_like  # noqa: E402
from emovox.analysis.live import ADAPT_AFTER  # noqa: E402
from emovox.server import Settings, create_app  # noqa: E402

CLIP = encode(speech_like(1.0, f0=150.0, seed=99), SR, "wav")


def voices(n: int, start: int = 0, seconds: float = 0.6) -> list[tuple[str, bytes]]:
    return [(f"v{i}.wav", encode(speech_like(seconds, f0=100.0 + 9 * i, seed=i), SR, "wav"))
            for i in range(start, start + n)]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return write_adaptable_model(tmp_path_factory.mktemp("adaptable") / "m")


@pytest.fixture(scope="module")
def client(model_dir):
    settings = Settings(model=str(model_dir), max_upload_mb=1, max_duration_s=5, max_profiles=3,
                        profile_max_clips=24)
    with TestClient(create_app(settings)) as c:
        yield c


def create(client, clips: list[tuple[str, bytes]]):
    return client.post("/v1/profiles", files=[("files", (name, data, "audio/wav")) for name, data in clips])


def analyze(client, **params):
    return client.post("/v1/analyze", params=params, files={"file": ("clip.wav", CLIP, "audio/wav")})


def test_create_get_use_delete(client):
    silent = ("quiet.wav", encode(np.zeros(SR // 2, np.float32), SR, "wav"))
    r = create(client, [*voices(20), silent])
    assert r.status_code == 201, r.text
    body = r.json()
    pid = body["id"]
    assert len(pid) >= 32 and body["clips"] == 20 and body["skipped"] == ["quiet.wav"]
    assert body["adapted"]["to"] == "profile" and body["adapted"]["clips"] == 20
    assert client.get(f"/v1/profiles/{pid}").json() == body
    plain, adapted = analyze(client).json(), analyze(client, profile=pid).json()
    assert plain["adapted"] is None and adapted["adapted"] == body["adapted"]
    assert plain["scores"] != adapted["scores"]
    # the same scores as the Python API adapted to the same clips
    model = emovox.load_model(str(client.app.state.emovox.settings.model), features=False)
    import io

    expected = model.adapt([io.BytesIO(d) for _, d in voices(20)]).predict(io.BytesIO(CLIP))
    assert adapted["scores"] == pytest.approx(expected.scores, abs=1e-5)
    # the timeline option and a label subset take the profile too
    tl_plain, tl = analyze(client, timeline="true").json(), analyze(client, timeline="true", profile=pid).json()
    # without a profile a timeline adapts to its own speech when it has enough; this one is too short
    assert tl_plain["adapted"]["to"] == "recording" and tl_plain["adapted"]["applied"] is False
    assert "speech window" in tl_plain["adapted"]["reason"] and tl["adapted"]["to"] == "profile"
    assert [s["scores"] for s in tl["segments"]] != [s["scores"] for s in tl_plain["segments"]]
    sub = analyze(client, profile=pid, labels="angry,sad").json()
    assert set(sub["scores"]) == {"angry", "sad"} and sub["adapted"]["to"] == "profile"
    # delete, then every use of the id is a 404 with a detail
    assert client.delete(f"/v1/profiles/{pid}").status_code == 204
    for r in (client.get(f"/v1/profiles/{pid}"), client.delete(f"/v1/profiles/{pid}"), analyze(client, profile=pid),
              analyze(client, profile=pid, timeline="true")):
        assert r.status_code == 404 and "unknown profile" in r.json()["detail"]


def test_profiles_beyond_the_limit_drop_the_least_recently_used(client):
    ids = [create(client, voices(20, start=k)).json()["id"] for k in range(3)]
    assert client.get(f"/v1/profiles/{ids[0]}").status_code == 200  # ids[0] used: ids[1] is now the oldest
    new = create(client, voices(20, start=5)).json()["id"]
    assert client.get(f"/v1/profiles/{ids[1]}").status_code == 404
    for pid in (ids[0], ids[2], new):
        assert client.get(f"/v1/profiles/{pid}").status_code == 200
    assert len(client.app.state.emovox.profiles) == 3


@pytest.mark.parametrize(
    ("clips", "status", "words"),
    [
        (lambda: voices(19), 422, "at least 20"),
        (lambda: [*voices(19), ("hush.wav", encode(np.zeros(SR // 2, np.float32), SR, "wav"))], 422, "silent"),
        (lambda: [*voices(5), ("notes.txt", b"hello, this is not audio" * 50), *voices(15, 5)], 415,
         "clip 6 (notes.txt)"),
        (lambda: [*voices(3), ("empty.wav", b""), *voices(17, 3)], 422, "clip 4 (empty.wav): empty"),
        (lambda: [("long.wav", encode(speech_like(6.0), SR, "wav")), *voices(20)], 413, "clip 1 (long.wav)"),
        (lambda: voices(25, seconds=0.1), 413, "at most 24"),
        (lambda: voices(20, seconds=2.0), 413, "too large"),
    ],
    ids=["too-few", "too-few-with-speech", "not-audio", "empty", "too-long", "too-many", "too-big"],
)
def test_bad_clips_are_a_4xx_naming_the_clip(client, clips, status, words):
    r = create(client, clips())
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]


def test_bad_requests(client):
    r = client.post("/v1/profiles", content=CLIP, headers={"content-type": "audio/wav"})
    assert r.status_code == 415 and "multipart" in r.json()["detail"]
    r = client.post("/v1/profiles", files={"other": ("a.wav", CLIP, "audio/wav")})
    assert r.status_code == 422 and "no clips" in r.json()["detail"]
    r = client.post("/v1/profiles", data={"files": "text"}, files={"x": ("a.wav", CLIP, "audio/wav")})
    assert r.status_code == 422 and r.json()["detail"]
    r = analyze(client, profile="x" * 201)
    assert r.status_code == 422


def test_a_model_that_cannot_adapt_answers_501(debug_model):
    with TestClient(create_app(Settings(model=str(debug_model)))) as c:
        r = create(c, voices(20))
        assert r.status_code == 501 and "cannot be adapted" in r.json()["detail"]
        ws_ready = _ready(c, "/v1/stream")
        assert ws_ready["adapt"] is False  # no adapted head: the stream says it will not adapt


def test_models_route_shows_the_served_adaptation(model_dir, tmp_path):
    for name, data in voices(20):
        (tmp_path / name).write_bytes(data)
    with TestClient(create_app(Settings(model=str(model_dir), adapt_to=str(tmp_path), adapt_clips=20))) as c:
        loaded = c.get("/v1/models").json()["loaded"]
        assert loaded["adapted"]["clips"] == 20 and loaded["adapted"]["to"] == "reference"
        assert analyze(c).json()["adapted"] == loaded["adapted"]


# --- /v1/stream adapts to the session ------------------------------------------------------------
def pcm16(signal: np.ndarray) -> bytes:
    return (np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes()


def frames(data: bytes, seconds: float = 0.1) -> list[bytes]:
    step = int(seconds * SR) * 2
    return [data[i : i + step] for i in range(0, len(data), step)]


def _ready(client, path: str, settings: dict | None = None) -> dict:
    with client.websocket_connect(path) as ws:
        ws.send_text(json.dumps(settings or {}))
        return ws.receive_json()


def _stream(client, path: str, signal: np.ndarray, settings: dict) -> tuple[dict, list[dict]]:
    with client.websocket_connect(path) as ws:
        ws.send_text(json.dumps(settings))
        ready = ws.receive_json()
        for frame in frames(pcm16(signal)):
            ws.send_bytes(frame)
        ws.send_text(json.dumps({"type": "end"}))
        events = []
        while True:
            try:
                events.append(ws.receive_json())
            except WebSocketDisconnect:
                return ready, events


TALK = np.concatenate([speech_like(2.0, f0=110.0 + 9 * i, seed=i) for i in range(8)])


def test_stream_adapts_after_its_warm_up(client, model_dir):
    ready, events = _stream(client, "/v1/stream", TALK, {"hop_s": 0.5})
    assert ready["adapt"] is True
    speech = [e for e in events if e["type"] == "result" and e["speech"]]
    assert len(speech) > ADAPT_AFTER + 3
    assert all(e["adapted"] is None for e in speech[:ADAPT_AFTER])
    assert all(e["adapted"]["to"] == "session" and e["adapted"]["clips"] == ADAPT_AFTER
               for e in speech[ADAPT_AFTER:])
    # exactly what model.stream answers for the same frames
    model = emovox.load_model(str(model_dir), features=False)
    chunks = [np.frombuffer(f, "<i2") for f in frames(pcm16(TALK))]
    assert events == [e.to_dict() for e in model.stream(chunks, hop_s=0.5)]


@pytest.mark.parametrize(("path", "settings"), [("/v1/stream?adapt=false", {"hop_s": 0.5}),
                                                ("/v1/stream", {"hop_s": 0.5, "adapt": False})])
def test_stream_adaptation_can_be_turned_off(client, path, settings):
    ready, events = _stream(client, path, TALK, settings)
    assert ready["adapt"] is False
    speech = [e for e in events if e["type"] == "result" and e["speech"]]
    assert len(speech) > ADAPT_AFTER and all(e["adapted"] is None for e in speech)


def test_server_setting_makes_off_the_default(model_dir):
    with TestClient(create_app(Settings(model=str(model_dir), live_adapt=False))) as c:
        assert _ready(c, "/v1/stream")["adapt"] is False
        assert _ready(c, "/v1/stream?adapt=true")["adapt"] is True
        assert _ready(c, "/v1/stream?adapt=false", {"adapt": True})["adapt"] is True  # the message wins


@pytest.mark.parametrize(("path", "settings"), [("/v1/stream?adapt=maybe", {}), ("/v1/stream", {"adapt": "no"})])
def test_stream_bad_adapt_value_closes_1008(client, path, settings):
    with client.websocket_connect(path) as ws:
        ws.send_text(json.dumps(settings))
        error = ws.receive_json()
        assert error["type"] == "error" and error["code"] == 1008 and "adapt" in error["detail"]
