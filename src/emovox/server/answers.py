"""The work behind the routes, shared by every route family (v1, text, faces, the compatible ones):
images and videos of an upload (faces and voice), the multimodal answer (audio, text and/or video,
fused), base64 bodies, transcripts of a timeline. Route modules import this, never each other.
"""

from __future__ import annotations

import base64
import binascii
import io
import threading
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import anyio
from fastapi import HTTPException
from fastapi.responses import JSONResponse

from ..analysis.fusion import fuse
from ..errors import (
    MediaError,
    MediaTooLargeError,
    MissingExtraError,
    TextDecodeError,
    TextError,
    TextTooLongError,
    UndecodableMediaError,
)
from ..io.audio import load_audio
from ..io.text import TextSource, load_text
from ..recognizers.words import TextRecognizer, load_text_model
from .schemas_text import MultimodalTextRequest
from .seed import seed_answer
from .state import ServerState, require_speech

if TYPE_CHECKING:
    from ..results.result_media import MediaPrediction

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
    from ..io.vision import has_picture, is_image_name, sniff

    found = sniff(data[:16])
    return found == "image" or (found is None and is_image_name(filename)) or has_picture(data)


async def analyze_upload(
    state: ServerState, data: bytes, filename: str | None, *, require: bool = True, model=None,
) -> MediaPrediction:
    """Faces and voice of one upload in a worker thread; HTTPException 4xx for anything unusable
    (with ``require``, also when it holds neither a face nor speech). ``model``: the voice model
    (default the served one; a profile's adapted view)."""
    from ..analysis.media import analyze_media, require_content

    if not data:
        raise HTTPException(422, f"{filename or 'upload'} is empty: 0 bytes were received")
    limit = state.settings.max_video_bytes
    if len(data) > limit:  # the size before the format: too large is 413 whatever the bytes are
        raise HTTPException(413, f"{filename or 'upload'} is {len(data) / 1e6:.1f} MB; the limit for a video "
                                 f"(or an image) is {limit / 1e6:.1f} MB (raise EMOVOX_MAX_VIDEO_FILE_SIZE)")

    def run() -> MediaPrediction:
        p = analyze_media(data, face_model=face_model(), voice_model=model or state.model, name=filename)
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
    """The answer the seed's shapes carry: faces and voice fused (``emovox.analysis.fusion``), else the voice."""
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


def b64decode(text: str, field: str = "audio_base64") -> bytes:
    """The bytes of a base64 JSON field (a data URL too); 422 naming ``field`` when it is not base64."""
    if text.startswith("data:") and "," in text:  # a data URL: data:audio/wav;base64,....
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise HTTPException(422, f"{field} is not valid base64: {exc}") from exc


UNSUPPORTED_MODALITIES = ("video", "image")  # multimodal fields refused with a 422


async def text_model_of(app, state) -> TextRecognizer:
    """``get_text_model`` for any connection's app (HTTP or WebSocket)."""
    model = getattr(app.state, "emovox_text", None)
    if model is None:
        path = getattr(state.settings, "text_model", None)
        model = await anyio.to_thread.run_sync(load_text_model, path)
        app.state.emovox_text = model
    return model


def text_error_status(exc: TextError) -> int:
    """413 too long, 400 not UTF-8, 422 empty or whitespace-only."""
    if isinstance(exc, TextTooLongError):
        return 413
    return 400 if isinstance(exc, TextDecodeError) else 422


async def predict_texts(state, model: TextRecognizer, texts: list[TextSource], field: str = "text"):
    """Validate and score texts off the event loop; TextError becomes one 4xx ``detail`` naming the
    field (``text: ...``, or ``texts[2]: ...`` for the first bad item of a list)."""
    try:
        return await anyio.to_thread.run_sync(model.predict_many, texts, limiter=state.limiter)
    except TextError as exc:
        where = field if len(texts) == 1 else f"{field}[{_first_bad(model, texts)}]"
        raise HTTPException(text_error_status(exc), f"{where}: {exc}") from None


