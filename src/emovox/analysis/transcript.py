"""Voice + words: transcribe a recording (or each speech segment), score the words, fuse with the voice.

Used by ``Recognizer.predict(..., transcribe=True)``, ``emovox analyze --transcribe`` and
``POST /v1/analyze?transcribe=true``. English only (Whisper tiny.en).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import TextError
from ..io.audio import SAMPLE_RATE
from ..results.result import Prediction, TextPrediction
from .fusion import fuse


def add_words(prediction: Prediction, signal: np.ndarray, *, text_model=None, transcriber=None) -> Prediction:
    """``prediction`` with ``transcript``, ``text`` (its emotion) and ``fused`` filled in.

    A silent clip is not transcribed (transcript ''); no words means ``text`` None and a fused
    result from the voice alone.
    """
    transcript = "" if prediction.silent else _transcriber(transcriber).transcribe(signal)
    text = _score(transcript, text_model)
    fused = fuse(audio=prediction, text=text) if (text or not prediction.silent) else None
    return dataclasses.replace(prediction, transcript=transcript, text=text, fused=fused)


@dataclass(frozen=True)
class SegmentWords:
    """A speech segment of a timeline with what was said in it and the emotion of those words."""

    start: float
    end: float
    voice: str | None
    transcript: str
    text: TextPrediction | None
    fused: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "voice": self.voice,
                "transcript": self.transcript, "text": self.text.to_dict() if self.text else None,
                "fused": self.fused.to_dict() if self.fused else None}


def timeline_words(timeline, signal: np.ndarray, *, text_model=None, transcriber=None) -> list[SegmentWords]:
    """Transcribe each speech segment of ``timeline`` (cut from ``signal``, 16 kHz) and score it."""
    speech = [s for s in timeline.segments if s.speech]
    pieces = [signal[int(s.start * SAMPLE_RATE):int(s.end * SAMPLE_RATE)] for s in speech]
    texts = _transcriber(transcriber).transcribe_many(pieces) if pieces else []
    out = []
    for seg, transcript in zip(speech, texts):
        text = _score(transcript, text_model)
        voice = Prediction(seg.emotion, seg.confidence, seg.scores, seg.duration, timeline.model)
        out.append(SegmentWords(seg.start, seg.end, seg.emotion, transcript, text, fuse(audio=voice, text=text)))
    return out


def _score(transcript: str, text_model) -> TextPrediction | None:
    if not transcript.strip():
        return None
    model = text_model or _default_text_model()
    try:
        return model.predict(transcript)
    except TextError:  # e.g. only control characters were decoded
        return None


def _default_text_model():
    from ..recognizers.words import load_text_model

    global _TEXT_MODEL
    if _TEXT_MODEL is None:
        _TEXT_MODEL = load_text_model(max_length=10**9)  # transcripts of long calls are not user text
    return _TEXT_MODEL


_TEXT_MODEL = None


def _transcriber(transcriber):
    if transcriber is not None:
        return transcriber
    from .transcribe import load_transcriber

    return load_transcriber()
