"""The one way in for audio: any accepted source -> float32 mono at 16 kHz, or a clear AudioError.

Accepted sources: a path (str or Path), raw bytes, a binary file object, or a tuple
``(array, sample_rate)``. Containers and codecs: wav, flac, ogg/vorbis/opus, mp3, webm, m4a/aac,
mp4 audio. Decoding uses libsndfile (soundfile) and FFmpeg bundled in PyAV, so no system ffmpeg is
needed (``decoders.py`` opens them safely: only these formats, only from memory); resampling uses soxr.

>>> import numpy as np
>>> x = load_audio((np.zeros(8000, dtype=np.float32), 8000))
>>> x.shape, x.dtype
((16000,), dtype('float32'))
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Union

import numpy as np

from ..errors import AudioError, AudioTooLongError
from .decoders import (
    ACCEPTED,
    AUDIO_EXTENSIONS,
    DECODE_TIMEOUT_S,
    Budget,
    Opened,
    open_decoder,
    open_input,
)

__all__ = [
    "ACCEPTED", "AUDIO_EXTENSIONS", "DECODE_TIMEOUT_S", "MIN_SAMPLE_RATE", "SAMPLE_RATE", "SILENCE_DBFS",
    "AudioSource", "AudioStream", "Decoded", "decode", "is_silent", "iter_audio", "load_audio", "resample",
    "rms_dbfs", "source_name",
]

SAMPLE_RATE = 16_000
"""Every model and descriptor in emovox works on mono audio at this rate."""

MIN_SAMPLE_RATE = 4_000
"""Below this rate no speech band survives; such input is refused before it is decoded."""
SILENCE_DBFS = -60.0
"""Audio none of whose 100 ms stretches reaches this RMS level is treated as silent: it gets no emotion."""

AudioSource = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO, tuple]


@dataclass(frozen=True)
class Decoded:
    """Decoded audio before resampling: what the file held."""

    signal: np.ndarray  # float32, mono
    sample_rate: int
    channels: int
    codec: str


def source_name(source: AudioSource) -> str:
    """A short human name for an audio source, used in errors and results."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes>"
    if isinstance(source, tuple):
        return "<array>"
    return str(getattr(source, "name", "<file object>"))


def load_audio(
    source: AudioSource,
    *,
    sample_rate: int = SAMPLE_RATE,
    max_duration_s: float | None = None,
    timeout_s: float | None = DECODE_TIMEOUT_S,
) -> np.ndarray:
    """Decode ``source`` to float32 mono at ``sample_rate`` Hz.

    Raises AudioError for empty, corrupt, unsupported, non-finite or too-long input, and when the
    decoder works longer than ``timeout_s`` plus 1 s per 10 s of audio (None: no limit).
    """
    decoded = decode(source, max_duration_s=max_duration_s, timeout_s=timeout_s)
    return resample(decoded.signal, decoded.sample_rate, sample_rate)


def decode(
    source: AudioSource, *, max_duration_s: float | None = None, timeout_s: float | None = DECODE_TIMEOUT_S
) -> Decoded:
    """Decode without resampling (mono float32 at the source's own rate).

    Too-long input is refused from its header when that is exact, else as soon as the decoded
    length passes ``max_duration_s``: never after decoding all of it.
    """
    name = source_name(source)
    if isinstance(source, tuple):
        decoded = _from_array(source)
        _check_rate(name, decoded.sample_rate)
    else:
        opened = _open_checked(source, name, 10.0, max_duration_s, timeout_s)
        chunks: list[np.ndarray] = []
        total = 0
        try:
            for block in opened.blocks:
                total += block.size
                _check_duration(name, total, opened.rate, max_duration_s)
                chunks.append(block)
        finally:
            opened.close()
        signal = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        decoded = Decoded(signal.astype(np.float32, copy=False), opened.rate, opened.channels, opened.codec)
    if decoded.signal.size == 0:
        raise AudioError(f"{name} contains no audio samples (zero length)")
    if not np.isfinite(decoded.signal).all():
        raise AudioError(f"{name} contains NaN or infinite samples")
    _check_duration(name, decoded.signal.size, decoded.sample_rate, max_duration_s)
    return decoded


