"""Faces over HTTP: images and videos for the seed's routes (``analysis_type=video``, ``video_base64``)
and ``POST /v1/faces`` (the whole ``MediaPrediction``).

``dominant_emotion`` of an image or a video is the faces' pooled answer fused with the voice's
(``emovox.analysis.fusion``; either alone when the other is missing). Each modality's own result is kept in
``metadata`` (``faces``, ``voice``, ``per_modality``). Neither a face nor speech: 422; an undecodable file: 415; too
many bytes, pixels or seconds: 413. Never a 500 for what a client sent.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, File, HTTPException, UploadFile, WebSocket, WebSocketDisconnect

from ..errors import MediaError
from .answers import analyze_multimodal, analyze_upload, media_status
from .schemas import ERROR_RESPONSES
from .state import StateDep
from .uploads import read_file

if TYPE_CHECKING:
    from .state import ServerState

log = logging.getLogger("emovox.server")
router = APIRouter(tags=["faces"])




















MediaField = Annotated[UploadFile, File(description="an image (jpg, png, webp) or a video (mp4, mov, webm, mkv, avi, flv)")]


@router.post("/v1/faces", responses=ERROR_RESPONSES,
             summary="Faces (box, emotion, tracks over time) and the voice of an image or a video")
async def faces(state: StateDep, file: MediaField) -> dict[str, Any]:
    data = await read_file(file)
    p = await analyze_upload(state, data, file.filename)
    return p.to_dict()


@router.websocket("/ws/emotion/stream")
async def emotion_stream(ws: WebSocket) -> None:
    """The seed's stream: each JSON text message (``audio_base64``, ``video_base64``, ``text``,
    ``model_type``, optional ``id``) is answered by one JSON message: ``{"type": "result", ...the
    analyze/file shape...}`` or ``{"type": "error", "status": 4xx, "detail": ...}``; the socket stays open."""
    await ws.accept()
    state = getattr(ws.app.state, "emovox", None)
    try:
        if state is None:
            raise RuntimeError("the model is not loaded yet")
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            await ws.send_text(_dumps(await _stream_reply(state, ws.app, message.get("text"))))
    except WebSocketDisconnect:
        return
    except Exception as exc:  # a bug, not the client's fault: say so, and close with 1011
        log.exception("ws/emotion/stream: unexpected error")
        detail = "the model is not loaded yet" if state is None else f"internal error ({type(exc).__name__})"
        try:
            await ws.send_text(_dumps({"type": "error", "status": 500 if state else 503, "detail": detail}))
            await ws.close(code=1011, reason=detail)
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client is already gone


def _dumps(reply: dict[str, Any]) -> str:
    """The reply as JSON text; ASCII-escaped, so that an echoed ``id`` holding a lone surrogate (valid
    JSON) goes back as it came; an ``id`` too deep to write back is left out, with an error."""
    try:
        return json.dumps(reply)
    except RecursionError:  # the answer's own fields are flat: only a client's id goes this deep
        return json.dumps({"type": "error", "status": 400, "detail": "id is nested too deeply to be echoed; "
                           "send a string or a number"})


async def _stream_reply(state: ServerState, app, text: str | None) -> dict[str, Any]:
    """One stream message -> the multimodal route's answer (audio, text and/or video, fused)."""
    from pydantic import ValidationError

    from ..errors import AudioError, EmovoxError
    from .schemas_text import MultimodalTextRequest
    from .state import audio_error_status

    ident: Any = None
    try:
        if text is None:
            raise HTTPException(422, "send JSON text messages: {\"audio_base64\": ...}, {\"text\": ...} "
                                     "or {\"video_base64\": ...}")
        try:
            body = json.loads(text)
        except ValueError as exc:
            raise HTTPException(422, f"the message is not JSON: {exc}") from exc
        except RecursionError:
            raise HTTPException(400, "the message is JSON nested too deeply to parse; send one flat "
                                     "object: {\"audio_base64\": ..., \"text\": ..., \"video_base64\": ...}") from None
        if not isinstance(body, dict):
            raise HTTPException(422, "the message must be a JSON object")
        ident = body.pop("id", None)
        for key in ("video_base64", "audio_base64", "text"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise HTTPException(422, f"{key} must be a string")
        try:
            request = MultimodalTextRequest.model_validate(body)
        except ValidationError as exc:
            raise HTTPException(422, f"bad message: {exc.errors()[0].get('msg', 'invalid')}") from None
        reply = {"type": "result", **await analyze_multimodal(state, app, request)}
    except HTTPException as exc:
        reply = {"type": "error", "status": exc.status_code, "detail": exc.detail}
    except AudioError as exc:
        reply = {"type": "error", "status": audio_error_status(exc), "detail": str(exc)}
    except MediaError as exc:
        reply = {"type": "error", "status": media_status(exc), "detail": str(exc)}
    except EmovoxError as exc:
        reply = {"type": "error", "status": 422, "detail": str(exc)}
    if ident is not None:
        reply["id"] = ident
    return reply
