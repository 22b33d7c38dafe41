"""Two synthetic voices (tests/test_diarization.py) in turns, with the truth, for the conversation tests."""

from __future__ import annotations

import numpy as np

from test_diarization import GAP, HIGH, LOW, SR, synthetic_voice

VOICES = {"low": (110.0, LOW), "high": (230.0, HIGH)}


def talk(order: str, seconds: float = 4.0) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    """Turns of ``seconds`` by voice "L" (110 Hz) or "H" (230 Hz), in ``order`` ("LHLH"), 0.5 s apart;
    returns the signal and the true (start, end, voice) turns."""
    parts, truth, t = [], [], 0.0
    for i, who in enumerate(order):
        f0, formants = VOICES["low" if who == "L" else "high"]
        clip = synthetic_voice(f0, formants, seconds, seed=i)
        parts += [clip, GAP]
        truth.append((t, t + clip.size / SR, who))
        t += (clip.size + GAP.size) / SR
    return np.concatenate(parts), truth
