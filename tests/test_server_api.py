"""The /v1 API, ops routes, the page routes, limits and bad input, through TestClient."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from conftest import SR, encode, speech_like, subprocess_env  # noqa: E402
from emovox.labels import EMOTIONS  # noqa: E402
from emovox.server import Settings, create_app  # noqa: E402

FEATURE_KEYS = {
    "duration_s", "pitch_mean_hz", "pitch_std_hz", "pitch_min_hz", "pitch_max_hz", "pitch_range_hz",
    "voiced_fraction", "energy_mean_db", "energy_std_db", "tempo_syllables_per_s",
    "spectral_centroid_hz", "jitter_local", "shimmer_local", "hnr_db",
}
WAV = encode(speech_like(2.0), SR, "wav")


@pytest.fixture(scope="module")
def client(debug_model):
    app = create_app(Settings(model=str(debug_model), max_upload_mb=1, max_duration_s=5))
    with TestClient(app) as c:
        yield c


def post_file(client, data: bytes, name: str = "clip.wav", path: str = "/v1/analyze", **kw):
    return client.post(path, files={"file": (name, data, "application/octet-stream")}, **kw)


def test_analyze_multipart_shape(client):
    r = post_file(client, WAV)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"file", "duration_s", "emotion", "confidence", "scores", "silent", "features",
                         "model", "adapted", "display"}
    assert body["adapted"] is None  # not adapted (see test_server_profiles for ?profile=)
    assert body["file"] == "clip.wav"
    assert body["duration_s"] == pytest.approx(2.0, abs=0.01)
    assert set(body["scores"]) == {"angry", "happy", "neutral", "sad"}
    assert sum(body["scores"].values()) == pytest.approx(1.0)
    values = list(body["scores"].values())
    assert values == sorted(values, reverse=True)
    assert body["emotion"] == max(body["scores"], key=body["scores"].get)
    assert body["confidence"] == pytest.approx(body["scores"][body["emotion"]])
    assert body["silent"] is False
    for name, meta in body["display"].items():
        assert meta == EMOTIONS[name].to_dict()


def test_analyze_raw_body_matches_multipart(client):
    multipart = post_file(client, WAV).json()
    raw = client.post("/v1/analyze", content=WAV, headers={"content-type": "audio/wav"})
    assert raw.status_code == 200, raw.text
    assert raw.json()["scores"] == pytest.approx(multipart["scores"])
    assert raw.json()["file"] is None


def test_analyze_top_k_and_features_flag(client):
    body = post_file(client, WAV, params={"top_k": 2, "features": "false"}).json()
    assert len(body["scores"]) == 2 and set(body["display"]) == set(body["scores"])
    assert body["features"] is None
    assert post_file(client, WAV, params={"top_k": 0}).status_code == 422


def test_analyze_returns_descriptors(client):
    pytest.importorskip("emovox.signal.features")
    features = post_file(client, WAV, params={"features": "true"}).json()["features"]
    assert set(features) == FEATURE_KEYS
    assert features["duration_s"] == pytest.approx(2.0, abs=0.01)
    assert 100 < features["pitch_mean_hz"] < 200  # speech_like glides around 140 Hz


@pytest.mark.parametrize("fmt", ["flac", "mp3", "ogg", "webm", "m4a"])
def test_analyze_compressed_formats(client, fmt):
    r = post_file(client, encode(speech_like(1.5), SR, fmt), name=f"clip.{fmt}")
    assert r.status_code == 200, r.text
    assert r.json()["duration_s"] == pytest.approx(1.5, abs=0.1)


def test_silent_clip_is_not_an_error(client):
    body = post_file(client, encode(np.zeros(SR, np.float32), SR, "wav")).json()
    assert body["silent"] is True and body["emotion"] is None and body["scores"] == {}


@pytest.mark.parametrize(
    ("data", "name", "status", "words"),
    [
        (b"", "empty.wav", 422, "empty"),
        (os.urandom(4000), "noise.wav", 415, "could not decode"),
        (b"Dear diary, today I felt great.\n" * 20, "notes.wav", 415, "could not decode"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "picture.mp3", 415, "not a supported image"),  # images go to the faces
        (WAV[: len(WAV) // 50], "truncated.wav", None, None),
    ],
)
def test_bad_audio(client, data, name, status, words):
    r = post_file(client, data, name=name)
    if status is None:  # a truncated wav either decodes what is there or is refused, never a 500
        assert r.status_code in (200, 415, 422), r.text
        return
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert words in detail.lower() and (name in detail or status == 422)


def test_too_long_recording(client):
    r = post_file(client, encode(speech_like(6.0), SR, "wav"))
    assert r.status_code == 413
    assert "longer than the maximum of 5 s" in r.json()["detail"]


def test_upload_over_limit_declared_length(client):
    big = bytes(1024 * 1024 + 10)
    r = client.post("/v1/analyze", content=big, headers={"content-type": "audio/wav"})
    assert r.status_code == 413
    assert "limit is 1 MiB" in r.json()["detail"]
    r = post_file(client, big, path="/predict")
    assert r.status_code == 413


def test_upload_over_limit_streamed_without_length(client):
    sent = []

    def chunks():
        for _ in range(64):  # 64 x 64 KiB = 4 MiB offered, limit 1 MiB
            sent.append(1)
            yield bytes(64 * 1024)

    r = client.post("/v1/analyze", content=chunks(), headers={"content-type": "audio/wav"})
    assert r.status_code == 413
    assert "more than 1,048,576 bytes" in r.json()["detail"]
    assert post_file(client, WAV).status_code == 200  # still serving


def test_wrong_body_types_and_missing_field(client):
    r = client.post("/v1/analyze", json={"audio": "x"})
    assert r.status_code == 415 and "multipart/form-data" in r.json()["detail"]
    r = client.post("/v1/analyze", files={"audio": ("clip.wav", WAV)})
    assert r.status_code == 422 and "missing form field 'file'" in r.json()["detail"]
    r = client.post("/v1/analyze", data={"file": "not a file"}, files={"other": ("x", b"1")})
    assert r.status_code == 422 and "must be a file upload" in r.json()["detail"]


def test_models_emotions_health(client, debug_model):
    models = client.get("/v1/models").json()
    assert models["loaded"]["labels"] == ["angry", "happy", "neutral", "sad"]
    assert models["loaded"]["source"] == str(debug_model)
    assert any(m["name"] == "emovox-base" and m["default"] for m in models["available"])
    emotions = client.get("/v1/emotions").json()["emotions"]
    assert [e["name"] for e in emotions] == list(EMOTIONS)
    supported = {e["name"] for e in emotions if e["supported"]}
    assert supported == {"angry", "happy", "neutral", "sad"}
    assert all(e["music_mood"] and e["color"].startswith("#") for e in emotions)
    health = client.get("/healthz").json()
    loaded = models["loaded"]
    assert health["status"] == "ok" and health["model"] == f"{loaded['name']}@{loaded['version']}"


def test_metrics(client):
    post_file(client, WAV)
    client.post("/v1/analyze", content=b"garbage", headers={"content-type": "audio/wav"})
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    requests = {
        (s.labels["route"], s.labels["status"]): s.value
        for s in families["emovox_http_requests"].samples if s.name.endswith("_total")
    }
    assert requests[("/v1/analyze", "200")] >= 1
    assert requests[("/v1/analyze", "415")] >= 1
    audio = next(s for s in families["emovox_audio_seconds_processed"].samples if s.name.endswith("_total"))
    assert audio.value >= 2.0
    buckets = [s for s in families["emovox_http_request_duration_seconds"].samples
               if s.name.endswith("_bucket") and s.labels["route"] == "/v1/analyze"]
    assert buckets and buckets[-1].labels["le"] == "+Inf" and buckets[-1].value >= 2


def request_counts(client) -> dict[tuple[str, str, str], float]:
    """(route, method, status) -> count, from /metrics."""
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    return {
        (s.labels["route"], s.labels["method"], s.labels["status"]): s.value
        for s in families["emovox_http_requests"].samples if s.name.endswith("_total")
    }


def test_metrics_count_size_limit_413_under_the_route(client):
    before = request_counts(client)
    big = bytes(1024 * 1024 + 10)  # declared length over the 1 MiB limit: refused before routing
    assert client.post("/v1/analyze", content=big, headers={"content-type": "audio/wav"}).status_code == 413
    assert post_file(client, big, path="/predict").status_code == 413
    for junk in ("/no/such/route", "/v1/analyze/extra"):
        assert client.post(junk, content=big).status_code == 413
    after = request_counts(client)
    changed = {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)}
    changed.pop(("/metrics", "GET", "200"), None)
    assert changed == {
        ("/v1/analyze", "POST", "413"): 1,
        ("/predict", "POST", "413"): 1,
        ("unmatched", "POST", "413"): 2,  # unknown paths share one label: no label per made-up URL
    }


def test_cors_off_by_default(client):
    r = client.get("/healthz", headers={"origin": "http://example.com"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_when_configured(debug_model):
    app = create_app(Settings(model=str(debug_model), cors_origins=["http://app.example"]))
    with TestClient(app) as c:
        r = c.get("/healthz", headers={"origin": "http://app.example"})
        assert r.headers["access-control-allow-origin"] == "http://app.example"
        pre = c.options("/v1/analyze", headers={"origin": "http://app.example",
                                                 "access-control-request-method": "POST"})
        assert pre.status_code == 200
        other = c.get("/healthz", headers={"origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        too_big = c.post("/v1/analyze", content=bytes(26 * 1024 * 1024),
                         headers={"origin": "http://app.example", "content-type": "audio/wav"})
        assert too_big.status_code == 413  # and the browser may read why
        assert too_big.headers["access-control-allow-origin"] == "http://app.example"


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("EMOVOX_CORS_ORIGINS", "http://a.example, http://b.example")
    monkeypatch.setenv("EMOVOX_MAX_UPLOAD_MB", "3")
    monkeypatch.setenv("EMOVOX_MODEL", "some-model")
    s = Settings()
    assert s.cors_origins == ["http://a.example", "http://b.example"]
    assert s.max_upload_bytes == 3 * 1024 * 1024 and s.model == "some-model"
    assert Settings().max_duration_s == 600 and Settings(cors_origins="[]").cors_origins == []


def test_openapi_lists_routes_with_examples(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ["/v1/analyze", "/v1/models", "/v1/emotions", "/healthz", "/metrics", "/", "/predict",
                 "/api/analyze", "/predict-emotion/", "/predict-realtime/", "/emotions/", "/music-moods/",
                 "/api/classify-emotion", "/api/v1/emotion/analyze/file",
                 "/api/v1/emotion/analyze/multimodal"]:
        assert path in paths, path
    body = paths["/v1/analyze"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "audio/*"} <= set(body)
    schemas = spec["components"]["schemas"]
    assert schemas["AnalyzeResponse"]["examples"][0]["emotion"] == "happy"
    assert "413" in paths["/v1/analyze"]["post"]["responses"]


def test_page_and_status_routes(client):
    assert client.get("/").json() == {"status": "ok"}
    assert client.get("/", headers={"accept": "application/json"}).json() == {"status": "ok"}
    page = client.get("/", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.headers["content-type"].startswith("text/html")
    assert 'id="record"' in page.text and "static/app.js" in page.text and "https://" not in page.text
    head = client.head("/")
    assert head.status_code == 200 and head.content == b""
    assert client.get("/favicon.ico").status_code == 204
    for asset in ("app.js", "style.css", "faces.js", "camera.js", "segments.js"):
        assert client.get(f"/static/{asset}").status_code == 200


def open_temp_files() -> set[str]:
    """Targets of this process's open file descriptors that live in the temp folder."""
    tmp = os.path.realpath(tempfile.gettempdir())
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(tmp):
            found.add(target)
    return found


