"""Emotion timelines of long recordings: segments, a summary, CSV / WebVTT / JSON, and the builder.

``build_timeline`` streams the decode (``audio.iter_audio``), finds speech with the VAD, classifies
windows inside speech through the recognizer in batches, smooths and merges them into segments.
Silence and non-speech are segments of their own with ``emotion=None``. Memory stays bounded: only
the last few seconds of audio and one batch of windows are held, whatever the length.

>>> # tl = emovox.load_model().timeline("call.mp3"); print(tl.to_vtt())
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..defaults import (
    MIN_REFERENCE_CLIPS,
    TIMELINE_HOP_S,
    TIMELINE_WINDOW_S,
    check_batch_size,
    check_max_duration,
    check_window,
)
from ..errors import AudioTooLongError, EmovoxError, ModelError, OptionError
from ..io.audio import SAMPLE_RATE, AudioSource, iter_audio
from ..models.adapt_estimate import DEFAULT_METHOD
from ..results.segments import emotion_shares, score_cells, vtt_cue, vtt_text
from ..signal.segmenter import AudioRing, plan_windows, smooth_region
from ..signal.vad import VoiceActivityDetector

if TYPE_CHECKING:
    from ..recognizers.voice import Recognizer

WINDOW_S = TIMELINE_WINDOW_S  # the defaults live in defaults.py (their reasons too)
HOP_S = TIMELINE_HOP_S

ADAPT_WINDOWS = MIN_REFERENCE_CLIPS
"""Speech windows a recording needs before its timeline adapts to it (``adapt="auto"``): fewer give an
offset too noisy to trust (the same floor as ``Recognizer.adapt``'s 20 clips)."""

Progress = Callable[[float, "float | None"], None]
"""progress(seconds_done, seconds_total_or_None), called after each decoded block."""


@dataclass(frozen=True)
class Segment:
    """A stretch of the recording: speech with one emotion, or non-speech (``emotion`` None)."""

    start: float
    end: float
    emotion: str | None
    confidence: float
    scores: dict[str, float]
    speech: bool
    adapted: bool = False  # its scores came from a model adapted (and applied) to the recording or a source

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "emotion": self.emotion,
            "confidence": round(self.confidence, 4),
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "speech": self.speech,
            "adapted": self.adapted,
        }


@dataclass(frozen=True)
class Summary:
    """Speech time, share of it per emotion, the dominant emotion, changes, the strongest moments."""

    speech_s: float
    shares: dict[str, float]
    dominant: str | None
    changes: int
    top_segments: dict[str, tuple[Segment, ...]]
    adapted: dict | None = None  # as Timeline.adapted

    def to_dict(self) -> dict[str, Any]:
        return {
            "speech_s": round(self.speech_s, 3),
            "shares": {k: round(v, 4) for k, v in self.shares.items()},
            "dominant": self.dominant,
            "changes": self.changes,
            "top_segments": {k: [s.to_dict() for s in v] for k, v in self.top_segments.items()},
            "adapted": self.adapted,
        }


