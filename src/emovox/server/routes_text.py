"""Text and text+voice routes: ``POST /v1/text`` and the seed's ``/api/v1/emotion/analyze/text``
and ``/api/v1/emotion/analyze/multimodal`` shapes.

Every text goes through ``emovox.io.text.load_text``: too long is 413, empty or whitespace-only 422,
not UTF-8 400. The text model loads on the first text request (``EMOVOX_TEXT_MODEL`` picks a folder).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from ..recognizers.words import TextRecognizer
from .answers import analyze_multimodal, predict_texts, text_model_of
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
from .state import StateDep

router = APIRouter()
TEXT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body is not valid UTF-8 / JSON"},
    413: {"description": "a text longer than MAX_TEXT_LENGTH characters, or too many texts"},
    422: {"description": "missing, empty or whitespace-only text"},
}


async def get_text_model(request: Request, state: StateDep) -> TextRecognizer:
    """The text model, loaded once per app on first use (in a worker thread)."""
    return await text_model_of(request.app, state)




TextModelDep = Annotated[TextRecognizer, Depends(get_text_model)]






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
    """`audio_base64`, `text` and/or `video_base64`; fused when more than one comes (`emovox.analysis.fusion`).

    `metadata.modalities_used` says which were used (a silent recording is left out when text came
    with it); `metadata.per_modality` keeps each one's own result, `metadata.conflict` flags voice and
    words that strongly disagree. `video_base64` (an image or a video) adds its faces, and its sound
    as the voice when no `audio_base64` came; `metadata.faces_detected` counts them.
    """
    return await analyze_multimodal(state, request.app, body)










