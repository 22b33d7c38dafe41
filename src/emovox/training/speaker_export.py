"""Convert resemblyzer's GE2E speaker encoder to ONNX (build time only; needs torch and resemblyzer).

resemblyzer 0.1.4 (Apache-2.0) ships ``pretrained.pt`` in its wheel: a 3-layer LSTM over 40 mel
bands (16 kHz, 25 ms window, 10 ms hop; power mel, not log) whose last hidden state goes through a
linear layer, a ReLU and an L2 norm to a 256-d voice embedding. The ONNX graph takes the power
spectrogram ``(batch, frames, 201)`` (numpy computes it, ``emovox.models.speaker``), applies
librosa's mel filterbank (stored in the graph) and runs the encoder, so inference needs neither torch
nor librosa.

    python -m emovox.training.speaker_export --out src/emovox/assets/emovox-speaker
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from ..errors import require

N_FFT, HOP, N_MELS, SAMPLE_RATE = 400, 160, 40, 16_000


def build_module():
    """resemblyzer's VoiceEncoder wrapped to take power spectrograms; returns (module, source .pt path)."""
    torch = require("torch", "speaker-export", "exporting the speaker encoder")
    librosa = require("librosa", "speaker-export", "exporting the speaker encoder")
    resemblyzer = require("resemblyzer", "speaker-export", "exporting the speaker encoder")

    encoder = resemblyzer.VoiceEncoder(device="cpu", verbose=False).eval()
    fb = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS)  # as melspectrogram uses

    class PowerToEmbedding(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.register_buffer("fb", torch.from_numpy(fb.T.copy()).float())  # (201, 40)

        def forward(self, power):
            mels = torch.matmul(power, self.fb)
            _, (hidden, _) = self.encoder.lstm(mels)
            raw = self.encoder.relu(self.encoder.linear(hidden[-1]))
            return raw / torch.norm(raw, dim=1, keepdim=True)

    pt = Path(resemblyzer.__file__).parent / "pretrained.pt"
    return PowerToEmbedding().eval(), pt


def export(out: str | Path) -> Path:
    """Write ``model.onnx`` and ``speaker.json`` into ``out``."""
    torch = require("torch", "speaker-export", "exporting the speaker encoder")
    import importlib.metadata as md

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    module, pt = build_module()
    dummy = torch.rand(2, 160, N_FFT // 2 + 1)
    path = out / "model.onnx"
    torch.onnx.export(
        module, (dummy,), str(path), input_names=["power"], output_names=["embedding"],
        dynamic_axes={"power": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
        opset_version=17, dynamo=False,
    )
    config = {
        "arch": "ge2e-onnx",
        "name": "emovox-speaker",
        "source": f"resemblyzer {md.version('resemblyzer')} pretrained.pt",
        "source_sha256": hashlib.sha256(pt.read_bytes()).hexdigest(),
        "sample_rate": SAMPLE_RATE, "n_fft": N_FFT, "hop": HOP, "n_mels": N_MELS,
        "partial_frames": 160, "embedding_size": 256, "model": "model.onnx",
    }
    (out / "speaker.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="src/emovox/assets/emovox-speaker")
    path = export(parser.parse_args(argv).out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
