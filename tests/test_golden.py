"""Golden outputs: fixed audio, image, video and text inputs through the CLI JSON and the HTTP routes.

A move of code is behaviour-free when these stay byte-identical. Only truly volatile fields (wall-clock
timings and timestamps) are masked. Regenerate (on purpose, after a real behaviour change) with
``EMOVOX_REGEN_GOLDEN=1 python -m pytest tests/test_golden.py``.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import SR, encode, speech_like, tone
from media_helpers import drawn_image, image_bytes, moving_frames, video_bytes

pytest.importorskip("av")
pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from emovox.server import Settings, create_app  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("EMOVOX_REGEN_GOLDEN") == "1"
VOLATILE = {"timestamp", "processing_time", "processing_time_ms", "elapsed_s", "elapsed_ms", "latency_ms",
            "took_ms", "time_ms", "duration_ms_processing"}
TEXTS = ["I'm so happy for you, congratulations!", "Stop lying to me, I hate you."]


def _mask(value):
    if isinstance(value, dict):
        return {k: ("<volatile>" if k in VOLATILE else _mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def check(name: str, value) -> None:
    """Compare ``value`` (masked, as canonical JSON text) with tests/golden/<name>.json."""
    text = json.dumps(_mask(value), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    path = GOLDEN / f"{name}.json"
    if REGEN:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: generate it with EMOVOX_REGEN_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden output"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, bytes]:
    speech = speech_like(2.0)
    long_talk = np.concatenate([speech_like(3.0, seed=1), np.zeros(SR, np.float32),
                                speech_like(4.0, seed=2, f0=200.0), tone(330.0, 1.0, amp=0.0)])
    return {
        "clip.wav": encode(speech, SR, "wav"),
        "clip.mp3": encode(speech_like(1.5, seed=3), SR, "mp3"),
        "long.wav": encode(long_talk, SR, "wav"),
        "silence.wav": encode(np.zeros(SR, np.float32), SR, "wav"),
        "drawing.png": image_bytes(drawn_image()),
        "talk.mp4": video_bytes(moving_frames(2.0), audio=speech),
        "mute.mp4": video_bytes(moving_frames(1.0)),
    }


@pytest.fixture(scope="module")
def folder(inputs, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("golden-inputs")
    for name, data in inputs.items():
        (root / name).write_bytes(data)
    return root


def cli_json(capsys, monkeypatch, folder: Path, *args: str) -> dict:
    """Run ``emovox <args>`` in-process from ``folder`` (so file names are relative): exit code and rows."""
    from emovox.cli import main

    monkeypatch.chdir(folder)
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr().out
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {"exit": code, "rows": rows}


def test_cli_analyze_json(capsys, monkeypatch, folder, debug_model):
    check("cli_analyze", cli_json(capsys, monkeypatch, folder, "analyze", "clip.wav", "clip.mp3", "silence.wav",
                                  "talk.mp4", "drawing.png", "--json", "--model", str(debug_model)))
    check("cli_analyze_top2_nofeatures", cli_json(capsys, monkeypatch, folder, "analyze", "clip.wav", "--json",
                                                  "--top-k", "2", "--no-features", "--model", str(debug_model)))


def test_cli_timeline_json(capsys, monkeypatch, folder, debug_model):
    check("cli_timeline", cli_json(capsys, monkeypatch, folder, "analyze", "long.wav", "--timeline", "--json",
                                   "--model", str(debug_model)))
    check("cli_timeline_video", cli_json(capsys, monkeypatch, folder, "analyze", "talk.mp4", "--timeline", "--json",
                                         "--model", str(debug_model)))


def test_cli_text_json(capsys, monkeypatch, folder):
    check("cli_text", cli_json(capsys, monkeypatch, folder, "text", *TEXTS, "--json"))


@pytest.fixture(scope="module")
def client(debug_model):
    with TestClient(create_app(Settings(model=str(debug_model)))) as c:
        yield c


def answer(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return {"status": response.status_code, "body": body}


def test_http_v1(client, inputs):
    out = {}
    for name in ("clip.wav", "clip.mp3", "silence.wav", "talk.mp4", "drawing.png", "mute.mp4"):
        out[f"analyze {name}"] = answer(client.post("/v1/analyze", files={"file": (name, inputs[name])}))
    out["analyze timeline long.wav"] = answer(client.post(
        "/v1/analyze?timeline=true", files={"file": ("long.wav", inputs["long.wav"])}))
    out["analyze raw body top_k=2"] = answer(client.post(
        "/v1/analyze?top_k=2&features=false", content=inputs["clip.wav"], headers={"content-type": "audio/wav"}))
    out["analyze not audio"] = answer(client.post("/v1/analyze", files={"file": ("notes.wav", b"not audio at all")}))
    out["emotions"] = answer(client.get("/v1/emotions"))
    check("http_v1", out)


def test_http_faces(client, inputs):
    out = {name: answer(client.post("/v1/faces", files={"file": (name, inputs[name])}))
           for name in ("drawing.png", "talk.mp4", "clip.wav")}
    check("http_faces", out)


def test_http_text(client):
    out = {
        "v1 one": answer(client.post("/v1/text", json={"text": TEXTS[0]})),
        "v1 many": answer(client.post("/v1/text", json={"texts": TEXTS})),
        "v1 blank": answer(client.post("/v1/text", json={"text": "   "})),
        "seed text": answer(client.post("/api/v1/emotion/analyze/text", json={"text": TEXTS[1]})),
    }
    check("http_text", out)


def test_http_compat(client, inputs):
    out = {}
    for route in ("/predict", "/api/analyze", "/api/v1/emotion/analyze/file"):
        for name in ("clip.wav", "talk.mp4", "silence.wav"):
            out[f"{route} {name}"] = answer(client.post(route, files={"file": (name, inputs[name])}))
    wav64 = base64.b64encode(inputs["clip.wav"]).decode()
    video64 = base64.b64encode(inputs["talk.mp4"]).decode()
    multimodal = {
        "text": {"text": TEXTS[0]},
        "audio": {"audio_base64": wav64},
        "audio+text": {"audio_base64": wav64, "text": TEXTS[1]},
        "video": {"video_base64": video64},
        "video+text": {"video_base64": video64, "text": TEXTS[0]},
        "empty": {},
    }
    for label, body in multimodal.items():
        out[f"multimodal {label}"] = answer(client.post("/api/v1/emotion/analyze/multimodal", json=body))
    check("http_compat", out)


def test_python_api(folder, debug_model, monkeypatch):
    """The documented Python calls: predict of every medium, predict_many mixed, timeline, stream."""
    import emovox

    monkeypatch.chdir(folder)
    folder = Path(".")

    model = emovox.load_model(str(debug_model))
    out = {"repr": repr(model)}
    for name in ("clip.wav", "talk.mp4", "drawing.png", "mute.mp4"):
        out[f"predict {name}"] = model.predict(folder / name).to_dict()
    out["predict faces=False talk.mp4"] = model.predict(folder / "talk.mp4", faces=False).to_dict()
    many = model.predict_many([folder / "clip.wav", folder / "talk.mp4", b"not audio", folder / "silence.wav"],
                              errors="return", batch_size=2)
    out["predict_many"] = [x.to_dict() if hasattr(x, "to_dict") else f"{type(x).__name__}: {x}" for x in many]
    out["restricted"] = model.restrict("happy,sad").predict(folder / "clip.mp3").to_dict()
    out["timeline"] = model.timeline(folder / "long.wav").to_dict()
    signal = speech_like(3.0)
    chunks = [signal[i:i + 1600] for i in range(0, signal.size, 1600)] + [np.zeros(SR, np.float32)]
    out["stream"] = [e.to_dict() if hasattr(e, "to_dict") else repr(e) for e in model.stream(chunks)]
    out["analyze_media"] = emovox.analyze_media("talk.mp4", fps=2).to_dict()
    check("python_api", out)
