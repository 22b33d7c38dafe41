"""Conversations: who spoke when (``analysis.diarization``) and what each of them felt.

``build_conversation`` decodes once, diarizes, cuts every speaker turn into segments (a turn up to
1.5 windows long is one segment; a longer one is cut into pieces of about ``window_s``), and
classifies each segment's audio with the voice model. Each speaker's own segments are that speaker's
adaptation source (``Recognizer.adapt``) when there are at least ``MIN_REFERENCE_CLIPS`` non-silent
ones: one speaker's voice and channel, measured on their own speech. Segments and summaries carry
``adapted`` (what they were adapted to, or None).

>>> # talk = emovox.load_model().conversation("call.wav"); talk.speakers[0].dominant; print(talk.to_vtt())
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..defaults import (
    MIN_REFERENCE_CLIPS,
    TIMELINE_HOP_S,
    TIMELINE_WINDOW_S,
    check_max_duration,
    check_window,
)
from ..errors import OptionError
from ..io.audio import SAMPLE_RATE, AudioSource, load_audio, source_name
from ..results.segments import emotion_shares, score_cells, vtt_cue, vtt_text
from .diarization import Turn, diarize

if TYPE_CHECKING:
    from ..recognizers.voice import Recognizer


@dataclass(frozen=True)
class SpeakerSegment:
    """One piece of one speaker's turn with its emotion (``emotion`` None when it is silent)."""

    speaker: str
    start: float
    end: float
    emotion: str | None
    confidence: float
    scores: dict[str, float]
    adapted: dict | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker,
            "start_s": round(self.start, 3),
            "end_s": round(self.end, 3),
            "emotion": self.emotion,
            "confidence": round(self.confidence, 4),
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "adapted": self.adapted,
        }


@dataclass(frozen=True)
class SpeakerSummary:
    """Speech seconds, share of them per emotion, the dominant emotion and the number of emotion
    changes between consecutive segments, of one speaker (``speaker`` None: the whole conversation)."""

    speaker: str | None
    speech_s: float
    turns: int
    shares: dict[str, float]
    dominant: str | None
    changes: int
    adapted: Any = None

    def to_dict(self) -> dict[str, Any]:
        out = {"speaker": self.speaker} if self.speaker is not None else {}
        return {
            **out,
            "speech_s": round(self.speech_s, 3),
            "turns": self.turns,
            "shares": {k: round(v, 4) for k, v in self.shares.items()},
            "dominant": self.dominant,
            "changes": self.changes,
            "adapted": self.adapted,
        }


