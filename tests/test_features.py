"""Acoustic descriptors against signals whose answers are known in advance."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import SR, speech_like, tone
from emovox.errors import AudioError
from emovox.signal import features
from emovox.signal.features import FEATURE_KEYS, describe

PITCH_KEYS = ("pitch_mean_hz", "pitch_std_hz", "pitch_min_hz", "pitch_max_hz", "pitch_range_hz")
VOICE_KEYS = ("jitter_local", "shimmer_local", "hnr_db")


def noise(seconds: float = 3.0, amp: float = 0.1, sr: int = SR, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (amp * rng.standard_normal(int(seconds * sr))).astype(np.float32)


def glide(f_start: float, f_end: float, seconds: float = 3.0, sr: int = SR) -> np.ndarray:
    """A sine whose frequency moves linearly from f_start to f_end."""
    t = np.arange(int(seconds * sr)) / sr
    freq = f_start + (f_end - f_start) * t / seconds
    return (0.3 * np.sin(2 * np.pi * np.cumsum(freq) / sr)).astype(np.float32)


def bursts(
    rate_hz: float = 4.0, seconds: float = 3.0, f0: float | None = 180.0, sr: int = SR
) -> np.ndarray:
    """Bursts switched on and off `rate_hz` times per second: a harmonic buzz, or noise (f0=None)."""
    t = np.arange(int(seconds * sr)) / sr
    if f0 is None:
        source = np.random.default_rng(0).standard_normal(t.size)
    else:
        source = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 10))
    gate = (np.sin(2 * np.pi * rate_hz * t - np.pi / 2) > 0.2).astype(float)
    return (0.2 * source * gate).astype(np.float32)


def pulses(f0: float, jitter: float, shimmer: float, seconds: float = 2.0, seed: int = 0):
    """A glottal-like pulse train (each pulse rings a 700 Hz resonance) with random period and
    amplitude perturbations; returns it with its true local jitter and shimmer (Praat's formulas:
    mean absolute difference of consecutive periods / amplitudes over their mean)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    x = np.zeros(n)
    t, periods, amps = 0.01, [], []
    while t < seconds - 0.02:
        amp = 1 + shimmer * rng.standard_normal()
        start = int(np.ceil(t * SR))
        idx = np.arange(start, min(n, start + int(0.012 * SR)))
        tau = idx / SR - t
        x[idx] += amp * np.exp(-tau / 0.0015) * np.sin(2 * np.pi * 700 * tau)
        period = (1 + jitter * rng.standard_normal()) / f0
        periods.append(period)
        amps.append(amp)
        t += period
    p, a = np.array(periods[:-1]), np.array(amps)
    true_jitter = np.mean(np.abs(np.diff(p))) / p.mean()
    true_shimmer = np.mean(np.abs(np.diff(a))) / a.mean()
    return (0.3 * x / np.abs(x).max()).astype(np.float32), true_jitter, true_shimmer


def test_result_has_exactly_the_keys_in_order_and_is_json():
    result = describe(speech_like(2.0), SR)
    assert tuple(result) == FEATURE_KEYS
    assert all(v is None or type(v) is float for v in result.values())
    json.dumps(result, allow_nan=False)


def test_tone_220_hz_has_its_pitch_no_jitter_and_high_hnr():
    result = describe(tone(220.0, 3.0), SR)
    assert result["duration_s"] == 3.0
    assert abs(result["pitch_mean_hz"] - 220.0) < 1.0
    assert result["pitch_std_hz"] < 1.0
    assert result["voiced_fraction"] > 0.9
    assert result["jitter_local"] < 0.001
    assert result["shimmer_local"] < 0.01
    assert result["hnr_db"] > 20.0


def test_adding_noise_lowers_hnr_step_by_step():
    clean = tone(220.0, 3.0)
    hnr = [describe(clean + noise(amp=a), SR)["hnr_db"] for a in (0.0, 0.01, 0.05, 0.15)]
    assert all(h is not None for h in hnr)
    assert hnr[0] > hnr[1] > hnr[2] > hnr[3]
    # a 0.3 sine in 0.15 white noise: 6 dB SNR in the full band; the noisy one is no clean voice
    assert hnr[3] < 15.0


def test_noisy_voice_has_more_jitter_and_shimmer_than_a_clean_one():
    clean = describe(tone(220.0, 3.0), SR)
    noisy = describe(tone(220.0, 3.0) + noise(amp=0.1), SR)
    assert noisy["jitter_local"] > 10 * clean["jitter_local"] + 0.001
    assert noisy["shimmer_local"] > clean["shimmer_local"] + 0.01


@pytest.mark.parametrize("f0, jitter, shimmer", [(120, 0.005, 0.05), (200, 0.01, 0.03), (260, 0.02, 0.1)])
def test_jitter_and_shimmer_match_a_pulse_train_with_known_perturbations(f0, jitter, shimmer):
    signal, true_jitter, true_shimmer = pulses(f0, jitter, shimmer)
    result = describe(signal, SR)
    assert abs(result["pitch_mean_hz"] - f0) < 0.02 * f0
    assert result["jitter_local"] == pytest.approx(true_jitter, rel=0.15)
    assert result["shimmer_local"] == pytest.approx(true_shimmer, rel=0.2)


