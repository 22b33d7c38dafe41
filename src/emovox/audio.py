"""The one way in for audio: any accepted source -> float32 mono at 16 kHz, or a clear AudioError.

Accepted sources: a path (str or Path), raw bytes, a binary file object, or a tuple
``(array, sample_rate)``. Containers and codecs: wav, flac, ogg/vorbis/opus, mp3, webm, m4a/aac,
mp4 audio. Decoding uses libsndfile (soundfile) and FFmpeg bundled in PyAV, so no system ffmpeg is
needed; resampling uses soxr.

>>> import numpy as np
>>> x = load_audio((np.zeros(8000, dtype=np.float32), 8000))
>>> x.shape, x.dtype
((16000,), dtype('float32'))
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np

from .errors import AudioError, AudioTooLongError, UndecodableAudioError

SAMPLE_RATE = 16_000
"""Every model and descriptor in emovox works on mono audio at this rate."""

AUDIO_EXTENSIONS = (
    ".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".webm", ".m4a", ".aac", ".mp4",
    ".mka", ".aif", ".aiff",
)
ACCEPTED = "wav, flac, ogg/vorbis/opus, mp3, webm, m4a/aac, mp4 audio; or (array, sample_rate)"
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
) -> np.ndarray:
    """Decode ``source`` to float32 mono at ``sample_rate`` Hz.

    Raises AudioError for empty, corrupt, unsupported, non-finite or too-long input.
    """
    decoded = decode(source, max_duration_s=max_duration_s)
    return resample(decoded.signal, decoded.sample_rate, sample_rate)


def decode(source: AudioSource, *, max_duration_s: float | None = None) -> Decoded:
    """Decode without resampling (mono float32 at the source's own rate)."""
    name = source_name(source)
    if isinstance(source, tuple):
        decoded = _from_array(source)
    else:
        data = _open(source, name)
        decoded = _decode_soundfile(data, name, max_duration_s) or _decode_av(
            data, name, max_duration_s
        )
    if decoded.signal.size == 0:
        raise AudioError(f"{name} contains no audio samples (zero length)")
    if not np.isfinite(decoded.signal).all():
        raise AudioError(f"{name} contains NaN or infinite samples")
    _check_duration(name, decoded.signal.size, decoded.sample_rate, max_duration_s)
    return decoded


def resample(signal: np.ndarray, orig_rate: int, target_rate: int = SAMPLE_RATE) -> np.ndarray:
    """High-quality resampling with soxr; a no-op when the rates already match."""
    signal = np.ascontiguousarray(signal, dtype=np.float32)
    if orig_rate == target_rate:
        return signal
    import soxr

    return soxr.resample(signal, orig_rate, target_rate, quality="HQ").astype(np.float32, copy=False)


def iter_audio(
    source: AudioSource, *, chunk_s: float = 30.0, sample_rate: int = SAMPLE_RATE
) -> AudioStream:
    """Decode ``source`` block by block: float32 mono at ``sample_rate``, about ``chunk_s`` each.

    The same sources and the same AudioError checks as ``load_audio``, without holding the whole
    file: FFmpeg/libsndfile decode lazily and soxr resamples as a stream. Opening problems (missing
    file, corrupt bytes) raise here; problems found later (NaN samples, no samples) raise while
    iterating.

    >>> import numpy as np
    >>> [b.size for b in iter_audio((np.zeros(40000, np.float32), 16000), chunk_s=1.0)]
    [16000, 16000, 8000]
    """
    return AudioStream(source, chunk_s=chunk_s, sample_rate=sample_rate)


class AudioStream(Iterator[np.ndarray]):
    """The iterator ``iter_audio`` returns; ``duration_s`` is the container's estimate or None."""

    def __init__(self, source: AudioSource, *, chunk_s: float, sample_rate: int) -> None:
        if not chunk_s > 0 or not sample_rate > 0:
            raise ValueError(f"chunk_s and sample_rate must be positive, got {chunk_s}, {sample_rate}")
        self.name = source_name(source)
        self.sample_rate = sample_rate
        self.samples = 0  # emitted so far, at sample_rate
        rate, self.duration_s, blocks = _open_blocks(source, self.name, chunk_s)
        self._blocks = _rechunk(blocks, int(chunk_s * rate))
        self._resampler = None
        if rate != sample_rate:
            import soxr

            self._resampler = soxr.ResampleStream(rate, sample_rate, 1, dtype="float32", quality="HQ")
        self._done = False

    def __next__(self) -> np.ndarray:
        while not self._done:
            raw = next(self._blocks, None)
            last = raw is None
            if last:
                self._done = True
                raw = np.zeros(0, np.float32)
            elif not np.isfinite(raw).all():
                raise AudioError(f"{self.name} contains NaN or infinite samples")
            block = raw if self._resampler is None else self._resampler.resample_chunk(raw, last=last)
            if block.size:
                self.samples += block.size
                return np.ascontiguousarray(block, dtype=np.float32)
        if self.samples == 0:
            raise AudioError(f"{self.name} contains no audio samples (zero length)")
        raise StopIteration


def _open_blocks(
    source: AudioSource, name: str, chunk_s: float
) -> tuple[int, float | None, Iterator[np.ndarray]]:
    """(source rate, duration estimate, lazy mono blocks at the source rate)."""
    if isinstance(source, tuple):
        decoded = decode(source)  # already in memory: validate it whole, then slice it
        step = max(1, int(chunk_s * decoded.sample_rate))
        sig = decoded.signal
        blocks = (sig[i : i + step] for i in range(0, sig.size, step))
        return decoded.sample_rate, sig.size / decoded.sample_rate, blocks
    data = _open(source, name)
    f = _open_soundfile(data)
    if f is not None:
        step = max(1, int(chunk_s * f.samplerate))
        blocks = _sf_blocks(f, step)
        return f.samplerate, (f.frames / f.samplerate if f.frames > 0 else None), blocks
    container, stream = _open_av(data, name)
    rate = int(stream.rate or stream.codec_context.sample_rate)
    duration = None
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration:
        duration = container.duration / 1_000_000
    return rate, duration, _av_blocks(container, stream, data, name)


def _sf_blocks(f, step: int) -> Iterator[np.ndarray]:
    with f:
        for block in f.blocks(blocksize=step, dtype="float32", always_2d=True):
            yield block.mean(axis=1).astype(np.float32, copy=False)


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


def _open(source: AudioSource, name: str) -> BinaryIO | str:
    """Validate a path / bytes / file object and return something both decoders can read."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise AudioError(f"file not found: {name}")
        if not path.is_file():
            raise AudioError(f"not a file: {name}")
        if path.stat().st_size == 0:
            raise AudioError(f"{name} is empty (0 bytes)")
        return str(path)
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise AudioError("empty input: 0 bytes of audio")
        return io.BytesIO(bytes(source))
    if hasattr(source, "read"):
        if not (hasattr(source, "seekable") and source.seekable()):
            source = io.BytesIO(source.read())
        start = source.tell()
        if not source.read(1):
            raise AudioError(f"{name} is empty (0 bytes)")
        source.seek(start)
        return source
    raise AudioError(
        f"unsupported audio source of type {type(source).__name__}; accepted: a path, bytes, "
        f"a binary file object, or (array, sample_rate)"
    )


def _rewind(data: BinaryIO | str) -> None:
    if not isinstance(data, str):
        data.seek(0)


def _open_soundfile(data: BinaryIO | str):
    """A libsndfile reader (wav/flac/ogg, quick), or None to let FFmpeg try."""
    import soundfile as sf

    try:
        return sf.SoundFile(data)
    except Exception:  # libsndfile cannot read it: not fatal, FFmpeg gets a turn
        _rewind(data)
        return None


def _decode_soundfile(
    data: BinaryIO | str, name: str, max_duration_s: float | None
) -> Decoded | None:
    """Decode all of it with libsndfile; None means 'let FFmpeg try'."""
    f = _open_soundfile(data)
    if f is None:
        return None
    with f:
        if max_duration_s is not None:
            _check_duration(name, f.frames, f.samplerate, max_duration_s)
        try:
            frames = f.read(dtype="float32", always_2d=True)
        except Exception:
            _rewind(data)
            return None
        rate, channels, codec = f.samplerate, f.channels, f"{f.format}/{f.subtype}".lower()
    return Decoded(frames.mean(axis=1).astype(np.float32), rate, channels, codec)


def _decode_av(data: BinaryIO | str, name: str, max_duration_s: float | None) -> Decoded:
    container, stream = _open_av(data, name)
    rate = stream.rate or stream.codec_context.sample_rate
    codec = stream.codec_context.name if stream.codec_context else "unknown"
    limit = None if max_duration_s is None else int(max_duration_s * rate) + 1
    chunks: list[np.ndarray] = []
    total = 0
    for block in _av_blocks(container, stream, data, name):
        chunks.append(block)
        total += block.size
        if limit is not None and total > limit:
            _check_duration(name, total, rate, max_duration_s)
    signal = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    return Decoded(signal, int(rate), stream.channels or 1, codec)


def _open_av(data: BinaryIO | str, name: str):
    """Open with FFmpeg (PyAV) and pick the first audio stream, or raise AudioError."""
    import av

    _rewind(data)
    try:
        container = av.open(data, mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise UndecodableAudioError(_undecodable(data, name, exc)) from exc
    if not container.streams.audio:
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "none"
        container.close()
        raise UndecodableAudioError(f"{name} has no audio stream (streams found: {kinds})")
    return container, container.streams.audio[0]


def _av_blocks(container, stream, data: BinaryIO | str, name: str) -> Iterator[np.ndarray]:
    """Decoded mono float32 blocks at the stream's own rate; closes the container when done."""
    import av

    resampler = av.AudioResampler(format="fltp")
    started = False
    with container:
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    started = True
                    yield out.to_ndarray().mean(axis=0).astype(np.float32, copy=False)
        except av.FFmpegError as exc:
            if not started:
                raise UndecodableAudioError(_undecodable(data, name, exc)) from exc
            # a truncated tail: keep what decoded cleanly


def _undecodable(data: BinaryIO | str, name: str, exc: Exception) -> str:
    head = b""
    size = None
    try:
        if isinstance(data, str):
            size = os.path.getsize(data)
            with open(data, "rb") as f:
                head = f.read(12)
        else:
            data.seek(0, io.SEEK_END)
            size = data.tell()
            data.seek(0)
            head = data.read(12)
    except OSError:
        pass
    what = f"{size:,} bytes, starts with {head!r}" if size is not None else "unreadable"
    return (
        f"could not decode {name} ({what}): not a supported audio format or codec "
        f"[{type(exc).__name__}]. Accepted: {ACCEPTED}"
    )
