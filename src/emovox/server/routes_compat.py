"""Routes with the exact shapes of earlier emotion backends, so their clients work unchanged.

All of them answer from the same ``Prediction`` as ``/v1/analyze``, restricted to the emotions the
route's earlier backend answered and named as it named them (``compat_backends``). Their shapes
cannot say "no emotion", so a silent recording answers 422 "no speech detected" here (``/v1`` says
200 with ``silent: true``). The routes whose clients read ``error`` answer it beside ``detail``.
"""

from __future__ import annotations

import base64
import binascii
import io
import time
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, File, Form, HTTPException, Request, Response, UploadFile
from fastapi.responses import FileResponse

from ..audio import SAMPLE_RATE, load_audio
from ..recognizer import Recognizer
from ..result import Prediction
from . import routes_face
from .compat_backends import (
    GUIDE_EMOTIONS,
    MEL_CNN,
    MUSIC_PLAYER,
    SER_WAV2VEC,
    WAV2VEC2_GUIDE,
    EarlierBackend,
)
from .compat_errors import ErrorFieldResponse, ErrorFieldRoute
from .compat_features import guide_audio_features
from .schemas import (
    ERROR_RESPONSES,
    ApiAnalyzeResponse,
    ClassifyResponse,
    EmotionListResponse,
    MultimodalResponse,
    PredictEmotionResponse,
    PredictResponse,
    RealtimeResponse,
    StatusResponse,
)
from .seed import seed_answer
from .state import ServerState, StateDep, require_speech
from .uploads import read_file

router = APIRouter(tags=["compatible"])
# Routes whose clients read `error` (SER_wav2vec's page, the mel-CNN app): included at the end.
error_field_router = APIRouter(tags=["compatible"], route_class=ErrorFieldRoute)
STATIC = Path(__file__).parent / "static"
LOW_CONFIDENCE = 0.70

FileField = Annotated[UploadFile, File(description="the recording (wav, mp3, webm, ogg, m4a, flac...)")]
# 413s for a body over the size limit are answered before any route runs: `detail` only there.
ERROR_FIELD_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES, 415: {**ERROR_RESPONSES[415], "model": ErrorFieldResponse}
}


async def _analyze(
    state: ServerState, upload: UploadFile, backend: EarlierBackend | None = None, features: bool = False
) -> Prediction:
    """Predict one upload, restricted to ``backend``'s emotions; 422 when it is silent."""
    model = backend.restrict(state.model) if backend else None
    data = await read_file(upload)
    return require_speech(await state.predict(data, upload.filename, features=features, model=model))


@router.get("/", response_model=StatusResponse, summary="Status, or the page for browsers")
async def index(request: Request) -> Any:
    """`{"status": "ok"}` for API clients; the web page when the client asks for text/html."""
    if "text/html" in request.headers.get("accept", ""):
        return FileResponse(STATIC / "index.html", media_type="text/html")
    return {"status": "ok"}


@router.head("/", response_model=StatusResponse, summary="Status (headers only)")
async def index_head(request: Request) -> Any:
    return await index(request)


@router.get("/favicon.ico", status_code=204, include_in_schema=False)
async def favicon() -> Response:
    return Response(status_code=204)


@error_field_router.post("/predict", response_model=PredictResponse, responses=ERROR_FIELD_RESPONSES)
async def predict(state: StateDep, file: FileField) -> dict[str, Any]:
    """SER_wav2vec's eight emotions (`angry, calm, disgust, fear, happy, neutral, sad, surprise`)
    with their scores (0-1, renormalised over the eight), high to low, and the dominant one.
    Errors carry `error` (which its page shows) as well as `detail`."""
    p = await _analyze(state, file, SER_WAV2VEC)
    results = [{"label": name, "score": score} for name, score in SER_WAV2VEC.scores(p)]
    return {"results": results, "dominant": results[0]}


@router.post("/api/analyze", response_model=ApiAnalyzeResponse, responses=ERROR_RESPONSES)
async def api_analyze(state: StateDep, file: FileField) -> dict[str, Any]:
    """The Wav2Vec2 guide's answer: its seven emotions (`disgust` is `disgusted`; scores
    renormalised over the seven) in percent with its colour and emoji, and audio features.

    `audio_features` keep that backend's meanings: `energy_mean`/`energy_std` are RMS amplitude
    (0-1) of the peak-normalised recording, `tempo` is in beats per minute, pitch and spectral
    centroid in Hz; every value is a number (0.0 where undefined, e.g. the pitch of unvoiced audio).
    `sample_rate` is the analysis rate (16000 Hz: every recording is resampled to it).
    """
    model = WAV2VEC2_GUIDE.restrict(state.model)
    data = await read_file(file)
    p = require_speech(await state.predict(data, file.filename, features=True, model=model))
    run = partial(_guide_features, data, file.filename, p, model)
    audio_features = await anyio.to_thread.run_sync(run, limiter=state.limiter)
    ranked = WAV2VEC2_GUIDE.scores(p)
    return {
        "success": True,
        "filename": file.filename or "upload",
        "timestamp": datetime.now(timezone.utc).isoformat(),
        "dominant_emotion": ranked[0][0],
        "confidence": round(ranked[0][1] * 100, 2),
        "emotion_scores": [
            {"emotion": name, **GUIDE_EMOTIONS[name], "score": round(score * 100, 2)} for name, score in ranked
        ],
        "audio_features": audio_features,
    }


