"""vision.py: the one loader for images and video frames, its formats, limits and errors."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import speech_like
from emovox.errors import (
    EmovoxError,
    ImageError,
    ImageTooLargeError,
    MediaError,
    UndecodableImageError,
    UndecodableVideoError,
    VideoTooLargeError,
)
from emovox.io.vision import kind_of, load_image, load_video
from media_helpers import drawn_image, image_bytes, moving_frames, video_bytes

pytest.importorskip("PIL")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_images_decode_to_rgb(fmt, tmp_path):
    rgb = drawn_image(64, 48)
    path = tmp_path / f"x.{fmt.lower()}"
    path.write_bytes(image_bytes(rgb, fmt))
    for source in (path, str(path), path.read_bytes(), open(path, "rb")):  # noqa: SIM115
        out = load_image(source)
        assert out.shape == (48, 64, 3) and out.dtype == np.uint8
        assert np.abs(out.astype(int) - rgb.astype(int)).mean() < (1 if fmt == "PNG" else 8)  # jpg, webp: lossy


def test_arrays_grey_and_float_become_rgb_uint8():
    assert load_image(np.full((5, 7), 10, np.uint8)).shape == (5, 7, 3)
    assert load_image(np.ones((5, 7, 3), np.float32))[0, 0, 0] == 255
    with pytest.raises(ImageError, match="shape"):
        load_image(np.zeros((2, 3, 5)))


def test_corrupt_and_unsupported_images_are_one_clear_error():
    with pytest.raises(UndecodableImageError, match="not a supported image. Accepted: jpg, png, webp"):
        load_image(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    gif = image_bytes(drawn_image(32, 32), "GIF")  # Pillow reads GIF, emovox does not accept it
    with pytest.raises(UndecodableImageError):
        load_image(gif)
    with pytest.raises(MediaError, match="empty"):
        load_image(b"")
    with pytest.raises(MediaError, match="file not found"):
        load_image("/no/such/photo.jpg")


def test_too_many_pixels_is_refused_before_decoding(monkeypatch):
    png = image_bytes(drawn_image(200, 100))
    monkeypatch.setenv("EMOVOX_MAX_IMAGE_PIXELS", "10000")
    with pytest.raises(ImageTooLargeError, match="200x100 = 20,000 pixels; the limit is 10,000"):
        load_image(png)
    assert isinstance(ImageTooLargeError("x"), EmovoxError)


def test_video_frames_are_sampled_at_the_rate():
    data = video_bytes(moving_frames(3.0, fps=25))
    video = load_video(data)
    times = [f.t for f in video.frames()]
    assert len(times) == 12  # 3 s at 4 per second
    assert np.allclose(np.diff(times), 0.25, atol=0.05)
    assert video.width == 160 and video.height == 120 and video.audio is None
    assert len(list(load_video(data, fps=1.0).frames())) == 3
    frame = next(iter(video.frames()))
    assert frame.rgb.shape == (120, 160, 3) and frame.rgb.dtype == np.uint8


@pytest.mark.parametrize("fmt,codec", [("mp4", "mpeg4"), ("webm", "libvpx"), ("matroska", "mpeg4"),
                                       ("avi", "mpeg4"), ("flv", "flv")])
def test_every_accepted_container_decodes(fmt, codec):
    data = video_bytes(moving_frames(1.0, fps=25), fmt=fmt, codec=codec)
    assert len(list(load_video(data).frames())) == 4
    assert kind_of(data) == "video"


def test_audio_track_comes_out_at_16k():
    data = video_bytes(moving_frames(2.0), audio=speech_like(2.0))
    video = load_video(data)
    assert video.audio is not None and abs(video.audio.size / 16000 - 2.0) < 0.1


def test_size_limit_with_both_env_names(monkeypatch):
    data = video_bytes(moving_frames(1.0))
    for name in ("MAX_VIDEO_FILE_SIZE", "EMOVOX_MAX_VIDEO_FILE_SIZE"):
        monkeypatch.setenv(name, "1000")
        with pytest.raises(VideoTooLargeError, match="the limit for a video is 0.0 MB"):
            load_video(data)
        monkeypatch.delenv(name)
    assert load_video(data).width == 160


def test_duration_limit(monkeypatch):
    data = video_bytes(moving_frames(3.0))
    monkeypatch.setenv("EMOVOX_MAX_VIDEO_DURATION", "1")
    with pytest.raises(VideoTooLargeError, match="maximum is 1 s"):
        load_video(data)


def test_corrupt_video_and_refused_formats():
    with pytest.raises(UndecodableVideoError, match="not a supported video"):
        load_video(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500)
    # an HLS playlist naming a local file: its demuxer is not on the list, nothing is opened
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
    with pytest.raises(UndecodableVideoError):
        load_video(playlist)
    png = image_bytes(drawn_image(32, 32))
    with pytest.raises(UndecodableVideoError):
        load_video(png)


def test_a_video_that_decodes_too_slowly_is_refused(monkeypatch):
    import emovox.io.vision as vision

    data = video_bytes(moving_frames(2.0))
    monkeypatch.setattr(vision, "DECODE_TIMEOUT_S", -1.0)  # any decoding time is too long
    with pytest.raises(UndecodableVideoError, match="took too long"):
        list(load_video(data).frames())
