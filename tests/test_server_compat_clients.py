"""Each earlier backend's own client, run against the real app: what it sends, and what it reads.

One small class per earlier backend does what that backend's front end does (the same routes,
fields, file types, origins and the keys it reads), so a test fails exactly where that front end
would break or show the wrong thing. The model is a tiny random wav2vec2 with the built-in model's
nine labels, biased so that 'fearful' wins, 'surprised' comes next and 'boredom' takes a real share:
a backend's route must mask the labels it never had and rename the ones it named differently.
"""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from conftest import SR, encode, speech_like  # noqa: E402
from emovox.server import Settings, create_app  # noqa: E402

LABELS = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised", "boredom"]
BIAS = [0.0, 1.0, 0.0, 0.0, 0.0, 6.0, 0.0, 4.0, 3.0]
WAV = encode(speech_like(2.0), SR, "wav")
FRONT_END = "http://localhost:3000"


@pytest.fixture(scope="module")
def nine_label_model(tmp_path_factory):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(2)
    config = transformers.Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        conv_dim=(32, 32), conv_stride=(5, 4), conv_kernel=(10, 8), num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2, classifier_proj_size=16,
        id2label=dict(enumerate(LABELS)), label2id={n: i for i, n in enumerate(LABELS)},
    )
    model = transformers.Wav2Vec2ForSequenceClassification(config).eval()
    with torch.no_grad():
        model.classifier.bias.copy_(torch.tensor(BIAS))
    folder = tmp_path_factory.mktemp("nine-label-er")
    model.save_pretrained(folder)
    transformers.Wav2Vec2FeatureExtractor(sampling_rate=SR, return_attention_mask=False).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def http(nine_label_model):
    with TestClient(create_app(Settings(model=str(nine_label_model)))) as c:
        yield c


def restricted_v1(http, labels: str) -> dict[str, float]:
    """emovox's own answer restricted to ``labels``: what a compat route must agree with."""
    r = http.post(f"/v1/analyze?labels={labels}&features=false", files={"file": ("clip.wav", WAV)})
    assert r.status_code == 200, r.text
    return r.json()["scores"]


# --- SER_wav2vec ------------------------------------------------------------------------------
class SerWav2vecPage:
    """SER_wav2vec's page: posts `file` to /predict (through its Next.js proxy), keys the results by
    its eight names (percent, rounded) and drops any other label; on failure it shows `data.error`,
    else 'Request failed'."""

    EMOTIONS = ("angry", "calm", "disgust", "fear", "happy", "neutral", "sad", "surprise")

    def __init__(self, http):
        self.http = http

    def upload(self, data: bytes, name: str = "recording.wav") -> tuple[dict[str, int] | None, str | None]:
        r = self.http.post("/predict", files={"file": (name, data, "audio/wav")})
        body = r.json()
        if not r.is_success or "results" not in body:
            return None, str(body["error"]) if body.get("error") else "Request failed"
        shown = dict.fromkeys(self.EMOTIONS, 0)
        for item in body["results"]:
            key = item["label"].lower()
            if key in shown:
                shown[key] = round(item["score"] * 100)
        return shown, None


def test_ser_wav2vec_page_sees_its_eight_emotions(http):
    body = http.post("/predict", files={"file": ("clip.wav", WAV)}).json()
    assert [r["label"] for r in body["results"]] != [] and body["dominant"] == body["results"][0]
    assert sorted(r["label"] for r in body["results"]) == sorted(SerWav2vecPage.EMOTIONS)
    expected = restricted_v1(http, "angry,calm,disgust,fearful,happy,neutral,sad,surprised")
    names = {"fearful": "fear", "surprised": "surprise"}
    assert {r["label"]: r["score"] for r in body["results"]} == pytest.approx(
        {names.get(k, k): v for k, v in expected.items()})
    shown, error = SerWav2vecPage(http).upload(WAV)
    assert error is None
    assert max(shown, key=shown.get) == "fear"  # a fearful clip is shown as fear, not as 'sad 14 %'
    assert shown["surprise"] > 0 and 99 <= sum(shown.values()) <= 101  # nothing dropped, no boredom