def _first_bad(model: TextRecognizer, texts: list[TextSource]) -> int:
    """The index of the first text the loader refuses (only asked once one was refused)."""
    for i, text in enumerate(texts):
        try:
            load_text(text, max_length=model.max_length)
        except TextError:
            return i
    return 0


async def analyze_multimodal(state, app, body: MultimodalTextRequest) -> dict[str, Any]:
    """The multimodal answer for ``body`` (also used by the seed's WebSocket stream)."""
    start = time.perf_counter()
    extra = dict(body.model_extra or {})
    video = extra.pop("video_base64", None)  # an image or a clip: its faces (and its sound's voice)
    _refuse_unsupported(extra)
    has_text = body.text not in (None, "")
    if not body.audio_base64 and not has_text and not video:
        raise HTTPException(422, "send 'audio_base64' (the base64 of an audio file), 'text' and/or "
                            "'video_base64' (an image or a video)")
    text_pred = voice = media = None
    if has_text:
        model = await text_model_of(app, state)
        (text_pred,) = await predict_texts(state, model, [body.text])
    if body.audio_base64:
        voice = await state.predict(b64decode(body.audio_base64, "audio_base64"), None, features=False)
    if video:
        media = await analyze_upload(state, b64decode(str(video), "video_base64"), "video_base64", require=False)
        voice = voice if voice is not None else media.voice
    face = media.face if media is not None else None
    if text_pred is None and face is None:
        if media is not None and (voice is None or voice.silent):
            what = "no face" if media.kind == "image" else "no face and no speech"
            raise HTTPException(422, f"{what} found in 'video_base64'; nothing to analyse")
        require_speech(voice)  # audio alone: a silent recording answers 422 "no speech detected"
    fused = fuse(audio=voice if voice is not None and not voice.silent else None, text=text_pred, face=face)
    seed_names = {"face": "video"}  # the seed calls the face modality "video"
    metadata: dict[str, Any] = {"modalities_used": [seed_names.get(m, m) for m in fused.modalities],
                                "model": " + ".join(_model_name(m, p, media) for m, p in fused.parts.items())}
    if voice is not None:
        metadata["duration_s"] = round(voice.duration_s, 3)
        metadata["audio_silent"] = voice.silent
    if media is not None:
        metadata.update(faces_detected=media.faces_detected, frames_analyzed=media.frames_analyzed,
                        media_type=media.kind, faces=[t.to_dict(timeline=False) for t in media.tracks])
    if len(fused.modalities) > 1:
        metadata.update(fused.agreement())
    return seed_answer(fused, metadata, start)


async def require_transcriber() -> None:
    """Load the shared transcriber (once); 501 with the pip command when the extra is missing."""
    from ..analysis.transcribe import load_transcriber

    try:
        await anyio.to_thread.run_sync(load_transcriber)
    except MissingExtraError as exc:  # the server lacks the extra: not the client's fault
        raise HTTPException(501, f"transcription is not installed on this server: {exc}") from None


async def timeline_words_of(state, data: bytes, timeline) -> list[dict[str, Any]]:
    """Each speech segment of ``timeline`` with its words (``emovox.analysis.transcript``), off the event loop."""
    from ..analysis.transcript import timeline_words

    def run() -> list[dict[str, Any]]:
        signal = load_audio(io.BytesIO(data), max_duration_s=state.settings.max_duration_s)
        return [w.to_dict() for w in timeline_words(timeline, signal)]

    return await anyio.to_thread.run_sync(run, limiter=state.limiter)


def _model_name(modality: str, part: Any, media: Any) -> str:
    return media.face_model if modality == "face" else part.model


def _refuse_unsupported(extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        modality = next((m for m in UNSUPPORTED_MODALITIES if m in key.lower()), None)
        if modality and value not in (None, "", [], {}):
            raise HTTPException(
                422, f"the {modality} modality is not supported yet (field {key!r}): send the recording "
                f"as 'audio_base64', the words as 'text' and an image or a video as 'video_base64'",
            )
