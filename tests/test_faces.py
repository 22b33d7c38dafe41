"""Faces: detection, the expression model's API, tracks over video, the CLI; real clips and crops marked."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import corpora_root, run_emovox, speech_like, subprocess_env
from emovox.analysis.media import Tracker, analyze_media, iou
from emovox.errors import MissingExtraError
from emovox.results.result_media import FacePrediction
from media_helpers import av_clips, drawn_image, image_bytes, moving_frames, video_bytes  # noqa: F401

cv2 = pytest.importorskip("cv2")
CANONICAL = {"angry", "disgust", "fearful", "happy", "sad", "surprised", "neutral"}


@pytest.fixture(scope="module")
def face_model():
    import emovox

    return emovox.load_face_model()


def test_importing_emovox_loads_no_vision_library():
    code = "import sys, emovox; print(sorted(m for m in ('cv2', 'PIL', 'onnxruntime', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env())
    assert out.stdout.strip() == "[]", out.stderr


def test_missing_opencv_names_the_extra(monkeypatch):
    import emovox

    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(MissingExtraError, match=r'pip install "emovox\[vision\]"'):
        emovox.load_face_model()


def test_opencv_without_haar_cascades_names_the_version_needed(monkeypatch):
    import types

    from emovox.models.face import HaarDetector

    monkeypatch.setitem(sys.modules, "cv2", types.SimpleNamespace(__version__="5.0.0"))  # as OpenCV 5
    with pytest.raises(MissingExtraError, match=r"OpenCV 5.0.0 has no Haar cascades; OpenCV 4 is needed"):
        HaarDetector()


def test_drawn_image_has_no_face(face_model):
    faces = face_model.predict(drawn_image())
    assert faces.faces_detected == 0 and list(faces) == []
    p = analyze_media(image_bytes(drawn_image()), face_model=face_model)
    assert p.kind == "image" and p.faces_detected == 0 and p.face is None and p.voice is None


def test_whole_image_as_one_crop_gives_scores_over_the_vocabulary(face_model):
    faces = face_model.predict(np.full((48, 48), 128, np.uint8), detect=False)
    assert len(faces) == 1
    face = faces[0]
    assert set(face.scores) == CANONICAL and abs(sum(face.scores.values()) - 1) < 1e-4
    assert face.emotion == max(face.scores, key=face.scores.get) and face.box == (0, 0, 48, 48)


def _face(box, t):
    return FacePrediction(box, "happy", 0.9, {"happy": 0.9, "sad": 0.1}, t=t)


def test_tracker_follows_two_faces_and_drops_a_one_frame_false_alarm():
    tracker = Tracker()
    for i in range(8):
        faces = [_face((10 + 2 * i, 10, 50, 50), i / 4), _face((200 - 3 * i, 40, 60, 60), i / 4)]
        if i == 5:
            faces.append(_face((120, 150, 20, 20), i / 4))  # seen once: not a person
        tracker.update(faces)
    tracks = tracker.tracks(("happy", "sad"))
    assert [t.frames for t in tracks] == [8, 8]
    assert tracker.dropped == 1
    assert all(o.track == t.id for t in tracks for o in t.observations)
    assert tracks[1].observations[-1].box[0] == 200 - 21
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0


def test_video_without_faces_keeps_the_voice(face_model):
    import emovox

    voice = emovox.load_model()
    data = video_bytes(moving_frames(2.0), audio=speech_like(2.0))
    p = analyze_media(data, face_model=face_model, voice_model=voice)
    assert p.kind == "video" and p.frames_analyzed == 8
    assert p.faces_detected == 0 and p.face is None and p.tracks == ()
    assert p.has_speech and p.voice.emotion in voice.labels
    d = p.to_dict()
    assert d["faces_detected"] == 0 and d["face"] is None and d["voice"]["emotion"] == p.voice.emotion


def test_cli_image_without_face_and_corrupt_image(tmp_path):
    good = tmp_path / "drawing.png"
    good.write_bytes(image_bytes(drawn_image()))
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10)
    out = run_emovox("analyze", str(good))
    assert out.returncode == 0, out.stderr
    assert "0 faces found" in out.stdout
    out = run_emovox("analyze", str(bad))
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "not a supported image" in out.stderr and "Traceback" not in out.stderr


# --- real data ----------------------------------------------------------------------------------


@pytest.mark.corpus
def test_the_one_face_is_found_in_the_real_clips(face_model, av_clips):  # noqa: F811
    from emovox.io.vision import load_video
    from emovox.models.face import grey

    found = total = 0
    for clip in av_clips:
        video = load_video(clip, audio=False)
        for frame in video.frames():
            total += 1
            found += len(face_model.detector.detect(grey(frame.rgb))) >= 1
    assert total > 90 and found / total >= 0.95


@pytest.mark.corpus
def test_real_clip_gives_one_face_track_and_a_voice(face_model, av_clips):  # noqa: F811
    clip = next(c for c in av_clips if c.suffix == ".flv")
    import emovox

    p = analyze_media(clip, face_model=face_model, voice_model=emovox.load_model())
    assert p.faces_detected == 1
    track = p.tracks[0]
    assert track.frames == p.frames_analyzed >= 7
    assert set(track.scores) == CANONICAL and p.face.emotion == track.emotion
    assert p.has_speech and p.voice.duration_s > 1.5


@pytest.mark.corpus
def test_cli_on_a_real_clip_and_a_frame(tmp_path, av_clips):  # noqa: F811
    from PIL import Image

    from emovox.io.vision import load_video

    clip = next(c for c in av_clips if c.suffix == ".mp4")
    frame = next(iter(load_video(clip, audio=False).frames()))
    photo = tmp_path / "photo.jpg"
    Image.fromarray(frame.rgb).save(photo)
    out = run_emovox("analyze", str(photo), str(clip), "--json")
    assert out.returncode == 0, out.stderr
    image, video = (json.loads(line) for line in out.stdout.splitlines())
    assert image["faces_detected"] == 1 and image["tracks"][0]["emotion"] in CANONICAL
    assert set(image["tracks"][0]["box"]) == {"x", "y", "width", "height"}
    assert video["faces_detected"] == 1 and video["voice"]["emotion"]
    assert len(video["tracks"][0]["timeline"]) == video["frames_analyzed"]
    slow = json.loads(run_emovox("analyze", str(clip), "--json", "--fps", "1").stdout)
    assert slow["frames_analyzed"] == int(np.ceil(video["duration_s"])) and slow["fps"] == 1


@pytest.mark.corpus
def test_expression_model_on_fer2013_private_test_crops(face_model):
    path = corpora_root().parent / "faces" / "fer2013" / "fer2013.parquet"
    if not path.is_file():
        pytest.skip(f"FER-2013 not found at {path}")
    import io

    import pyarrow.parquet as pq
    from PIL import Image

    table = pq.read_table(path, columns=["usage", "emotion", "png"]).to_pydict()
    rows = [(e, png) for u, e, png in zip(table["usage"], table["emotion"], table["png"]) if u == "PrivateTest"]
    rows = rows[::6]  # every 6th: ~600 faces, all classes
    names = {"fear": "fearful", "surprise": "surprised"}
    hits = 0
    for emotion, png in rows:
        crop = np.asarray(Image.open(io.BytesIO(png)))
        hits += face_model.predict(crop, detect=False)[0].emotion == names.get(emotion, emotion)
    assert hits / len(rows) >= 0.5  # chance is 0.25 (always 'happy')