def test_energy_of_a_sine_is_its_rms_level():
    result = describe(tone(220.0, 2.0, amp=0.1), SR)
    expected = 20 * math.log10(0.1 / math.sqrt(2))  # -23.0 dB
    assert abs(result["energy_mean_db"] - expected) < 0.1
    assert result["energy_std_db"] < 0.1


def test_energy_ignores_silent_frames_and_tracks_level():
    hiss = noise(1.0, amp=3e-5)  # -90 dB: silence next to a -23 dB tone
    quiet_and_loud = np.concatenate([hiss, tone(220.0, 1.0, amp=0.1), hiss])
    result = describe(quiet_and_loud, SR)
    assert abs(result["energy_mean_db"] - 20 * math.log10(0.1 / math.sqrt(2))) < 0.5
    louder = describe(tone(220.0, 1.0, amp=0.2), SR)["energy_mean_db"]
    assert abs(louder - result["energy_mean_db"] - 20 * math.log10(2)) < 0.5


@pytest.mark.parametrize("freq", [1000.0, 3000.0])
def test_spectral_centroid_of_a_tone_is_its_frequency(freq):
    result = describe(tone(freq, 2.0), SR)
    assert abs(result["spectral_centroid_hz"] - freq) < 0.02 * freq


def test_spectral_centroid_weights_frequencies_by_magnitude():
    t = np.arange(2 * SR) / SR
    two_tones = (0.3 * np.sin(2 * np.pi * 1000 * t) + 0.1 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32)
    expected = (0.3 * 1000 + 0.1 * 3000) / 0.4  # 1500 Hz (a power-weighted centroid: 1200)
    assert abs(describe(two_tones, SR)["spectral_centroid_hz"] - expected) < 30


def test_white_noise_centroid_is_half_the_band_and_it_has_no_pitch():
    result = describe(noise(), SR)
    assert abs(result["spectral_centroid_hz"] - SR / 4) < 300
    for key in PITCH_KEYS + VOICE_KEYS:
        assert result[key] is None, key
    assert result["voiced_fraction"] < 0.05
    assert result["energy_mean_db"] == pytest.approx(-20.0, abs=0.5)  # 0.1 rms


def test_gliding_pitch_gives_its_range():
    result = describe(glide(150.0, 300.0), SR)
    assert abs(result["pitch_range_hz"] - 150.0) < 8.0
    assert abs(result["pitch_min_hz"] - 150.0) < 5.0
    assert abs(result["pitch_max_hz"] - 300.0) < 5.0
    assert abs(result["pitch_mean_hz"] - 225.0) < 5.0
    # the std of a uniform sweep over 150 Hz is 150 / sqrt(12)
    assert abs(result["pitch_std_hz"] - 150.0 / math.sqrt(12)) < 3.0


def test_speech_like_tempo_is_its_syllable_rate():
    result = describe(speech_like(3.0), SR)
    assert abs(result["tempo_syllables_per_s"] - 4.0) < 0.5
    assert abs(result["pitch_mean_hz"] - 140.0) < 5.0  # f0 = 140 * (1 + 0.1 sin)


@pytest.mark.parametrize("rate", [2.0, 4.0, 6.0])
def test_voiced_bursts_give_their_rate(rate):
    result = describe(bursts(rate), SR)
    assert abs(result["tempo_syllables_per_s"] - rate) < 0.15 * rate + 0.3


def test_voiced_bursts_keep_a_clean_voice_quality():
    result = describe(bursts(4.0), SR)
    assert result["hnr_db"] > 20.0  # the silent gaps between bursts are not averaged in
    assert result["jitter_local"] < 0.005
    assert 0.4 < result["voiced_fraction"] < 0.7  # the gate is open 43 % of the time


def test_steady_tone_and_unvoiced_bursts_have_no_syllables():
    assert describe(tone(220.0, 2.0), SR)["tempo_syllables_per_s"] == 0.0
    whispered = describe(bursts(4.0, f0=None), SR)  # clear intensity peaks, but never voiced
    assert whispered["tempo_syllables_per_s"] == 0.0
    assert whispered["pitch_mean_hz"] is None


def test_silence_gives_none_and_no_crash():
    result = describe(np.zeros(3 * SR, np.float32), SR)
    assert result["duration_s"] == 3.0
    assert all(result[k] is None for k in FEATURE_KEYS if k != "duration_s")
    json.dumps(result, allow_nan=False)


def test_leading_and_trailing_silence_do_not_change_pitch_or_tempo():
    core = speech_like(2.0)
    padded = np.concatenate([np.zeros(SR, np.float32), core, np.zeros(SR, np.float32)])
    a, b = describe(core, SR), describe(padded, SR)
    assert abs(a["pitch_mean_hz"] - b["pitch_mean_hz"]) < 1.0
    assert abs(a["tempo_syllables_per_s"] - b["tempo_syllables_per_s"]) < 0.3
    assert b["voiced_fraction"] == pytest.approx(a["voiced_fraction"] / 2, abs=0.05)


