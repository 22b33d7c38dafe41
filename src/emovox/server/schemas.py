"""Response and request bodies, with the examples shown in the OpenAPI page."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

FEATURES_EXAMPLE = {
    "duration_s": 3.2, "pitch_mean_hz": 182.4, "pitch_std_hz": 31.7, "pitch_min_hz": 121.0,
    "pitch_max_hz": 262.9, "pitch_range_hz": 141.9, "voiced_fraction": 0.61, "energy_mean_db": -24.3,
    "energy_std_db": 8.9, "tempo_syllables_per_s": 4.1, "spectral_centroid_hz": 1530.0,
    "jitter_local": 0.012, "shimmer_local": 0.071, "hnr_db": 14.2,
}
SCORES_EXAMPLE = {"happy": 0.71, "neutral": 0.14, "surprised": 0.08, "sad": 0.04, "angry": 0.03}


def _example(value: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [value]})


class EmotionMeta(BaseModel):
    """Display metadata of one emotion."""

    name: str
    label: str
    color: str = Field(description="CSS colour, #rrggbb")
    emoji: str
    music_mood: str
    model_config = _example(
        {"name": "happy", "label": "Happy", "color": "#22c55e", "emoji": "😄", "music_mood": "upbeat"}
    )


class AnalyzeResponse(BaseModel):
    """The CLI's JSON fields plus display metadata for every emotion in ``scores``."""

    file: str | None = Field(None, description="the uploaded file name, when one was given")
    duration_s: float
    emotion: str | None = Field(description="dominant emotion; null when the clip is silent")
    confidence: float = Field(description="probability of the dominant emotion, 0-1")
    scores: dict[str, float] = Field(description="probability per emotion, high to low")
    silent: bool = Field(description="true when the clip has no speech energy (no emotion given)")
    features: dict[str, float | None] | None = Field(
        description="acoustic descriptors (null when features=false)"
    )
    model: str
    adapted: dict[str, Any] | None = Field(
        None, description="what the model was adapted to: null, or {to: profile|session|reference, clips, "
        "method, applied, ...}"
    )
    display: dict[str, EmotionMeta]
    model_config = _example(
        {
            "file": "clip.wav", "duration_s": 3.2, "emotion": "happy", "confidence": 0.71,
            "scores": SCORES_EXAMPLE, "silent": False, "features": FEATURES_EXAMPLE,
            "model": "emovox-base@1.0",
            "display": {"happy": {"name": "happy", "label": "Happy", "color": "#22c55e",
                                  "emoji": "😄", "music_mood": "upbeat"}},
        }
    )


class SegmentOut(BaseModel):
    """One stretch of a timeline: speech with an emotion, or non-speech with none."""

    start: float
    end: float
    emotion: str | None = Field(description="null for silence / non-speech")
    confidence: float
    scores: dict[str, float]
    speech: bool


class TimelineSummaryOut(BaseModel):
    speech_s: float
    shares: dict[str, float] = Field(description="share of speech time per emotion")
    dominant: str | None
    changes: int = Field(description="changes of emotion between consecutive speech segments")
    top_segments: dict[str, list[SegmentOut]] = Field(description="most confident segments per emotion")


class TimelineResponse(BaseModel):
    """``POST /v1/analyze?timeline=true``: segments covering the recording, and a summary."""

    file: str | None = None
    duration_s: float
    model: str
    window_s: float
    hop_s: float
    labels: list[str]
    segments: list[SegmentOut]
    summary: TimelineSummaryOut
    adapted: dict[str, Any] | None = Field(None, description="what the model was adapted to (null: not)")
    display: dict[str, EmotionMeta]
    model_config = _example(
        {
            "file": "call.mp3", "duration_s": 9.5, "model": "emovox-base@1.0", "window_s": 3.0,
            "hop_s": 1.5, "labels": ["happy", "sad"],
            "segments": [
                {"start": 0.0, "end": 1.2, "emotion": None, "confidence": 0.0, "scores": {}, "speech": False},
                {"start": 1.2, "end": 9.5, "emotion": "happy", "confidence": 0.8,
                 "scores": {"happy": 0.8, "sad": 0.2}, "speech": True},
            ],
            "summary": {"speech_s": 8.3, "shares": {"happy": 1.0, "sad": 0.0}, "dominant": "happy",
                        "changes": 0, "top_segments": {}},
            "display": {"happy": {"name": "happy", "label": "Happy", "color": "#22c55e",
                                  "emoji": "😄", "music_mood": "upbeat"}},
        }
    )


class ProfileResponse(BaseModel):
    """A voice profile (``POST /v1/profiles``): use its ``id`` as ``?profile=`` on the analyze routes."""

    id: str = Field(description="the profile's key (unguessable; keep it private)")
    clips: int = Field(description="clips with speech that the profile was made from")
    skipped: list[str] = Field(description="clips left out (silent)")
    adapted: dict[str, Any] = Field(description="what answers with this profile carry as `adapted`")
    created: float = Field(description="when it was made, seconds since the epoch")
    model_config = _example({"id": "Jq3...", "clips": 30, "skipped": [], "created": 1764864000.0,
                             "adapted": {"to": "profile", "clips": 30, "method": "safe", "applied": True}})


class LoadedModel(BaseModel):
    name: str
    version: str
    labels: list[str]
    backend: str
    source: str
    sample_rate: int
    model_config = ConfigDict(extra="allow")


class RegistryModel(BaseModel):
    name: str
    backend: str
    location: str
    description: str
    default: bool
    licence: str
    installed: bool


