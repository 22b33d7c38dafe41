"""The two decoders behind ``audio.py``, opened so that untrusted bytes reach nothing but themselves.

Uploads are read only through Python file objects under a neutral name, never a path the client
chose: FFmpeg follows references inside some formats (HLS playlists, ``ffconcat`` lists, SDP
sessions open URLs, files and sockets), so it may use only the demuxers in ``DEMUXERS`` and no
protocol at all. libsndfile reads only what its first bytes say is WAV (PCM), AIFF, FLAC or Ogg;
everything else (mp3 included, whose libmpg123 prints to the terminal) goes to FFmpeg.
Any failure inside either library becomes an ``UndecodableAudioError``.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from ..errors import AudioError, UndecodableAudioError

log = logging.getLogger(__name__)

DEMUXERS = ("wav", "flac", "ogg", "mp3", "matroska,webm", "mov,mp4,m4a,3gp,3g2,mj2", "aac", "aiff")
"""The FFmpeg demuxers emovox opens (their FFmpeg names); any other format is refused unread."""
FFMPEG_OPTIONS = {"format_whitelist": ",".join(DEMUXERS), "protocol_whitelist": ""}
"""No protocol: the input arrives through Python callbacks and may not open anything else."""
AUDIO_EXTENSIONS = (
    ".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".webm", ".m4a", ".aac", ".mp4",
    ".mka", ".aif", ".aiff",
)
DECODE_TIMEOUT_S = 10.0
"""A decoder may work this long on one source, plus 1 s for every 10 s of audio it has produced."""
MIN_DECODE_SPEED = 10.0
HEAD_BYTES = 4096
ACCEPTED = "wav, flac, ogg/vorbis/opus, mp3, webm, m4a/aac, mp4 audio; or (array, sample_rate)"
_MPEG_IN_WAV = (0x0050, 0x0055)  # libsndfile hands these to libmpg123: FFmpeg decodes them quietly


class Input:
    """A seekable binary reader that the decoders see under a neutral name (``hint``), never a path."""

    def __init__(self, raw: BinaryIO, hint: str, owned: bool) -> None:
        self._raw, self.name, self._owned = raw, hint, owned

    def read(self, size: int = -1) -> bytes:
        return self._raw.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if self._owned:
            self._raw.close()

    def __enter__(self) -> Input:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def head(self, n: int = HEAD_BYTES) -> bytes:
        self.seek(0)
        data = self.read(n)
        self.seek(0)
        return data

    def size(self) -> int:
        end = self.seek(0, io.SEEK_END)
        self.seek(0)
        return end


def open_input(source, name: str) -> Input:
    """A path, bytes or binary file object -> Input; AudioError saying what is wrong with it."""
    if isinstance(source, (str, os.PathLike)):
        return _open_path(os.fspath(source), name)
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise AudioError("empty input: 0 bytes of audio")
        return Input(io.BytesIO(bytes(source)), _hint(None), owned=True)
    if hasattr(source, "read"):
        try:
            raw = source if hasattr(source, "seekable") and source.seekable() else io.BytesIO(source.read())
            start = raw.tell()
            empty = not raw.read(1)
            raw.seek(start)
        except (OSError, ValueError, TypeError) as exc:  # closed, text mode, a socket that failed...
            raise AudioError(f"cannot read {name}: {exc}") from exc
        if empty:
            raise AudioError(f"{name} is empty (0 bytes)")
        return Input(raw, _hint(getattr(source, "name", None)), owned=raw is not source)
    raise AudioError(
        f"unsupported audio source of type {type(source).__name__}; accepted: a path, bytes, "
        f"a binary file object, or (array, sample_rate)"
    )


def _hint(name) -> str:
    """'input' plus the name's extension when it is an audio one: FFmpeg's probe may use it."""
    ext = os.path.splitext(name)[1].lower() if isinstance(name, str) else ""
    return "input" + (ext if ext in AUDIO_EXTENSIONS else "")


def _open_path(path: str, name: str) -> Input:
    """Open a local file ourselves, with one true line for each way that can fail."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise AudioError(f"not a file: {name}")
        if info.st_size == 0:
            raise AudioError(f"{name} is empty (0 bytes)")
        raw = open(path, "rb")  # noqa: SIM115 - closed by Input.close
    except FileNotFoundError as exc:
        broken = os.path.islink(path)
        what = "broken symbolic link (its target does not exist)" if broken else "file not found"
        raise AudioError(f"{what}: {name}") from exc
    except PermissionError as exc:
        raise AudioError(f"permission denied: cannot read {name}") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise AudioError(f"symbolic link loop: {name} (too many levels of symbolic links)") from exc
        raise AudioError(f"cannot read {name}: {exc.strerror or exc}") from exc
    return Input(raw, _hint(path), owned=True)


