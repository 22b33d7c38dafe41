"""Level and silence normalisation of a clip before the encoder (numpy only).

Corpora differ in recording level (RAVDESS clips sit about 20 dB below EmoDB's) and in how much
silence surrounds the speech; both tell a model which corpus a clip comes from rather than which
emotion it carries. ``normalise(signal)`` cuts the leading and trailing silence and scales what is
left to a fixed loudness, the same way in training and at inference.

>>> import numpy as np
>>> tone = 0.1 * np.sin(2 * np.pi * 200 * np.arange(1600) / 16000 + 0.5)
>>> x = np.concatenate([np.zeros(800), tone, np.zeros(333)]).astype(np.float32)
>>> trim_silence(x).size
1600
>>> round(rms_dbfs(normalise_loudness(tone)), 1)
-23.0
"""

from __future__ import annotations

import numpy as np

from ..io.audio import SAMPLE_RATE

FRAME = SAMPLE_RATE // 100  # 10 ms frames for the silence decision
SILENCE_DB = -40.0  # a frame this far below the loudest frame is silence
TARGET_DBFS = -23.0  # RMS of the trimmed clip after normalisation


def rms_dbfs(signal: np.ndarray) -> float:
    """RMS level in dB relative to full scale (a full-scale square wave is 0 dBFS)."""
    x = np.asarray(signal, dtype=np.float64)
    return float(10 * np.log10(np.mean(x * x) + 1e-20))


def trim_silence(signal: np.ndarray, silence_db: float = SILENCE_DB) -> np.ndarray:
    """The clip from its first to its last sounding 10 ms frame (RMS within ``silence_db`` of the
    loudest frame), then without exact-zero samples at either end. A silent clip is returned as is."""
    x = np.asarray(signal, dtype=np.float32)
    if not np.any(x):
        return x
    x = _strip_zeros(x)  # frames start at the first sample, so the cut does not depend on padding
    n = -(-x.size // FRAME)
    frames = np.pad(x.astype(np.float64), (0, n * FRAME - x.size)).reshape(n, FRAME)
    power = (frames ** 2).mean(axis=1)
    loud = np.flatnonzero(power >= power.max() * 10 ** (silence_db / 10))
    return _strip_zeros(x[loud[0] * FRAME: (loud[-1] + 1) * FRAME])


def _strip_zeros(x: np.ndarray) -> np.ndarray:
    nz = np.flatnonzero(x)
    return x[nz[0]: nz[-1] + 1]


def normalise_loudness(signal: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """The clip scaled so its RMS is ``target_dbfs`` (no clipping: the encoder takes any float)."""
    x = np.asarray(signal, dtype=np.float32)
    if not np.any(x):
        return x
    gain = 10 ** ((target_dbfs - rms_dbfs(x)) / 20)
    return (x * np.float32(gain)).astype(np.float32)


MIN_KEPT = SAMPLE_RATE // 10  # never trim a clip below 100 ms


def normalise(signal: np.ndarray) -> np.ndarray:
    """Trim leading/trailing silence (unless under 100 ms would remain), then bring the rest to the
    target loudness."""
    trimmed = trim_silence(signal)
    return normalise_loudness(trimmed if trimmed.size >= MIN_KEPT else np.asarray(signal, dtype=np.float32))
