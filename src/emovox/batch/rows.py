"""The batch row schema: one row per file (or per timeline segment), the same for every engine.

A row is built only from what the recognizer returned (a ``Prediction``, a timeline, or the
``EmovoxError`` it yielded in the file's place); nothing here decodes audio or runs a model.

Columns, per file: ``path, duration_s, emotion, confidence, score_<label>... , <descriptor>...,
silent, error, model, adapted_to, adapted_clips, adapted_applied``. With ``timeline=True`` there is
one row per segment and ``segment, start_s, end_s`` follow ``duration_s``; a file that failed still
gets one row, with its error. The ``adapted_*`` columns say what the model scoring the row was adapted
to (the prediction's ``adapted``): ``adapted_to`` "batch", "<by>:<group>" (``--adapt-by``),
"recording" (a timeline adapted to its own speech), or null when not adapted; ``adapted_clips`` the
reference's clips (windows for a recording); ``adapted_applied`` true only when the row's scores came
from the adapted model: false when not adapted, when the safe estimate kept the un-adapted model (a
one-sided mix), or when a recording was too short to adapt to (and on error rows).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..errors import EmovoxError, require

SCORE_PREFIX = "score_"
BASE_COLUMNS = ("path", "duration_s", "emotion", "confidence")
SEGMENT_COLUMNS = ("segment", "start_s", "end_s")
TAIL_COLUMNS = ("silent", "error", "model")
ADAPTED_COLUMNS = ("adapted_to", "adapted_clips", "adapted_applied")


@dataclass(frozen=True)
class Schema:
    """The columns a run writes: fixed by the model's labels and the descriptor names."""

    labels: tuple[str, ...]
    features: tuple[str, ...]
    timeline: bool = False
    speakers: bool = False  # timeline rows of a conversation: a "speaker" column (analysis.conversation)

    @property
    def score_columns(self) -> tuple[str, ...]:
        return tuple(SCORE_PREFIX + label for label in self.labels)

    @property
    def feature_columns(self) -> tuple[str, ...]:
        taken = set(BASE_COLUMNS + SEGMENT_COLUMNS + TAIL_COLUMNS + ADAPTED_COLUMNS + self.score_columns)
        return tuple(f"feature_{name}" if name in taken else name for name in self.features)

    @property
    def columns(self) -> tuple[str, ...]:
        head = (BASE_COLUMNS[:2] + (SEGMENT_COLUMNS if self.timeline else ()) + ("speaker",) * self.speakers
                + BASE_COLUMNS[2:])
        feats = () if self.timeline else self.feature_columns
        return head + self.score_columns + feats + TAIL_COLUMNS + ADAPTED_COLUMNS

    def arrow(self):
        """The pyarrow schema, so that every part file and every engine agree on types."""
        pa = require("pyarrow", "batch", "batch analysis")

        types = {"path": pa.string(), "emotion": pa.string(), "error": pa.string(),
                 "model": pa.string(), "silent": pa.bool_(), "segment": pa.int32(), "speaker": pa.string(),
                 "adapted_to": pa.string(), "adapted_clips": pa.int32(), "adapted_applied": pa.bool_()}
        return pa.schema([(c, types.get(c, pa.float64())) for c in self.columns])

    def table(self, rows: list[dict[str, Any]]):
        """Rows -> a pyarrow Table with exactly this schema (missing keys become nulls)."""
        pa = require("pyarrow", "batch", "batch analysis")
        return pa.Table.from_pylist(rows, schema=self.arrow())

    def file_row(self, path: str, result: Any, model: str) -> dict[str, Any]:
        """One row for one file: a Prediction, or the EmovoxError the recognizer returned."""
        if isinstance(result, EmovoxError):
            return self.error_row(path, result, model)
        row: dict[str, Any] = {
            "path": path,
            "duration_s": float(result.duration_s),
            "emotion": result.emotion,
            "confidence": None if result.silent else float(result.confidence),
            "silent": bool(result.silent),
            "error": None,
            "model": result.model,
        }
        row.update(_scores(self, result.scores))
        row.update(adapted_columns(getattr(result, "adapted", None)))
        feats = result.features or {}
        for name, column in zip(self.features, self.feature_columns, strict=True):
            row[column] = _number(feats.get(name))
        return row

    def segment_rows(self, path: str, timeline: Any, model: str) -> list[dict[str, Any]]:
        """One row per timeline segment; non-speech segments are ``silent`` with no emotion."""
        rows = []
        duration = _timeline_duration(timeline)
        adapted = adapted_columns(getattr(timeline, "adapted", None))
        for i, seg in enumerate(timeline.segments):
            speech = bool(getattr(seg, "speech", seg.emotion is not None)) and seg.emotion is not None
            row = {
                "path": path,
                "duration_s": duration,
                "segment": i,
                "start_s": float(_get(seg, "start", "start_s")),
                "end_s": float(_get(seg, "end", "end_s")),
                "emotion": seg.emotion if speech else None,
                "confidence": float(seg.confidence) if speech else None,
                "silent": not speech,
                "error": None,
                "model": getattr(timeline, "model", None) or model,
            }
            if self.speakers:
                row["speaker"] = seg.speaker
            row.update(_scores(self, seg.scores or {}))
            row.update(adapted)
            rows.append(row)
        return rows

    def error_row(self, path: str, error: BaseException, model: str) -> dict[str, Any]:
        return {"path": path, "silent": False, "error": one_line(error), "model": model, "adapted_applied": False}


