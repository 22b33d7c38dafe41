"""Silence trimming and loudness normalisation on synthetic signals with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from emovox.signal.preprocess import normalise, normalise_loudness, rms_dbfs, trim_silence

RATE = 16_000


def tone(seconds: float, amplitude: float = 0.2, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t + 0.3)).astype(np.float32)


@pytest.mark.parametrize(("lead", "tail"), [(0, 0), (1234, 0), (0, 4321), (8000, 12345), (159, 161)])
def test_trim_removes_exactly_the_padded_zeros(lead, tail):
    speech = tone(0.6)
    padded = np.concatenate([np.zeros(lead, np.float32), speech, np.zeros(tail, np.float32)])
    np.testing.assert_array_equal(trim_silence(padded), speech)


def test_trim_cuts_quiet_noise_but_keeps_a_soft_inner_pause():
    rng = np.random.default_rng(0)
    noise = lambda n: (rng.normal(size=n) * 1e-4).astype(np.float32)  # noqa: E731 (60 dB below the tone)
    speech = np.concatenate([tone(0.3), noise(3200), tone(0.3)])  # a 200 ms pause inside
    clip = np.concatenate([noise(8000), speech, noise(8000)])
    out = trim_silence(clip)
    assert abs(out.size - speech.size) <= 2 * 160  # cut to the 10 ms frame around the speech
    assert out.size > 0.75 * RATE  # the inner pause stays


def test_loudness_reaches_the_target_whatever_the_gain():
    for gain in (1e-3, 0.05, 1.0, 3.0):
        out = normalise_loudness(tone(0.5, amplitude=gain))
        assert rms_dbfs(out) == pytest.approx(-23.0, abs=1e-3)
    assert rms_dbfs(normalise_loudness(tone(0.5), target_dbfs=-30.0)) == pytest.approx(-30.0, abs=1e-3)


def test_normalise_is_gain_and_padding_invariant_and_leaves_silence_alone():
    speech = tone(0.7) * np.hanning(int(0.7 * RATE)).astype(np.float32)
    a = normalise(np.concatenate([np.zeros(5000, np.float32), 0.01 * speech]))
    b = normalise(np.concatenate([0.5 * speech, np.zeros(16000, np.float32)]))
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    silence = np.zeros(16000, np.float32)
    np.testing.assert_array_equal(normalise(silence), silence)
    click = np.zeros(16000, np.float32)
    click[100:120] = 0.5  # under 100 ms of sound: not trimmed, only scaled
    assert normalise(click).size == 16000


def test_native_model_with_preprocess_normalise_hears_gain_and_padding_alike(debug_model, tmp_path):
    """A model folder whose emovox.json says "preprocess": "normalise" trims and levels every clip
    before its frontend: a quiet, padded copy of a clip gets the same scores; without it, not."""
    import json
    import shutil

    import emovox
    from conftest import speech_like

    folder = tmp_path / "m"
    shutil.copytree(debug_model, folder)
    config = json.loads((folder / "emovox.json").read_text())
    (folder / "emovox.json").write_text(json.dumps({**config, "preprocess": "normalise"}))
    clip = speech_like(1.5, seed=3)
    quiet = np.concatenate([np.zeros(7000, np.float32), 0.05 * clip, np.zeros(9000, np.float32)])
    leveled = emovox.load_model(str(folder), features=False)
    plain = emovox.load_model(str(debug_model), features=False)
    a, b = (leveled.predict((x, RATE)).scores for x in (clip, quiet))
    assert a == pytest.approx(b, abs=1e-4)
    c, d = (plain.predict((x, RATE)).scores for x in (clip, quiet))
    assert c != pytest.approx(d, abs=1e-3)
    (folder / "emovox.json").write_text(json.dumps({**config, "preprocess": "louder"}))
    with pytest.raises(emovox.errors.ModelError, match="preprocess must be one of"):
        emovox.load_model(str(folder))


def test_training_features_and_native_frontend_feed_the_graph_the_same_input(debug_model, tmp_path):
    """What the feature cache encodes for training (Backbone.inputs) is what the native backend feeds
    the ONNX graph at inference, with and without the preprocessing."""
    import json
    import shutil

    pytest.importorskip("torch")
    import emovox
    from conftest import speech_like
    from emovox.training.features import Backbone, pad_min

    folder = tmp_path / "m"
    shutil.copytree(debug_model, folder)
    config = json.loads((folder / "emovox.json").read_text())
    (folder / "emovox.json").write_text(json.dumps({**config, "preprocess": "normalise"}))
    clip = pad_min(np.concatenate([np.zeros(3000, np.float32), 0.1 * speech_like(0.8, seed=4)]))
    plain = Backbone("whisper-tiny.en", "whisper-logmel", None, "k")
    for model, backbone in ((debug_model, plain), (folder, plain.with_preprocess("normalise"))):
        backend = emovox.load_model(str(model), features=False).backend
        np.testing.assert_allclose(backend.frontend(clip)[0], backbone.inputs(clip), atol=1e-6)
    assert plain.with_preprocess("normalise").key == "k+normalise"
    assert plain.inputs(clip).shape != plain.with_preprocess("normalise").inputs(clip).shape  # trimmed