class Budget:
    """Decoder time for one source (the consumer's time between blocks is not counted)."""

    def __init__(self, name: str, timeout_s: float | None) -> None:
        self.name, self.timeout_s = name, timeout_s
        self.spent = 0.0
        self.produced_s = 0.0
        self._since = time.monotonic()

    def charge(self, produced_s: float = 0.0) -> None:
        """Count the time since the last call; AudioError once past the allowance."""
        now = time.monotonic()
        self.spent += now - self._since
        self._since = now
        earned = self.produced_s / MIN_DECODE_SPEED  # by the audio produced before this call
        self.produced_s += produced_s
        if self.timeout_s is not None and self.spent > self.timeout_s + earned:
            raise UndecodableAudioError(
                f"decoding {self.name} took too long ({self.spent:.1f} s for {self.produced_s:.1f} s of "
                f"audio): the file is damaged or not plain audio"
            )

    def resume(self) -> None:
        """Back in the decoder after the consumer had a block."""
        self._since = time.monotonic()


@dataclass
class Opened:
    """An opened decoder: the source's own rate and channels, and lazy mono float32 blocks.

    The blocks close the decoder and the input when exhausted; ``close()`` does it sooner.
    """

    rate: int
    channels: int
    codec: str
    frames: int | None  # the header's exact frame count, when the decoder knows it
    duration_s: float | None  # the container's estimate
    blocks: Iterator[np.ndarray]
    resources: tuple = ()

    def close(self) -> None:
        self.blocks.close()
        for resource in self.resources:
            resource.close()


def open_decoder(inp: Input, name: str, *, block_s: float, budget: Budget) -> Opened:
    """libsndfile when the first bytes say so and it can read them, else FFmpeg; closes ``inp`` on
    failure and with the returned ``Opened``."""
    try:
        opened = _open_sndfile(inp, name, block_s, budget) or _open_ffmpeg(inp, name, budget)
    except BaseException:
        inp.close()
        raise
    opened.resources = (*opened.resources, inp)
    opened.blocks = _closing(opened.blocks, opened.resources)
    return opened


def _closing(blocks: Iterator[np.ndarray], resources: tuple) -> Iterator[np.ndarray]:
    try:
        yield from blocks
    finally:
        for resource in resources:
            resource.close()


