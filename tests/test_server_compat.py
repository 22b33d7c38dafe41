"""The compatible routes: exact shapes for clients written against earlier emotion backends."""

from __future__ import annotations

import base64
from datetime import datetime

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from conftest import SR, encode, speech_like  # noqa: E402
from emovox.server import Settings, create_app  # noqa: E402

WAV = encode(speech_like(2.0), SR, "wav")
SILENT = encode(np.zeros(SR, np.float32), SR, "wav")
FILE_ROUTES = ["/predict", "/api/analyze", "/predict-emotion/", "/api/classify-emotion",
               "/api/v1/emotion/analyze/file", "/api/classify-emotion-upload"]
FIELDS = {"/api/classify-emotion-upload": "audio"}  # every other route takes `file`
MUSIC_MOODS = {"neutral": "chill", "happy": "upbeat", "sad": "uplifting", "angry": "energetic"}
API_ANALYZE_COLORS = {"happy": "#22c55e", "sad": "#3b82f6", "angry": "#ef4444", "neutral": "#6b7280",
                      "fearful": "#a855f7", "surprised": "#f59e0b", "disgusted": "#84cc16"}


@pytest.fixture(scope="module")
def client(debug_model):
    with TestClient(create_app(Settings(model=str(debug_model)))) as c:
        yield c