def adapted_columns(adapted: dict | None) -> dict[str, Any]:
    """A prediction's (or timeline's) ``adapted`` as the three flat row columns."""
    if not adapted:
        return {"adapted_to": None, "adapted_clips": None, "adapted_applied": False}
    clips = adapted.get("clips")
    return {"adapted_to": adapted.get("to"), "adapted_clips": None if clips is None else int(clips),
            "adapted_applied": bool(adapted.get("applied", True))}


def schema_for(recognizer, *, timeline: bool = False, speakers: bool = False) -> Schema:
    """The schema a recognizer's results fill: its labels and descriptor names.

    Descriptor names come from a one-second silent probe through the recognizer's own path
    (silent audio is never sent to the model, so this costs only the descriptors).
    """
    features: tuple[str, ...] = ()
    if recognizer.features and not timeline:
        import numpy as np

        from ..io.audio import SAMPLE_RATE

        probe = recognizer.predict_signal(np.zeros(SAMPLE_RATE, np.float32), name="<probe>")
        features = tuple((probe.features or {}).keys())
    return Schema(tuple(recognizer.labels), features, timeline, speakers)


def _scores(schema: Schema, scores: dict[str, float]) -> dict[str, float | None]:
    return {
        col: (float(scores[label]) if label in scores else None)
        for label, col in zip(schema.labels, schema.score_columns, strict=True)
    }


def _number(value: Any) -> float | None:
    """A descriptor as a float, with None for missing or non-finite values (valid JSON/CSV)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _get(obj: Any, *names: str) -> Any:
    for name in names:
        if hasattr(obj, name):
            return getattr(obj, name)
    raise AttributeError(f"{type(obj).__name__} has none of {names}")


def _timeline_duration(timeline: Any) -> float | None:
    for name in ("duration_s", "duration"):
        if getattr(timeline, name, None) is not None:
            return float(getattr(timeline, name))
    segments = list(timeline.segments)
    return float(_get(segments[-1], "end", "end_s")) if segments else None


def one_line(error: BaseException) -> str:
    """An error as one line (CSV and JSON Lines rows never span lines)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text


def reason(error: str, path: str | None = None) -> str:
    """Group an error message by its cause: the file name and byte details are taken out.

    >>> reason("could not decode /d/x.wav (12 bytes, starts with b'hi'): not a supported "
    ...        "audio format or codec [LibsndfileError]. Accepted: wav", "/d/x.wav")
    'could not decode FILE: not a supported audio format or codec'
    """
    text = error.replace(path, "FILE") if path else error
    text = re.sub(r"\s*\([^()]*\)", "", text)  # "(1,234 bytes, starts with ...)"
    text = re.sub(r"\s*\[[^\]]*\]", "", text)  # "[InvalidDataError]"
    text = text.split(". Accepted:")[0]
    return text.strip().rstrip(".") or "unknown error"
