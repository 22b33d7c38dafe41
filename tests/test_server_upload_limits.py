"""Upload limits by medium: images and videos up to MAX_VIDEO_FILE_SIZE on every route that takes them,
audio up to max_upload_mb; 413 JSON naming the limit, bodies in flight released, no spool files left."""

from __future__ import annotations

import base64
import tempfile

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("cv2")
from fastapi.testclient import TestClient  # noqa: E402

from conftest import SR, encode, speech_like  # noqa: E402
from emovox.server import Settings, create_app  # noqa: E402
from media_helpers import moving_frames, video_bytes  # noqa: E402

UPLOAD_MB = 0.03  # 31,457 bytes of audio
VIDEO_LIMIT = 100_000  # bytes, as MAX_VIDEO_FILE_SIZE says it


def noisy_video(seconds: float) -> bytes:
    """A clip that does not compress well (about 33 kB a second), with a voice."""
    rng = np.random.default_rng(0)
    frames = [(f // 2 + rng.integers(0, 128, f.shape)).astype(np.uint8) for f in moving_frames(seconds)]
    return video_bytes(frames, audio=speech_like(seconds))


@pytest.fixture(params=["MAX_VIDEO_FILE_SIZE", "EMOVOX_MAX_VIDEO_FILE_SIZE"])
def client(request, debug_model, monkeypatch, tmp_path):
    """A server whose limits come from the environment, spooling uploads into its own temp dir."""
    monkeypatch.setenv("EMOVOX_MAX_UPLOAD_MB", str(UPLOAD_MB))
    monkeypatch.setenv(request.param, str(VIDEO_LIMIT))
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    app = create_app(Settings(model=str(debug_model)))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    assert list(spool.iterdir()) == []


def in_flight(client) -> float:
    return client.app.state.emovox.metrics.body_bytes._value.get()


def send(client, route: str, data: bytes, name: str):
    if route == "/v1/analyze (raw)":
        kind = "video/mp4" if name.endswith(".mp4") else "audio/wav"
        return client.post("/v1/analyze", content=data, headers={"content-type": kind})
    if route == "multimodal":
        field = "video_base64" if name.endswith(".mp4") else "audio_base64"
        return client.post("/api/v1/emotion/analyze/multimodal", json={field: base64.b64encode(data).decode()})
    form = {"analysis_type": "video"} if route == "/api/v1/emotion/analyze/file" and name.endswith(".mp4") else {}
    return client.post(route, files={"file": (name, data)}, data=form)


ROUTES = ["/v1/faces", "/v1/analyze", "/v1/analyze (raw)", "/api/v1/emotion/analyze/file", "multimodal"]


def test_a_video_between_the_audio_and_video_limits_is_accepted_everywhere(client):
    clip = noisy_video(2.0)
    assert UPLOAD_MB * 1024 * 1024 < len(clip) < VIDEO_LIMIT
    for route in ROUTES:
        r = send(client, route, clip, "talk.mp4")
        assert r.status_code == 200, (route, r.text)
    assert in_flight(client) == 0


def test_audio_of_that_size_keeps_the_audio_limit(client):
    wav = encode(speech_like(2.0), SR, "wav")
    assert UPLOAD_MB * 1024 * 1024 < len(wav) < VIDEO_LIMIT
    for route in ROUTES[1:]:
        r = send(client, route, wav, "clip.wav")
        assert r.status_code == 413, (route, r.text)
        assert "0.03 MiB" in r.json()["detail"], (route, r.text)
    assert in_flight(client) == 0


def test_a_video_over_the_video_limit_is_413_naming_it(client):
    clip = noisy_video(5.0)
    assert len(clip) > VIDEO_LIMIT
    for route in ROUTES:
        r = send(client, route, clip, "long.mp4")
        assert r.status_code == 413, (route, r.text)
        detail = r.json()["detail"]
        assert "0.1 MB" in detail or "0.0954 MiB" in detail, (route, detail)
    assert in_flight(client) == 0


def test_the_default_in_flight_budget_holds_a_largest_video(debug_model, monkeypatch):
    monkeypatch.delenv("EMOVOX_MAX_VIDEO_FILE_SIZE", raising=False)
    monkeypatch.setenv("MAX_VIDEO_FILE_SIZE", str(80 * 1024 * 1024))
    settings = Settings(model=str(debug_model), max_upload_mb=5)
    assert settings.max_inflight_bytes >= 80 * 1024 * 1024


def test_a_video_larger_than_an_explicit_in_flight_budget_is_413_not_an_endless_503(debug_model, monkeypatch):
    monkeypatch.setenv("MAX_VIDEO_FILE_SIZE", str(VIDEO_LIMIT))
    app = create_app(Settings(model=str(debug_model), max_upload_mb=UPLOAD_MB, max_inflight_mb=0.05))
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/v1/faces", files={"file": ("talk.mp4", noisy_video(2.0))})
        assert r.status_code == 413 and "the limit is 0.05 MiB" in r.json()["detail"], r.text
        small = video_bytes(moving_frames(1.0), audio=speech_like(1.0))
        assert c.post("/v1/faces", files={"file": ("small.mp4", small)}).status_code == 200
        assert in_flight(c) == 0


def test_emovox_serve_lets_a_websocket_message_carry_a_video_under_the_video_limit(debug_model, monkeypatch):
    """uvicorn cuts WebSocket messages at 16 MiB by default; /ws/emotion/stream takes the multimodal
    route's JSON (base64 of a video and an audio file), so `emovox serve` raises it to that body's limit."""
    from emovox.cli.serve import uvicorn_options

    monkeypatch.delenv("EMOVOX_MAX_VIDEO_FILE_SIZE", raising=False)
    monkeypatch.setenv("MAX_VIDEO_FILE_SIZE", str(50 * 1024 * 1024))
    options = uvicorn_options(Settings(model=str(debug_model), max_upload_mb=25))
    assert options["ws_max_size"] >= 4 * (50 + 25) * 1024 * 1024 // 3
    assert options["access_log"] is False and options["h11_max_incomplete_event_size"] > 0
