"""WebSocket /v1/stream: the happy path against model.stream, and every bad message."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from conftest import SR  # noqa: E402
from emovox.analysis.analyze import Analyzer  # noqa: E402
from emovox.errors import ModelError  # noqa: E402
from emovox.server import Settings, create_app  # noqa: E402
from emovox.server.stream import MAX_MESSAGE_BYTES  # noqa: E402
from timeline_helpers import PitchBackend, layout, speech_truth  # noqa: E402


class FlakyBackend(PitchBackend):
    """The pitch test double that can be told to fail, to check the 1011 close."""

    broken = False

    def forward(self, batch):
        if self.broken:
            raise ModelError("onnxruntime failed (simulated)")
        return super().forward(batch)


@pytest.fixture(scope="module")
def backend():
    return FlakyBackend()


@pytest.fixture(scope="module")
def client(backend):
    app = create_app(Settings(), model=Analyzer(backend, features=False))
    with TestClient(app) as c:
        yield c


def pcm16(signal: np.ndarray) -> bytes:
    return (np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes()


def frames(data: bytes, seconds: float = 0.1, rate: int = SR) -> list[bytes]:
    step = int(seconds * rate) * 2
    return [data[i : i + step] for i in range(0, len(data), step)]


def read_all(ws) -> tuple[list[dict], int]:
    """Every JSON event until the server closes; returns them and the close code."""
    events = []
    while True:
        try:
            events.append(ws.receive_json())
        except WebSocketDisconnect as exc:
            return events, exc.code


def test_happy_path_matches_model_stream(client, backend):
    signal, truth = layout([("silence", 1.0), ("high", 3.0), ("silence", 1.5), ("low", 2.5), ("silence", 1.0)])
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_text(json.dumps({"sample_rate": SR, "window_s": 3, "hop_s": 0.5}))
        ready = ws.receive_json()
        for frame in frames(pcm16(signal)):
            ws.send_bytes(frame)
        ws.send_text(json.dumps({"type": "end"}))
        events, code = read_all(ws)
    assert code == 1000
    assert ready == {"type": "ready", "sample_rate": SR, "window_s": 3.0, "hop_s": 0.5, "adapt": False,
                     "model": "pitch-test-double@1", "labels": ["happy", "sad"]}
    expected = [e.to_dict() for e in Analyzer(backend, features=False).stream(
        [np.frombuffer(f, "<i2") for f in frames(pcm16(signal))], window_s=3.0, hop_s=0.5)]
    assert events == expected
    kinds = [e["type"] for e in events]
    assert kinds.count("result") == int(signal.size / SR / 0.5)
    ends = [(e["start"], e["end"]) for e in events if e["type"] == "speech_end"]
    for (a, b), (ta, tb) in zip(ends, speech_truth(truth), strict=True):
        assert abs(a - ta) < 0.3 and abs(b - tb) < 0.3
    emotions = [e["emotion"] for e in events if e["type"] == "result" and e["speech"]]
    assert emotions[0] == "happy" and emotions[-1] == "sad"


def test_defaults_when_audio_comes_first_and_resampling(client):
    signal, truth = layout([("silence", 0.5), ("high", 2.0), ("silence", 1.0)])
    import soxr

    at8k = soxr.resample(signal, SR, 8000).astype(np.float32)
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_bytes(pcm16(signal[:1600]))
        assert ws.receive_json()["sample_rate"] == SR  # ready, with the defaults
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_text(json.dumps({"sample_rate": 8000}))
        assert ws.receive_json()["hop_s"] == 1.0
        for frame in frames(pcm16(at8k), rate=8000):
            ws.send_bytes(frame)
        ws.send_text('{"type": "end"}')
        events, code = read_all(ws)
    assert code == 1000
    (end,) = [e for e in events if e["type"] == "speech_end"]
    assert abs(end["start"] - 0.5) < 0.3 and abs(end["end"] - 2.5) < 0.3
    assert [e["end"] for e in events if e["type"] == "result"] == [1.0, 2.0, 3.0]


BAD_FIRST = [
    ("not json", 1007, "could not parse"),
    ("[1, 2]", 1007, "JSON objects, got list"),
    ('{"sample_rate": 16000, "format": "mp3"}', 1008, "unknown setting(s) format"),
    ('{"sample_rate": 44}', 1008, "sample_rate must be an integer from 8000 to 48000 Hz, got 44"),
    ('{"sample_rate": 96000}', 1008, "got 96000"),
    ('{"sample_rate": "16000"}', 1008, "got '16000'"),
    ('{"sample_rate": 16000.5}', 1008, "got 16000.5"),
    ('{"window_s": 0}', 1008, "window_s must be a number of seconds"),
    ('{"hop_s": true}', 1008, "hop_s must be a number"),
    ('{"window_s": 2, "hop_s": 3}', 1008, "must not exceed window_s"),
]


@pytest.mark.parametrize(("text", "code", "detail"), BAD_FIRST)
def test_bad_settings_close_with_a_reason(client, text, code, detail):
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_text(text)
        events, closed = read_all(ws)
    assert closed == code
    assert len(events) == 1 and events[0]["type"] == "error" and events[0]["code"] == code
    assert detail in events[0]["detail"]


def test_bad_frames_close_with_a_reason(client):
    cases = [
        (lambda ws: ws.send_bytes(b"\x00\x01\x02"), 1007, "even number of bytes"),
        (lambda ws: ws.send_bytes(b"\x00" * (MAX_MESSAGE_BYTES + 2)), 1009, "too large"),
        (lambda ws: ws.send_text('{"sample_rate": 16000}'), 1003, "expected binary PCM16"),
        (lambda ws: ws.send_text("hello"), 1007, "could not parse"),
    ]
    for send, code, detail in cases:
        with client.websocket_connect("/v1/stream") as ws:
            ws.send_text("{}")
            assert ws.receive_json()["type"] == "ready"
            ws.send_bytes(b"\x00\x00" * 1600)  # 0.1 s of valid silence first
            send(ws)
            events, closed = read_all(ws)
        assert closed == code, detail
        assert events[-1]["type"] == "error" and detail in events[-1]["detail"]
        assert events[-1]["code"] == code


def test_model_failure_closes_with_1011_and_the_server_keeps_serving(client, backend):
    signal, _ = layout([("high", 2.0)])
    backend.broken = True
    try:
        with client.websocket_connect("/v1/stream") as ws:
            for frame in frames(pcm16(signal)):
                ws.send_bytes(frame)
            events, closed = read_all(ws)
    finally:
        backend.broken = False
    assert closed == 1011 and "simulated" in events[-1]["detail"]
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_text('{"type": "end"}')
        assert read_all(ws) == ([], 1000)
    assert client.get("/healthz").status_code == 200