def test_ser_wav2vec_page_shows_the_reason_of_an_error(http):
    shown, error = SerWav2vecPage(http).upload(b"just some text\n" * 10, name="notes.wav")
    assert shown is None and "notes.wav" in error and "Request failed" not in error
    r = http.post("/predict", files={"wrong": ("clip.wav", WAV)})  # a validation error, as text
    assert r.status_code == 422 and "file" in r.json()["error"] and isinstance(r.json()["detail"], list)
    v1 = http.post("/v1/analyze", files={"file": ("notes.wav", b"just some text\n" * 10)})
    assert "error" not in v1.json()  # emovox's own routes keep their one `detail`
    big = bytes(26 * 1024 * 1024)  # over the 25 MiB limit: answered by the size limit, before the route
    too_big = http.post("/predict", content=big, headers={"content-type": "multipart/form-data; boundary=x"})
    assert too_big.status_code == 413 and "MiB" in too_big.json()["error"]
    assert "error" not in http.post("/v1/analyze", content=big).json()


# --- the mel-CNN backend ----------------------------------------------------------------------
class MelCnnApp:
    """The mel-CNN backend's mobile app: uploads the m4a recording in multipart field `audio` to
    {apiUrl}/classify-emotion-upload and types the answer as one of its five emotions."""

    EMOTIONS = {"happy", "sad", "angry", "surprised", "neutral"}

    def __init__(self, http, api_url: str = "/api"):
        self.http, self.api_url = http, api_url

    def classify_upload(self, data: bytes, name: str = "recording-1712.m4a") -> dict:
        r = self.http.post(f"{self.api_url}/classify-emotion-upload",
                           files={"audio": (name, data, "audio/m4a")})
        if not r.is_success:
            raise RuntimeError(f"Upload failed: {r.status_code}")
        return r.json()


def test_mel_cnn_app_uploads_m4a_in_field_audio(http):
    m4a = encode(speech_like(2.0), SR, "m4a")
    result = MelCnnApp(http).classify_upload(m4a)
    assert set(result) == {"emotion", "confidence"}
    assert result["emotion"] in MelCnnApp.EMOTIONS and result["emotion"] == "surprised"
    expected = restricted_v1(http, "happy,sad,angry,surprised,neutral")
    assert result["confidence"] == round(expected["surprised"], 2) and result["confidence"] > 0.5
    missing = http.post("/api/classify-emotion-upload", files={"file": ("a.m4a", m4a, "audio/m4a")})
    assert missing.status_code == 422 and "audio" in missing.json()["error"]


def test_mel_cnn_classify_answers_only_its_five(http):
    body = http.post("/api/classify-emotion", files={"file": ("clip.wav", WAV)}).json()
    assert body["emotion"] in MelCnnApp.EMOTIONS  # fearful (the model's top label) is masked
    silent = http.post("/api/classify-emotion", files={"file": ("s.wav", encode(np.zeros(SR, np.float32), SR, "wav"))})
    assert silent.status_code == 422 and "no speech" in silent.json()["error"]


# --- the music-player backend -----------------------------------------------------------------
class MusicPlayerClient:
    """The music-player backend's clients: /predict-emotion/ (`file`), /predict-realtime/
    (`audio_buffer`), /emotions/ and /music-moods/, with its player's eight moods."""

    EMOTIONS = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    MOODS = {"neutral": "chill", "calm": "relaxing", "happy": "upbeat", "sad": "uplifting",
             "angry": "energetic", "fearful": "calming", "disgust": "neutral", "surprised": "exciting"}

    def __init__(self, http):
        self.http = http

    def predict(self, data: bytes) -> dict:
        return self.http.post("/predict-emotion/", files={"file": ("voice_sample.wav", data)}).json()

    def realtime(self, data: bytes) -> dict:
        return self.http.post("/predict-realtime/", files={"audio_buffer": ("buffer.wav", data)}).json()


def test_music_player_lists_its_eight_emotions_and_moods(http):
    client = MusicPlayerClient(http)
    assert http.get("/emotions/").json() == {"emotions": client.EMOTIONS, "count": 8}
    assert http.get("/music-moods/").json() == client.MOODS


