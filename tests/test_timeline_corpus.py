"""Timeline on real RAVDESS clips concatenated with pauses: the speech/silence layout comes back."""

import csv

import numpy as np
import pytest

import emovox
from conftest import SR
from emovox.io.audio import load_audio

pytestmark = [pytest.mark.slow, pytest.mark.corpus]


def _energy_span(x: np.ndarray) -> tuple[float, float]:
    """First/last 10 ms frame above -50 dBFS: the clip's speech, independent of the VAD."""
    frames = x[: x.size // 160 * 160].reshape(-1, 160)
    loud = np.flatnonzero(20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-12) > -50)
    return loud[0] * 0.01, (loud[-1] + 1) * 0.01


def test_ravdess_layout_is_recovered(corpora, debug_model, write_audio):
    with open(corpora / "ravdess" / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    rng = np.random.default_rng(0)
    picks = [rows[i] for i in rng.choice(len(rows), size=8, replace=False)]
    pieces, spans, pauses, t = [], [], [], 0.0
    for row in picks:
        gap = np.zeros(int(rng.uniform(1.5, 2.5) * SR), np.float32)
        pauses.append((t, t + gap.size / SR))
        t += gap.size / SR
        x = load_audio(corpora / "ravdess" / row["path"])
        a, b = _energy_span(x)
        spans.append((t + a, t + b))
        pieces += [gap, x]
        t += x.size / SR
    pieces.append(np.zeros(SR, np.float32))
    path = write_audio("ravdess-long.flac", np.concatenate(pieces))

    tl = emovox.load_model(str(debug_model), features=False).timeline(path)
    regions = tl.speech_regions
    for a, b in pauses:  # the inserted pauses are never speech
        mid = (a + b) / 2
        assert not any(ra < mid < rb for ra, rb in regions), (mid, regions)
    for a, b in spans:  # each clip's speech is found, edges close to the energy truth
        inside = [(max(a, ra), min(b, rb)) for ra, rb in regions if rb > a and ra < b]
        covered = sum(y - x for x, y in inside)
        assert covered >= 0.9 * (b - a)
        # the VAD also hears breath and onsets below -50 dBFS: its edges may lie a little outside
        assert min(abs(ra - a) for ra, _ in regions) < 0.5
        assert min(abs(rb - b) for _, rb in regions) < 0.5
    assert len(spans) <= len(regions) <= len(spans) + 3
    for s in tl.segments:
        assert (s.emotion is None) == (not s.speech)