def test_very_short_input_works():
    result = describe(tone(220.0, 0.05), SR)
    assert result["duration_s"] == 0.05
    assert tuple(result) == FEATURE_KEYS
    assert result["tempo_syllables_per_s"] is None  # no rate from 50 ms
    assert result["energy_mean_db"] is not None
    json.dumps(result, allow_nan=False)
    tiny = describe(tone(220.0, 0.005), SR)  # shorter than one 25 ms frame
    assert tiny["pitch_mean_hz"] is None and tiny["energy_mean_db"] is not None


@pytest.mark.parametrize("sr", [8000, 22050, 44100])
def test_other_sampling_rates(sr):
    result = describe(tone(220.0, 1.0, sr=sr, amp=0.1), sr)
    assert result["duration_s"] == 1.0
    assert abs(result["pitch_mean_hz"] - 220.0) < 1.0
    assert abs(result["energy_mean_db"] - 20 * math.log10(0.1 / math.sqrt(2))) < 0.1
    assert abs(result["spectral_centroid_hz"] - 220.0) < 10.0
    assert result["hnr_db"] > 20.0


def test_each_group_matches_describe():
    signal = speech_like(2.0, seed=3)
    combined = describe(signal, SR)
    groups = (
        features.pitch_features,
        features.energy_features,
        features.tempo_features,
        features.spectral_features,
        features.voice_quality_features,
    )
    merged = {"duration_s": combined["duration_s"]}
    for group in groups:
        merged.update(group(signal, SR))
    assert merged == combined


def test_describe_computes_pitch_once(monkeypatch):
    import parselmouth

    calls = []
    original = parselmouth.Sound.to_pitch_ac

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(parselmouth.Sound, "to_pitch_ac", counting)
    describe(speech_like(1.0), SR)
    assert len(calls) == 1


@pytest.mark.parametrize(
    "signal, rate, message",
    [
        (np.zeros(0, np.float32), SR, "zero length"),
        (np.zeros((2, 100), np.float32), SR, "1-D"),
        (np.array([0.0, np.nan], np.float32), SR, "NaN"),
        (np.zeros(100, np.float32), 0, "positive integer"),
        (np.zeros(100, np.float32), 16000.5, "positive integer"),
    ],
)
def test_bad_input_raises_audio_error(signal, rate, message):
    with pytest.raises(AudioError, match=message):
        describe(signal, rate)


@pytest.mark.slow
@pytest.mark.corpus
def test_real_speech_has_plausible_values(corpora):
    from emovox.io.audio import load_audio

    clips = sorted((corpora / "ravdess" / "audio").glob("*.flac"))[:12]
    for path in clips:
        result = describe(load_audio(path), SR)
        json.dumps(result, allow_nan=False)
        assert 60.0 < result["pitch_mean_hz"] < 450.0, path.name
        assert 0.1 < result["voiced_fraction"] < 0.9, path.name
        assert 0.5 < result["tempo_syllables_per_s"] < 10.0, path.name
        assert 0.0 < result["jitter_local"] < 0.1, path.name
        assert 0.0 < result["shimmer_local"] < 0.4, path.name
        assert -5.0 < result["hnr_db"] < 40.0, path.name


@pytest.mark.slow
@pytest.mark.corpus
def test_syllable_count_of_ravdess_sentences(corpora):
    """Both RAVDESS sentences ("Kids/Dogs are talking/sitting by the door") have 7 syllables."""
    from emovox.io.audio import load_audio

    counts = []
    for path in sorted((corpora / "ravdess" / "audio").glob("*.flac"))[7::60]:
        a = features.Analysis(load_audio(path), SR)
        rate = features.tempo_features(a.signal, SR)["tempo_syllables_per_s"]
        counts.append(rate * (a.speech_span[1] - a.speech_span[0]) / SR)
    counts = np.round(counts)
    assert 6.0 <= counts.mean() <= 8.5
    assert np.mean(np.abs(counts - 7) <= 2) >= 0.7


class _FixedBackend:
    """A test double with the Backend contract: equal logits, so only the descriptors matter."""

    def __init__(self):
        from emovox.results.result import ModelInfo

        self.info = ModelInfo("fixed", "0", ("neutral", "happy"), "test", "in-process")
        self.min_samples = 1600
        self.max_samples = None

    def forward(self, batch):
        return np.zeros((len(batch), 2))


def test_predictions_carry_descriptors_that_serialise():
    from emovox.recognizers.voice import Recognizer

    model = Recognizer(_FixedBackend())
    prediction = model.predict((speech_like(2.0, sr=22050), 22050))  # resampled to 16 kHz first
    assert tuple(prediction.features) == FEATURE_KEYS
    assert abs(prediction.features["pitch_mean_hz"] - 140.0) < 5.0
    json.dumps(prediction.to_dict(), allow_nan=False)
    silent = model.predict((np.zeros(SR, np.float32), SR))
    assert silent.silent and silent.features["pitch_mean_hz"] is None
    json.dumps(silent.to_dict(), allow_nan=False)
