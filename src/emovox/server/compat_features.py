"""``audio_features`` of ``POST /api/analyze``, with the meanings the Wav2Vec2 guide's backend gave them.

That backend's page prints every value with ``.toFixed()``, so each one is a number (never null):

* ``energy_mean`` / ``energy_std``: mean and standard deviation of the frame RMS amplitude (0-1) of
  the peak-normalised recording (2048-sample frames, 512 hop, as librosa's ``feature.rms`` there).
* ``tempo``: beats per minute, the onset-autocorrelation estimate that librosa's ``beat_track``
  returned there (``tempo_bpm``); 0.0 when there is no pulse. Computed with numpy: librosa would
  add numba, scipy and scikit-learn to the server and compile for tens of seconds on first use.
* ``pitch_mean`` / ``pitch_std`` / ``spectral_centroid``: emovox's descriptors in Hz (Praat pitch,
  centroid over active frames), 0.0 where undefined (unvoiced audio has no pitch).

emovox's own routes keep emovox's descriptors (dB levels, syllables per second); see ``features.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..io.audio import SAMPLE_RATE

RMS_FRAME = 2048
RMS_HOP = 512


def guide_audio_features(
    signal: np.ndarray, sampling_rate: int, descriptors: dict[str, Any] | None
) -> dict[str, float | int]:
    """The eight ``audio_features`` of the guide's answer, from the decoded clip and emovox's descriptors.

    >>> import numpy as np
    >>> t = np.arange(16000) / 16000
    >>> f = guide_audio_features((0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000, None)
    >>> f["energy_mean"]   # a full-scale sine after peak normalisation: RMS 1/sqrt(2)
    0.7071
    >>> f["pitch_mean"]              # no descriptors given: 0.0, never None
    0.0
    """
    d = descriptors or {}
    return {
        "duration": round(signal.size / sampling_rate, 3),
        "sample_rate": SAMPLE_RATE,
        "pitch_mean": _number(d.get("pitch_mean_hz")),
        "pitch_std": _number(d.get("pitch_std_hz")),
        **rms_energy(signal, sampling_rate),
        "tempo": tempo_bpm(signal, sampling_rate),
        "spectral_centroid": _number(d.get("spectral_centroid_hz")),
    }


def rms_energy(signal: np.ndarray, sampling_rate: int) -> dict[str, float]:
    """Mean and standard deviation of the frame RMS amplitude of the peak-normalised clip (0-1),
    over 2048-sample frames every 512 samples (librosa's ``feature.rms`` defaults, no padding)."""
    x = np.asarray(signal, np.float64)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak <= 0:
        return {"energy_mean": 0.0, "energy_std": 0.0}
    x = x / peak
    csum = np.concatenate(([0.0], np.cumsum(x * x)))  # frame sums without materialising frames
    starts = np.arange(0, max(1, x.size - RMS_FRAME + 1), RMS_HOP)
    ends = np.minimum(starts + RMS_FRAME, x.size)
    rms = np.sqrt(np.maximum(csum[ends] - csum[starts], 0.0) / (ends - starts))
    return {"energy_mean": _number(rms.mean(), 4), "energy_std": _number(rms.std(), 4)}


def tempo_bpm(signal: np.ndarray, sampling_rate: int) -> float:
    """Beats per minute: the autocorrelation estimate that beat trackers start from (Ellis 2007,
    as in librosa's ``feature.tempo``): a spectral-flux onset envelope, its autocorrelation over
    lags of 30-320 BPM, weighted by a log-normal prior centred on 120 BPM (one octave wide).
    Lags run up to half the clip, so a 3 s clip can say 40-320 BPM. 0.0 when there is no pulse."""
    envelope = _onset_envelope(np.asarray(signal, np.float32))
    fps = sampling_rate / TEMPO_HOP
    n = envelope.size
    lags = np.arange(max(1, int(fps * 60 / MAX_BPM)), min(n // 2, int(fps * 60 / MIN_BPM)) + 1)
    if lags.size < 3 or not envelope.any():  # under about 0.4 s of audio, or no onsets
        return 0.0
    envelope = envelope - envelope.mean()
    spectrum = np.fft.rfft(envelope, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[:n] / np.arange(n, 0, -1)  # unbiased
    bpm = 60.0 * fps / lags
    prior = np.exp(-0.5 * (np.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
    weighted = np.maximum(acf[lags], 0.0) * prior
    if not weighted.any():
        return 0.0
    i = int(np.argmax(weighted))
    lag = float(lags[i])
    if 0 < i < len(lags) - 1:  # parabolic interpolation between neighbouring lags
        a, b, c = weighted[i - 1], weighted[i], weighted[i + 1]
        denom = a - 2 * b + c
        if denom < 0:
            lag += 0.5 * (a - c) / denom
    return _number(60.0 * fps / lag, 2)


TEMPO_FFT = 512
TEMPO_HOP = 160  # 10 ms at 16 kHz: 120 BPM is a lag of 50 frames
MIN_BPM, MAX_BPM = 30.0, 320.0
PRIOR_BPM, PRIOR_OCTAVES = 120.0, 1.0


def _onset_envelope(x: np.ndarray) -> np.ndarray:
    """Half-wave rectified rise of the log-power spectrum, averaged over frequency, every TEMPO_HOP
    samples, then smoothed over 50 ms so that a beat period between two lags still peaks."""
    if x.size < TEMPO_FFT + TEMPO_HOP:
        return np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(x, TEMPO_FFT)[::TEMPO_HOP]
    window = np.hanning(TEMPO_FFT).astype(np.float32)
    db = np.concatenate([  # in blocks, so a long clip never holds all its spectra at once
        10 * np.log10(np.maximum(np.abs(np.fft.rfft(frames[i : i + 2048] * window, axis=1)) ** 2, 1e-10))
        for i in range(0, len(frames), 2048)
    ])
    db = np.maximum(db, db.max() - 80.0)  # an 80 dB floor, like librosa's power_to_db
    flux = np.maximum(np.diff(db, axis=0), 0.0).mean(axis=1)
    smooth = np.hanning(7)[1:-1]
    return np.convolve(flux, smooth / smooth.sum(), mode="same")


def _number(value: Any, digits: int = 2) -> float:
    """A JSON number for the guide's page: undefined (None, NaN) becomes 0.0."""
    if value is None:
        return 0.0
    value = float(value)
    return round(value, digits) if math.isfinite(value) else 0.0
