"""Speaker embeddings: resemblyzer's GE2E voice encoder, run by onnxruntime (no torch, no librosa).

The frontend is numpy: a centred STFT (zero padding, periodic Hann, 25 ms window, 10 ms hop), its
power spectrum; the ONNX graph applies the 40-band mel filterbank and the 3-layer LSTM and returns
L2-normed 256-d embeddings. Partials are 160 frames (1.6 s), as the encoder was trained on. The asset
is built by ``python -m emovox.training.speaker_export`` (see its MODEL_CARD.md).

>>> import numpy as np
>>> enc = SpeakerEncoder()
>>> enc.embed_windows(np.zeros(32000, np.float32), [(0.0, 1.6)]).shape
(1, 256)
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import ModelError

ASSET = "emovox-speaker"
TARGET_DBFS = -30.0
"""Level each partial is brought to before embedding (resemblyzer's ``audio_norm_target_dBFS``)."""
BATCH = 64
"""Windows per onnxruntime run: large enough for efficient matrix products, small in memory."""


def asset_folder() -> Path:
    return Path(str(resources.files("emovox") / "assets" / ASSET))


def power_spectrogram(signal: np.ndarray, n_fft: int = 400, hop: int = 160) -> np.ndarray:
    """(frames, n_fft // 2 + 1) float32 power spectrum, frame i centred on sample i * hop (librosa's
    ``center=True``, zero padded)."""
    x = np.pad(np.asarray(signal, np.float32), n_fft // 2)
    n = 1 + (x.size - n_fft) // hop
    frames = np.lib.stride_tricks.as_strided(x, (n, n_fft), (x.strides[0] * hop, x.strides[0]))
    return np.square(np.abs(np.fft.rfft(frames * _hann(n_fft), axis=1))).astype(np.float32)


def _hann(n: int) -> np.ndarray:
    """Periodic Hann window (librosa's and scipy's ``get_window("hann", n)``)."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)


class SpeakerEncoder:
    """``embed_windows(signal, windows) -> (n, 256)``: one embedding per (start_s, end_s) window.

    A window shorter than 1.6 s is zero-padded to 1.6 s; a longer one is cut into 1.6 s partials
    at 50 % overlap whose embeddings are averaged and re-normed (as resemblyzer's ``embed_utterance``).
    """

    def __init__(self, folder: str | Path | None = None, threads: int | None = None,
                 normalize: bool = True) -> None:
        import onnxruntime as ort

        from .native import session_options

        folder = Path(folder) if folder is not None else asset_folder()
        try:
            self.config = json.loads((folder / "speaker.json").read_text(encoding="utf-8"))
            self.session = ort.InferenceSession(
                str(folder / self.config.get("model", "model.onnx")),
                sess_options=session_options(threads), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"cannot load the speaker encoder in {folder}: {exc}") from exc
        self.sample_rate = int(self.config["sample_rate"])
        self.hop = int(self.config["hop"])
        self.n_fft = int(self.config["n_fft"])
        self._win_energy = float(np.sum(_hann(self.n_fft) ** 2))
        self.partial = int(self.config["partial_frames"])
        self.normalize = normalize

    def _gain(self, piece: np.ndarray) -> float:
        """Power gain that brings a partial to ``TARGET_DBFS`` (the encoder's training level).

        The encoder reads linear (not log) mel power, so loudness moves its embeddings; resemblyzer
        normalises each utterance to -30 dBFS before embedding it. Parseval: a frame's mean power
        over the one-sided spectrum relates to the signal's mean square through the window energy.
        """
        per_frame = 2 * piece[:, 1:-1].sum(axis=1) + piece[:, 0] + piece[:, -1]  # all n_fft bins
        ms = float(per_frame.mean()) / (self.n_fft * self._win_energy)
        return 10 ** (TARGET_DBFS / 10) / max(ms, 1e-12)

    def forward(self, power: np.ndarray) -> np.ndarray:
        """(batch, frames, bins) power spectrograms -> (batch, 256) embeddings."""
        out = [self.session.run(None, {"power": power[i : i + BATCH]})[0]
               for i in range(0, len(power), BATCH)]
        return np.concatenate(out) if out else np.zeros((0, 256), np.float32)

    def embed_windows(self, signal: np.ndarray, windows: list[tuple[float, float]]) -> np.ndarray:
        """One L2-normed embedding per window of ``signal`` (16 kHz float32)."""
        if not windows:
            return np.zeros((0, 256), np.float32)
        spec = power_spectrogram(signal, self.n_fft, self.hop)
        rate = self.sample_rate / self.hop  # frames per second
        partials, owner = [], []
        for k, (a, b) in enumerate(windows):
            lo, hi = int(round(a * rate)), max(int(round(b * rate)), int(round(a * rate)) + 1)
            starts = list(range(lo, max(lo + 1, hi - self.partial + 1), self.partial // 2))
            if starts[-1] + self.partial < hi:
                starts.append(hi - self.partial)
            for s in starts:
                piece = spec[s : min(s + self.partial, hi, spec.shape[0])]
                if self.normalize:
                    piece = piece * self._gain(piece)
                if piece.shape[0] < self.partial:
                    piece = np.pad(piece, ((0, self.partial - piece.shape[0]), (0, 0)))
                partials.append(piece)
                owner.append(k)
        emb = self.forward(np.stack(partials))
        out = np.zeros((len(windows), emb.shape[1]), np.float32)
        np.add.at(out, np.asarray(owner), emb)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@lru_cache(maxsize=2)
def load_speaker_encoder(threads: int | None = None) -> SpeakerEncoder:
    """The shipped speaker encoder, loaded once per thread count."""
    return SpeakerEncoder(threads=threads)
