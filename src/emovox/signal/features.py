"""Acoustic descriptors of a voice clip: pitch, energy, tempo, spectrum and voice quality.

Every group is a function with one signature, ``f(signal, sampling_rate) -> dict``; ``describe``
runs them all on one shared ``Analysis`` (one Praat Pitch object, one frame-RMS track), so nothing
expensive is computed twice. Values are plain rounded floats, or ``None`` where a value is
undefined (the pitch of silence or of unvoiced noise); never NaN, so results go straight to JSON.

Methods (what each number is):

* Frames: 25 ms frames every 10 ms. A frame is *active* (non-silent) when its RMS level is within
  ``ACTIVE_RANGE_DB`` (40 dB) of the loudest frame and above ``SILENCE_FLOOR_DB``.
* Pitch: Praat's autocorrelation method (``To Pitch (ac)``, Boersma 1993) through parselmouth,
  F0 75-600 Hz, 10 ms step, on the span from the first to the last active frame (edge silence
  cannot be voiced), band-limited to ``PITCH_RATE`` (8 kHz) first: F0 needs nothing above 4 kHz
  and this halves Praat's cost. Mean/std/min/max/range are over voiced frames;
  ``voiced_fraction`` is voiced time over the whole clip.
* Energy: mean and standard deviation of the frame RMS level in dB re full scale over active
  frames (a 0.1-amplitude sine is 20*log10(0.1/sqrt(2)) = -23.0 dB).
* Tempo: syllable nuclei per second, after de Jong & Wempe (2009): peaks of the intensity
  envelope (frame power, Hann-smoothed over 9 frames) at most 25 dB under its 99th percentile,
  followed by a dip of at least 2 dB, in a voiced frame; divided by the speech span (first to
  last active frame, so leading and trailing silence do not dilute it). None for less than
  ``MIN_TEMPO_SPAN_S`` of speech.
* Spectral centroid: magnitude-weighted mean frequency of each Hann-windowed active frame,
  averaged over active frames (librosa's definition), at the input's own rate.
* Voice quality: glottal pulses from Praat's ``To PointProcess (cc)`` on the Sound and the Pitch
  above (only voiced stretches are searched), then ``Get jitter (local)`` and ``Get shimmer
  (local)`` (on the full-band Sound) with Praat's standard voice-report settings; both are
  fractions (0.01 = 1 %). HNR follows Boersma (1993) on the same Pitch object: each voiced frame's
  normalised autocorrelation peak ``r`` gives ``10*log10(r / (1 - r))``, averaged over voiced frames
  (no second Harmonicity analysis, which would cost 20-40 ms).

>>> import numpy as np
>>> t = np.arange(16000) / 16000
>>> d = describe((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
>>> round(d["pitch_mean_hz"])
220
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..errors import AudioError

__all__ = [
    "FEATURE_KEYS",
    "Analysis",
    "describe",
    "energy_features",
    "pitch_features",
    "spectral_features",
    "tempo_features",
    "voice_quality_features",
]

FEATURE_KEYS = (
    "duration_s",
    "pitch_mean_hz",
    "pitch_std_hz",
    "pitch_min_hz",
    "pitch_max_hz",
    "pitch_range_hz",
    "voiced_fraction",
    "energy_mean_db",
    "energy_std_db",
    "tempo_syllables_per_s",
    "spectral_centroid_hz",
    "jitter_local",
    "shimmer_local",
    "hnr_db",
)
"""The keys of ``describe``'s result, in order."""

PITCH_FLOOR_HZ = 75.0
PITCH_CEILING_HZ = 600.0
PITCH_STEP_S = 0.01
PITCH_RATE: int | None = 8000
"""Pitch and pulses are analysed at this rate (None: the input's own rate); see the module doc."""
PITCH_CANDIDATES = 6
"""Praat's maximum number of F0 candidates per frame (its default 15 costs ~10% more for no gain)."""
FRAME_S = 0.025
HOP_S = 0.010
ACTIVE_RANGE_DB = 40.0
"""Frames more than this far under the loudest frame count as silence."""
SILENCE_FLOOR_DB = -100.0
"""Frames below this level (dB re full scale) are silence whatever the loudest frame."""
NUCLEUS_RANGE_DB = 25.0  # de Jong & Wempe: peaks within 25 dB of the 99th percentile
NUCLEUS_DIP_DB = 2.0  # ... followed by a dip of at least 2 dB
NUCLEUS_SMOOTH_FRAMES = 9  # Hann-smoothing of the frame power (about 80 ms); tuned on RAVDESS
MIN_TEMPO_SPAN_S = 0.5
"""Below this much speech a syllable rate means nothing: tempo is None."""
# Praat's standard voice-report settings: period floor/ceiling (s), max period and amplitude factor
_PERIODS = (0.0001, 0.02, 1.3)
_MAX_AMPLITUDE_FACTOR = 1.6
_PITCH_WINDOW_S = 3.0 / PITCH_FLOOR_HZ  # the ac method's window: three periods of the floor


