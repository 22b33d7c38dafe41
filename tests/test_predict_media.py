"""``Recognizer.predict`` on images and videos: faces, voice and fused (a MediaPrediction); audio unchanged."""

from __future__ import annotations

import io
import sys
import warnings

import pytest

from conftest import SR, encode, speech_like
from emovox.errors import MediaError, MissingExtraError, MissingExtraWarning
from emovox.results.result import Prediction
from emovox.results.result_media import MediaPrediction
from media_helpers import av_clips, drawn_image, image_bytes, moving_frames, video_bytes  # noqa: F401

pytest.importorskip("cv2")
CANONICAL = {"angry", "disgust", "fearful", "happy", "sad", "surprised", "neutral"}


@pytest.fixture(scope="module")
def model():
    import emovox

    return emovox.load_model(features=False)


@pytest.fixture
def no_opencv(monkeypatch):
    """As without the vision extra: OpenCV cannot be imported, and no face model is cached."""
    import emovox.analysis.media

    monkeypatch.setitem(sys.modules, "cv2", None)
    monkeypatch.setattr(emovox.analysis.media, "_FACE_MODEL", None)


@pytest.mark.corpus
def test_predict_on_a_real_video_gives_voice_faces_and_fused(model, av_clips):  # noqa: F811
    clip = next(c for c in av_clips if c.suffix == ".mp4")
    for source in (clip, str(clip), clip.read_bytes(), io.BytesIO(clip.read_bytes())):
        p = model.predict(source)
        assert isinstance(p, MediaPrediction) and p.kind == "video"
        assert isinstance(p.voice, Prediction) and p.voice.emotion in model.labels
        assert p.faces_detected == 1 and len(p.faces) == p.frames_analyzed >= 7
        face = p.faces[0]
        assert face.track == 0 and len(face.box) == 4 and set(face.scores) == CANONICAL
        assert p.fused.modalities == ("audio", "face")
        assert p.fused.emotion in set(model.labels) | CANONICAL


class Pipe(io.RawIOBase):
    """A stream that cannot seek (a socket or a pipe)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        chunk = self._data.read(len(b))
        b[: len(chunk)] = chunk
        return len(chunk)


def test_predict_on_a_photo_without_a_face_invents_no_emotion(model, tmp_path):
    photo = tmp_path / "drawing.png"
    photo.write_bytes(image_bytes(drawn_image()))
    for source in (photo, photo.read_bytes(), io.BytesIO(photo.read_bytes()), Pipe(photo.read_bytes())):
        p = model.predict(source)
        assert isinstance(p, MediaPrediction) and p.kind == "image"
        assert p.faces_detected == 0 and p.faces == () and p.face is None
        assert p.voice is None and p.fused is None


def test_predict_on_audio_is_unchanged_and_opens_no_container(model, tmp_path, monkeypatch):
    import av

    signal = speech_like(1.5)
    wav = tmp_path / "clip.wav"
    wav.write_bytes(encode(signal, SR, "wav"))
    for memo in (encode(signal, SR, "mp4"), encode(signal, SR, "webm")):  # a voice memo: no picture
        p = model.predict(memo)
        assert isinstance(p, Prediction) and p.emotion in model.labels

    def no_probe(*args, **kwargs):
        raise AssertionError("a wav file was probed as a video")

    monkeypatch.setattr(av, "open", no_probe)  # a wav is told by its first bytes alone
    for source in (wav, wav.read_bytes(), io.BytesIO(wav.read_bytes()), (signal, SR)):
        p = model.predict(source)
        assert isinstance(p, Prediction) and p.emotion in model.labels
    monkeypatch.undo()
    # a video with a picture, asked for its voice only, answers the voice Prediction as before
    clip = video_bytes(moving_frames(1.0), audio=speech_like(1.0))
    assert isinstance(model.predict(clip, faces=False), Prediction)


def test_predict_many_keeps_order_with_audio_images_and_videos(model, tmp_path):
    wav = tmp_path / "clip.wav"
    wav.write_bytes(encode(speech_like(1.5), SR, "wav"))
    photo = tmp_path / "drawing.jpg"
    photo.write_bytes(image_bytes(drawn_image(), "JPEG"))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10)
    clip = video_bytes(moving_frames(2.0), audio=speech_like(2.0))
    out = model.predict_many([wav, photo, clip, broken, wav], batch_size=2, errors="return")
    assert [type(p).__name__ for p in out] == [
        "Prediction", "MediaPrediction", "MediaPrediction", "UndecodableImageError", "Prediction"]
    assert out[0].scores == out[4].scores
    assert out[1].kind == "image" and out[1].faces_detected == 0
    assert out[2].kind == "video" and out[2].frames_analyzed == 8 and out[2].faces_detected == 0
    assert out[2].has_speech and out[2].fused.modalities == ("audio",)
    with pytest.raises(MediaError, match="not a supported image"):
        model.predict_many([wav, broken])


def test_video_without_the_vision_extra_keeps_its_voice_and_says_why(model, no_opencv):
    clip = video_bytes(moving_frames(2.0), audio=speech_like(2.0))
    with pytest.warns(MissingExtraWarning, match=r'faces were not analysed.*pip install "emovox\[vision\]"'):
        p = model.predict(clip)
    assert isinstance(p, MediaPrediction) and p.kind == "video"
    assert p.voice.emotion in model.labels and p.fused.modalities == ("audio",)
    assert p.faces == () and p.frames_analyzed == 0
    assert 'pip install "emovox[vision]"' in p.to_dict()["note"]


def test_image_without_the_vision_extra_is_one_clear_error(model, no_opencv):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(MissingExtraError, match=r'pip install "emovox\[vision\]"') as info:
            model.predict(image_bytes(drawn_image()))
    assert "\n" not in str(info.value)
