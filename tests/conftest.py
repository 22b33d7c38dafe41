"""Shared fixtures: synthetic audio in every format, the native debug model (core-path tests), a tiny
Hugging Face model (HF backend tests), the real corpora."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

SR = 16_000


def tone(freq: float = 220.0, seconds: float = 1.0, sr: int = SR, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def speech_like(seconds: float = 2.0, sr: int = SR, f0: float = 140.0, seed: int = 0) -> np.ndarray:
    """A voiced buzz with a gliding pitch, formant-ish filtering and a 4 Hz syllable envelope."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    pitch = f0 * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / sr
    voiced = sum(np.sin(k * phase) / k for k in range(1, 20))
    envelope = 0.5 * (1 - np.cos(2 * np.pi * 4 * t)) ** 2
    x = voiced * envelope + 0.01 * rng.standard_normal(n)
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


# format name -> (PyAV container format, codec, extension); soundfile writes wav/flac itself
ENCODINGS = {
    "mp3": ("mp3", "libmp3lame", ".mp3"),
    "opus": ("ogg", "libopus", ".opus"),
    "ogg": ("ogg", "libopus", ".ogg"),
    "webm": ("webm", "libopus", ".webm"),
    "m4a": ("ipod", "aac", ".m4a"),
    "mp4": ("mp4", "aac", ".mp4"),
}


def encode(signal: np.ndarray, sr: int, fmt: str) -> bytes:
    """Encode mono float audio to bytes in `fmt` (wav, flac or any key of ENCODINGS)."""
    if fmt in ("wav", "flac"):
        import soundfile as sf

        buf = io.BytesIO()
        sf.write(buf, signal, sr, format=fmt.upper(), subtype="PCM_16")
        return buf.getvalue()
    import av

    container_fmt, codec, _ = ENCODINGS[fmt]
    rate = 48_000 if codec == "libopus" else sr
    if rate != sr:
        import soxr

        signal = soxr.resample(signal, sr, rate).astype(np.float32)
    buf = io.BytesIO()
    with av.open(buf, "w", format=container_fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        mux_audio(out, stream, signal, rate)
    return buf.getvalue()


def mux_audio(out, stream, signal: np.ndarray, rate: int) -> None:
    """Encode mono float32 ``signal`` (already at ``rate``) into a PyAV audio ``stream`` of ``out``, flushed."""
    import av

    step = stream.codec_context.frame_size or 1024
    for i in range(0, len(signal), step):
        frame = av.AudioFrame.from_ndarray(signal[None, i : i + step], format="flt", layout="mono")
        frame.sample_rate = rate
        frame.pts = i
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)


def extension(fmt: str) -> str:
    return ENCODINGS[fmt][2] if fmt in ENCODINGS else f".{fmt}"


@pytest.fixture
def write_audio(tmp_path):
    """write_audio(name, signal, sr=16000, fmt=None) -> Path; fmt defaults to the name's suffix."""

    def _write(name: str, signal: np.ndarray, sr: int = SR, fmt: str | None = None) -> Path:
        fmt = fmt or Path(name).suffix.lstrip(".")
        path = tmp_path / name
        path.write_bytes(encode(signal, sr, fmt))
        return path

    return _write


@pytest.fixture(scope="session")
def tiny_hf_model(tmp_path_factory) -> Path:
    """A two-layer random Wav2Vec2 classifier saved like a hub checkpoint (labels ang/hap/neu/sad)."""
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    import torch

    torch.manual_seed(0)
    config = transformers.Wav2Vec2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(32, 32, 32),
        conv_stride=(5, 4, 4),
        conv_kernel=(10, 8, 8),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        classifier_proj_size=16,
        id2label={0: "ang", 1: "hap", 2: "neu", 3: "sad"},
        label2id={"ang": 0, "hap": 1, "neu": 2, "sad": 3},
    )
    model = transformers.Wav2Vec2ForSequenceClassification(config).eval()
    extractor = transformers.Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=SR, padding_value=0.0, do_normalize=True, return_attention_mask=False
    )
    folder = tmp_path_factory.mktemp("tiny-wav2vec2-er")
    model.save_pretrained(folder)
    extractor.save_pretrained(folder)
    return folder


SRC = Path(__file__).resolve().parents[1] / "src"


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child processes that import this checkout's emovox (not another install)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def run_emovox(*args: str, timeout: float = 300, env_extra: dict | None = None, **kwargs):
    """Run the real `emovox` entry point (python -m emovox) of this checkout in a child process."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "emovox", *args],
        capture_output=True, text=True, timeout=timeout, env=subprocess_env(**(env_extra or {})), **kwargs,
    )


def corpora_root() -> Path:
    """EMOVOX_CORPORA, else the nearest `shared/corpora` beside the checkout or one of its parents."""
    from emovox.corpora.location import corpora_root as find

    return find(Path(__file__).resolve().parents[1])


@pytest.fixture(scope="session")
def corpora() -> Path:
    """The real corpora folder; tests using it skip with a reason when it is absent."""
    root = corpora_root()
    if not (root / "ravdess" / "manifest.csv").is_file():
        pytest.skip(f"real corpora not found at {root} (set EMOVOX_CORPORA)")
    return root


@pytest.fixture(scope="session")
def debug_model(tmp_path_factory) -> Path:
    """The native debug model (random weights, labels angry/happy/neutral/sad); needs onnx to build."""
    pytest.importorskip("onnx", reason="building the debug model needs onnx (the train extra)")
    from emovox.models.debug import write_debug_model

    return write_debug_model(tmp_path_factory.mktemp("emovox-debug"))


CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")


@pytest.fixture(scope="module")
def browser_server(debug_model, tmp_path_factory):
    """A real `emovox serve` process with the native debug model, for the headless-Chromium tests."""
    from server_support import running_server

    with running_server(debug_model, tmp_path_factory.mktemp("browser-server")) as s:
        yield s


@pytest.fixture(scope="module")
def playwright():
    """Python Playwright driving Debian's Chromium; skips with the reason when either is missing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")
    if not CHROMIUM:
        pytest.skip("Chromium not found at /usr/bin/chromium or on PATH (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        yield p
