"""WebSocket ``/v1/stream``: live emotion events for audio streamed as 16-bit PCM.

Protocol (one connection = one stream):

1. The client may first send a JSON text message with settings, all optional:
   ``{"sample_rate": 16000, "window_s": 3, "hop_s": 1, "adapt": true}`` (rate 8000-48000 Hz,
   resampled to 16 kHz; ``adapt`` also as the query ``/v1/stream?adapt=false``, default the server's
   ``live_adapt`` setting, on).
   The server answers ``{"type": "ready", "sample_rate", "window_s", "hop_s", "adapt", "model", "labels"}``
   (also when the client starts with audio straight away, using the defaults); ``adapt`` is false
   when asked off or when the model cannot adapt (no adapted head).
2. Then binary messages: mono PCM16 little-endian samples at that rate, any length up to
   ``MAX_MESSAGE_BYTES``.
3. The server sends JSON events as soon as the audio completing them arrives:
   ``speech_start`` (time), ``result`` every hop (start, end, speech, emotion, confidence, scores),
   ``speech_end`` (start, end). Times are seconds of audio since the stream began.
   With ``adapt``, the stream adapts to the speaker after ``ADAPT_AFTER`` (20) speech results: those
   results say ``"adapted": null`` (or the served model's own adaptation, with ``--adapt-to``), every
   later one ``"adapted": {"to": "session", "clips": 20, ...}`` (``emovox.analysis.live``).
4. ``{"type": "end"}`` flushes the last events and closes normally (1000).

A bad message gets ``{"type": "error", "detail": ...}`` and the connection is closed with a reason:
1003 text where audio was expected, 1007 malformed JSON (or nested too deeply) or PCM (odd byte count), 1008 bad settings
(unknown key, sample rate out of range, hop longer than the window), 1009 message too large,
1011 the model failed (or any unexpected server error).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ..analysis.live import LiveSession, can_adapt
from ..defaults import LIVE_HOP_S, LIVE_LIMITS, LIVE_WINDOW_S, check_window
from ..errors import AudioError, EmovoxError, OptionError
from .seed import printable

log = logging.getLogger("emovox.server")
router = APIRouter()

MAX_MESSAGE_BYTES = 256 * 1024
"""Largest binary message (8 s of 16 kHz PCM16); larger ones close the stream with 1009."""
RATES = (8000, 48000)
DEFAULTS = {"sample_rate": 16000, "window_s": LIVE_WINDOW_S, "hop_s": LIVE_HOP_S, "adapt": True}
LIMITS = LIVE_LIMITS


class StreamClosed(Exception):
    """A protocol violation: close the socket with ``code`` after telling the client why."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@router.websocket("/v1/stream")
async def stream(websocket: WebSocket) -> None:
    """Live analysis over a WebSocket (see the module docstring for the protocol)."""
    await websocket.accept()
    state = getattr(websocket.app.state, "emovox", None)
    try:
        if state is None:
            raise StreamClosed(1011, "the model is not loaded yet")
        await _serve(websocket, state)
    except StreamClosed as exc:
        await _close(websocket, exc.code, exc.detail)
    except WebSocketDisconnect:
        return
    except Exception as exc:  # a bug, not the client's fault: still an error event and a close frame
        log.exception("stream: unexpected error")
        await _close(websocket, 1011, f"internal error ({type(exc).__name__})")


async def _serve(websocket: WebSocket, state) -> None:
    defaults = {**DEFAULTS, "adapt": _query_adapt(websocket, state.settings.live_adapt)}
    session: LiveSession | None = None
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text, data = message.get("text"), message.get("bytes")
            if text is not None:
                request = _parse_json(text)
                if request.get("type") == "end":
                    if session is not None:
                        await _send(websocket, await _run(state, session.close))
                    await websocket.close(1000, "end of stream")
                    return
                if session is not None:
                    raise StreamClosed(1003, "expected binary PCM16 audio; settings are only accepted as the "
                                             "first message")
                session = await _start(websocket, state, _settings(request, defaults))
                continue
            if data is None:
                continue
            if session is None:
                session = await _start(websocket, state, dict(defaults))
            _check_frame(data)
            await _send(websocket, await _run(state, session.feed, data))
    finally:
        if session is not None:
            session.stop()  # an abandoned stream's warm-up thread ends too