@pytest.fixture(scope="module")
def confident_model(tmp_path_factory):
    """A tiny random wav2vec2 over eight corpus-style labels whose bias makes 'disgust' win."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(1)
    labels = ["neu", "calm", "hap", "sad", "ang", "fear", "disgust", "surprise"]
    config = transformers.Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        conv_dim=(32, 32), conv_stride=(5, 4), conv_kernel=(10, 8), num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2, classifier_proj_size=16,
        id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)},
    )
    model = transformers.Wav2Vec2ForSequenceClassification(config).eval()
    with torch.no_grad():
        model.classifier.bias.copy_(torch.tensor([0.5, 1.0, 0, 0, 0, 0, 8.0, 0]))
    folder = tmp_path_factory.mktemp("confident-er")
    model.save_pretrained(folder)
    transformers.Wav2Vec2FeatureExtractor(sampling_rate=SR, return_attention_mask=False).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def confident(confident_model):
    with TestClient(create_app(Settings(model=str(confident_model)))) as c:
        yield c


def post(client, path, data=WAV, field="file", name="clip.wav"):
    return client.post(path, files={field: (name, data, "audio/wav")})


def test_predict(client):
    body = post(client, "/predict").json()
    assert set(body) == {"results", "dominant"}
    assert all(set(r) == {"label", "score"} for r in body["results"])
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True) and sum(scores) == pytest.approx(1)
    assert {r["label"] for r in body["results"]} == {"angry", "happy", "neutral", "sad"}
    assert body["dominant"] == body["results"][0]


def test_predict_agrees_with_v1(client):
    v1 = client.post("/v1/analyze", files={"file": ("clip.wav", WAV)}).json()
    body = post(client, "/predict").json()
    assert body["dominant"]["label"] == v1["emotion"]
    assert {r["label"]: r["score"] for r in body["results"]} == pytest.approx(v1["scores"])


def test_api_analyze_shape(client):
    body = post(client, "/api/analyze", name="voice.wav").json()
    assert set(body) == {"success", "filename", "timestamp", "dominant_emotion", "confidence",
                         "emotion_scores", "audio_features"}
    assert body["success"] is True and body["filename"] == "voice.wav"
    assert datetime.fromisoformat(body["timestamp"]).tzinfo is not None
    entries = body["emotion_scores"]
    assert all(set(e) == {"emotion", "label", "score", "color", "emoji"} for e in entries)
    assert sum(e["score"] for e in entries) == pytest.approx(100, abs=0.05)
    assert [e["score"] for e in entries] == sorted((e["score"] for e in entries), reverse=True)
    assert body["dominant_emotion"] == entries[0]["emotion"]
    assert body["confidence"] == entries[0]["score"] and 0 < body["confidence"] <= 100
    for e in entries:
        assert API_ANALYZE_COLORS[e["emotion"]] == e["color"]
    features = body["audio_features"]
    assert set(features) == {"duration", "sample_rate", "pitch_mean", "pitch_std", "energy_mean",
                             "energy_std", "tempo", "spectral_centroid"}
    assert features["duration"] == pytest.approx(2.0, abs=0.01) and features["sample_rate"] == 16000


def test_api_analyze_features_filled(client):
    pytest.importorskip("emovox.signal.features")
    features = post(client, "/api/analyze").json()["audio_features"]
    assert 100 < features["pitch_mean"] < 200
    for key in ("pitch_std", "energy_mean", "energy_std", "tempo", "spectral_centroid"):
        assert isinstance(features[key], float), key


def test_api_analyze_vocabulary(confident):
    """'disgust' is spelled 'disgusted'; calm is masked and the seven scores renormalise."""
    v1 = confident.post("/v1/analyze?labels=happy,sad,angry,neutral,fearful,surprised,disgust",
                        files={"file": ("c.wav", WAV)}).json()["scores"]
    body = post(confident, "/api/analyze").json()
    names = {e["emotion"]: e for e in body["emotion_scores"]}
    assert set(names) == set(API_ANALYZE_COLORS)
    assert body["dominant_emotion"] == "disgusted"
    assert names["disgusted"]["label"] == "Disgusted" and names["disgusted"]["color"] == "#84cc16"
    assert names["neutral"]["score"] == pytest.approx(100 * v1["neutral"], abs=0.01)
    assert names["disgusted"]["score"] == pytest.approx(100 * v1["disgust"], abs=0.01)


def test_predict_emotion_warning_only_when_unsure(client, confident):
    unsure = post(client, "/predict-emotion/").json()
    assert set(unsure) == {"emotion", "confidence", "music_mood", "all_probabilities", "status", "warning"}
    assert unsure["confidence"] < 0.70 and "0.70" in unsure["warning"]
    assert unsure["status"] == "success"
    assert unsure["music_mood"] == MUSIC_MOODS[unsure["emotion"]]
    assert sum(unsure["all_probabilities"].values()) == pytest.approx(1)
    sure = post(confident, "/predict-emotion/").json()
    assert sure["emotion"] == "disgust" and sure["confidence"] > 0.70
    assert set(sure) == {"emotion", "confidence", "music_mood", "all_probabilities", "status"}


def test_predict_realtime(client):
    body = post(client, "/predict-realtime/", field="audio_buffer").json()
    assert set(body) == {"emotion", "confidence", "music_mood"}
    assert post(client, "/predict-realtime/", field="file").status_code == 422


def test_emotion_lists(client):
    """The music-player's classes that the model predicts, in that backend's order."""
    body = client.get("/emotions/").json()
    assert body == {"emotions": ["neutral", "happy", "sad", "angry"], "count": 4}
    moods = client.get("/music-moods/").json()
    assert moods == {n: MUSIC_MOODS[n] for n in body["emotions"]}


def test_classify_emotion(client):
    body = post(client, "/api/classify-emotion").json()
    assert set(body) == {"emotion", "confidence"} and 0.25 <= body["confidence"] <= 1


def test_emotion_analyze_file(client):
    body = post(client, "/api/v1/emotion/analyze/file").json()
    assert set(body) == {"dominant_emotion", "confidence", "emotions", "metadata"}
    assert body["metadata"]["modalities_used"] == ["audio"]
    assert body["emotions"][body["dominant_emotion"]] == body["confidence"]


def test_multimodal_audio(client):
    payload = base64.b64encode(WAV).decode()
    body = client.post("/api/v1/emotion/analyze/multimodal", json={"audio_base64": payload}).json()
    assert set(body) == {"dominant_emotion", "confidence", "emotions", "metadata"}
    assert body["metadata"]["modalities_used"] == ["audio"]
    data_url = client.post("/api/v1/emotion/analyze/multimodal",
                           json={"audio_base64": "data:audio/wav;base64," + payload})
    assert data_url.json()["emotions"] == pytest.approx(body["emotions"])


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"image_base64": "AAAA"}, "image modality is not supported yet"),  # images go in video_base64
        ({}, "send 'audio_base64'"),
        ({"audio_base64": "%%% not base64 %%%"}, "not valid base64"),
    ],
)
def test_multimodal_refusals(client, payload, words):
    r = client.post("/api/v1/emotion/analyze/multimodal", json=payload)
    assert r.status_code == 422 and words in r.json()["detail"]


def test_multimodal_bad_audio(client):
    r = client.post("/api/v1/emotion/analyze/multimodal",
                    json={"audio_base64": base64.b64encode(b"plain text, not audio").decode()})
    assert r.status_code == 415


@pytest.mark.parametrize("path", FILE_ROUTES)
def test_bad_input_on_every_file_route(client, path):
    field = FIELDS.get(path, "file")
    assert post(client, path, data=b"", field=field).status_code == 422
    bad = post(client, path, data=b"just some text\n" * 10, name="note.wav", field=field)
    assert bad.status_code == 415 and "note.wav" in bad.json()["detail"]
    assert client.post(path, files={"wrong": ("clip.wav", WAV)}).status_code == 422
    silent = post(client, path, data=SILENT, field=field)
    assert silent.status_code == 422 and "no speech detected" in silent.json()["detail"]
    assert post(client, path, field=field).status_code == 200  # and it keeps serving
