"""Text and text+voice routes: ``POST /v1/text`` and the seed's ``/api/v1/emotion/analyze/text``
and ``/api/v1/emotion/analyze/multimodal`` shapes.

Every text goes through ``emovox.text.load_text``: too long is 413, empty or whitespace-only 422,
not UTF-8 400. The text model loads on the first text request (``EMOVOX_TEXT_MODEL`` picks a folder).
"""

from __future__ import annotations

import io
import time
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Request

from ..errors import MissingExtraError, TextDecodeError, TextError, TextTooLongError
from ..fusion import fuse
from ..text import TextSource, load_text
from ..text_recognizer import TextRecognizer, load_text_model
from . import routes_face
from .routes_compat import _b64decode
from .schemas import ERROR_RESPONSES, MultimodalResponse
from .schemas_text import (
    MAX_TEXTS,
    AnalyzeTextRequest,
    MultimodalTextRequest,
    TextBatchResponse,
    TextRequest,
    TextResponse,
)
from .seed import printable, seed_answer
from .state import StateDep, require_speech

router = APIRouter()
UNSUPPORTED_MODALITIES = ("video", "image")  # multimodal fields refused with a 422
TEXT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body is not valid UTF-8 / JSON"},
    413: {"description": "a text longer than MAX_TEXT_LENGTH characters, or too many texts"},
    422: {"description": "missing, empty or whitespace-only text"},
}


async def get_text_model(request: Request, state: StateDep) -> TextRecognizer:
    """The text model, loaded once per app on first use (in a worker thread)."""
    return await text_model_of(request.app, state)


async def text_model_of(app, state) -> TextRecognizer:
    """``get_text_model`` for any connection's app (HTTP or WebSocket)."""
    model = getattr(app.state, "emovox_text", None)
    if model is None:
        path = getattr(state.settings, "text_model", None)
        model = await anyio.to_thread.run_sync(load_text_model, path)
        app.state.emovox_text = model
    return model


TextModelDep = Annotated[TextRecognizer, Depends(get_text_model)]


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


@router.post("/v1/text", response_model=TextResponse | TextBatchResponse, responses={**TEXT_ERRORS},
             tags=["v1"], summary="Emotion of a text, or of a list of texts")
async def analyze_text(body: TextRequest, state: StateDep, model: TextModelDep) -> dict[str, Any]:
    """`{"text": "..."}` answers one result; `{"texts": [...]}` answers `results` in the same order.

    English only. Texts longer than `MAX_TEXT_LENGTH` characters (default 5,000) answer 413.
    """
    if (body.text is None) == (body.texts is None):
        raise HTTPException(422, "send either 'text' (one string) or 'texts' (a list of strings)")
    if body.texts is not None:
        if not body.texts:
            raise HTTPException(422, "'texts' is empty: give at least one string")
        if len(body.texts) > MAX_TEXTS:
            raise HTTPException(413, f"'texts' has {len(body.texts):,} items; at most {MAX_TEXTS:,} per request")
        preds = await predict_texts(state, model, list(body.texts), field="texts")
        return {"results": [p.to_dict(display=True) for p in preds], "model": model.info.id}
    (pred,) = await predict_texts(state, model, [body.text])
    return pred.to_dict(display=True)


@router.post("/api/v1/emotion/analyze/text", response_model=MultimodalResponse,
             responses={**TEXT_ERRORS}, tags=["compatible"])
async def emotion_analyze_text(body: AnalyzeTextRequest, state: StateDep, model: TextModelDep) -> dict[str, Any]:
    """The seed's text route: `{text, model_type}` -> dominant_emotion, confidence, emotions, metadata."""
    start = time.perf_counter()
    (pred,) = await predict_texts(state, model, [body.text])
    metadata = {"modalities_used": ["text"], "model": pred.model, "model_type": printable(body.model_type),
                "text_length": len(pred.text or "")}
    return seed_answer(pred, metadata, start)


@router.post("/api/v1/emotion/analyze/multimodal", response_model=MultimodalResponse,
             responses={**ERROR_RESPONSES, **TEXT_ERRORS}, tags=["compatible"])
async def emotion_analyze_multimodal(
    body: MultimodalTextRequest, state: StateDep, request: Request
) -> dict[str, Any]:
    """`audio_base64`, `text` and/or `video_base64`; fused when more than one comes (`emovox.fusion`).

    `metadata.modalities_used` says which were used (a silent recording is left out when text came
    with it); `metadata.per_modality` keeps each one's own result, `metadata.conflict` flags voice and
    words that strongly disagree. `video_base64` (an image or a video) adds its faces, and its sound
    as the voice when no `audio_base64` came; `metadata.faces_detected` counts them.
    """
    return await analyze_multimodal(state, request.app, body)


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
        voice = await state.predict(_b64decode(body.audio_base64, "audio_base64"), None, features=False)
    if video:
        media = await routes_face.analyze_upload(state, _b64decode(str(video), "video_base64"), "video_base64",
                                                  require=False)
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
    from ..transcribe import load_transcriber

    try:
        await anyio.to_thread.run_sync(load_transcriber)
    except MissingExtraError as exc:  # the server lacks the extra: not the client's fault
        raise HTTPException(501, f"transcription is not installed on this server: {exc}") from None


async def timeline_words_of(state, data: bytes, timeline) -> list[dict[str, Any]]:
    """Each speech segment of ``timeline`` with its words (``emovox.words``), off the event loop."""
    from ..audio import load_audio
    from ..words import timeline_words

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