def test_no_temp_files_left_open_or_on_disk(debug_model):
    """Uploads over the 1 MB spool size go through temp files; none may be left open or on disk."""
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc to list open files")
    data = encode(speech_like(25.0, sr=44_100), 44_100, "wav")  # 2.2 MB, over the spool size
    assert len(data) > 2 * 1024 * 1024
    app = create_app(Settings(model=str(debug_model), max_upload_mb=4))
    with TestClient(app) as c:
        before_open = open_temp_files()
        before_tmp = set(os.listdir(tempfile.gettempdir()))
        for _ in range(3):
            assert post_file(c, data).status_code == 200
            assert post_file(c, data[:-4000] + os.urandom(4000), path="/predict").status_code == 200
            assert post_file(c, b"x" * (3 * 1024 * 1024), path="/api/analyze").status_code == 415
        assert open_temp_files() - before_open == set()
        assert set(os.listdir(tempfile.gettempdir())) - before_tmp == set()


def test_missing_server_extra_names_the_pip_command():
    code = (
        "import sys; sys.modules['fastapi'] = None\n"
        "try:\n    import emovox.server\n"
        "except ImportError as exc:\n    print(type(exc).__name__, exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=subprocess_env(), check=True).stdout
    assert out.startswith("MissingExtraError") and 'pip install "emovox[server]"' in out
