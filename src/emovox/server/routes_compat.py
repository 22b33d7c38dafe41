"""Routes with the exact shapes of earlier emotion backends, so their clients work unchanged.

All of them answer from the same ``Prediction`` as ``/v1/analyze``. Their shapes cannot say
"no emotion", so a silent recording answers 422 "no speech detected" here (``/v1`` says 200 with
``silent: true``).
"""

from __future__ import annotations

import base64
import binascii
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, Response, UploadFile
from fastapi.responses import FileResponse

from ..audio import SAMPLE_RATE
from ..labels import emotion_info
from ..result import Prediction
from . import routes_face
from .schemas import (
    ERROR_RESPONSES,
    ApiAnalyzeResponse,
    ClassifyResponse,
    EmotionListResponse,
    MultimodalRequest,
    MultimodalResponse,
    PredictEmotionResponse,
    PredictResponse,
    RealtimeResponse,
    StatusResponse,
)
from .state import ServerState, StateDep, require_speech
from .uploads import read_file

router = APIRouter(tags=["compatible"])
STATIC = Path(__file__).parent / "static"
LOW_CONFIDENCE = 0.70
# /api/analyze speaks a seven-emotion vocabulary: 'disgusted', and calm/boredom folded into neutral.
API_ANALYZE_NAMES = {"disgust": "disgusted", "calm": "neutral", "boredom": "neutral"}
UNSUPPORTED_MODALITIES = ("text", "video", "image")

FileField = Annotated[UploadFile, File(description="the recording (wav, mp3, webm, ogg, m4a, flac...)")]


async def _analyze(state: ServerState, upload: UploadFile, features: bool = False) -> Prediction:
    data = await read_file(upload)
    return require_speech(await state.predict(data, upload.filename, features=features))


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


@router.post("/predict", response_model=PredictResponse, responses=ERROR_RESPONSES)
async def predict(state: StateDep, file: FileField) -> dict[str, Any]:
    """Every emotion with its score (0-1), high to low, and the dominant one."""
    p = await _analyze(state, file)
    results = [{"label": name, "score": score} for name, score in p.top()]
    return {"results": results, "dominant": results[0]}


@router.post("/api/analyze", response_model=ApiAnalyzeResponse, responses=ERROR_RESPONSES)
async def api_analyze(state: StateDep, file: FileField) -> dict[str, Any]:
    """Scores in percent with colour and emoji, and acoustic features.

    Names follow this API's seven-emotion vocabulary: `disgust` is `disgusted`, and a model's
    `calm` or `boredom` probability is added to `neutral`. `sample_rate` is the analysis rate
    (16000 Hz: every recording is resampled to it), not the uploaded file's rate.
    """
    p = await _analyze(state, file, features=True)
    folded: dict[str, float] = {}
    for name, score in p.scores.items():
        key = API_ANALYZE_NAMES.get(name, name)
        folded[key] = folded.get(key, 0.0) + score
    ranked = sorted(folded.items(), key=lambda kv: kv[1], reverse=True)
    scores = [_percent_entry(name, score) for name, score in ranked]
    f = p.features or {}
    return {
        "success": True,
        "filename": file.filename or "upload",
        "timestamp": datetime.now(timezone.utc).isoformat(),
        "dominant_emotion": ranked[0][0],
        "confidence": round(ranked[0][1] * 100, 2),
        "emotion_scores": scores,
        "audio_features": {
            "duration": round(p.duration_s, 3),
            "sample_rate": SAMPLE_RATE,
            "pitch_mean": f.get("pitch_mean_hz"),
            "pitch_std": f.get("pitch_std_hz"),
            "energy_mean": f.get("energy_mean_db"),
            "energy_std": f.get("energy_std_db"),
            "tempo": f.get("tempo_syllables_per_s"),
            "spectral_centroid": f.get("spectral_centroid_hz"),
        },
    }


def _percent_entry(name: str, score: float) -> dict[str, Any]:
    info = emotion_info("disgust" if name == "disgusted" else name)
    label = "Disgusted" if name == "disgusted" else info.label
    return {"emotion": name, "label": label, "score": round(score * 100, 2), "color": info.color,
            "emoji": info.emoji}


@router.post(
    "/predict-emotion/",
    response_model=PredictEmotionResponse,
    response_model_exclude_none=True,
    responses=ERROR_RESPONSES,
)
async def predict_emotion(state: StateDep, file: FileField) -> dict[str, Any]:
    """Emotion, confidence (0-1), a music mood and every probability; `warning` below 0.70."""
    p = await _analyze(state, file)
    out: dict[str, Any] = {
        "emotion": p.emotion,
        "confidence": p.confidence,
        "music_mood": emotion_info(p.emotion).music_mood,
        "all_probabilities": dict(p.top()),
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
    p = await _analyze(state, audio_buffer)
    return {"emotion": p.emotion, "confidence": p.confidence, "music_mood": emotion_info(p.emotion).music_mood}


@router.get("/emotions/", response_model=EmotionListResponse)
async def emotions_list(state: StateDep) -> dict[str, Any]:
    """The emotions the loaded model predicts."""
    names = list(state.model.labels)
    return {"emotions": names, "count": len(names)}


@router.get("/music-moods/", response_model=dict[str, str])
async def music_moods(state: StateDep) -> dict[str, str]:
    """Emotion -> music mood, for the emotions the loaded model predicts."""
    return {name: emotion_info(name).music_mood for name in state.model.labels}


@router.post("/api/classify-emotion", response_model=ClassifyResponse, responses=ERROR_RESPONSES)
async def classify_emotion(state: StateDep, file: FileField) -> dict[str, Any]:
    p = await _analyze(state, file)
    return {"emotion": p.emotion, "confidence": p.confidence}


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


@router.post(
    "/api/v1/emotion/analyze/multimodal", response_model=MultimodalResponse, responses=ERROR_RESPONSES
)
async def emotion_analyze_multimodal(state: StateDep, body: MultimodalRequest) -> dict[str, Any]:
    """JSON with `audio_base64`. Text and video are not supported yet: such fields answer 422."""
    start = time.perf_counter()
    extra = dict(body.model_extra or {})
    video = extra.pop("video_base64", None)  # an image or a clip: faces (and its sound's voice)
    for key, value in extra.items():
        modality = next((m for m in UNSUPPORTED_MODALITIES if m in key.lower()), None)
        if modality and value not in (None, "", [], {}):
            raise HTTPException(
                422,
                f"the {modality} modality is not supported yet (field {key!r}): this server "
                f"analyzes audio only; send the recording as 'audio_base64'",
            )
    if video:
        audio = _b64decode(body.audio_base64) if body.audio_base64 else None
        return await routes_face.multimodal(state, _b64decode(str(video)), audio, start)
    if not body.audio_base64:
        raise HTTPException(422, "missing field 'audio_base64': the base64 of an audio file")
    data = _b64decode(body.audio_base64)
    p = require_speech(await state.predict(data, None, features=False))
    return _multimodal(p, start)


def _b64decode(text: str) -> bytes:
    if text.startswith("data:") and "," in text:  # a data URL: data:audio/wav;base64,....
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise HTTPException(422, f"audio_base64 is not valid base64: {exc}") from exc


def _multimodal(p: Prediction, start: float, filename: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "modalities_used": ["audio"],
        "model": p.model,
        "duration_s": round(p.duration_s, 3),
        "processing_time_ms": round((time.perf_counter() - start) * 1000, 1),
    }
    if filename:
        metadata["filename"] = filename
    return {
        "dominant_emotion": p.emotion,
        "confidence": p.confidence,
        "emotions": dict(p.top()),
        "metadata": metadata,
    }