def _sndfile_reads(head: bytes) -> bool:
    """WAV (not MPEG inside), AIFF, FLAC or Ogg by their magic bytes."""
    if head[:4] in (b"RIFF", b"RIFX", b"RF64") and head[8:12] == b"WAVE":
        at = head.find(b"fmt ", 12)
        tag = int.from_bytes(head[at + 8 : at + 10], "big" if head[:4] == b"RIFX" else "little")
        return at < 0 or tag not in _MPEG_IN_WAV
    return (head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC")) or head[:4] in (b"fLaC", b"OggS")


def _open_sndfile(inp: Input, name: str, block_s: float, budget: Budget) -> Opened | None:
    """A libsndfile reader whose first block decoded, or None to let FFmpeg try."""
    if not _sndfile_reads(inp.head()):
        return None
    import soundfile as sf

    f = None
    try:
        f = sf.SoundFile(inp)
        rate, channels = int(f.samplerate), int(f.channels)
        codec, frames = f"{f.format}/{f.subtype}".lower(), int(f.frames)
        step = max(1, int(block_s * rate))
        first = _sf_read(f, step)
    except Exception as exc:  # noqa: BLE001 - not fatal: FFmpeg gets a turn
        log.debug("libsndfile could not read %s: %r", name, exc)
        if f is not None:
            f.close()
        inp.seek(0)
        return None
    try:
        budget.charge(first.size / rate)
    except AudioError:
        f.close()
        raise
    known = frames if 0 < frames < 2**62 else None
    blocks = _sf_blocks(f, first, step, rate, inp, name, budget)
    return Opened(rate, channels, codec, known, known / rate if known else None, blocks, (f,))


def _sf_read(f, step: int) -> np.ndarray:
    return f.read(step, dtype="float32", always_2d=True).mean(axis=1).astype(np.float32, copy=False)


def _sf_blocks(f, first, step: int, rate: int, inp: Input, name: str, budget: Budget) -> Iterator[np.ndarray]:
    block = first
    while block.size:
        yield block
        budget.resume()
        try:
            block = _sf_read(f, step)
        except Exception as exc:  # noqa: BLE001 - any libsndfile failure is undecodable audio
            raise UndecodableAudioError(undecodable(inp, name)) from exc
        budget.charge(block.size / rate)


def _open_ffmpeg(inp: Input, name: str, budget: Budget) -> Opened:
    """FFmpeg (PyAV) restricted to ``DEMUXERS`` and no protocol; the first audio stream."""
    import av

    inp.seek(0)
    try:
        container = av.open(inp, "r", container_options=FFMPEG_OPTIONS, metadata_errors="ignore",
                            timeout=(budget.timeout_s, None))
    except Exception as exc:  # noqa: BLE001 - refused demuxer, corrupt data, any library error
        log.debug("FFmpeg could not open %s: %r", name, exc)
        budget.charge()  # an open cut short by the time limit says so
        raise UndecodableAudioError(undecodable(inp, name)) from exc
    try:
        budget.charge()
        if not container.streams.audio:
            kinds = ", ".join(sorted({s.type for s in container.streams})) or "none"
            raise UndecodableAudioError(f"{name} has no audio stream (streams found: {kinds})")
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        rate = int(ctx.sample_rate) if ctx is not None else 0
        if ctx is None or rate <= 0 or not ctx.channels:
            why = "no decoder for its codec" if ctx is None else f"{rate} Hz, {ctx.channels} channels"
            raise UndecodableAudioError(
                f"{name}: its audio stream cannot be decoded ({why}). Accepted: {ACCEPTED}"
            )
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
        blocks = _av_blocks(container, stream, rate, inp, name, budget)
        opened = Opened(rate, int(ctx.channels), str(ctx.name), None, duration, blocks, (container,))
    except AudioError:
        container.close()
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. a header PyAV cannot describe
        container.close()
        log.debug("FFmpeg could not read the streams of %s: %r", name, exc)
        raise UndecodableAudioError(undecodable(inp, name)) from exc
    return opened


def _av_blocks(container, stream, rate: int, inp: Input, name: str, budget: Budget) -> Iterator[np.ndarray]:
    """Decoded mono float32 blocks; the budget is checked for every packet. A decoding error after
    some audio keeps what decoded cleanly (a truncated tail)."""
    import av

    resampler = av.AudioResampler(format="fltp")
    started = False
    with container:
        try:
            for packet in container.demux(stream):
                budget.charge()
                for frame in packet.decode():
                    for out in resampler.resample(frame):
                        block = out.to_ndarray().mean(axis=0).astype(np.float32, copy=False)
                        started = True
                        budget.charge(block.size / rate)
                        yield block
                        budget.resume()
        except AudioError:
            raise
        except Exception as exc:  # noqa: BLE001 - any decoder failure is undecodable audio
            if not started or not isinstance(exc, av.FFmpegError):
                raise UndecodableAudioError(undecodable(inp, name)) from exc
            log.debug("decoding stopped early in %s: %r", name, exc)


def undecodable(inp: Input | None, name: str) -> str:
    """The one message for bytes no decoder could read: what was received and what is accepted.

    It says nothing of why the library failed, so it cannot tell a client anything about the server.
    """
    what = ""
    if inp is not None:
        try:
            what = f" ({inp.size():,} bytes, starts with {inp.head(12)!r})"
        except (OSError, ValueError):
            what = ""
    return f"could not decode {name}{what}: not a supported audio format or codec. Accepted: {ACCEPTED}"
