"""The versioned API: /v1/analyze, /v1/models, /v1/emotions, plus /healthz and /metrics."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from .. import __version__
from ..defaults import MAX_WINDOW_S, TIMELINE_HOP_S, TIMELINE_WINDOW_S, check_window
from ..errors import ModelError, OptionError
from ..labels import EMOTIONS, emotion_info
from ..models.registry import REGISTRY, is_installed
from .answers import (
    analyze_upload,
    is_media_upload,
    media_response,
    require_transcriber,
    timeline_words_of,
)
from .conversations import check_speaker_options, conversation_response
from .profiles import profile_model
from .schemas import (
    ERROR_RESPONSES,
    AnalyzeResponse,
    EmotionsResponse,
    HealthResponse,
    ModelsResponse,
    TimelineResponse,
)
from .schemas_text import AnalyzeWordsResponse, TimelineWordsResponse
from .state import StateDep
from .uploads import read_upload

router = APIRouter()

AUDIO_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the recording: multipart field `file`, or the raw file as the body",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
            "audio/*": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/v1/analyze",
    response_model=AnalyzeWordsResponse | AnalyzeResponse | TimelineWordsResponse | TimelineResponse,
    responses=ERROR_RESPONSES,
    openapi_extra=AUDIO_BODY,
    tags=["v1"],
    summary="Analyze one recording",
)
async def analyze(
    request: Request,
    state: StateDep,
    top_k: Annotated[int | None, Query(ge=1, description="keep only the K most likely emotions")] = None,
    features: Annotated[bool, Query(description="compute the acoustic descriptors")] = True,
    timeline: Annotated[bool, Query(description="answer a timeline: segments and a summary")] = False,
    window_s: Annotated[float, Query(gt=0, le=MAX_WINDOW_S, description="timeline window, seconds")] = TIMELINE_WINDOW_S,
    hop_s: Annotated[float, Query(gt=0, le=MAX_WINDOW_S, description="timeline hop, seconds")] = TIMELINE_HOP_S,
    labels: Annotated[
        str | None,
        Query(
            description="answer only these of the model's emotions, comma-separated; scores "
            "renormalise over them (GET /v1/emotions lists the model's labels)",
            examples=["angry,happy,neutral,sad"],
        ),
    ] = None,
    transcribe: Annotated[bool, Query(description="also transcribe (English) and fuse voice and words")] = False,
    profile: Annotated[
        str | None, Query(max_length=200, description="a voice profile's id (POST /v1/profiles): score relative "
                          "to those recordings; the answer's `adapted` says so")
    ] = None,
    speakers: Annotated[bool, Query(description="with timeline=true: who spoke when; segments per speaker turn "
                                    "with `speaker`, a summary per speaker")] = False,
    num_speakers: Annotated[int | None, Query(ge=1, le=20, description="with speakers=true: the number of voices "
                                              "when known (default: estimated)")] = None,
) -> dict[str, Any]:
    """Emotion, confidence, per-emotion scores, descriptors and display metadata.

    A silent clip is not an error: it answers 200 with `emotion: null` and `silent: true`.
    With `timeline=true`: segments (`start`, `end`, `emotion`, `confidence`, `scores`, `speech`;
    silence has `emotion: null`) covering the recording, a summary, and display metadata.
    With `transcribe=true` (English; the server needs emovox[transcribe], else 501): `transcript`,
    `text` (the words' emotion) and `fused`; on a timeline, `words` per speech segment.
    With `profile=ID`: adapted to that profile (404 when unknown); `adapted` says to what.
    With `timeline=true&speakers=true` (+ `num_speakers` when known): who spoke when; `segments` per
    speaker turn (`speaker` S1, S2... in order of first speech, `start_s`, `end_s`, `emotion`, `scores`,
    `adapted`), `speakers` (a summary per speaker) and `summary` (the whole conversation).
    """
    check_speaker_options(timeline, speakers, num_speakers, transcribe)
    if timeline:
        try:
            check_window(window_s, hop_s)
        except OptionError as exc:
            raise HTTPException(422, str(exc)) from exc
    base = profile_model(state, profile)
    try:
        model = base.restrict(labels) if labels is not None else base
    except ModelError as exc:
        raise HTTPException(422, f"labels: {exc}") from None
    if transcribe:
        await require_transcriber()  # 501 naming the pip command when the extra is missing
    data, filename = await read_upload(request, "file")
    if not timeline and is_media_upload(data, filename):  # faces (and a video's voice)
        return media_response(await analyze_upload(state, data, filename, require=False, model=base))
    if speakers:
        return await conversation_response(state, data, filename, model=model, num_speakers=num_speakers,
                                           window_s=window_s)  # type: ignore[return-value]
    if timeline:
        tl = await state.timeline(data, filename, window_s=window_s, hop_s=hop_s, model=model)
        out = {"adapted": model.info.extra.get("adapted"), **tl.to_dict(),
               "display": {name: emotion_info(name).to_dict() for name in tl.labels}}
        if transcribe:
            out["words"] = await timeline_words_of(state, data, tl)
        return out
    prediction = await state.predict(data, filename, features=features, model=model, transcribe=transcribe)
    return prediction.to_dict(top_k=top_k, display=True)


@router.get("/v1/models", response_model=ModelsResponse, tags=["v1"], summary="Loaded and known models")
async def models(state: StateDep) -> dict[str, Any]:
    available = [{**s.to_dict(), "installed": is_installed(s)} for s in REGISTRY.values()]
    return {"loaded": state.model.info.to_dict(), "available": available}


@router.get("/v1/emotions", response_model=EmotionsResponse, tags=["v1"], summary="Emotion vocabulary")
async def emotions(state: StateDep) -> dict[str, Any]:
    """Every emotion with label, colour, emoji and music mood; `supported` marks the model's own."""
    labels = state.model.labels
    names = list(EMOTIONS) + [name for name in labels if name not in EMOTIONS]
    return {
        "emotions": [
            {**emotion_info(name).to_dict(), "supported": name in labels} for name in names
        ]
    }


@router.get("/healthz", response_model=HealthResponse, tags=["ops"], summary="Liveness and model id")
async def healthz(state: StateDep) -> dict[str, Any]:
    return {
        "status": "ok",
        "model": state.model.info.id,
        "version": __version__,
        "uptime_s": round(time.time() - state.started, 3),
    }


@router.get(
    "/metrics",
    tags=["ops"],
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(state: StateDep) -> Response:
    """Request counts, a latency histogram and the seconds of audio processed."""
    return Response(state.metrics.render(), media_type=state.metrics.content_type)