@dataclass(frozen=True)
class Conversation:
    """A recording's speaker turns (``turns``, from ``diarize``) and their emotion ``segments``, in
    time order, with a summary per speaker (``speakers``) and one for the whole (``summary``)."""

    segments: tuple[SpeakerSegment, ...]
    turns: tuple[Turn, ...]
    duration_s: float
    labels: tuple[str, ...]
    model: str
    window_s: float
    file: str | None = None

    @property
    def speaker_names(self) -> list[str]:
        """"S1", "S2", ... in order of first speech."""
        names: list[str] = []
        for t in self.turns:
            if t.speaker not in names:
                names.append(t.speaker)
        return names

    @property
    def speakers(self) -> list[SpeakerSummary]:
        return [
            summarize([s for s in self.segments if s.speaker == name], self.labels, name,
                      sum(1 for t in self.turns if t.speaker == name))
            for name in self.speaker_names
        ]

    @property
    def summary(self) -> SpeakerSummary:
        out = summarize(list(self.segments), self.labels, None, len(self.turns))
        adapted = {s.speaker: s.adapted for s in self.speakers if s.adapted is not None}
        return SpeakerSummary(None, out.speech_s, out.turns, out.shares, out.dominant, out.changes,
                              adapted or None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "duration_s": round(self.duration_s, 3),
            "model": self.model,
            "window_s": self.window_s,
            "labels": list(self.labels),
            "num_speakers": len(self.speaker_names),
            "segments": [s.to_dict() for s in self.segments],
            "speakers": [s.to_dict() for s in self.speakers],
            "summary": self.summary.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def to_csv(self) -> str:
        """One row per segment: speaker, start, end, emotion, confidence, adapted, one column per label."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["speaker", "start", "end", "emotion", "confidence", "adapted", *self.labels])
        for s in self.segments:
            writer.writerow(
                [s.speaker, f"{s.start:.3f}", f"{s.end:.3f}", s.emotion or "", f"{s.confidence:.4f}",
                 int(_applied(s.adapted))]
                + score_cells(s.scores, self.labels)
            )
        return buf.getvalue()

    def to_vtt(self) -> str:
        """WebVTT cues with voice tags: ``<v S1>Happy 82%``."""
        lines = ["WEBVTT", ""]
        for i, s in enumerate(self.segments):
            lines += vtt_cue(i + 1, s, f"<v {s.speaker}>{vtt_text(s)}")
        return "\n".join(lines)

    def plot(self, path, **options) -> None:
        """Write a PNG: one lane per speaker, each segment coloured by its emotion (needs matplotlib)."""
        from .plot_conversation import plot_conversation

        plot_conversation(self, path, **options)


def summarize(segments: list[SpeakerSegment], labels: tuple[str, ...], speaker: str | None,
              turns: int) -> SpeakerSummary:
    """Shares of speech time per emotion, the dominant one, changes between consecutive segments."""
    _, shares, dominant, changes = emotion_shares([s for s in segments if s.emotion is not None], labels)
    records = [s.adapted for s in segments if s.adapted is not None]
    speech = sum(s.duration for s in segments)
    return SpeakerSummary(speaker, speech, turns, shares, dominant, changes, records[0] if records else None)


def split_turn(start: float, end: float, window_s: float) -> list[tuple[float, float]]:
    """A turn up to 1.5 windows long is one piece; a longer one is cut into equal pieces of about
    ``window_s``.

    >>> split_turn(0.0, 4.0, 3.0)
    [(0.0, 4.0)]
    >>> split_turn(0.0, 10.0, 3.0)
    [(0.0, 3.3333333333333335), (3.3333333333333335, 6.666666666666667), (6.666666666666667, 10.0)]
    """
    length = end - start
    if length <= 1.5 * window_s:
        return [(start, end)]
    n = max(1, round(length / window_s))
    edges = [start + length * k / n for k in range(n)] + [end]
    return list(zip(edges[:-1], edges[1:], strict=True))


def build_conversation(
    recognizer: Recognizer,
    source: AudioSource,
    *,
    num_speakers: int | None = None,
    window_s: float = TIMELINE_WINDOW_S,
    adapt: bool = True,
    batch_size: int = 16,
    max_duration_s: float | None = None,
    encoder=None,
) -> Conversation:
    """Who spoke when and with which emotion. ``num_speakers``: the number of voices when known
    (else estimated); ``adapt``: adapt the model to each speaker with enough speech (see the module);
    ``encoder``: a ``models.speaker.SpeakerEncoder`` (the shipped one by default)."""
    check_window(window_s, min(window_s, TIMELINE_HOP_S))
    check_max_duration(max_duration_s)
    if not isinstance(adapt, bool):
        raise OptionError(f"adapt must be True or False, got {adapt!r}")
    signal = load_audio(source, max_duration_s=max_duration_s)
    turns = diarize((signal, SAMPLE_RATE), num_speakers=num_speakers, encoder=encoder)
    pieces = [(t.speaker, a, b) for t in turns for a, b in split_turn(t.start, t.end, window_s)]
    clips = [signal[int(round(a * SAMPLE_RATE)):int(round(b * SAMPLE_RATE))] for _, a, b in pieces]
    segments: list[SpeakerSegment | None] = [None] * len(pieces)
    for name in dict.fromkeys(t.speaker for t in turns):
        mine = [i for i, (who, _, _) in enumerate(pieces) if who == name]
        probs, record = _speaker_probs(recognizer, [clips[i] for i in mine], name, adapt, batch_size)
        for i, p in zip(mine, probs, strict=True):
            who, a, b = pieces[i]
            if p is None:  # silent: no emotion is invented
                segments[i] = SpeakerSegment(who, a, b, None, 0.0, {}, None)
                continue
            best = int(np.argmax(p))
            segments[i] = SpeakerSegment(who, a, b, recognizer.labels[best], float(p[best]),
                                         {label: float(v) for label, v in zip(recognizer.labels, p)}, record)
    name = source_name(source) if not isinstance(source, tuple) else None
    return Conversation(tuple(s for s in segments if s is not None), tuple(turns), signal.size / SAMPLE_RATE,
                        tuple(recognizer.labels), recognizer.info.id, window_s, name)


def _speaker_probs(recognizer: Recognizer, clips: list[np.ndarray], speaker: str, adapt: bool,
                   batch_size: int) -> tuple[list[np.ndarray | None], dict | None]:
    """Each of one speaker's clips' probabilities over the labels (None when silent) and what they were
    adapted to. One encoding serves both: its pooled features are the speaker's adaptation source
    (``Recognizer.adapt_pooled``, the safe estimate) when there are at least ``MIN_REFERENCE_CLIPS``
    non-silent clips and the model has an adapted head and is not adapted already (a profile, a batch:
    that choice stands)."""
    want = adapt and recognizer.adapted is None and recognizer.adaptable()
    probs: list[np.ndarray | None] = []
    pooled: list[np.ndarray | None] = []
    for start in range(0, len(clips), batch_size):
        p, f = recognizer.score_windows(clips[start:start + batch_size], pooled=want)
        probs += p
        pooled += f
    voiced = [k for k, f in enumerate(pooled) if f is not None]
    if not want or len(voiced) < MIN_REFERENCE_CLIPS:
        return probs, recognizer.adapted
    model, adapted = recognizer.adapt_pooled(np.stack([pooled[k] for k in voiced]), to=f"speaker:{speaker}",
                                             probs=np.stack([probs[k] for k in voiced]))
    if adapted is not None:  # None: the safe estimate kept the un-adapted model
        for k, row in zip(voiced, adapted, strict=True):
            probs[k] = row
    return probs, model.adapted


def _applied(record: dict | None) -> bool:
    return bool(record) and bool(record.get("applied", True))
