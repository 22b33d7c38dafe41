"""The native backend (onnxruntime + numpy, no torch) through the public API, with the debug model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import emovox
from conftest import speech_like, subprocess_env, tone
from emovox.errors import ModelError
from emovox.models.native import load, read_config
from emovox.models.whisper import log_mel
from emovox.recognizers.voice import softmax


def _debug_weights(folder):
    onnx = pytest.importorskip("onnx")
    graph = onnx.load(str(folder / "model.onnx")).graph
    w = {i.name: onnx.numpy_helper.to_array(i) for i in graph.initializer}
    return w["weight"], w["bias"]


def _copy(folder, tmp_path, name="copy"):
    return shutil.copytree(folder, tmp_path / name)


def _edit(folder, **changes):
    path = folder / "emovox.json"
    data = json.loads(path.read_text())
    for key, value in changes.items():
        if value is _DELETE:
            del data[key]
        else:
            data[key] = value
    path.write_text(json.dumps(data))


_DELETE = object()


def test_predict_through_public_api(debug_model):
    model = emovox.load_model(str(debug_model), features=False)
    p = model.predict((speech_like(2.0), 16000))
    config = json.loads((debug_model / "emovox.json").read_text())
    assert list(p.scores) == config["labels"] == ["angry", "happy", "neutral", "sad"]
    assert sum(p.scores.values()) == pytest.approx(1.0)
    assert p.emotion == max(p.scores, key=p.scores.get)
    assert p.model == "emovox-debug@seed-0"
    assert model.info.backend == "emovox"
    assert model.info.extra["random_weights"] is True


def test_logits_are_the_graph_applied_to_whisper_log_mel(debug_model):
    """Recompute the debug graph in numpy: catches a wrong frontend, input layout or label order."""
    weight, bias = _debug_weights(debug_model)
    backend = load(debug_model)
    clips = [speech_like(1.5, seed=1), tone(440.0, 2.0)]
    expected = np.stack([log_mel(x).mean(axis=1) @ weight + bias for x in clips])
    np.testing.assert_allclose(backend.forward(clips), expected, rtol=1e-4, atol=1e-4)
    assert not np.allclose(expected[0], expected[1])  # the two inputs really differ


def test_equal_length_clips_share_a_call_and_keep_their_order(debug_model):
    backend = load(debug_model)
    assert backend._batched  # the debug graph has a dynamic batch axis
    clips = [speech_like(1.0, seed=1), speech_like(2.0, seed=2), speech_like(1.0, seed=3), tone(300.0, 2.0)]
    one_by_one = np.concatenate([backend.forward([c]) for c in clips])
    np.testing.assert_allclose(backend.forward(clips), one_by_one, rtol=1e-5, atol=1e-5)
    calls = []
    backend.session = _Recording(backend.session, calls)
    long = [speech_like(12.0, seed=i) for i in range(5)]  # 60 s: at most 30 s of audio per call
    np.testing.assert_allclose(backend.forward(long), np.concatenate([backend.forward([c]) for c in long]),
                               rtol=1e-5, atol=1e-5)
    assert calls[:3] == [2, 2, 1]


class _Recording:
    """Wraps an InferenceSession and records the batch size of every run."""

    def __init__(self, session, calls):
        self._session, self._calls = session, calls

    def run(self, outputs, feeds):
        self._calls.append(next(iter(feeds.values())).shape[0])
        return self._session.run(outputs, feeds)


def test_temperature_divides_logits(debug_model, tmp_path):
    from emovox.models.debug import write_debug_model

    hot = write_debug_model(tmp_path / "hot", temperature=2.5)
    x = speech_like(1.0)
    cold_logits = load(debug_model).forward([x])
    np.testing.assert_allclose(load(hot).forward([x]), cold_logits / 2.5, rtol=1e-6)
    p = emovox.load_model(str(hot), features=False).predict((x, 16000))
    np.testing.assert_allclose(list(p.scores.values()), softmax(cold_logits / 2.5)[0], rtol=1e-6)


def test_labels_come_from_the_json(tmp_path):
    pytest.importorskip("onnx")
    from emovox.models.debug import write_debug_model

    folder = write_debug_model(tmp_path / "m", labels=("ang", "calm", "boredom"))
    model = emovox.load_model(str(folder), features=False)
    assert model.labels == ("angry", "calm", "boredom")
    assert set(model.predict((speech_like(1.0), 16000)).scores) == {"angry", "calm", "boredom"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"labels": _DELETE}, "missing field(s) labels"),
        ({"format": "emovox/9"}, "format"),
        ({"frontend": "mfcc"}, "unknown frontend 'mfcc'"),
        ({"temperature": 0}, "temperature"),
        ({"temperature": "warm"}, "temperature"),
        ({"sample_rate": 8000}, "sample_rate"),
        ({"labels": []}, "labels"),
        ({"labels": ["angry", "ang", "happy", "sad"]}, "same emotion twice"),
        ({"labels": ["angry", "happy", "sad"]}, "returns 4 logits"),
        ({"onnx": "../elsewhere.onnx"}, "onnx"),
        ({"onnx": "other.onnx"}, "does not exist"),
        ({"max_samples": 480001}, "30 s"),
        ({"min_samples": 0}, "min_samples"),
        ({"sha256": "abc"}, "sha256"),
    ],
)
def test_bad_json_is_a_model_error(debug_model, tmp_path, change, message):
    folder = _copy(debug_model, tmp_path)
    _edit(folder, **change)
    with pytest.raises(ModelError) as err:
        emovox.load_model(str(folder), features=False)
    assert message in str(err.value)


def test_unparseable_json_is_a_model_error(debug_model, tmp_path):
    folder = _copy(debug_model, tmp_path)
    (folder / "emovox.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        emovox.load_model(str(folder), features=False)
    (folder / "emovox.json").write_text("[1, 2]")
    with pytest.raises(ModelError, match="expected a JSON object"):
        emovox.load_model(str(folder), features=False)


def test_sha_mismatch_is_a_model_error(debug_model, tmp_path):
    folder = _copy(debug_model, tmp_path)
    with open(folder / "model.onnx", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match="does not match its emovox.json"):
        emovox.load_model(str(folder), features=False)


def test_garbage_onnx_with_matching_sha_is_a_model_error(debug_model, tmp_path):
    from emovox.models.native import sha256_file

    folder = _copy(debug_model, tmp_path)
    (folder / "model.onnx").write_bytes(b"this is not an onnx file")
    _edit(folder, sha256=sha256_file(folder / "model.onnx"))
    with pytest.raises(ModelError, match="onnxruntime could not load"):
        load(folder)


def test_read_config_round_trip(debug_model):
    config = read_config(debug_model)
    assert config.frontend == "whisper-logmel" and config.max_samples == 480_000
    assert "RANDOM" in config.description


def test_long_audio_is_windowed_and_forward_refuses_overlong_input(debug_model):
    model = emovox.load_model(str(debug_model), features=False)
    p = model.predict((speech_like(35.0), 16000))  # 30 s window + 5 s window
    assert p.duration_s == pytest.approx(35.0)
    with pytest.raises(ModelError, match="max_samples"):
        model.backend.forward([np.zeros(480_001, np.float32)])


def test_threads_and_spinning_options(debug_model):
    options = load(debug_model, threads=1, spinning=True).session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    default = load(debug_model).session.get_session_options()
    assert default.intra_op_num_threads == min(2, os.cpu_count() or 1)
    assert default.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    with pytest.raises(ModelError, match="threads"):
        load(debug_model, threads=0)


def test_concurrent_forward_matches_sequential(debug_model):
    backend = load(debug_model, threads=2)
    clips = [speech_like(1.0 + 0.25 * i, seed=i) for i in range(6)]
    sequential = [backend.forward([c]) for c in clips]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(lambda c: backend.forward([c]), clips * 3))
    for i, got in enumerate(concurrent):
        np.testing.assert_array_equal(got, sequential[i % len(clips)])


def test_waveform_frontend_normalizes_when_asked(tmp_path):
    onnx = pytest.importorskip("onnx")
    from emovox.models.native import write_folder

    h, T = onnx.helper, onnx.TensorProto
    graph = h.make_graph(  # logits = [mean(x), mean(x * x)]
        [h.make_node("Mul", ["waveform", "waveform"], ["sq"]),
         h.make_node("ReduceMean", ["waveform"], ["m1"], axes=[1], keepdims=1),
         h.make_node("ReduceMean", ["sq"], ["m2"], axes=[1], keepdims=1),
         h.make_node("Concat", ["m1", "m2"], ["logits"], axis=1)],
        "moments", [h.make_tensor_value_info("waveform", T.FLOAT, [1, "samples"])],
        [h.make_tensor_value_info("logits", T.FLOAT, [1, 2])],
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "m.onnx"))
    x = (0.5 + 0.1 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)
    for normalize, expected in ((False, [x.mean(), (x * x).mean()]), (True, [0.0, 1.0])):
        folder = write_folder(tmp_path / str(normalize), tmp_path / "m.onnx", labels=["happy", "sad"],
                              name="moments", version="1", frontend="waveform", normalize=normalize)
        np.testing.assert_allclose(load(folder).forward([x])[0], expected, atol=1e-4)
    backend = load(folder)  # a graph with a fixed batch of 1 still takes several clips
    assert not backend._batched
    np.testing.assert_allclose(backend.forward([x, 2 * x, x])[[0, 2]], backend.forward([x, x]))


def test_native_import_and_inference_pull_no_torch(debug_model):
    code = (
        "import sys, numpy as np\n"
        "import emovox, emovox.models.native\n"
        f"m = emovox.load_model({str(debug_model)!r}, features=False)\n"
        "print(m.predict((np.random.default_rng(0).standard_normal(16000).astype('float32'), 16000)).emotion)\n"
        "heavy = [k for k in ('torch', 'transformers', 'onnx') if k in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout
