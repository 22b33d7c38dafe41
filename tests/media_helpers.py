"""Synthetic images and videos for the face tests, and the real audio-visual clips in ../shared/av."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from conftest import SR, corpora_root, mux_audio


def drawn_image(w: int = 320, h: int = 240) -> np.ndarray:
    """Shapes on a gradient: no face in it."""
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    img[..., 2] = np.linspace(255, 0, h, dtype=np.uint8)[:, None]
    img[h // 4: h // 2, w // 4: w // 2] = (240, 200, 30)
    yy, xx = np.mgrid[:h, :w]
    img[(yy - 2 * h // 3) ** 2 + (xx - 2 * w // 3) ** 2 < (h // 6) ** 2] = (20, 160, 60)
    return img


def image_bytes(rgb: np.ndarray, fmt: str = "PNG") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt)
    return buf.getvalue()


def video_bytes(frames: list[np.ndarray], fps: int = 25, audio: np.ndarray | None = None,
                fmt: str = "mp4", codec: str = "mpeg4") -> bytes:
    """Encode RGB frames (and optional mono float32 audio at 16 kHz) into a container in memory."""
    import av

    h, w = frames[0].shape[:2]
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        vs = out.add_stream(codec, rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        a_s = None
        if audio is not None:
            a_s = out.add_stream("aac" if fmt != "webm" else "libopus", rate=SR if fmt != "webm" else 48000)
            a_s.layout = "mono"
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode(None):
            out.mux(packet)
        if a_s is not None:
            rate = a_s.codec_context.sample_rate
            signal = audio
            if rate != SR:
                import soxr

                signal = soxr.resample(audio, SR, rate).astype(np.float32)
            mux_audio(out, a_s, signal, rate)
    return buf.getvalue()


def moving_frames(seconds: float = 3.0, fps: int = 25, w: int = 160, h: int = 120) -> list[np.ndarray]:
    """A square sliding across a drawn background: no face."""
    base = drawn_image(w, h)
    frames = []
    for i in range(int(seconds * fps)):
        f = base.copy()
        x = (i * 3) % (w - 20)
        f[10:30, x:x + 20] = 255
        frames.append(f)
    return frames


def av_root() -> Path:
    return corpora_root().parent / "av"


@pytest.fixture(scope="session")
def av_clips() -> list[Path]:
    """The real audio-visual clips (CREMA-D and RAVDESS samples); skip when absent."""
    root = av_root()
    clips = sorted(root.glob("*/video_*/*"))
    if not clips:
        pytest.skip(f"audio-visual clips not found at {root} (set EMOVOX_CORPORA)")
    return clips