async def _start(websocket: WebSocket, state, settings: dict[str, Any]) -> LiveSession:
    settings = {**settings, "adapt": settings["adapt"] and can_adapt(state.model)}
    try:
        session = LiveSession(state.model, window_s=settings["window_s"], hop_s=settings["hop_s"],
                              sample_rate=settings["sample_rate"], adapt=settings["adapt"])
    except (ValueError, AudioError) as exc:
        raise StreamClosed(1008, str(exc)) from exc
    await websocket.send_json({
        "type": "ready", **settings, "model": state.model.info.id, "labels": list(state.model.labels),
    })
    return session


def _query_adapt(websocket: WebSocket, default: bool) -> bool:
    """``?adapt=false`` (or 0/no/off) turns session adaptation off; ``true`` (1/yes/on) on."""
    value = websocket.query_params.get("adapt")
    if value is None:
        return default
    word = value.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise StreamClosed(1008, f"adapt must be true or false, got {value[:40]!r}")


async def _run(state, fn, *args) -> list:
    """Run the session (VAD + model) in a worker thread, sharing the server's concurrency limit."""
    try:
        return await anyio.to_thread.run_sync(lambda: fn(*args), limiter=state.limiter)
    except AudioError as exc:
        raise StreamClosed(1007, str(exc)) from exc
    except EmovoxError as exc:
        log.error("stream: the model failed: %s", exc)
        raise StreamClosed(1011, f"the model could not run: {exc}") from exc


async def _send(websocket: WebSocket, events: list) -> None:
    for event in events:
        await websocket.send_json(event.to_dict())


def _parse_json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StreamClosed(1007, f"text messages must be JSON objects; could not parse: {exc.msg}") from exc
    except RecursionError:
        raise StreamClosed(1007, "text messages must be flat JSON objects; this one is nested too deeply to parse") from None
    if not isinstance(value, dict):
        raise StreamClosed(1007, f"text messages must be JSON objects, got {type(value).__name__}")
    return value


def _settings(request: dict[str, Any], defaults: dict[str, Any] = DEFAULTS) -> dict[str, Any]:
    """Validate the first message's settings (unknown keys and out-of-range values are refused)."""
    request = {k: v for k, v in request.items() if k != "type" or v != "config"}
    unknown = sorted(set(request) - set(DEFAULTS))
    if unknown:
        raise StreamClosed(1008, f"unknown setting(s) {', '.join(unknown)}; accepted: {', '.join(DEFAULTS)}")
    settings = {**defaults, **request}
    if not isinstance(settings["adapt"], bool):
        raise StreamClosed(1008, f"adapt must be true or false, got {str(settings['adapt'])[:40]!r}")
    rate = settings["sample_rate"]
    if not isinstance(rate, int) or isinstance(rate, bool) or not RATES[0] <= rate <= RATES[1]:
        raise StreamClosed(1008, f"sample_rate must be an integer from {RATES[0]} to {RATES[1]} Hz, got {rate!r}")
    for key, (lo, hi) in LIMITS.items():
        value = settings[key]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not lo <= value <= hi:
            raise StreamClosed(1008, f"{key} must be a number of seconds from {lo:g} to {hi:g}, got {value!r}")
        settings[key] = float(value)
    try:
        check_window(settings["window_s"], settings["hop_s"])
    except OptionError as exc:
        raise StreamClosed(1008, str(exc)) from exc
    return settings


def _check_frame(data: bytes) -> None:
    if len(data) > MAX_MESSAGE_BYTES:
        raise StreamClosed(1009, f"audio message too large: {len(data):,} bytes; the limit is {MAX_MESSAGE_BYTES:,}")
    if len(data) % 2:
        raise StreamClosed(1007, f"PCM16 audio needs an even number of bytes, got {len(data):,}")


async def _close(websocket: WebSocket, code: int, detail: str) -> None:
    """Tell the client why in an error event, then close with the code and a short reason."""
    detail = printable(detail)  # e.g. an unknown setting's name holding a lone surrogate (valid JSON)
    try:
        await websocket.send_json({"type": "error", "code": code, "detail": detail})
        reason = detail.encode()[:123].decode(errors="ignore")  # the protocol's limit for reasons
        await websocket.close(code, reason)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client is already gone
