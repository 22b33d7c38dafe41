"""Request and response bodies of the text routes (``routes_text``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .schemas import AnalyzeResponse, EmotionMeta, TimelineResponse

MAX_TEXTS = 1000  # texts per /v1/text request


class TextRequest(BaseModel):
    """One text, or a list of texts (not both)."""

    text: str | None = Field(None, description="the text (English)")
    texts: list[str] | None = Field(None, description=f"several texts, at most {MAX_TEXTS}")
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "I can't believe you did this!"},
                                                             {"texts": ["Great news!", "I'm scared."]}]})


class TextResponse(BaseModel):
    text: str | None = Field(description="the text as analysed (normalised)")
    emotion: str
    confidence: float = Field(description="probability of the dominant emotion, 0-1")
    scores: dict[str, float] = Field(description="probability per emotion, high to low")
    model: str
    display: dict[str, EmotionMeta]


class TextBatchResponse(BaseModel):
    results: list[TextResponse]
    model: str


class AnalyzeTextRequest(BaseModel):
    """The seed's text request."""

    text: str = Field(description="the text (English)")
    model_type: str | None = Field(None, description="accepted for compatibility; echoed in metadata")
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "I just lost my job", "model_type": "default"}]})


class MultimodalTextRequest(BaseModel):
    """Audio and/or text; video or image fields are refused with a 422."""

    audio_base64: str | None = Field(None, description="base64 of an audio file (wav, mp3, webm...)")
    text: str | None = Field(None, description="the words (English), e.g. what was said")
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{"audio_base64": "UklGRiQAAABXQVZF...", "text": "I just lost my job"}]},
    )


class AnalyzeWordsResponse(AnalyzeResponse):
    """``POST /v1/analyze?transcribe=true``: the voice result plus what was said and its emotion."""

    transcript: str = Field(description="what was said (English, Whisper tiny.en); '' when no words")
    text: dict[str, Any] | None = Field(description="the emotion of the words (null without words)")
    fused: dict[str, Any] | None = Field(description="voice and words fused (emovox.analysis.fusion)")


class TimelineWordsResponse(TimelineResponse):
    """``timeline=true&transcribe=true``: the timeline plus each speech segment's words and their emotion."""

    words: list[dict[str, Any]] = Field(
        description="per speech segment: start, end, voice (its emotion), transcript, text, fused"
    )
