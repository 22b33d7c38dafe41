"""From window scores to emotion segments: window plans, step scores, smoothing, runs.

Inside one speech region, windows of ``window_s`` start every ``hop_s`` from the region's start
(the last one is aligned to its end; a region shorter than a window is one window). The region is
cut into steps of about ``hop_s``; a step's scores are the overlap-weighted mean of the windows
covering it. A Viterbi pass then picks one emotion per step, paying ``switch_penalty`` for each
change, so one odd window cannot flip a segment; runs of one emotion become segments.

>>> plan_windows(0.0, 5.5, 3.0, 1.0)
[(0.0, 3.0), (1.0, 4.0), (2.0, 5.0), (2.5, 5.5)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-6


@dataclass(frozen=True)
class Run:
    """One smoothed stretch of a speech region: [start, end) with its emotion column and scores."""

    start: float
    end: float
    label: int | None  # column of the model's labels, None where no window had a score
    scores: np.ndarray | None  # duration-weighted mean probabilities over the run


def plan_windows(start: float, end: float, window_s: float, hop_s: float) -> list[tuple[float, float]]:
    """The windows that cover a speech region [start, end]."""
    if end - start <= window_s + EPS:
        return [(start, end)]
    out = []
    a = start
    while a + window_s <= end + EPS:
        out.append((a, a + window_s))
        a = start + len(out) * hop_s
    if out[-1][1] < end - EPS:
        out.append((end - window_s, end))
    return out


def step_edges(start: float, end: float, hop_s: float) -> np.ndarray:
    """Evenly spaced step edges of about ``hop_s`` across [start, end] (at least one step)."""
    n = max(1, int(round((end - start) / hop_s)))
    return np.linspace(start, end, n + 1)


def step_scores(
    edges: np.ndarray, windows: list[tuple[float, float, np.ndarray | None]], width: int
) -> np.ndarray:
    """(steps, width) overlap-weighted mean of window probabilities; NaN rows where none cover."""
    scored = [(a, b, p) for a, b, p in windows if p is not None]
    total = np.zeros((edges.size - 1, width))
    weight = np.zeros(edges.size - 1)
    lo, hi = edges[:-1], edges[1:]
    for a, b, p in scored:
        overlap = np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0.0, None)
        total += overlap[:, None] * p[None, :]
        weight += overlap
    with np.errstate(invalid="ignore", divide="ignore"):
        out = total / weight[:, None]
    out[weight <= EPS] = np.nan
    return out


def viterbi(scores: np.ndarray, durations: np.ndarray, switch_penalty: float) -> np.ndarray:
    """Best label per step: maximise sum(duration * p[label]) - switch_penalty * changes.

    Linear (not log) scores keep each run's label equal to the argmax of its mean scores.
    """
    n, k = scores.shape
    gain = scores * durations[:, None]
    best = gain[0].copy()
    back = np.zeros((n, k), dtype=np.int64)
    for t in range(1, n):
        stay = best
        switch = best.max() - switch_penalty
        back[t] = np.where(stay >= switch, np.arange(k), int(best.argmax()))
        best = np.maximum(stay, switch) + gain[t]
    path = np.empty(n, dtype=np.int64)
    path[-1] = int(best.argmax())
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def smooth_region(
    start: float,
    end: float,
    windows: list[tuple[float, float, np.ndarray | None]],
    hop_s: float,
    switch_penalty: float,
    width: int,
) -> tuple[list[Run], np.ndarray, np.ndarray]:
    """Runs of one speech region, plus its step edges and (steps, width) scores (for plots)."""
    edges = step_edges(start, end, hop_s)
    scores = step_scores(edges, windows, width)
    durations = np.diff(edges) / hop_s
    known = ~np.isnan(scores).any(axis=1)
    labels = np.full(edges.size - 1, -1, dtype=np.int64)
    # decode each stretch of steps that has scores; unscored steps stay label -1
    for lo, hi in _stretches(known):
        labels[lo:hi] = viterbi(scores[lo:hi], durations[lo:hi], switch_penalty)
    runs = []
    for lo, hi in _stretches(np.ones_like(known), labels):
        if labels[lo] < 0:
            runs.append(Run(float(edges[lo]), float(edges[hi]), None, None))
            continue
        mean = np.average(scores[lo:hi], axis=0, weights=durations[lo:hi])
        runs.append(Run(float(edges[lo]), float(edges[hi]), int(labels[lo]), mean))
    return runs, edges, scores


def _stretches(mask: np.ndarray, values: np.ndarray | None = None) -> list[tuple[int, int]]:
    """[lo, hi) index ranges where ``mask`` is true and ``values`` (if given) stays constant."""
    out, lo = [], None
    for i in range(mask.size + 1):
        boundary = i == mask.size or not mask[i] or (
            values is not None and lo is not None and values[i] != values[lo]
        )
        if lo is not None and boundary:
            out.append((lo, i))
            lo = None
        if i < mask.size and mask[i] and lo is None:
            lo = i
    return out


class AudioRing:
    """The recent audio of a stream, addressed by absolute sample index; old samples are dropped."""

    def __init__(self) -> None:
        self.offset = 0  # absolute index of self.data[0]
        self.data = np.zeros(0, np.float32)

    @property
    def end(self) -> int:
        return self.offset + self.data.size

    def append(self, chunk: np.ndarray) -> None:
        self.data = np.concatenate([self.data, chunk])

    def get(self, a: int, b: int) -> np.ndarray:
        """Samples [a, b) (clipped to what is held)."""
        lo, hi = max(a - self.offset, 0), max(b - self.offset, 0)
        return self.data[lo:hi].copy()

    def drop_before(self, a: int) -> None:
        cut = min(max(a - self.offset, 0), self.data.size)
        if cut:
            self.data = self.data[cut:]
            self.offset += cut