def test_music_player_predictions_use_its_classes_and_moods(http):
    client = MusicPlayerClient(http)
    body = client.predict(WAV)
    assert sorted(body["all_probabilities"]) == sorted(client.EMOTIONS)  # no boredom
    assert sum(body["all_probabilities"].values()) == pytest.approx(1)
    expected = restricted_v1(http, ",".join(client.EMOTIONS))
    assert body["all_probabilities"] == pytest.approx(expected)
    assert body["emotion"] == "fearful" and body["music_mood"] == "calming"
    assert body["confidence"] == round(expected["fearful"], 4)
    quick = client.realtime(WAV)
    assert quick == {"emotion": "fearful", "confidence": body["confidence"], "music_mood": "calming"}


# --- the Wav2Vec2 guide -----------------------------------------------------------------------
GUIDE_EMOTIONS = {  # the guide's EMOTIONS table
    "happy": ("Happy", "#22c55e", "😊"), "sad": ("Sad", "#3b82f6", "😢"),
    "angry": ("Angry", "#ef4444", "😠"), "neutral": ("Neutral", "#6b7280", "😐"),
    "fearful": ("Fearful", "#a855f7", "😨"), "surprised": ("Surprised", "#f59e0b", "😮"),
    "disgusted": ("Disgusted", "#84cc16", "🤢"),
}


class GuidePage:
    """The Wav2Vec2 guide's Next.js page on http://localhost:3000: preflights and posts `file` to
    http://localhost:8000/api/analyze, then prints every audio feature with `.toFixed()`."""

    def __init__(self, http):
        self.http = http

    def analyze(self, data: bytes, name: str = "audio.wav"):
        headers = {"origin": FRONT_END}
        pre = self.http.options("/api/analyze", headers={**headers, "access-control-request-method": "POST"})
        if pre.status_code != 200 or pre.headers.get("access-control-allow-origin") != FRONT_END:
            raise RuntimeError(f"CORS preflight refused: {pre.status_code}")
        r = self.http.post("/api/analyze", files={"file": (name, data, "audio/wav")}, headers=headers)
        if r.headers.get("access-control-allow-origin") != FRONT_END:
            raise RuntimeError("the browser hides the answer: no CORS header")
        return r

    @staticmethod
    def to_fixed(features: dict) -> dict[str, str]:
        """What `value.toFixed(2)` prints; a null value throws in the browser."""
        out = {}
        for key, value in features.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise TypeError(f"Cannot read properties of null (reading 'toFixed'): {key}")
            out[key] = f"{value:.2f}"
        return out


@pytest.fixture(scope="module")
def guide_http(nine_label_model):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CORS_ORIGINS", f"{FRONT_END}, http://localhost:3001")
        mp.delenv("EMOVOX_CORS_ORIGINS", raising=False)
        app = create_app(Settings(model=str(nine_label_model)))
    with TestClient(app) as c:
        yield c


def test_guide_page_gets_its_emotions_and_metadata(guide_http):
    body = GuidePage(guide_http).analyze(WAV).json()
    entries = {e["emotion"]: e for e in body["emotion_scores"]}
    assert set(entries) == set(GUIDE_EMOTIONS)
    for name, (label, color, emoji) in GUIDE_EMOTIONS.items():
        assert (entries[name]["label"], entries[name]["color"], entries[name]["emoji"]) == (label, color, emoji)
    assert body["dominant_emotion"] == "fearful" and entries["fearful"]["emoji"] == "😨"
    expected = restricted_v1(guide_http, "happy,sad,angry,neutral,fearful,surprised,disgust")
    assert entries["disgusted"]["score"] == pytest.approx(100 * expected["disgust"], abs=0.01)
    assert sum(e["score"] for e in entries.values()) == pytest.approx(100, abs=0.05)


def clicks(bpm: float, seconds: float = 6.0) -> np.ndarray:
    """Decaying noise bursts every beat over a quiet noise floor."""
    rng = np.random.default_rng(int(bpm))
    x = 0.01 * rng.standard_normal(int(seconds * SR))
    for start in (np.arange(0.1, seconds - 0.05, 60 / bpm) * SR).astype(int):
        n = min(400, x.size - start)
        x[start : start + n] += rng.standard_normal(n) * np.exp(-np.arange(n) / 80)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def test_guide_audio_features_have_its_meanings(guide_http):
    page = GuidePage(guide_http)
    features = page.analyze(WAV).json()["audio_features"]
    page.to_fixed(features)
    assert 0 < features["energy_std"] < features["energy_mean"] < 1  # RMS amplitude, not dB
    assert 100 < features["pitch_mean"] < 200 and features["sample_rate"] == 16000
    assert 40 <= features["tempo"] <= 320  # beats per minute, not syllables per second
    beat = page.analyze(encode(clicks(100), SR, "wav"), name="beat.wav").json()["audio_features"]
    assert beat["tempo"] == pytest.approx(100, rel=0.03)
    assert beat["pitch_mean"] == 0.0 and beat["pitch_std"] == 0.0  # unvoiced: numbers, not null
    page.to_fixed(beat)