class ModelsResponse(BaseModel):
    loaded: LoadedModel = Field(description="the model this server answers with")
    available: list[RegistryModel] = Field(description="the models emovox knows by name")


class EmotionEntry(EmotionMeta):
    supported: bool = Field(description="true when the loaded model can predict this emotion")


class EmotionsResponse(BaseModel):
    emotions: list[EmotionEntry]


class HealthResponse(BaseModel):
    status: str
    model: str
    version: str
    uptime_s: float
    model_config = _example({"status": "ok", "model": "emovox-base@1.0", "version": "0.1.0", "uptime_s": 12.5})


class StatusResponse(BaseModel):
    status: str
    model_config = _example({"status": "ok"})


# --- compatible routes ------------------------------------------------------------------------
class LabelScore(BaseModel):
    label: str
    score: float


class PredictResponse(BaseModel):
    results: list[LabelScore] = Field(
        description="SER_wav2vec's eight emotions (angry, calm, disgust, fear, happy, neutral, sad, "
        "surprise), high to low; score 0-1"
    )
    dominant: LabelScore
    model_config = _example(
        {"results": [{"label": "happy", "score": 0.71}, {"label": "neutral", "score": 0.29}],
         "dominant": {"label": "happy", "score": 0.71}}
    )


class EmotionScore(BaseModel):
    emotion: str
    label: str
    score: float = Field(description="percent, 0-100")
    color: str
    emoji: str


class AudioFeatures(BaseModel):
    """The Wav2Vec2 guide's audio features, with its meanings; every value is a number."""

    duration: float = Field(description="seconds")
    sample_rate: int = Field(description="the analysis rate (audio is resampled to 16000 Hz)")
    pitch_mean: float = Field(description="Hz; 0.0 for unvoiced audio")
    pitch_std: float = Field(description="Hz; 0.0 for unvoiced audio")
    energy_mean: float = Field(description="mean frame RMS amplitude of the peak-normalised audio, 0-1")
    energy_std: float = Field(description="standard deviation of that frame RMS amplitude, 0-1")
    tempo: float = Field(description="beats per minute (onset autocorrelation); 0.0 without a pulse")
    spectral_centroid: float = Field(description="Hz")


class ApiAnalyzeResponse(BaseModel):
    success: bool
    filename: str
    timestamp: str = Field(description="ISO 8601, UTC")
    dominant_emotion: str
    confidence: float = Field(description="percent, 0-100")
    emotion_scores: list[EmotionScore] = Field(description="high to low")
    audio_features: AudioFeatures
    model_config = _example(
        {
            "success": True, "filename": "clip.wav", "timestamp": "2026-01-01T12:00:00+00:00",
            "dominant_emotion": "happy", "confidence": 71.0,
            "emotion_scores": [{"emotion": "happy", "label": "Happy", "score": 71.0,
                                "color": "#22c55e", "emoji": "😊"}],
            "audio_features": {"duration": 3.2, "sample_rate": 16000, "pitch_mean": 182.4,
                               "pitch_std": 31.7, "energy_mean": 0.2433, "energy_std": 0.1097,
                               "tempo": 120.0, "spectral_centroid": 1530.0},
        }
    )


class PredictEmotionResponse(BaseModel):
    emotion: str
    confidence: float = Field(description="0-1")
    music_mood: str
    all_probabilities: dict[str, float]
    status: str
    warning: str | None = Field(None, description="present only when confidence < 0.70")
    model_config = _example(
        {"emotion": "happy", "confidence": 0.62, "music_mood": "upbeat",
         "all_probabilities": {"happy": 0.62, "neutral": 0.38}, "status": "success",
         "warning": "low confidence (0.62 < 0.70): the emotion may be wrong"}
    )


class RealtimeResponse(BaseModel):
    emotion: str
    confidence: float
    music_mood: str


class EmotionListResponse(BaseModel):
    emotions: list[str]
    count: int


class ClassifyResponse(BaseModel):
    emotion: str = Field(description="one of happy, sad, angry, surprised, neutral")
    confidence: float = Field(description="0-1, two decimals")
    model_config = _example({"emotion": "happy", "confidence": 0.71})


class MultimodalResponse(BaseModel):
    dominant_emotion: str
    confidence: float = Field(description="0-1")
    emotions: dict[str, float]
    metadata: dict[str, Any] = Field(description="modalities_used, model, duration_s, processing_time_ms")
    model_config = _example(
        {"dominant_emotion": "happy", "confidence": 0.71, "emotions": SCORES_EXAMPLE,
         "metadata": {"modalities_used": ["audio"], "model": "emovox-base@1.0", "duration_s": 3.2,
                      "processing_time_ms": 84.0}}
    )


class ErrorResponse(BaseModel):
    detail: str = Field(description="what was wrong with the request, and what is accepted")
    model_config = _example(
        {"detail": "could not decode notes.wav (1,024 bytes, starts with b'hello world'): not a "
                   "supported audio format or codec. Accepted: wav, flac, ogg/vorbis/opus, mp3, ..."}
    )


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    408: {"model": ErrorResponse, "description": "the body arrived too slowly (body_timeout_s)"},
    413: {"model": ErrorResponse, "description": "upload or recording too large / too long"},
    415: {"model": ErrorResponse, "description": "not audio, or an unsupported / corrupt file"},
    422: {"description": "missing field, empty audio, or (compatible routes) no speech detected"},
    503: {"model": ErrorResponse, "description": "too many uploads in flight (retry after Retry-After "
          "seconds), or the model could not run"},
}
