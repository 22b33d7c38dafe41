"""The Python API end to end with the native debug model (random weights, ONNX, no torch)."""

import io

import numpy as np
import pytest

import emovox
from conftest import encode, speech_like
from emovox.errors import AudioError, ModelError


@pytest.fixture(scope="module")
def model(debug_model):
    return emovox.load_model(str(debug_model), features=False)


def test_predict_every_source_form_gives_the_same_scores(model, tmp_path):
    sig = speech_like(1.5)
    path = tmp_path / "a.wav"
    path.write_bytes(encode(sig, 16000, "wav"))
    results = [model.predict(s) for s in (path, str(path), path.read_bytes(), io.BytesIO(path.read_bytes()))]
    import soundfile as sf

    results.append(model.predict(sf.read(path, dtype="float32")))  # (array, rate) of the same samples
    for r in results:
        assert set(r.scores) == {"angry", "happy", "neutral", "sad"}
        assert sum(r.scores.values()) == pytest.approx(1, abs=1e-6)
        assert r.emotion == max(r.scores, key=r.scores.get)
        assert r.confidence == pytest.approx(r.scores[r.emotion])
        np.testing.assert_allclose(list(r.scores.values()), list(results[0].scores.values()), atol=1e-4)
    assert results[0].file == str(path)
    assert results[0].duration_s == pytest.approx(1.5, abs=1e-3)


def test_to_dict_is_json_ready(model):
    import json

    d = model.predict((speech_like(1.0), 16000)).to_dict(top_k=2)
    assert list(d) == ["file", "duration_s", "emotion", "confidence", "scores", "silent", "features", "model",
                       "adapted"]
    assert d["adapted"] is None  # not adapted, and it says so
    assert len(d["scores"]) == 2
    json.dumps(d, allow_nan=False)


def test_silence_is_flagged_not_given_an_emotion(model):
    p = model.predict((np.zeros(32000, np.float32), 16000))
    assert p.silent and p.emotion is None and p.scores == {} and p.confidence == 0.0


def test_short_clip_is_padded_and_long_clip_windowed(model):
    short = model.predict((speech_like(0.3), 16000))
    assert short.duration_s == pytest.approx(0.3, abs=1e-3) and short.emotion
    windows, weights = model._windows(np.ones(16000 * 65, np.float32))
    assert [w.size for w in windows] == [480000, 480000, 80000]
    assert weights.tolist() == [30.0, 30.0, 5.0]


def test_predict_many_keeps_order_and_returns_errors(model, tmp_path):
    good = [(speech_like(1.0, seed=i), 16000) for i in range(5)]
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    sources = [good[0], bad, *good[1:]]
    out = model.predict_many(sources, batch_size=2, errors="return")
    assert len(out) == 6
    assert isinstance(out[1], AudioError) and "bad.wav" in str(out[1])
    singles = [model.predict(s) for s in good]
    for got, want in zip([out[0], *out[2:]], singles):
        assert got.scores == pytest.approx(want.scores, abs=1e-5)
    with pytest.raises(AudioError):
        model.predict_many(sources)


def test_max_duration_is_enforced(debug_model):
    m = emovox.load_model(str(debug_model), features=False, max_duration_s=1.0)
    with pytest.raises(AudioError, match="longer than the maximum"):
        m.predict((speech_like(2.0), 16000))


def test_model_errors_are_clear(tmp_path):
    with pytest.raises(ModelError, match="unknown model 'nope'; available: emovox-base"):
        emovox.load_model("nope")
    with pytest.raises(ModelError, match="model not found"):
        emovox.load_model(str(tmp_path / "missing"))
    with pytest.raises(ModelError, match="neither an emovox model folder"):
        emovox.load_model(str(tmp_path))


def test_hub_ids_go_through_from_pretrained_and_fail_clearly_offline(monkeypatch):
    pytest.importorskip("transformers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="Hugging Face hub id"):
        emovox.load_model("someone/not-a-real-emotion-model")


def test_missing_extra_names_the_pip_command(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.split(".")[0] in ("torch", "transformers"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.delitem(__import__("sys").modules, "torch", raising=False)
    from emovox.models import hf

    with pytest.raises(emovox.MissingExtraError, match=r'pip install "emovox\[hf\]"'):
        hf.load("whatever")