def _open_checked(
    source: AudioSource, name: str, block_s: float, max_duration_s: float | None, timeout_s: float | None
) -> Opened:
    """Open a decoder and refuse, before decoding, a rate too low for speech or a header too long."""
    opened = open_decoder(open_input(source, name), name, block_s=block_s, budget=Budget(name, timeout_s))
    try:
        _check_rate(name, opened.rate)
        if opened.frames is not None:
            _check_duration(name, opened.frames, opened.rate, max_duration_s)
    except AudioError:
        opened.close()
        raise
    return opened


def resample(signal: np.ndarray, orig_rate: int, target_rate: int = SAMPLE_RATE) -> np.ndarray:
    """High-quality resampling with soxr; a no-op when the rates already match."""
    signal = np.ascontiguousarray(signal, dtype=np.float32)
    if orig_rate == target_rate:
        return signal
    import soxr

    return soxr.resample(signal, orig_rate, target_rate, quality="HQ").astype(np.float32, copy=False)


def iter_audio(
    source: AudioSource,
    *,
    chunk_s: float = 30.0,
    sample_rate: int = SAMPLE_RATE,
    max_duration_s: float | None = None,
    timeout_s: float | None = DECODE_TIMEOUT_S,
) -> AudioStream:
    """Decode ``source`` block by block: float32 mono at ``sample_rate``, about ``chunk_s`` each.

    The same sources and the same AudioError checks as ``load_audio``, without holding the whole
    file: FFmpeg/libsndfile decode lazily and soxr resamples as a stream. Opening problems (missing
    file, corrupt bytes, a header longer than ``max_duration_s``) raise here; problems found later
    (NaN samples, no samples, too long, too slow) raise while iterating.

    >>> import numpy as np
    >>> [b.size for b in iter_audio((np.zeros(40000, np.float32), 16000), chunk_s=1.0)]
    [16000, 16000, 8000]
    """
    return AudioStream(source, chunk_s=chunk_s, sample_rate=sample_rate, max_duration_s=max_duration_s,
                       timeout_s=timeout_s)


class AudioStream(Iterator[np.ndarray]):
    """The iterator ``iter_audio`` returns; ``duration_s`` is the container's estimate or None."""

    def __init__(
        self,
        source: AudioSource,
        *,
        chunk_s: float,
        sample_rate: int,
        max_duration_s: float | None = None,
        timeout_s: float | None = DECODE_TIMEOUT_S,
    ) -> None:
        if not chunk_s > 0 or not sample_rate > 0:
            raise ValueError(f"chunk_s and sample_rate must be positive, got {chunk_s}, {sample_rate}")
        self.name = source_name(source)
        self.sample_rate = sample_rate
        self.samples = 0  # emitted so far, at sample_rate
        self._max_duration_s = max_duration_s
        self._opened: Opened | None = None
        if isinstance(source, tuple):  # already in memory: validate it whole, then slice it
            decoded = decode(source, max_duration_s=max_duration_s)
            rate, sig, step = decoded.sample_rate, decoded.signal, max(1, int(chunk_s * decoded.sample_rate))
            self.duration_s: float | None = sig.size / rate
            blocks: Iterator[np.ndarray] = (sig[i : i + step] for i in range(0, sig.size, step))
        else:
            self._opened = _open_checked(source, self.name, chunk_s, max_duration_s, timeout_s)
            rate, blocks = self._opened.rate, self._opened.blocks
            self.duration_s = self._opened.frames / rate if self._opened.frames else self._opened.duration_s
        self._rate, self._read = rate, 0
        self._blocks = _rechunk(blocks, int(chunk_s * rate))
        self._resampler = None
        if rate != sample_rate:
            import soxr

            self._resampler = soxr.ResampleStream(rate, sample_rate, 1, dtype="float32", quality="HQ")
        self._done = False

    def __next__(self) -> np.ndarray:
        try:
            return self._next()
        except BaseException:
            self.close()
            raise

    def _next(self) -> np.ndarray:
        while not self._done:
            raw = next(self._blocks, None)
            last = raw is None
            if last:
                self._done = True
                raw = np.zeros(0, np.float32)
            elif not np.isfinite(raw).all():
                raise AudioError(f"{self.name} contains NaN or infinite samples")
            self._read += raw.size
            _check_duration(self.name, self._read, self._rate, self._max_duration_s)
            block = raw if self._resampler is None else self._resampler.resample_chunk(raw, last=last)
            if block.size:
                self.samples += block.size
                return np.ascontiguousarray(block, dtype=np.float32)
        if self.samples == 0:
            raise AudioError(f"{self.name} contains no audio samples (zero length)")
        raise StopIteration

    def close(self) -> None:
        """Release the decoder and the file now (exhausting the stream does it too)."""
        if self._opened is not None:
            self._opened.close()


