"""The text routes over HTTP: /v1/text, the seed's analyze/text and analyze/multimodal, bad input."""

from __future__ import annotations

import base64

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from conftest import SR, encode, speech_like  # noqa: E402
from emovox.server import Settings, create_app  # noqa: E402

WAV64 = base64.b64encode(encode(speech_like(2.0), SR, "wav")).decode()
SILENT64 = base64.b64encode(encode(np.zeros(SR, np.float32), SR, "wav")).decode()
SEED_KEYS = {"dominant_emotion", "confidence", "emotions", "metadata"}


@pytest.fixture(scope="module")
def client(debug_model):
    with TestClient(create_app(Settings(model=str(debug_model))), raise_server_exceptions=False) as c:
        yield c


def test_v1_text_one_and_many(client):
    r = client.post("/v1/text", json={"text": "I'm so happy for you, congratulations!"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["emotion"] == "happy" and body["model"].startswith("emovox-text@")
    assert sum(body["scores"].values()) == pytest.approx(1.0)
    assert body["display"]["happy"]["color"] == "#22c55e"
    many = client.post("/v1/text", json={"texts": ["I'm so happy for you!", "I'm really scared of the dark."]})
    assert [x["emotion"] for x in many.json()["results"]] == ["happy", "fearful"]


def test_seed_text_route_answers_the_seed_shape(client):
    r = client.post("/api/v1/emotion/analyze/text", json={"text": "Stop lying to me, I hate you.",
                                                          "model_type": "default"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == SEED_KEYS
    assert body["dominant_emotion"] == "angry"
    assert body["confidence"] == pytest.approx(max(body["emotions"].values()))
    assert body["metadata"]["modalities_used"] == ["text"]
    assert body["metadata"]["model_type"] == "default"


@pytest.mark.parametrize("path", ["/v1/text", "/api/v1/emotion/analyze/text"])
def test_bad_text_is_a_clear_4xx_never_a_500(client, path, monkeypatch):
    monkeypatch.delenv("EMOVOX_MAX_TEXT_LENGTH", raising=False)
    monkeypatch.delenv("MAX_TEXT_LENGTH", raising=False)
    long = client.post(path, json={"text": "a" * 5001})
    assert long.status_code == 413 and "the limit is 5,000" in long.json()["detail"]
    for blank in ("", "   \n\t"):
        r = client.post(path, json={"text": blank})
        assert r.status_code == 422 and "give at least one word" in r.json()["detail"]
    missing = client.post(path, json={})
    assert missing.status_code == 422
    not_utf8 = client.post(path, content=b'{"text": "caf\xe9"}', headers={"content-type": "application/json"})
    assert not_utf8.status_code in (400, 422)
    not_json = client.post(path, content=b"\xff\xfe\x00garbage", headers={"content-type": "application/json"})
    assert not_json.status_code in (400, 422)
    monkeypatch.setenv("MAX_TEXT_LENGTH", "10")
    assert client.post(path, json={"text": "eleven chars"}).status_code == 413


def test_v1_text_list_form_limits(client):
    assert client.post("/v1/text", json={"texts": []}).status_code == 422
    both = client.post("/v1/text", json={"text": "hi", "texts": ["hi"]})
    assert both.status_code == 422 and "either 'text'" in both.json()["detail"]
    bad_item = client.post("/v1/text", json={"texts": ["fine", "  "]})
    assert bad_item.status_code == 422 and bad_item.json()["detail"].startswith("texts[1]: ")
    assert client.post("/v1/text", json={"texts": ["x"] * 1001}).status_code == 413


def test_multimodal_text_only_audio_only_and_both(client):
    text_only = client.post("/api/v1/emotion/analyze/multimodal", json={"text": "I'm so happy for you!"}).json()
    assert set(text_only) == SEED_KEYS and text_only["metadata"]["modalities_used"] == ["text"]
    assert text_only["dominant_emotion"] == "happy"
    audio_only = client.post("/api/v1/emotion/analyze/multimodal", json={"audio_base64": WAV64}).json()
    assert audio_only["metadata"]["modalities_used"] == ["audio"]
    both = client.post("/api/v1/emotion/analyze/multimodal",
                       json={"audio_base64": WAV64, "text": "I'm so happy for you!"}).json()
    meta = both["metadata"]
    assert meta["modalities_used"] == ["audio", "text"]
    assert meta["per_modality"]["text"]["emotion"] == "happy"
    assert meta["per_modality"]["audio"]["scores"] == pytest.approx(audio_only["emotions"])
    w = meta["weights"]
    for name, score in both["emotions"].items():  # the fused score is the weighted mean
        expected = w["audio"] * audio_only["emotions"].get(name, 0) + w["text"] * text_only["emotions"].get(name, 0)
        assert score == pytest.approx(expected)


def test_multimodal_silent_audio_with_text_uses_the_text(client):
    r = client.post("/api/v1/emotion/analyze/multimodal", json={"audio_base64": SILENT64, "text": "I'm terrified."})
    assert r.status_code == 200
    assert r.json()["metadata"]["modalities_used"] == ["text"] and r.json()["metadata"]["audio_silent"] is True
    alone = client.post("/api/v1/emotion/analyze/multimodal", json={"audio_base64": SILENT64})
    assert alone.status_code == 422 and "no speech detected" in alone.json()["detail"]


@pytest.mark.parametrize(
    ("payload", "status", "words"),
    [
        ({}, 422, "'audio_base64'"),
        ({"text": "   "}, 422, "whitespace"),
        ({"text": "a" * 5001}, 413, "the limit is 5,000"),
        ({"image_base64": "AAAA", "text": "hello"}, 422, "image modality is not supported"),
        ({"audio_base64": "%%% not base64 %%%", "text": "hello"}, 422, "not valid base64"),
    ],
)
def test_multimodal_refusals(client, payload, status, words):
    r = client.post("/api/v1/emotion/analyze/multimodal", json=payload)
    assert r.status_code == status and words in r.json()["detail"]