class Analysis:
    """The shared intermediates of one clip, each computed on first use and then reused."""

    def __init__(self, signal: np.ndarray, sampling_rate: int) -> None:
        self.signal, self.sampling_rate = _validate(signal, sampling_rate)
        self.frame_len = max(1, round(FRAME_S * self.sampling_rate))
        self.hop = max(1, round(HOP_S * self.sampling_rate))

    @property
    def duration_s(self) -> float:
        return self.signal.size / self.sampling_rate

    @cached_property
    def frame_power(self) -> np.ndarray:
        """Mean square of each 25 ms frame (10 ms hop); one frame when the clip is shorter."""
        x = self.signal.astype(np.float64)
        csum = np.concatenate(([0.0], np.cumsum(x * x)))
        n = max(1, 1 + (x.size - self.frame_len) // self.hop)
        starts = np.arange(n) * self.hop
        ends = np.minimum(starts + self.frame_len, x.size)
        return (csum[ends] - csum[starts]) / (ends - starts)

    @cached_property
    def frame_db(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return 10.0 * np.log10(self.frame_power)

    @cached_property
    def active(self) -> np.ndarray:
        """Boolean mask of non-silent frames."""
        db = self.frame_db
        threshold = max(float(db.max()) - ACTIVE_RANGE_DB, SILENCE_FLOOR_DB)
        return db > threshold

    @cached_property
    def speech_span(self) -> tuple[int, int] | None:
        """Sample range from the first to the last active frame, or None for silence."""
        idx = np.flatnonzero(self.active)
        if idx.size == 0:
            return None
        start = int(idx[0]) * self.hop
        return start, min(int(idx[-1]) * self.hop + self.frame_len, self.signal.size)

    @cached_property
    def sound(self):
        """A parselmouth Sound of the speech span (padded to fit a pitch window), or None."""
        import parselmouth

        if self.speech_span is None:
            return None
        sr = self.sampling_rate
        pad = round(_PITCH_WINDOW_S * sr)
        start = max(0, self.speech_span[0] - pad)
        end = min(self.signal.size, self.speech_span[1] + pad)
        if (end - start) / sr < _PITCH_WINDOW_S + 0.002:
            return None  # too short for even one pitch frame
        values = self.signal[start:end].astype(np.float64)
        return parselmouth.Sound(values, sampling_frequency=sr, start_time=start / sr)

    @cached_property
    def pitch_sound(self):
        """The speech span band-limited to PITCH_RATE, for pitch and pulse analysis."""
        if self.sound is None or PITCH_RATE is None or self.sampling_rate <= PITCH_RATE:
            return self.sound
        import parselmouth
        import soxr

        values = soxr.resample(self.sound.values[0], self.sampling_rate, PITCH_RATE)
        return parselmouth.Sound(values, sampling_frequency=PITCH_RATE, start_time=self.sound.xmin)

    @cached_property
    def pitch(self):
        """Praat Pitch (ac, 75-600 Hz, 10 ms) of the speech span, or None when there is none."""
        if self.pitch_sound is None:
            return None
        return self.pitch_sound.to_pitch_ac(
            time_step=PITCH_STEP_S, pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ,
            max_number_of_candidates=PITCH_CANDIDATES,
        )

    @cached_property
    def pitch_track(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Frame times, F0 in Hz (0 = unvoiced) and autocorrelation strength of the Pitch path."""
        if self.pitch is None:
            empty = np.zeros(0)
            return empty, empty, empty
        selected = self.pitch.selected_array
        return self.pitch.xs(), selected["frequency"], selected["strength"]

    @property
    def pitch_frames_in_clip(self) -> int:
        """How many pitch frames Praat would place in the whole clip (not just the span)."""
        return max(1, int((self.duration_s - _PITCH_WINDOW_S) / PITCH_STEP_S + 1e-9) + 1)

    @cached_property
    def points(self):
        """Glottal pulses: Praat's To PointProcess (cc) guided by the Pitch (voiced parts only)."""
        from parselmouth.praat import call

        return call([self.pitch_sound, self.pitch], "To PointProcess (cc)")


def describe(signal: np.ndarray, sampling_rate: int) -> dict[str, float | None]:
    """All descriptors of a mono clip, keyed by ``FEATURE_KEYS`` in order.

    >>> import numpy as np
    >>> list(describe(np.zeros(8000, np.float32), 16000)) == list(FEATURE_KEYS)
    True
    """
    a = Analysis(signal, sampling_rate)
    values: dict[str, float | None] = {"duration_s": round(a.duration_s, 3)}
    for group in _GROUPS:
        values.update(group(a))
    return {key: values[key] for key in FEATURE_KEYS}


def pitch_features(signal: np.ndarray, sampling_rate: int) -> dict[str, float | None]:
    """F0 mean/std/min/max/range in Hz over voiced frames, and the voiced fraction of the clip."""
    return _pitch(Analysis(signal, sampling_rate))


def energy_features(signal: np.ndarray, sampling_rate: int) -> dict[str, float | None]:
    """Mean and standard deviation of the frame RMS level (dB re full scale) over active frames."""
    return _energy(Analysis(signal, sampling_rate))


def tempo_features(signal: np.ndarray, sampling_rate: int) -> dict[str, float | None]:
    """Syllable nuclei per second of speech (de Jong & Wempe 2009)."""
    return _tempo(Analysis(signal, sampling_rate))


def spectral_features(signal: np.ndarray, sampling_rate: int) -> dict[str, float | None]:
    """Spectral centroid in Hz, averaged over active frames."""
    return _spectral(Analysis(signal, sampling_rate))


def voice_quality_features(signal: np.ndarray, sampling_rate: int) -> dict[str, float | None]:
    """Jitter (local), shimmer (local) as fractions, and HNR in dB; None without voicing."""
    return _voice_quality(Analysis(signal, sampling_rate))


def _pitch(a: Analysis) -> dict[str, float | None]:
    _, f0, _ = a.pitch_track
    voiced = f0[f0 > 0]
    fraction = None if a.pitch is None else min(1.0, voiced.size / a.pitch_frames_in_clip)
    stats: dict[str, float | None] = dict.fromkeys(
        ("pitch_mean_hz", "pitch_std_hz", "pitch_min_hz", "pitch_max_hz", "pitch_range_hz")
    )
    if voiced.size:
        lo, hi = float(voiced.min()), float(voiced.max())
        stats = {
            "pitch_mean_hz": _round(voiced.mean(), 2),
            "pitch_std_hz": _round(voiced.std(), 2),
            "pitch_min_hz": _round(lo, 2),
            "pitch_max_hz": _round(hi, 2),
            "pitch_range_hz": _round(hi - lo, 2),
        }
    return {**stats, "voiced_fraction": _round(fraction, 3)}


def _energy(a: Analysis) -> dict[str, float | None]:
    db = a.frame_db[a.active]
    if db.size == 0:
        return {"energy_mean_db": None, "energy_std_db": None}
    return {"energy_mean_db": _round(db.mean(), 2), "energy_std_db": _round(db.std(), 2)}


def _spectral(a: Analysis) -> dict[str, float | None]:
    if not a.active.any():
        return {"spectral_centroid_hz": None}
    if a.signal.size < a.frame_len:
        return {"spectral_centroid_hz": _centroid_of(a.signal[None, :], a.sampling_rate)}
    frames = np.lib.stride_tricks.sliding_window_view(a.signal, a.frame_len)[:: a.hop]
    return {"spectral_centroid_hz": _centroid_of(frames[a.active], a.sampling_rate)}


def _centroid_of(frames: np.ndarray, sampling_rate: int) -> float | None:
    n = frames.shape[1]
    nfft = _fast_fft_size(n)
    mag = np.abs(np.fft.rfft(frames * np.hanning(n), n=nfft, axis=1))
    total = mag.sum(axis=1)
    keep = total > 0
    if not keep.any():
        return None
    freqs = np.fft.rfftfreq(nfft, 1.0 / sampling_rate)
    return _round(float(np.mean(mag[keep] @ freqs / total[keep])), 1)


def _fast_fft_size(n: int) -> int:
    """The smallest length >= n with no prime factor above 5 (400 for 25 ms at 16 kHz)."""
    while True:
        m = n
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def _tempo(a: Analysis) -> dict[str, float | None]:
    span = a.speech_span
    span_s = 0.0 if span is None else (span[1] - span[0]) / a.sampling_rate
    if a.pitch is None or span_s < MIN_TEMPO_SPAN_S:
        return {"tempo_syllables_per_s": None}
    nuclei = _nucleus_times(a)
    times, f0, _ = a.pitch_track
    idx = np.clip(np.rint((nuclei - times[0]) / PITCH_STEP_S).astype(int), 0, len(times) - 1)
    inside = np.abs(nuclei - times[idx]) <= PITCH_STEP_S
    count = int(np.count_nonzero(inside & (f0[idx] > 0)))
    return {"tempo_syllables_per_s": _round(count / span_s, 2)}


def _nucleus_times(a: Analysis) -> np.ndarray:
    """Times (s) of intensity peaks that qualify as syllable nuclei, before the voicing check."""
    kernel = np.hanning(NUCLEUS_SMOOTH_FRAMES + 2)[1:-1]
    weight = np.convolve(np.ones_like(a.frame_power), kernel, mode="same")  # no dip at the ends
    power = np.convolve(a.frame_power, kernel, mode="same") / weight
    with np.errstate(divide="ignore"):
        env = 10.0 * np.log10(power)
    if env.size < 3 or not np.isfinite(env).any():
        return np.zeros(0)
    threshold = np.percentile(env[np.isfinite(env)], 99) - NUCLEUS_RANGE_DB
    inner = env[1:-1]
    peaks = np.flatnonzero((inner > env[:-2]) & (inner >= env[2:]) & (inner > threshold)) + 1
    # a peak counts when the intensity dips by NUCLEUS_DIP_DB before the next peak (or the end)
    if peaks.size == 0:
        return np.zeros(0)
    dips = np.minimum.reduceat(env, peaks)  # minimum from each peak up to the next one (or end)
    kept = peaks[env[peaks] - dips >= NUCLEUS_DIP_DB]
    return (kept * a.hop + a.frame_len / 2) / a.sampling_rate


def _voice_quality(a: Analysis) -> dict[str, float | None]:
    from parselmouth.praat import call

    _, f0, strength = a.pitch_track
    voiced = f0 > 0
    out: dict[str, float | None] = {"jitter_local": None, "shimmer_local": None, "hnr_db": None}
    if not voiced.any():
        return out
    r = np.clip(strength[voiced], 1e-15, 1 - 1e-15)
    out["hnr_db"] = _round(np.mean(10.0 * np.log10(r / (1.0 - r))), 2)
    out["jitter_local"] = _round(call(a.points, "Get jitter (local)", 0, 0, *_PERIODS), 6)
    out["shimmer_local"] = _round(
        call([a.sound, a.points], "Get shimmer (local)", 0, 0, *_PERIODS, _MAX_AMPLITUDE_FACTOR), 5
    )
    return out


_GROUPS = (_pitch, _energy, _tempo, _spectral, _voice_quality)


def _round(value, digits: int) -> float | None:
    """A plain rounded float, or None for missing and non-finite values."""
    if value is None:
        return None
    value = float(value)
    return round(value, digits) + 0.0 if np.isfinite(value) else None  # + 0.0: no "-0.0"


def _validate(signal: np.ndarray, sampling_rate: int) -> tuple[np.ndarray, int]:
    if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, (int, np.integer)):
        raise AudioError(f"sampling_rate must be a positive integer, got {sampling_rate!r}")
    if sampling_rate <= 0:
        raise AudioError(f"sampling_rate must be a positive integer, got {sampling_rate}")
    try:
        x = np.asarray(signal, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise AudioError(f"signal must be a numeric 1-D array: {exc}") from exc
    if x.ndim != 1:
        raise AudioError(f"signal must be mono (a 1-D array), got shape {x.shape}")
    if x.size == 0:
        raise AudioError("signal contains no samples (zero length)")
    if not np.isfinite(x).all():
        raise AudioError("signal contains NaN or infinite samples")
    return x, int(sampling_rate)
