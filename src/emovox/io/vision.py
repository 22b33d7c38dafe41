"""The one way in for images and video: any accepted source -> RGB frames, or a clear MediaError.

Images (jpg, png, webp) are read by Pillow, which is told those three formats only; the pixel
count is checked from the header before any pixel is decoded. Videos (mp4/mov, webm/mkv, avi, flv)
are read by FFmpeg through PyAV from memory only: the bytes are handed over as a Python file
object, FFmpeg may use only the demuxers in ``VIDEO_DEMUXERS`` and no protocol at all (so nothing
named inside the bytes is ever opened). Frames are sampled at ``fps`` per second (default 4) and
the audio track, if any, comes out as float32 mono 16 kHz for the voice model.

>>> import numpy as np
>>> load_image(np.zeros((4, 6, 3), np.uint8)).shape
(4, 6, 3)
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np

from ..errors import (
    ImageError,
    ImageTooLargeError,
    MediaError,
    UndecodableImageError,
    UndecodableVideoError,
    VideoError,
    VideoTooLargeError,
    require,
)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".flv")
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
"""Pillow decoders emovox uses; anything else is refused."""
VIDEO_DEMUXERS = ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "flv")
"""FFmpeg demuxers (their FFmpeg names) emovox opens for video; any other format is refused unread."""
FFMPEG_VIDEO_OPTIONS = {"format_whitelist": ",".join(VIDEO_DEMUXERS), "protocol_whitelist": ""}
ACCEPTED_IMAGES = "jpg, png, webp"
ACCEPTED_VIDEOS = "mp4, mov, webm, mkv, avi, flv"

DEFAULT_FPS = 4.0
"""Video frames analysed per second."""
MAX_IMAGE_PIXELS = 40_000_000
"""Images with more pixels are refused (``EMOVOX_MAX_IMAGE_PIXELS``)."""
MAX_FRAME_PIXELS = 4096 * 2160
"""Video frames bigger than 4K are refused (``EMOVOX_MAX_FRAME_PIXELS``)."""
MAX_VIDEO_FILE_SIZE = 50 * 1024 * 1024
"""Bytes; ``EMOVOX_MAX_VIDEO_FILE_SIZE`` or the seed's ``MAX_VIDEO_FILE_SIZE`` override it."""
MAX_VIDEO_DURATION_S = 300.0
"""Seconds; ``EMOVOX_MAX_VIDEO_DURATION`` overrides it."""
MAX_IMAGE_FILE_SIZE = 50 * 1024 * 1024
DECODE_TIMEOUT_S = 10.0
"""Decoding one video may take this long plus 1 s per second of video decoded (a damaged or hostile
file that decodes slowly is refused, not waited on)."""

MediaSource = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO, np.ndarray]


def _env_number(names: tuple[str, ...], default: float) -> float:
    for name in names:
        raw = os.environ.get(name)
        if raw:
            try:
                value = float(raw)
            except ValueError as exc:
                raise MediaError(f"{name}={raw!r} is not a number") from exc
            if value <= 0:
                raise MediaError(f"{name} must be positive, got {raw}")
            return value
    return default


def max_video_bytes() -> int:
    return int(_env_number(("EMOVOX_MAX_VIDEO_FILE_SIZE", "MAX_VIDEO_FILE_SIZE"), MAX_VIDEO_FILE_SIZE))


def max_video_duration_s() -> float:
    return _env_number(("EMOVOX_MAX_VIDEO_DURATION",), MAX_VIDEO_DURATION_S)


def max_image_pixels() -> int:
    return int(_env_number(("EMOVOX_MAX_IMAGE_PIXELS",), MAX_IMAGE_PIXELS))


def media_name(source: MediaSource) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes>"
    if isinstance(source, np.ndarray):
        return "<array>"
    return str(getattr(source, "name", "<file object>"))


