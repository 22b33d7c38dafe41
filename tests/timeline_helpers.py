"""Helpers for the timeline and live tests: a known speech/silence layout and a pitch 'model'.

PitchBackend is a test double, not an emotion model: it scores "happy" by how much of the energy
sits near 250 Hz rather than near 110 Hz, so a file whose voice changes pitch has a known emotion
change, and the timeline's windows, smoothing and boundaries can be checked against the truth.
"""

from __future__ import annotations

import numpy as np

from conftest import SR, speech_like
from emovox.analysis.analyze import Analyzer
from emovox.results.result import ModelInfo

HIGH, LOW = 250.0, 110.0


class PitchBackend:
    info = ModelInfo("pitch-test-double", "1", ("happy", "sad"), "test", "tests/timeline_helpers.py")
    min_samples = SR
    max_samples = None

    def __init__(self) -> None:
        self.batches: list[list[int]] = []  # window lengths of every forward call

    def forward(self, batch: list[np.ndarray]) -> np.ndarray:
        self.batches.append([x.size for x in batch])
        out = []
        for x in batch:
            power = np.abs(np.fft.rfft(x)) ** 2
            freqs = np.fft.rfftfreq(x.size, 1 / SR)
            high = power[(freqs > 200) & (freqs < 300)].sum()
            low = power[(freqs > 85) & (freqs < 135)].sum()
            p = high / (high + low + 1e-12)
            out.append([np.log(p + 1e-6), np.log(1 - p + 1e-6)])
        return np.array(out)


def pitch_model() -> Analyzer:
    return Analyzer(PitchBackend(), features=False)


def layout(parts: list[tuple[str, float]], seed: int = 0) -> tuple[np.ndarray, list[tuple[str, float, float]]]:
    """Build a signal from ("silence" | "high" | "low", seconds) parts; return it and the truth
    as (kind, start, end) rows."""
    pieces, truth, t = [], [], 0.0
    for i, (kind, seconds) in enumerate(parts):
        if kind == "silence":
            piece = np.zeros(int(seconds * SR), np.float32)
        else:
            piece = speech_like(seconds, f0=HIGH if kind == "high" else LOW, seed=seed + i)
        pieces.append(piece)
        truth.append((kind, t, t + piece.size / SR))
        t += piece.size / SR
    return np.concatenate(pieces), truth


def speech_truth(truth) -> list[tuple[float, float]]:
    """Speech regions of a layout: neighbouring speech parts joined."""
    out: list[tuple[float, float]] = []
    for kind, a, b in truth:
        if kind == "silence":
            continue
        if out and abs(out[-1][1] - a) < 1e-9:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out