@dataclass(frozen=True)
class Timeline:
    """Segments covering [0, duration_s] in order; ``steps``/``step_scores`` feed the plot.

    ``adapted``: None when no adaptation was tried (``adapt=False``, or a model without an adapted head),
    else what was done, as a prediction's ``adapted``: ``{"to": "recording", "clips": <speech windows>,
    "method", "applied", ...}``, with ``"applied": False`` and a ``"reason"`` when the recording was too
    short (fewer than 20 speech windows) or the safe estimate kept the un-adapted model; ``"to"`` names
    another source ("batch", "group:...", "reference") when the model came adapted.
    """

    segments: tuple[Segment, ...]
    duration_s: float
    labels: tuple[str, ...]
    model: str
    window_s: float
    hop_s: float
    file: str | None = None
    steps: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)), compare=False, repr=False)
    step_scores: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), compare=False, repr=False)
    adapted: dict | None = None

    @property
    def speech_regions(self) -> list[tuple[float, float]]:
        """Speech regions [(start, end)]: consecutive speech segments joined."""
        out: list[tuple[float, float]] = []
        for s in self.segments:
            if not s.speech:
                continue
            if out and abs(out[-1][1] - s.start) < 1e-6:
                out[-1] = (out[-1][0], s.end)
            else:
                out.append((s.start, s.end))
        return out

    @property
    def summary(self) -> Summary:
        return summarize(self.segments, self.labels, adapted=self.adapted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "duration_s": round(self.duration_s, 3),
            "model": self.model,
            "window_s": self.window_s,
            "hop_s": self.hop_s,
            "labels": list(self.labels),
            "segments": [s.to_dict() for s in self.segments],
            "summary": self.summary.to_dict(),
            "adapted": self.adapted,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def to_csv(self) -> str:
        """One row per segment: start, end, speech, emotion, confidence, one column per label, then
        ``adapted`` (1 when the segment's scores came from an adapted model)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["start", "end", "speech", "emotion", "confidence", *self.labels, "adapted"])
        for s in self.segments:
            writer.writerow(
                [f"{s.start:.3f}", f"{s.end:.3f}", int(s.speech), s.emotion or "", f"{s.confidence:.4f}"]
                + score_cells(s.scores, self.labels) + [int(s.adapted)]
            )
        return buf.getvalue()

    def to_vtt(self) -> str:
        """WebVTT cues for the speech segments: 'Happy 82%' (non-speech gets no cue)."""
        lines = ["WEBVTT", ""]
        for i, s in enumerate(x for x in self.segments if x.speech):
            lines += vtt_cue(i + 1, s, vtt_text(s))
        return "\n".join(lines)

    def plot(self, path, **options) -> None:
        """Write a PNG: stacked emotion probabilities over time, speech shaded (needs matplotlib)."""
        from .plot import plot_timeline

        plot_timeline(self, path, **options)


def summarize(segments: tuple[Segment, ...], labels: tuple[str, ...], top: int = 3,
              adapted: dict | None = None) -> Summary:
    """Shares of speech time per emotion, dominant emotion, changes between speech segments."""
    speech = [s for s in segments if s.speech and s.emotion is not None]
    total, shares, dominant, changes = emotion_shares(speech, labels)
    top_segments = {
        k: tuple(sorted((s for s in speech if s.emotion == k), key=lambda s: -s.confidence)[:top])
        for k in labels
        if shares[k] > 0
    }
    return Summary(total, shares, dominant, changes, top_segments, adapted)


# --- the builder -----------------------------------------------------------------------------


@dataclass
class _Region:
    start: float
    end: float | None = None
    windows: list = field(default_factory=list)  # (a, b, probs | None), in plan order
    queued: int = 0  # planned windows already sent to the model


def build_timeline(
    recognizer: Recognizer,
    source: AudioSource,
    *,
    window_s: float = WINDOW_S,
    hop_s: float = HOP_S,
    batch_size: int = 16,
    switch_penalty: float = 0.3,
    vad: dict | None = None,
    progress: Progress | None = None,
    chunk_s: float = 30.0,
    max_duration_s: float | None = None,
    adapt: bool | str = "auto",
) -> Timeline:
    """Decode, find speech, classify windows in batches, smooth, and merge into a Timeline.

    ``switch_penalty`` (probability x steps) is what one change of emotion must earn; 0 gives
    the per-step argmax. ``vad`` holds VoiceActivityDetector options (aggressiveness, ...).
    ``adapt``: "auto" (default) adapts an adaptable model to the recording's own speech windows
    (``Recognizer.adapt_pooled``, the default method) once there are at least ``ADAPT_WINDOWS`` of them,
    reusing the pooled features of the one encoding; True does the same but raises when it cannot
    (no adapted head, too little speech); False never. A recognizer that is already adapted (to a
    batch, a folder) is kept as it is. ``Timeline.adapted`` says what was done.
    """
    if adapt not in ("auto", True, False):
        raise OptionError(f"adapt must be 'auto', True or False, got {adapt!r}")
    if adapt is True and recognizer.adapted is None and not recognizer.adaptable():
        raise ModelError(f"{recognizer.info.id} cannot adapt the timeline to the recording: it has no adapted "
                         "head (train it with the recipe setting \"adapt_head\": true), or use adapt=False")
    try_adapt = adapt is not False and recognizer.adapted is None and recognizer.adaptable()
    check_window(window_s, hop_s)
    check_batch_size(batch_size)
    check_max_duration(max_duration_s)
    stream = iter_audio(source, chunk_s=chunk_s, max_duration_s=max_duration_s)
    detector = VoiceActivityDetector(**(vad or {}))
    builder = _Builder(recognizer, window_s, hop_s, batch_size, keep_pooled=try_adapt)
    ring = builder.ring
    for chunk in stream:
        if max_duration_s is not None and stream.samples > max_duration_s * SAMPLE_RATE:
            raise AudioTooLongError(f"{stream.name} is longer than the maximum of {max_duration_s:g} s")
        ring.append(chunk)
        for event in detector.feed(chunk):
            builder.on_event(event.kind, event.time)
        builder.schedule(detector.speech_until if detector.in_speech else None)
        ring.drop_before(builder.keep_from(detector.time - detector.lookback_s))
        if progress is not None:
            progress(stream.samples / SAMPLE_RATE, stream.duration_s)
    for event in detector.close():
        builder.on_event(event.kind, event.time)
    duration = stream.samples / SAMPLE_RATE
    if duration <= window_s + 1e-6:  # a short clip: one result for all of it, as predict gives
        builder.regions = _whole_clip(builder, duration)
    builder.flush()
    adapted = builder.adapt(strict=adapt is True) if try_adapt else recognizer.adapted
    applied = adapted is not None and bool(adapted.get("applied", True))
    segments, steps, scores = assemble(builder.regions, duration, recognizer.labels, hop_s, switch_penalty,
                                       adapted=applied)
    name = stream.name if not isinstance(source, tuple) else None
    return Timeline(
        tuple(segments), duration, recognizer.labels, recognizer.info.id, window_s, hop_s, name, steps, scores,
        adapted,
    )


def _whole_clip(builder: _Builder, duration: float) -> list[_Region]:
    """No region if the VAD heard no speech, else one region and one window: the whole clip."""
    builder._queue = []
    if not builder.regions:
        return []
    region = _Region(0.0, duration)
    builder._enqueue(region, 0.0, duration)
    return [region]


class _Builder:
    """Plans windows per speech region as soon as their audio is certain, and batches them."""

    def __init__(self, recognizer: Recognizer, window_s: float, hop_s: float, batch_size: int,
                 keep_pooled: bool = False) -> None:
        self.recognizer = recognizer
        self.window_s, self.hop_s, self.batch_size = window_s, hop_s, batch_size
        self.keep_pooled = keep_pooled
        self.ring = AudioRing()
        self.regions: list[_Region] = []
        self._queue: list[tuple[list, int, np.ndarray]] = []  # (region windows, index, audio)
        self._pooled: list[tuple[list, int, np.ndarray]] = []  # (region windows, index, pooled features)

    def on_event(self, kind: str, time: float) -> None:
        if kind == "start":
            self.regions.append(_Region(time))
            return
        region = self.regions[-1]
        region.end = time
        plan = plan_windows(region.start, time, self.window_s, self.hop_s)
        if region.queued and plan[: region.queued] != [w[:2] for w in region.windows]:
            region.windows, region.queued = [], 0  # the region ended inside a window we had sent
        for a, b in plan[region.queued :]:
            self._enqueue(region, a, b)

    def schedule(self, certain_until: float | None) -> None:
        """Queue the open region's full windows that end before its certain speech."""
        if certain_until is None or not self.regions or self.regions[-1].end is not None:
            return
        region = self.regions[-1]
        while True:
            a = region.start + region.queued * self.hop_s
            if a + self.window_s > certain_until:
                break
            self._enqueue(region, a, a + self.window_s)

    def keep_from(self, now: float) -> int:
        """Oldest sample still needed: the open region's next window, or a window before ``now``."""
        keep = now - self.window_s
        if self.regions and self.regions[-1].end is None:
            r = self.regions[-1]
            keep = min(keep, r.start + r.queued * self.hop_s)
        return max(0, int(keep * SAMPLE_RATE))

    def _enqueue(self, region: _Region, a: float, b: float) -> None:
        region.windows.append((a, b, None))
        region.queued += 1
        audio = self.ring.get(int(round(a * SAMPLE_RATE)), int(round(b * SAMPLE_RATE)))
        self._queue.append((region.windows, len(region.windows) - 1, audio))
        if len(self._queue) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self._queue:
            return
        probs, pooled = self.recognizer.score_windows([audio for _, _, audio in self._queue],
                                                      pooled=self.keep_pooled)
        for (windows, i, _), p, f in zip(self._queue, probs, pooled, strict=True):
            a, b, _ = windows[i]
            windows[i] = (a, b, p)
            if f is not None:
                self._pooled.append((windows, i, f))
        self._queue = []

    def adapt(self, strict: bool = False) -> dict:
        """Adapt to the speech windows scored (those still in a region): rescore them from their pooled
        features, and say what was done; too few windows: not adapted (``strict``: raise), saying why."""
        current = {id(r.windows) for r in self.regions}
        kept = [(windows, i, f) for windows, i, f in self._pooled if id(windows) in current]
        self._pooled = []
        if len(kept) < ADAPT_WINDOWS:
            reason = (f"{len(kept)} speech window(s); adapting to a recording needs at least {ADAPT_WINDOWS} "
                      f"(about {ADAPT_WINDOWS * self.hop_s + self.window_s - self.hop_s:g} s of speech)")
            if strict:
                raise EmovoxError(f"cannot adapt the timeline: {reason}")
            return {"to": "recording", "clips": len(kept), "method": DEFAULT_METHOD, "applied": False, "reason": reason}
        adapted, probs = self.recognizer.adapt_pooled(np.stack([f for _, _, f in kept]), to="recording",
                                                      probs=np.stack([windows[i][2] for windows, i, _ in kept]))
        if probs is not None:
            for (windows, i, _), p in zip(kept, probs, strict=True):
                a, b, _ = windows[i]
                windows[i] = (a, b, p)
        return dict(adapted.adapted or {})


def assemble(
    regions: list[_Region], duration: float, labels: tuple[str, ...], hop_s: float, switch_penalty: float,
    adapted: bool = False,
) -> tuple[list[Segment], np.ndarray, np.ndarray]:
    """Segments covering [0, duration]: non-speech gaps, and smoothed runs inside each region
    (``adapted``: the speech segments' scores came from an adapted model)."""
    segments: list[Segment] = []
    all_steps, all_scores = [], []
    t = 0.0
    for r in regions:
        start, end = max(r.start, t), min(r.end if r.end is not None else duration, duration)
        if end - start <= 1e-6:
            continue
        if start > t + 1e-6:
            segments.append(Segment(t, start, None, 0.0, {}, False))
        runs, edges, scores = smooth_region(start, end, r.windows, hop_s, switch_penalty, len(labels))
        for run in runs:
            if run.label is None:
                segments.append(Segment(run.start, run.end, None, 0.0, {}, False))
                continue
            probs = {k: float(v) for k, v in zip(labels, run.scores, strict=True)}
            emotion = labels[run.label]
            segments.append(Segment(run.start, run.end, emotion, probs[emotion], probs, True, adapted))
        all_steps.append(np.stack([edges[:-1], edges[1:]], axis=1))
        all_scores.append(scores)
        t = end
    if duration > t + 1e-6 or not segments:
        segments.append(Segment(t, duration, None, 0.0, {}, False))
    steps = np.concatenate(all_steps) if all_steps else np.zeros((0, 2))
    scores = np.concatenate(all_scores) if all_scores else np.zeros((0, len(labels)))
    return _merge_adjacent(segments), steps, scores


def _merge_adjacent(segments: list[Segment]) -> list[Segment]:
    """Join neighbouring non-speech segments (speech runs are already maximal per region)."""
    out: list[Segment] = []
    for s in segments:
        if out and not s.speech and not out[-1].speech:
            out[-1] = Segment(out[-1].start, s.end, None, 0.0, {}, False)
        else:
            out.append(s)
    return out