def read_bytes(source: MediaSource, limit: int, what: str = "file") -> bytes:
    """The bytes of a path / bytes / binary file object, at most ``limit`` of them."""
    name = media_name(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise MediaError(f"file not found: {name}")
        if not path.is_file():
            raise MediaError(f"not a file: {name}")
        size = path.stat().st_size
        if size > limit:
            raise _too_large(what, name, size, limit)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MediaError(f"cannot read {name}: {exc.strerror or exc}") from exc
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        try:
            data = source.read(limit + 1)
        except (OSError, ValueError, TypeError) as exc:
            raise MediaError(f"cannot read {name}: {exc}") from exc
        if not isinstance(data, bytes):
            raise MediaError(f"{name} is not opened in binary mode")
    else:
        raise MediaError(
            f"unsupported source of type {type(source).__name__}; accepted: a path, bytes, "
            "a binary file object, or an image array"
        )
    if not data:
        raise MediaError(f"{name} is empty (0 bytes)")
    if len(data) > limit:
        raise _too_large(what, name, len(data), limit)
    return data


def _too_large(what: str, name: str, size: int, limit: int) -> MediaError:
    cls = VideoTooLargeError if what == "video" else ImageTooLargeError
    hint = " (raise EMOVOX_MAX_VIDEO_FILE_SIZE)" if what == "video" else ""
    return cls(f"{name} is {size / 1e6:.1f} MB; the limit for a {what} is {limit / 1e6:.1f} MB{hint}")


def is_video_name(name: str | None) -> bool:
    return bool(name) and os.path.splitext(name)[1].lower() in VIDEO_EXTENSIONS


def is_image_name(name: str | None) -> bool:
    return bool(name) and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def sniff(data: bytes) -> str | None:
    """'image', 'video' or None from the first bytes (magic numbers), never from a name."""
    head = data[:16]
    if head[:3] == b"\xff\xd8\xff" or head[:8] == b"\x89PNG\r\n\x1a\n" or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    ):
        return "image"
    if head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3" or head[:3] == b"FLV" or (
        head[:4] == b"RIFF" and head[8:12] == b"AVI "
    ) or head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return "video"
    return None


# --- images -------------------------------------------------------------------------------------


def load_image(source: MediaSource, *, max_pixels: int | None = None) -> np.ndarray:
    """Decode ``source`` to an RGB uint8 array [H, W, 3] (EXIF rotation applied; first frame of an
    animation). An array source is validated and converted (grey [H,W], RGB or RGBA [H,W,3|4]).

    Raises ImageError (undecodable: 415, too many pixels: 413) with one clear line.
    """
    limit = max_pixels or max_image_pixels()
    if isinstance(source, np.ndarray):
        return _from_array(source, limit)
    name = media_name(source)
    data = read_bytes(source, MAX_IMAGE_FILE_SIZE, "image")
    require("PIL", "vision", "reading images")
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as img:
            w, h = img.size
            if w * h > limit:
                raise ImageTooLargeError(
                    f"{name} is {w}x{h} = {w * h:,} pixels; the limit is {limit:,} "
                    "(raise EMOVOX_MAX_IMAGE_PIXELS)"
                )
            if w == 0 or h == 0:
                raise UndecodableImageError(f"{name} has no pixels ({w}x{h})")
            img.seek(0)
            rgb = ImageOps.exif_transpose(img).convert("RGB")
            return np.asarray(rgb, dtype=np.uint8).copy()
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(f"{name} has too many pixels: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise UndecodableImageError(
            f"could not decode {name} ({len(data):,} bytes, starts with {data[:12]!r}): not a "
            f"supported image. Accepted: {ACCEPTED_IMAGES}"
        ) from exc