@pytest.mark.parametrize("bpm", [70, 90, 120, 140, 160])
def test_tempo_estimate_on_click_tracks(bpm):
    from emovox.server.compat_features import tempo_bpm

    assert tempo_bpm(clicks(bpm), SR) == pytest.approx(bpm, rel=0.02)


def test_no_pulse_and_rms_of_a_sine():
    from emovox.server.compat_features import rms_energy, tempo_bpm

    assert tempo_bpm(np.zeros(3 * SR, np.float32), SR) == 0.0
    assert tempo_bpm(clicks(120, seconds=0.3), SR) == 0.0  # too short to hold a beat period
    sine = np.sin(2 * np.pi * 220 * np.arange(SR) / SR).astype(np.float32) * 0.1
    energy = rms_energy(sine, SR)  # peak-normalised: a sine's RMS is 1/sqrt(2), steady
    assert energy["energy_mean"] == pytest.approx(0.7071, abs=1e-4) and energy["energy_std"] < 0.01


def test_tempo_estimate_agrees_with_librosa():
    librosa = pytest.importorskip("librosa")
    from emovox.server.compat_features import tempo_bpm

    for bpm in (70, 100, 140):
        x = clicks(bpm)
        assert tempo_bpm(x, SR) == pytest.approx(float(librosa.feature.tempo(y=x, sr=SR)[0]), rel=0.04)


# --- CORS -------------------------------------------------------------------------------------
def test_cors_origins_variable_opens_preflight_and_error_answers(guide_http):
    pre = guide_http.options("/predict", headers={"origin": "http://localhost:3001",
                                                  "access-control-request-method": "POST"})
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "http://localhost:3001"
    bad = guide_http.post("/api/analyze", files={"file": ("n.wav", b"text, not audio " * 9)},
                          headers={"origin": FRONT_END})
    assert bad.status_code == 415 and bad.headers["access-control-allow-origin"] == FRONT_END
    too_big = guide_http.post("/api/analyze", content=bytes(26 * 1024 * 1024),
                              headers={"origin": FRONT_END, "content-type": "multipart/form-data; boundary=x"})
    assert too_big.status_code == 413 and too_big.headers["access-control-allow-origin"] == FRONT_END
    other = guide_http.options("/api/analyze", headers={"origin": "http://evil.example",
                                                        "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in other.headers


def test_cors_closed_by_default_and_emovox_variable_first(http, monkeypatch):
    pre = http.options("/api/analyze", headers={"origin": FRONT_END, "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in pre.headers
    monkeypatch.setenv("CORS_ORIGINS", "http://a.example")
    assert Settings().cors_origins == ["http://a.example"]
    monkeypatch.setenv("EMOVOX_CORS_ORIGINS", "http://b.example,http://c.example")
    assert Settings().cors_origins == ["http://b.example", "http://c.example"]
    assert Settings(cors_origins=["http://d.example"]).cors_origins == ["http://d.example"]


# --- emovox's own page ------------------------------------------------------------------------
class Sections(HTMLParser):
    def __init__(self):
        super().__init__()
        self.order: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.order.append(a.get("id") or a.get("aria-labelledby", ""))


def test_page_puts_results_right_under_the_upload_panel(http):
    html = http.get("/", headers={"accept": "text/html"}).text
    parser = Sections()
    parser.feed(html)
    # every result view (timeline, conversation, one clip) sits right under the upload panel, before Live
    assert parser.order[:5] == ["input-title", "timeline-results", "conversation-results", "results", "live-title"]
    assert 'id="results-title" tabindex="-1"' in html  # the heading takes the focus after an upload
