"""Issue 28's four defects, one test each: lone surrogates in text, deep JSON on the WebSockets, the
field named in a bad ``video_base64``, and the size checked before the format of a base64 video."""

from __future__ import annotations

import base64
import json

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from conftest import SR, encode, speech_like  # noqa: E402
from emovox.errors import TextDecodeError  # noqa: E402
from emovox.io.text import load_text  # noqa: E402
from emovox.server import Settings, create_app  # noqa: E402

TEXT_ROUTES = ("/v1/text", "/api/v1/emotion/analyze/text", "/api/v1/emotion/analyze/multimodal")
DEEP = "[" * 100_000


@pytest.fixture(scope="module")
def client(debug_model):
    with TestClient(create_app(Settings(model=str(debug_model))), raise_server_exceptions=False) as c:
        yield c


def post_raw_json(client, path: str, body: str):
    """``body`` sent as written: ``\\ud800`` stays a JSON escape (valid JSON, a lone surrogate in Python)."""
    return client.post(path, content=body.encode(), headers={"content-type": "application/json"})


def test_the_text_loader_refuses_a_lone_surrogate_naming_its_position():
    for text, where in (("\ud800", "character 0"), ("ok \udfff then", "character 3")):
        with pytest.raises(TextDecodeError, match=f"lone UTF-16 surrogate U\\+D[89A-F][0-9A-F]{{2}} at {where}"):
            load_text(text)
    assert load_text("fine \U0001f600") == "fine \U0001f600"  # a real pair (one code point) is kept


@pytest.mark.parametrize("path", TEXT_ROUTES)
@pytest.mark.parametrize("body", ['{"text": "\\ud800"}', '{"text": "\\udfff"}', '{"text": "ok \\ud83d then"}'])
def test_a_lone_surrogate_is_a_400_naming_the_field(client, path, body):
    r = post_raw_json(client, path, body)
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert detail.startswith("text: ") and "lone UTF-16 surrogate" in detail and "at character" in detail


def test_a_lone_surrogate_in_a_list_names_its_index(client):
    r = post_raw_json(client, "/v1/text", '{"texts": ["ok", "fine", "\\ud800"]}')
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith("texts[2]: text has a lone UTF-16 surrogate U+D800 at character 0")


def test_a_surrogate_echoed_elsewhere_is_json_not_a_500(client):
    r = post_raw_json(client, "/api/v1/emotion/analyze/text", '{"text": "I am happy", "model_type": "\\ud800"}')
    assert r.status_code == 200, r.text
    assert r.json()["metadata"]["model_type"] == "\ufffd"
    bad = post_raw_json(client, "/v1/text", '{"text": ["\\ud800"]}')  # a validation error echoes the input
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/json"


def test_seed_stream_answers_a_surrogate_and_deep_json_and_stays_open(client):
    with client.websocket_connect("/ws/emotion/stream") as ws:
        ws.send_text('{"id": 1, "text": "\\ud800"}')
        reply = ws.receive_json()
        assert reply["type"] == "error" and reply["status"] == 400 and reply["id"] == 1
        assert "lone UTF-16 surrogate" in reply["detail"]
        ws.send_text(DEEP)
        deep = ws.receive_json()
        assert deep["type"] == "error" and deep["status"] == 400 and "nested" in deep["detail"]
        ws.send_json({"text": "I am so happy for you!"})  # the socket still works
        assert ws.receive_json()["type"] == "result"


def test_live_stream_closes_deep_json_with_1007(client):
    from starlette.websockets import WebSocketDisconnect

    with client.websocket_connect("/v1/stream") as ws:
        ws.send_text(DEEP)
        error = ws.receive_json()
        assert error["type"] == "error" and error["code"] == 1007 and "nested" in error["detail"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1007


def test_bad_video_base64_names_video_base64(client):
    for field in ("video_base64", "audio_base64"):
        r = client.post("/api/v1/emotion/analyze/multimodal", json={field: "not base64 !!"})
        assert r.status_code == 422, r.text
        assert r.json()["detail"].startswith(f"{field} is not valid base64")


def test_oversized_base64_video_is_413_before_its_format_is_checked(debug_model, monkeypatch):
    monkeypatch.setenv("EMOVOX_MAX_VIDEO_FILE_SIZE", str(1_000_000))
    app = create_app(Settings(model=str(debug_model)))
    zeros = base64.b64encode(bytes(1_200_000)).decode()  # not a video at all, and too large for one
    wav = base64.b64encode(encode(speech_like(1.0), SR, "wav")).decode()
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/api/v1/emotion/analyze/multimodal", content=json.dumps({"video_base64": zeros}),
                   headers={"content-type": "application/json"})
        assert r.status_code == 413, r.text
        assert "video_base64" in r.json()["detail"] and "limit" in r.json()["detail"]
        with c.websocket_connect("/ws/emotion/stream") as ws:
            ws.send_json({"video_base64": zeros, "audio_base64": wav})
            assert ws.receive_json()["status"] == 413
        small = c.post("/api/v1/emotion/analyze/multimodal", json={"video_base64": base64.b64encode(bytes(1000)).decode()})
        assert small.status_code == 415, small.text  # under the limit, the format check still answers


def test_a_large_body_is_released_after_its_answer(client, monkeypatch):
    """A large body's memory goes back to the system once answered (cycles collected, heap trimmed)."""
    from emovox.server import limits

    calls = []
    monkeypatch.setattr(limits, "release_memory", lambda: calls.append(1))
    small = client.post("/api/v1/emotion/analyze/multimodal", json={"video_base64": "AAAA" * 1000})
    assert small.status_code == 415 and calls == []
    big = "A" * (limits.TRIM_AFTER_BYTES + 4)  # valid base64 of zero bytes: not an image nor a video
    r = client.post("/api/v1/emotion/analyze/multimodal", content=json.dumps({"video_base64": big}),
                    headers={"content-type": "application/json"})
    assert r.status_code == 415, r.text
    assert calls == [1]


def test_an_unexpected_failure_on_either_socket_is_an_error_event_and_1011(client, monkeypatch):
    from starlette.websockets import WebSocketDisconnect

    from emovox.server import routes_face, stream

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(routes_face, "analyze_multimodal", broken)
    monkeypatch.setattr(stream, "_settings", broken)
    for path, first in (("/ws/emotion/stream", {"text": "hello"}), ("/v1/stream", {"sample_rate": 16000})):
        with client.websocket_connect(path) as ws:
            ws.send_json(first)
            error = ws.receive_json()
            assert error["type"] == "error" and "internal error (RuntimeError)" in error["detail"], path
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 1011, path


def test_faces_at_once_never_500(client):
    """Concurrent image requests share one face detector (OpenCV's cascade is not thread-safe)."""
    pytest.importorskip("cv2")
    from concurrent.futures import ThreadPoolExecutor

    from media_helpers import drawn_image, image_bytes, moving_frames, video_bytes

    uploads = [("frame.png", image_bytes(drawn_image(320, 240)), "image/png"),
               ("clip.mp4", video_bytes(moving_frames(2.0, w=160, h=120)), "video/mp4")]

    def post(i):
        return client.post("/v1/analyze", files={"file": uploads[i % 2]}).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(post, range(32)))
    assert set(statuses) == {200}, statuses
