"""Faces over HTTP: images and videos for the seed's routes (``analysis_type=video``, ``video_base64``)
and ``POST /v1/faces`` (the whole ``MediaPrediction``).

``dominant_emotion`` of an image or a video is the faces' pooled answer fused with the voice's
(``emovox.fusion``; either alone when the other is missing). Each modality's own result is kept in
``metadata`` (``faces``, ``voice``, ``per_modality``). Neither a face nor speech: 422; an undecodable file: 415; too
many bytes, pixels or seconds: 413. Never a 500 for what a client sent.
"""

from __future__ import annotations

import json
import logging
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

import anyio
from fastapi import APIRouter, File, HTTPException, UploadFile, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from ..errors import MediaError, MediaTooLargeError, MissingExtraError, UndecodableMediaError
from .schemas import ERROR_RESPONSES
from .seed import seed_answer
from .state import StateDep
from .uploads import read_file

if TYPE_CHECKING:
    from ..result_media import MediaPrediction
    from .state import ServerState

log = logging.getLogger("emovox.server")
router = APIRouter(tags=["faces"])
UPLOAD_PATHS = ("/v1/faces", "/v1/analyze", "/api/v1/emotion/analyze/file")
"""Routes whose uploaded file may be an image or a video (a multipart part or the raw body)."""
BASE64_PATHS = ("/api/v1/emotion/analyze/multimodal",)
"""Routes taking ``video_base64`` (beside ``audio_base64``) in a JSON body."""


def body_limits(settings) -> dict[str, int]:
    """Path -> largest body for the routes that take images and videos (``limits.BodyLimits``):
    the video limit (MAX_VIDEO_FILE_SIZE) and a form's overhead; for JSON, the base64 of a video
    and an audio file. Never more than the in-flight budget, so that such a body can be received."""
    from .settings import FORM_OVERHEAD

    as_base64 = 4 * -(-(settings.max_video_bytes + settings.max_upload_bytes) // 3) + FORM_OVERHEAD
    limits = {**dict.fromkeys(UPLOAD_PATHS, settings.media_body_bytes), **dict.fromkeys(BASE64_PATHS, as_base64)}
    return {path: max(settings.max_upload_bytes, min(n, settings.max_inflight_bytes)) for path, n in limits.items()}


@lru_cache(maxsize=1)
def face_model():
    """The face model, shared by every request; its detector used by one thread at a time."""
    from ..models.face import load_face_model

    model = load_face_model()
    model.detector = OneAtATime(model.detector)
    return model


class OneAtATime:
    """A face detector whose ``detect`` runs under a lock: OpenCV's Haar cascade is not thread-safe
    (two requests at once failed inside ``detectMultiScale`` with a 500); the expression nets
    (ONNX Runtime) and the voice still run in parallel."""

    def __init__(self, detector) -> None:
        self._detector = detector
        self._lock = threading.Lock()

    def detect(self, grey):
        with self._lock:
            return self._detector.detect(grey)

    def __getattr__(self, name: str):
        return getattr(self._detector, name)


def media_status(exc: MediaError) -> int:
    if isinstance(exc, MediaTooLargeError):
        return 413
    if isinstance(exc, UndecodableMediaError):
        return 415
    return 422


def is_media_upload(data: bytes, filename: str | None) -> bool:
    """An image (by its bytes, or its name when the bytes do not say), or a video container that
    holds a picture (an audio-only mp4/webm, such as a microphone recording, stays audio)."""
    from ..vision import has_picture, is_image_name, sniff

    found = sniff(data[:16])
    return found == "image" or (found is None and is_image_name(filename)) or has_picture(data)


async def analyze_upload(
    state: ServerState, data: bytes, filename: str | None, *, require: bool = True
) -> MediaPrediction:
    """Faces and voice of one upload in a worker thread; HTTPException 4xx for anything unusable
    (with ``require``, also when it holds neither a face nor speech)."""
    from ..media import analyze_media, require_content

    if not data:
        raise HTTPException(422, f"{filename or 'upload'} is empty: 0 bytes were received")
    limit = state.settings.max_video_bytes
    if len(data) > limit:  # the size before the format: too large is 413 whatever the bytes are
        raise HTTPException(413, f"{filename or 'upload'} is {len(data) / 1e6:.1f} MB; the limit for a video "
                                 f"(or an image) is {limit / 1e6:.1f} MB (raise EMOVOX_MAX_VIDEO_FILE_SIZE)")

    def run() -> MediaPrediction:
        p = analyze_media(data, face_model=face_model(), voice_model=state.model, name=filename)
        return require_content(p) if require else p

    try:
        return await anyio.to_thread.run_sync(run, limiter=state.limiter)
    except MissingExtraError as exc:
        raise HTTPException(501, f"faces are not available on this server: {exc}") from exc
    except MediaError as exc:
        raise HTTPException(media_status(exc), str(exc)) from exc


def media_response(p: MediaPrediction) -> JSONResponse:
    """The whole MediaPrediction (outside the voice routes' response models)."""
    return JSONResponse(p.to_dict())


def dominant(p: MediaPrediction):
    """The answer the seed's shapes carry: faces and voice fused (``emovox.fusion``), else the voice."""
    return p.fused if p.fused is not None else p.voice


def seed_shape(p: MediaPrediction, start: float, filename: str | None = None) -> dict[str, Any]:
    """The seed's MultimodalResponse shape for an image or a video."""
    top = dominant(p)
    modalities = (["video"] if p.faces_detected else []) + (["audio"] if p.has_speech else [])
    metadata: dict[str, Any] = {
        "modalities_used": modalities,
        "faces_detected": p.faces_detected,
        "frames_analyzed": p.frames_analyzed,
        "media_type": p.kind,
        "model": p.voice.model if p.voice is not None else p.face_model,
        "face_model": p.face_model,
        "duration_s": round(p.duration_s, 3),
        "faces": [t.to_dict(timeline=False) for t in p.tracks],
        "voice": None if not p.has_speech else {
            "emotion": p.voice.emotion, "confidence": p.voice.confidence, "scores": dict(p.voice.top()),
        },
    }
    if p.fused is not None and len(p.fused.modalities) > 1:
        metadata.update(p.fused.agreement())
    if filename:
        metadata["filename"] = filename
    return seed_answer(top, metadata, start)


async def multimodal(state: ServerState, media: bytes, audio: bytes | None, start: float) -> dict[str, Any]:
    """``video_base64`` (an image or a clip), with ``audio_base64`` as the voice when both are sent."""
    import dataclasses

    from ..media import require_content, with_fused

    p = await analyze_upload(state, media, None, require=False)
    if audio is not None:
        voice = await state.predict(audio, None, features=False)
        p = with_fused(dataclasses.replace(p, voice=voice))
    try:
        require_content(p)
    except MediaError as exc:
        raise HTTPException(422, str(exc)) from exc
    return seed_shape(p, start)


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
    from .routes_text import analyze_multimodal
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
