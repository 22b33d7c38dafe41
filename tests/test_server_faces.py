"""Faces over HTTP: the seed's analyze/file with analysis_type=video, and /v1/faces; every bad input a 4xx."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("cv2")
from fastapi.testclient import TestClient  # noqa: E402

from conftest import SR, encode, speech_like  # noqa: E402
from emovox.server import Settings, create_app  # noqa: E402
from media_helpers import av_clips, drawn_image, image_bytes, moving_frames, video_bytes  # noqa: E402, F401

ROUTE = "/api/v1/emotion/analyze/file"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(Settings()), raise_server_exceptions=False) as c:
        yield c


def post(client, data, name, analysis_type="video", route=ROUTE):
    form = {"analysis_type": analysis_type} if analysis_type else {}
    return client.post(route, files={"file": (name, data)}, data=form)


def test_video_with_speech_and_no_face(client):
    r = post(client, video_bytes(moving_frames(2.0), audio=speech_like(2.0)), "talk.mp4")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["metadata"]["faces_detected"] == 0 and body["metadata"]["faces"] == []
    assert body["metadata"]["modalities_used"] == ["audio"]
    assert body["dominant_emotion"] == body["metadata"]["voice"]["emotion"]


def test_neither_faces_nor_speech_is_422(client):
    r = post(client, video_bytes(moving_frames(2.0), audio=np.zeros(2 * SR, np.float32)), "quiet.mp4")
    assert r.status_code == 422 and "no face and no speech" in r.json()["detail"]
    r = post(client, image_bytes(drawn_image()), "drawing.png", analysis_type=None)  # an image by its bytes
    assert r.status_code == 422 and "no face found" in r.json()["detail"]


@pytest.mark.parametrize("data,name", [
    (b"\xff\xd8\xff\xe0" + b"broken" * 30, "photo.jpg"),
    (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 300, "clip.mp4"),
    (b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n", "list.mp4"),
])
def test_corrupt_or_refused_uploads_are_415(client, data, name):
    r = post(client, data, name)
    assert r.status_code == 415, r.text
    assert "not a supported" in r.json()["detail"]


def test_limits_are_413(client, monkeypatch):
    monkeypatch.setenv("EMOVOX_MAX_IMAGE_PIXELS", "1000")
    r = post(client, image_bytes(drawn_image()), "big.png")
    assert r.status_code == 413 and "pixels" in r.json()["detail"]
    monkeypatch.setenv("MAX_VIDEO_FILE_SIZE", "1000")
    r = post(client, video_bytes(moving_frames(1.0)), "long.mp4")
    assert r.status_code == 413 and "limit for a video" in r.json()["detail"]


def test_audio_uploads_keep_their_answer(client):
    r = post(client, encode(speech_like(2.0), SR, "wav"), "clip.wav", analysis_type=None)
    assert r.status_code == 200 and "faces_detected" not in r.json()["metadata"]


@pytest.mark.corpus
def test_real_clip_and_frame(client, av_clips):  # noqa: F811
    from emovox.io.vision import load_video

    clip = next(c for c in av_clips if c.suffix == ".mp4")
    r = post(client, clip.read_bytes(), clip.name)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["metadata"]["faces_detected"] == 1 and body["metadata"]["modalities_used"] == ["video", "audio"]
    per = body["metadata"]["per_modality"]  # face and voice fused, each kept beside the answer
    assert per["face"]["emotion"] == body["metadata"]["faces"][0]["emotion"]
    assert body["dominant_emotion"] == max(body["emotions"], key=body["emotions"].get)
    for name, fused in body["emotions"].items():  # a weighted mean lies between the two
        parts = [per[m]["scores"].get(name, 0.0) for m in ("face", "audio")]
        assert min(parts) - 1e-6 <= fused <= max(parts) + 1e-6
    frame = next(iter(load_video(clip, audio=False).frames()))
    r = post(client, image_bytes(frame.rgb, "JPEG"), "frame.jpg", analysis_type=None)
    assert r.status_code == 200 and r.json()["metadata"]["faces_detected"] == 1
    r = client.post("/v1/faces", files={"file": (clip.name, clip.read_bytes())})
    assert r.status_code == 200
    assert r.json()["tracks"][0]["frames"] == r.json()["frames_analyzed"]


def test_multimodal_video_with_text_fuses_voice_words_and_face(client, av_clips):  # noqa: F811
    import base64

    clip = next(c for c in av_clips if c.suffix == ".mp4")
    body = {"video_base64": base64.b64encode(clip.read_bytes()).decode(), "text": "I am so angry with you!"}
    r = client.post("/api/v1/emotion/analyze/multimodal", json=body)
    assert r.status_code == 200, r.text
    meta = r.json()["metadata"]
    assert meta["modalities_used"] == ["audio", "text", "video"] and meta["faces_detected"] == 1
    assert set(meta["per_modality"]) == {"audio", "text", "face"}
    assert sum(meta["weights"].values()) == pytest.approx(1.0)


def test_multimodal_video_base64_with_audio_base64(client):
    import base64

    body = {"video_base64": base64.b64encode(video_bytes(moving_frames(1.0))).decode(),
            "audio_base64": base64.b64encode(encode(speech_like(2.0), SR, "wav")).decode()}
    r = client.post("/api/v1/emotion/analyze/multimodal", json=body)
    assert r.status_code == 200, r.text
    meta = r.json()["metadata"]
    assert meta["faces_detected"] == 0 and meta["modalities_used"] == ["audio"]
    body = {"video_base64": base64.b64encode(image_bytes(drawn_image())).decode()}
    r = client.post("/api/v1/emotion/analyze/multimodal", json=body)
    assert r.status_code == 422 and "no face found" in r.json()["detail"]
    r = client.post("/api/v1/emotion/analyze/multimodal", json={"video_base64": "bm90IGEgdmlkZW8="})
    assert r.status_code == 415


def test_sound_only_recording_sent_as_video_gets_the_voice(client):
    r = post(client, encode(speech_like(2.0), SR, "webm"), "mic.webm")
    assert r.status_code == 200, r.text
    meta = r.json()["metadata"]
    assert meta["faces_detected"] == 0 and meta["frames_analyzed"] == 0 and meta["modalities_used"] == ["audio"]


def test_stream_answers_each_message_and_survives_bad_ones(client):
    import base64

    wav = base64.b64encode(encode(speech_like(2.0), SR, "wav")).decode()
    clip = base64.b64encode(video_bytes(moving_frames(1.0), audio=speech_like(1.5))).decode()
    with client.websocket_connect("/ws/emotion/stream") as ws:
        ws.send_text("not json")
        bad = ws.receive_json()
        assert bad["type"] == "error" and bad["status"] == 422 and "not JSON" in bad["detail"]
        ws.send_json({"id": 7, "audio_base64": wav, "model_type": "default"})
        voice = ws.receive_json()
        assert voice["type"] == "result" and voice["id"] == 7 and voice["dominant_emotion"]
        ws.send_json({"video_base64": clip})
        video = ws.receive_json()
        assert video["type"] == "result" and video["metadata"]["faces_detected"] == 0
        ws.send_json({"audio_base64": base64.b64encode(b"plain text").decode()})
        assert ws.receive_json()["status"] == 415
        ws.send_bytes(b"\x00\x01")
        assert "JSON text messages" in ws.receive_json()["detail"]
        ws.send_json({"id": "w", "text": "I am so happy for you!"})  # words alone, then words + voice
        words = ws.receive_json()
        assert words["type"] == "result" and words["id"] == "w" and words["metadata"]["modalities_used"] == ["text"]
        assert words["dominant_emotion"] == "happy"
        ws.send_json({"text": "I am so happy for you!", "audio_base64": wav})
        assert ws.receive_json()["metadata"]["modalities_used"] == ["audio", "text"]
        ws.send_json({"text": 5})
        assert ws.receive_json() == {"type": "error", "status": 422, "detail": "text must be a string"}
        ws.send_json({"text": "   "})
        assert ws.receive_json()["status"] == 422


def test_v1_analyze_takes_images_and_videos(client):
    r = client.post("/v1/analyze", files={"file": ("drawing.png", image_bytes(drawn_image()))})
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "image" and r.json()["faces_detected"] == 0 and r.json()["face"] is None
    r = client.post("/v1/analyze", files={"file": ("talk.mp4", video_bytes(moving_frames(2.0), audio=speech_like(2.0)))})
    assert r.status_code == 200 and r.json()["kind"] == "video" and r.json()["voice"]["emotion"]
    r = client.post("/v1/analyze", files={"file": ("mic.webm", encode(speech_like(2.0), SR, "webm"))})
    assert r.status_code == 200 and "faces_detected" not in r.json()  # sound only: the voice answer


def test_a_video_upload_without_analysis_type_still_gets_faces(client):
    r = post(client, video_bytes(moving_frames(2.0), audio=speech_like(2.0)), "talk.mp4", analysis_type=None)
    assert r.status_code == 200 and r.json()["metadata"]["faces_detected"] == 0