def _from_array(array: np.ndarray, limit: int) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] in (3, 4):
        rgb = array[:, :, :3]
    elif array.ndim == 2:
        rgb = np.repeat(array[:, :, None], 3, axis=2)
    elif array.ndim == 3 and array.shape[2] == 1:
        rgb = np.repeat(array, 3, axis=2)
    else:
        raise ImageError(f"an image array must be [H,W], [H,W,3] or [H,W,4], got shape {array.shape}")
    h, w = rgb.shape[:2]
    if h == 0 or w == 0:
        raise ImageError(f"an image array has no pixels (shape {array.shape})")
    if h * w > limit:
        raise ImageTooLargeError(f"image array {w}x{h} has {w * h:,} pixels; the limit is {limit:,}")
    if rgb.dtype != np.uint8:
        if not np.issubdtype(rgb.dtype, np.number) or not np.isfinite(rgb).all():
            raise ImageError("an image array must hold finite numbers")
        scale = 255.0 if rgb.dtype.kind == "f" and float(rgb.max(initial=0)) <= 1.0 else 1.0
        rgb = np.clip(rgb * scale, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(rgb)


# --- video --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """One sampled video frame: its time in seconds and RGB uint8 pixels [H, W, 3]."""

    t: float
    rgb: np.ndarray


@dataclass
class Video:
    """An opened video: what the container says, its audio (16 kHz mono float32 or None), and a
    lazy iterator over frames sampled at ``fps`` (``frames()``; each call decodes anew)."""

    name: str
    data: bytes
    duration_s: float
    width: int
    height: int
    source_fps: float | None
    codec: str
    audio: np.ndarray | None
    fps: float
    max_duration_s: float
    picture: bool = True  # False: a container with sound only (no frames)

    def frames(self) -> Iterator[Frame]:
        return _sample_frames(self) if self.picture else iter(())


def load_video(
    source: MediaSource,
    *,
    fps: float = DEFAULT_FPS,
    max_duration_s: float | None = None,
    max_bytes: int | None = None,
    audio: bool = True,
) -> Video:
    """Open a video from memory, check its limits, decode its audio track; frames come lazily.

    Raises VideoError: 415 undecodable (no video stream, refused container), 413 too big or too long.
    """
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    name = media_name(source)
    limit_s = max_duration_s or max_video_duration_s()
    data = read_bytes(source, max_bytes or max_video_bytes(), "video")
    with _open(data, name, picture=False) as container:
        if not container.streams.video:  # sound only (a webm or mp4 recording): no frames, the voice
            duration = _duration(container, container.streams.audio[0])
            sound = _decode_audio(data, name, limit_s) if audio else None
            return Video(name, data, duration or 0.0, 0, 0, None, "none", sound, fps, limit_s, picture=False)
        stream = container.streams.video[0]
        ctx = stream.codec_context
        width, height = int(ctx.width or 0), int(ctx.height or 0)
        if width * height > MAX_FRAME_PIXELS:
            raise VideoTooLargeError(
                f"{name}: frames of {width}x{height} are larger than the limit of {MAX_FRAME_PIXELS:,} pixels"
            )
        duration = _duration(container, stream)
        if duration is not None and duration > limit_s:
            raise VideoTooLargeError(
                f"{name} is {duration:.1f} s long; the maximum is {limit_s:g} s (EMOVOX_MAX_VIDEO_DURATION)"
            )
        rate = float(stream.average_rate) if stream.average_rate else None
        codec = str(ctx.name)
    sound = _decode_audio(data, name, limit_s) if audio else None
    video = Video(name, data, duration or 0.0, width, height, rate, codec, sound, fps, limit_s)
    return video


def open_container(f):
    """The one way emovox opens a video container (an open binary file): only the demuxers of
    VIDEO_DEMUXERS, no protocol (nothing is opened by name or URL), metadata errors ignored."""
    import av

    return av.open(f, "r", container_options=FFMPEG_VIDEO_OPTIONS, metadata_errors="ignore")


def _open(data: bytes, name: str, picture: bool = True):
    """An open container with a video stream (or, ``picture=False``, at least an audio one)."""
    try:
        container = open_container(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - a refused demuxer, corrupt data: any library error
        raise UndecodableVideoError(_undecodable(data, name)) from exc
    if not picture and not container.streams.video and container.streams.audio:
        return container
    if not container.streams.video or container.streams.video[0].codec_context is None:
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "none"
        container.close()
        raise UndecodableVideoError(f"{name} has no video stream (streams found: {kinds})")
    return container


def _duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    return None


def _undecodable(data: bytes, name: str) -> str:
    return (f"could not decode {name} ({len(data):,} bytes, starts with {data[:12]!r}): not a "
            f"supported video. Accepted: {ACCEPTED_VIDEOS}")


def _sample_frames(video: Video) -> Iterator[Frame]:
    """Frames at ``video.fps`` per second (the first frame at or after each tick)."""
    import av

    step = 1.0 / video.fps
    next_t = 0.0
    produced = 0
    started = time.monotonic()
    with _open(video.data, video.name) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else produced * step
                if time.monotonic() - started > DECODE_TIMEOUT_S + max(t, 0.0):
                    raise UndecodableVideoError(
                        f"decoding {video.name} took too long ({time.monotonic() - started:.1f} s for "
                        f"{max(t, 0.0):.1f} s of video): the file is damaged or not a plain video"
                    )
                if t > video.max_duration_s:
                    raise VideoTooLargeError(
                        f"{video.name} runs past the maximum of {video.max_duration_s:g} s"
                    )
                if t + 1e-6 < next_t:
                    continue
                if frame.width * frame.height > MAX_FRAME_PIXELS:
                    raise VideoTooLargeError(f"{video.name}: a frame of {frame.width}x{frame.height} is too large")
                produced += 1
                next_t = (np.floor(t / step) + 1) * step
                yield Frame(t, frame.to_ndarray(format="rgb24"))
        except VideoError:
            raise
        except Exception as exc:  # noqa: BLE001 - damaged stream
            if produced == 0 or not isinstance(exc, av.FFmpegError):
                raise UndecodableVideoError(_undecodable(video.data, video.name)) from exc
            # a truncated tail: keep the frames that decoded cleanly


def _decode_audio(data: bytes, name: str, limit_s: float) -> np.ndarray | None:
    """The first audio track as float32 mono 16 kHz; None when there is none or it is undecodable."""
    import av

    from .audio import SAMPLE_RATE, resample

    try:
        container = open_container(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - the video open already succeeded; treat as no audio
        return None
    with container:
        if not container.streams.audio or container.streams.audio[0].codec_context is None:
            return None
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or 0)
        if rate <= 0:
            return None
        resampler = av.AudioResampler(format="fltp")
        blocks: list[np.ndarray] = []
        total = 0
        started = time.monotonic()
        try:
            for frame in container.decode(stream):
                if time.monotonic() - started > DECODE_TIMEOUT_S + total / rate:
                    raise UndecodableVideoError(f"decoding the sound of {name} took too long: the file is damaged")
                for out in resampler.resample(frame):
                    block = out.to_ndarray().mean(axis=0).astype(np.float32, copy=False)
                    blocks.append(block)
                    total += block.size
                    if total > (limit_s + 1) * rate:
                        raise VideoTooLargeError(f"{name}: its audio runs past {limit_s:g} s")
        except VideoError:
            raise
        except Exception:  # noqa: BLE001 - keep what decoded; a broken track is no voice
            pass
    if not blocks:
        return None
    signal = np.concatenate(blocks)
    if not np.isfinite(signal).all():
        return None
    return resample(signal, rate, SAMPLE_RATE)


def has_picture(data: bytes) -> bool:
    """True when the bytes are a video container (by its first bytes) holding a video stream; an
    audio-only mp4 or webm (a microphone recording) is False. Opens nothing but the bytes."""
    if sniff(data[:16]) != "video":
        return False
    try:
        with _open(data, "<probe>", picture=False) as container:
            return bool(container.streams.video)
    except MediaError:
        return False


def kind_of(source: MediaSource, name: str | None = None) -> str:
    """'image', 'video' or 'audio' for a source: by its magic bytes, else by its file extension."""
    if isinstance(source, np.ndarray):
        return "image"
    head = b""
    if isinstance(source, (str, os.PathLike)):
        name = name or os.fspath(source)
        try:
            with open(source, "rb") as f:
                head = f.read(16)
        except OSError:
            head = b""
    elif isinstance(source, (bytes, bytearray, memoryview)):
        head = bytes(source[:16])
    found = sniff(head)
    if found == "video" and head[4:8] == b"ftyp" and head[8:11] in (b"M4A", b"M4B"):
        return "audio"
    if found:
        return found
    if is_image_name(name):
        return "image"
    if is_video_name(name):
        return "video"
    return "audio"