def _guide_features(data: bytes, filename: str | None, p: Prediction, model: Recognizer) -> dict[str, Any]:
    """Decode the upload again (through audio.py, like every input) for the guide's energy and tempo."""
    source = io.BytesIO(data)
    source.name = filename or "upload"
    signal = load_audio(source, max_duration_s=model.max_duration_s)
    return guide_audio_features(signal, SAMPLE_RATE, p.features)


@router.post(
    "/predict-emotion/",
    response_model=PredictEmotionResponse,
    response_model_exclude_none=True,
    responses=ERROR_RESPONSES,
)
async def predict_emotion(state: StateDep, file: FileField) -> dict[str, Any]:
    """The music-player backend's eight emotions: emotion, confidence (0-1), its player's music mood
    and every probability (renormalised over the eight); `warning` below 0.70."""
    p = await _analyze(state, file, MUSIC_PLAYER)
    out: dict[str, Any] = {
        "emotion": p.emotion,
        "confidence": round(p.confidence, 4),
        "music_mood": MUSIC_PLAYER.moods[p.emotion],
        "all_probabilities": dict(MUSIC_PLAYER.scores(p)),
        "status": "success",
    }
    if p.confidence < LOW_CONFIDENCE:
        out["warning"] = (
            f"low confidence ({p.confidence:.2f} < {LOW_CONFIDENCE:.2f}): the emotion may be wrong"
        )
    return out


@router.post("/predict-realtime/", response_model=RealtimeResponse, responses=ERROR_RESPONSES)
async def predict_realtime(
    state: StateDep, audio_buffer: Annotated[UploadFile, File(description="a short recording")]
) -> dict[str, Any]:
    """The music-player backend's quick answer: emotion, confidence (0-1) and music mood."""
    p = await _analyze(state, audio_buffer, MUSIC_PLAYER)
    return {"emotion": p.emotion, "confidence": round(p.confidence, 4), "music_mood": MUSIC_PLAYER.moods[p.emotion]}


@router.get("/emotions/", response_model=EmotionListResponse)
async def emotions_list(state: StateDep) -> dict[str, Any]:
    """The music-player backend's emotions that the loaded model predicts (all eight for the
    built-in model), in that backend's order."""
    names = list(MUSIC_PLAYER.labels(state.model))
    return {"emotions": names, "count": len(names)}


@router.get("/music-moods/", response_model=dict[str, str])
async def music_moods(state: StateDep) -> dict[str, str]:
    """Emotion -> the music-player's mood, for the emotions `/emotions/` lists."""
    return {name: MUSIC_PLAYER.moods[name] for name in MUSIC_PLAYER.labels(state.model)}


@error_field_router.post(
    "/api/classify-emotion", response_model=ClassifyResponse, responses=ERROR_FIELD_RESPONSES
)
async def classify_emotion(state: StateDep, file: FileField) -> dict[str, Any]:
    """The mel-CNN backend's answer: one of `happy, sad, angry, surprised, neutral` (scores
    renormalised over the five) and its confidence (0-1, two decimals)."""
    return _classified(await _analyze(state, file, MEL_CNN))


@error_field_router.post(
    "/api/classify-emotion-upload", response_model=ClassifyResponse, responses=ERROR_FIELD_RESPONSES
)
async def classify_emotion_upload(
    state: StateDep,
    audio: Annotated[UploadFile, File(description="the recording (the mel-CNN app sends m4a)")],
) -> dict[str, Any]:
    """What the mel-CNN backend's mobile app calls: the recording in multipart field `audio`;
    the same answer as `/api/classify-emotion`."""
    return _classified(await _analyze(state, audio, MEL_CNN))


def _classified(p: Prediction) -> dict[str, Any]:
    return {"emotion": MEL_CNN.own_name(p.emotion), "confidence": round(p.confidence, 2)}


@router.post("/api/v1/emotion/analyze/file", response_model=MultimodalResponse, responses=ERROR_RESPONSES)
async def emotion_analyze_file(
    state: StateDep, file: FileField, analysis_type: Annotated[str | None, Form()] = None
) -> dict[str, Any]:
    """`analysis_type=video`, or an image, goes to the faces (and the voice of a video's sound)."""
    start = time.perf_counter()
    data = await read_file(file)
    if analysis_type == "video" or routes_face.is_media_upload(data, file.filename):
        p = await routes_face.analyze_upload(state, data, file.filename)
        return routes_face.seed_shape(p, start, file.filename)
    p = require_speech(await state.predict(data, file.filename, features=False))
    return _multimodal(p, start, filename=file.filename)


# /api/v1/emotion/analyze/multimodal (audio and/or text) lives in routes_text.


def _b64decode(text: str, field: str = "audio_base64") -> bytes:
    """The bytes of a base64 JSON field (a data URL too); 422 naming ``field`` when it is not base64."""
    if text.startswith("data:") and "," in text:  # a data URL: data:audio/wav;base64,....
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise HTTPException(422, f"{field} is not valid base64: {exc}") from exc


def _multimodal(p: Prediction, start: float, filename: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"modalities_used": ["audio"], "model": p.model, "duration_s": round(p.duration_s, 3)}
    if filename:
        metadata["filename"] = filename
    return seed_answer(p, metadata, start)


router.include_router(error_field_router)