def _rechunk(blocks: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Join small decoder frames into blocks of about ``size`` samples (bigger ones pass through)."""
    pending: list[np.ndarray] = []
    held = 0
    for block in blocks:
        pending.append(block)
        held += block.size
        if held >= size:
            yield np.concatenate(pending) if len(pending) > 1 else pending[0]
            pending, held = [], 0
    if pending:
        yield np.concatenate(pending)


def rms_dbfs(signal: np.ndarray) -> float:
    """RMS level in dB relative to full scale (-inf for digital silence)."""
    if signal.size == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(signal, dtype=np.float64))))
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


SILENCE_WINDOW_S = 0.1
"""Length of the stretches ``is_silent`` measures: a clip is silent when none of them reaches the threshold."""


def is_silent(signal: np.ndarray, threshold_dbfs: float = SILENCE_DBFS) -> bool:
    """True when no 100 ms stretch of the signal (hop 50 ms) has an RMS level of ``threshold_dbfs``.

    Measured on the loudest stretch, not the whole clip: soft speech between long pauses has a low
    whole-clip level but is not silence.

    >>> is_silent(np.zeros(16000, np.float32)), is_silent(np.full(16000, 0.01, np.float32))
    (True, False)
    """
    size = int(SILENCE_WINDOW_S * SAMPLE_RATE)
    if signal.size <= size:
        return rms_dbfs(signal) < threshold_dbfs
    half = size // 2  # energy per 50 ms block (a view, no copy); a window is two neighbouring blocks
    blocks = signal[: signal.size // half * half].reshape(-1, half)
    energy = np.einsum("ij,ij->i", blocks, blocks, dtype=np.float64)
    loudest = float(np.max(energy[:-1] + energy[1:])) / size
    return loudest <= 0 or bool(10.0 * np.log10(loudest) < threshold_dbfs)


def _check_rate(name: str, rate: int) -> None:
    if rate < MIN_SAMPLE_RATE:
        raise AudioError(
            f"{name} has a sample rate of {rate} Hz; speech needs at least {MIN_SAMPLE_RATE} Hz"
        )


def _check_duration(name: str, n: int, rate: int, max_duration_s: float | None) -> None:
    if max_duration_s is not None and n > max_duration_s * rate:
        raise AudioTooLongError(
            f"{name} is longer than the maximum of {max_duration_s:g} s "
            f"(use a timeline or raise the limit)"
        )


def _from_array(source: tuple) -> Decoded:
    if len(source) != 2:
        raise AudioError("an array source must be a tuple (array, sample_rate)")
    array, rate = source
    try:
        signal = np.asarray(array, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise AudioError(f"array source is not numeric: {exc}") from exc
    if not isinstance(rate, (int, np.integer)) or isinstance(rate, bool) or rate <= 0:
        raise AudioError(f"sample_rate must be a positive integer, got {rate!r}")
    if signal.ndim == 2:
        # (channels, samples) when the first axis is the short one, else (samples, channels)
        axis = 0 if signal.shape[0] < signal.shape[1] and signal.shape[0] <= 16 else 1
        channels = signal.shape[axis]
        signal = signal.mean(axis=axis)
    elif signal.ndim == 1:
        channels = 1
    else:
        raise AudioError(f"array must be 1-D (samples) or 2-D (samples x channels), got shape {signal.shape}")
    return Decoded(np.ascontiguousarray(signal, dtype=np.float32), int(rate), channels, "array")
