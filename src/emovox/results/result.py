"""Typed results: what every front end (CLI, HTTP, batch, evaluation) formats or aggregates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..defaults import MIN_REFERENCE_CLIPS
from ..errors import EmovoxError
from ..labels import emotion_info

if TYPE_CHECKING:
    import numpy as np


def ranked(scores: dict[str, float], k: int | None = None) -> list[tuple[str, float]]:
    """(label, probability) pairs, highest first; the first ``k`` when given."""
    pairs = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    return pairs if k is None else pairs[:k]


@dataclass(frozen=True)
class Prediction:
    """One recording's result.

    ``scores`` maps every label of the model to a probability (they sum to 1). For silent audio
    ``silent`` is True, ``emotion`` is None and ``scores`` is empty: no emotion is invented.
    """

    emotion: str | None
    confidence: float
    scores: dict[str, float]
    duration_s: float
    model: str
    features: dict[str, float] | None = None
    file: str | None = None
    silent: bool = False
    transcript: str | None = None  # with transcribe=True: what was said ('' when no words)
    text: TextPrediction | None = None  # the emotion of those words
    fused: Any = None  # emovox.analysis.fusion.FusedPrediction of voice and words
    adapted: dict[str, Any] | None = None  # None: not adapted; else to what (see Recognizer.adapt)

    def top(self, k: int | None = None) -> list[tuple[str, float]]:
        """(label, probability) pairs, highest first."""
        return ranked(self.scores, k)

    def to_dict(self, top_k: int | None = None, display: bool = False) -> dict[str, Any]:
        scores = dict(self.top(top_k))
        out: dict[str, Any] = {
            "file": self.file,
            "duration_s": round(self.duration_s, 3),
            "emotion": self.emotion,
            "confidence": self.confidence,
            "scores": scores,
            "silent": self.silent,
            "features": self.features,
            "model": self.model,
            "adapted": self.adapted,
        }
        if self.transcript is not None:
            out["transcript"] = self.transcript
            out["text"] = self.text.to_dict(top_k) if self.text else None
            out["fused"] = self.fused.to_dict(top_k) if self.fused else None
        if display:
            out["display"] = {name: emotion_info(name).to_dict() for name in scores}
        return out


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model is: shown by `emovox models` and `GET /v1/models`."""

    name: str
    version: str
    labels: tuple[str, ...]
    backend: str
    source: str
    sample_rate: int = 16_000
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}" if self.version else self.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "labels": list(self.labels),
            "backend": self.backend,
            "source": self.source,
            "sample_rate": self.sample_rate,
            **self.extra,
        }


@dataclass(frozen=True)
class Reference:
    """What ``Recognizer.adapt`` centres on: the pooled-feature centre of a set of the user's recordings
    (their mean, or the safe estimate of their offset; ``adaptation`` says which and how).

    ``Recognizer.reference(sources)`` computes it; it is small and picklable, so one reference can be
    computed once and sent to many workers (``emovox batch --adapt``).
    """

    mean: np.ndarray = field(repr=False)
    clips: int  # non-silent clips averaged
    skipped: tuple[str, ...] = ()  # sources left out (silent, or unreadable with errors="skip")
    adaptation: dict = field(default_factory=dict)  # {"method", "weight", "mix", "fallback"?}

    def __post_init__(self) -> None:
        if self.clips < MIN_REFERENCE_CLIPS:
            raise EmovoxError(
                f"adapting needs at least {MIN_REFERENCE_CLIPS} non-silent reference clips, got {self.clips}"
            )


@dataclass(frozen=True)
class TextPrediction:
    """The emotion of one text (``emovox.load_text_model().predict``); ``scores`` sum to 1."""

    emotion: str
    confidence: float
    scores: dict[str, float]
    model: str = ""
    text: str | None = None

    def top(self, k: int | None = None) -> list[tuple[str, float]]:
        """(label, probability) pairs, highest first."""
        return ranked(self.scores, k)

    def to_dict(self, top_k: int | None = None, display: bool = False) -> dict[str, Any]:
        scores = dict(self.top(top_k))
        out: dict[str, Any] = {
            "text": self.text,
            "emotion": self.emotion,
            "confidence": self.confidence,
            "scores": scores,
            "model": self.model,
        }
        if display:
            out["display"] = {name: emotion_info(name).to_dict() for name in scores}
        return out
