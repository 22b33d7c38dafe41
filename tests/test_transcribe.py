"""Transcripts: Whisper tiny.en on real RAVDESS sentences (WER printed), voice + words in every front end."""

from __future__ import annotations

import csv
import json
import sys

import pytest

import emovox
from conftest import run_emovox
from emovox.analysis.transcribe import word_error_rate

try:
    import ctranslate2  # noqa: F401
except ImportError:
    ctranslate2 = None


def real_asr(test):
    """Slow, needs the real corpora and the transcribe extra."""
    marks = (pytest.mark.slow, pytest.mark.corpus,
             pytest.mark.skipif(ctranslate2 is None, reason="transcription needs the transcribe extra"))
    for mark in marks:
        test = mark(test)
    return test


@pytest.fixture(scope="module")
def ravdess_clips(corpora):
    """Twelve clips: both sentences, neutral and angry, three speakers (one take each)."""
    with open(corpora / "ravdess" / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    picked = {}
    for r in rows:
        if r["speaker"] in ("ravdess_01", "ravdess_10", "ravdess_23") and r["emotion"] in ("neutral", "angry"):
            picked.setdefault((r["speaker"], r["emotion"], r["sentence"]), r)
    picked = list(picked.values())
    return [(corpora / "ravdess" / r["path"], r["sentence"].split(": ", 1)[1]) for r in picked]


@real_asr
def test_transcription_of_real_ravdess_sentences(ravdess_clips):
    from emovox.analysis.transcribe import load_transcriber
    from emovox.io.audio import load_audio

    texts = load_transcriber().transcribe_many([load_audio(p) for p, _ in ravdess_clips])
    rates = [word_error_rate(ref, hyp) for (_, ref), hyp in zip(ravdess_clips, texts)]
    for (path, ref), hyp, wer in zip(ravdess_clips, texts, rates):
        print(f"{path.name}: {ref!r} -> {hyp!r}  WER {wer:.2f}")
    print(f"mean WER over {len(rates)} RAVDESS clips: {sum(rates) / len(rates):.3f}")
    assert sum(rates) / len(rates) <= 0.2


def test_word_error_rate_helper():
    assert word_error_rate("Kids are talking by the door", "kids are talking by the door.") == 0
    assert word_error_rate("a b c d", "a x c") == 0.5


@real_asr
def test_predict_with_transcribe_fills_transcript_text_and_fused(ravdess_clips, debug_model):
    path, sentence = ravdess_clips[0]
    p = emovox.load_model(str(debug_model)).predict(path, transcribe=True, features=False)
    assert word_error_rate(sentence, p.transcript) <= 0.34
    assert isinstance(p.text, emovox.TextPrediction) and p.text.text == p.transcript
    assert p.fused.modalities == ("audio", "text") and p.fused.parts["text"] is p.text
    d = p.to_dict()
    assert d["transcript"] == p.transcript and d["fused"]["per_modality"]["audio"]["emotion"] == p.emotion
    plain = emovox.load_model(str(debug_model)).predict(path, features=False)
    assert plain.transcript is None and "transcript" not in plain.to_dict()


@real_asr
def test_cli_analyze_transcribe_json_and_timeline(ravdess_clips, debug_model):
    path, sentence = ravdess_clips[0]
    out = run_emovox("analyze", str(path), "--transcribe", "--json", "--model", str(debug_model))
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    assert word_error_rate(sentence, row["transcript"]) <= 0.34 and row["fused"]["modalities"] == ["audio", "text"]
    out = run_emovox("analyze", str(path), "--transcribe", "--timeline", "--json", "--model", str(debug_model))
    assert out.returncode == 0, out.stderr
    tl = json.loads(out.stdout)
    assert tl["words"] and all(w["start"] < w["end"] for w in tl["words"])
    said = " ".join(w["transcript"] for w in tl["words"])
    assert word_error_rate(sentence, said) <= 0.34
    table = run_emovox("analyze", str(path), "--transcribe", "--model", str(debug_model))
    assert table.returncode == 0 and "voice + words" in table.stdout


@real_asr
def test_http_analyze_transcribe(ravdess_clips, debug_model):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from emovox.server import Settings, create_app

    path, sentence = ravdess_clips[0]
    with TestClient(create_app(Settings(model=str(debug_model)))) as client:
        r = client.post("/v1/analyze?transcribe=true", files={"file": (path.name, path.read_bytes())})
        assert r.status_code == 200, r.text
        body = r.json()
        assert word_error_rate(sentence, body["transcript"]) <= 0.34
        assert body["fused"]["modalities"] == ["audio", "text"] and body["text"]["emotion"]
        plain = client.post("/v1/analyze", files={"file": (path.name, path.read_bytes())}).json()
        assert "transcript" not in plain
        tl = client.post("/v1/analyze?transcribe=true&timeline=true", files={"file": (path.name, path.read_bytes())})
        assert tl.status_code == 200, tl.text
        words = tl.json()["words"]
        assert words and word_error_rate(sentence, " ".join(w["transcript"] for w in words)) <= 0.34
        assert "words" not in client.post("/v1/analyze?timeline=true",
                                          files={"file": (path.name, path.read_bytes())}).json()


def test_missing_extra_names_the_pip_command(monkeypatch):
    from emovox.analysis.transcribe import Transcriber

    monkeypatch.setitem(sys.modules, "ctranslate2", None)
    with pytest.raises(emovox.MissingExtraError, match=r'pip install "emovox\[transcribe\]"'):
        Transcriber()


def test_http_transcribe_without_the_extra_is_501_naming_the_pip_command(monkeypatch, debug_model):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from conftest import SR, encode, speech_like
    from emovox.analysis.transcribe import load_transcriber
    from emovox.server import Settings, create_app

    load_transcriber.cache_clear()
    monkeypatch.setitem(sys.modules, "ctranslate2", None)
    with TestClient(create_app(Settings(model=str(debug_model)))) as client:
        r = client.post("/v1/analyze?transcribe=true", files={"file": ("a.wav", encode(speech_like(1.0), SR, "wav"))})
    load_transcriber.cache_clear()
    assert r.status_code == 501
    assert 'pip install "emovox[transcribe]"' in r.json()["detail"]


@pytest.mark.skipif(ctranslate2 is None, reason="transcription needs the transcribe extra")
def test_short_clips_get_a_shorter_window_and_long_ones_the_full_30_s(monkeypatch):
    """The window decides the cost (a 3 s clip in 15 s instead of 30 s); a batch shares one window."""
    import numpy as np

    from emovox.analysis.transcribe import Transcriber

    tr = Transcriber()
    frames = []
    monkeypatch.setattr(tr, "model", type("M", (), {"generate": lambda self, feats, prompts, **kw: (
        frames.append(feats.shape), [type("R", (), {"sequences_ids": [[]]})()] * feats.shape[0])[1]})())
    three, eight, forty = (np.zeros(16000 * s, np.float32) for s in (3, 8, 40))
    assert tr.transcribe_many([three]) == [""]
    tr.transcribe_many([three, eight])
    tr.transcribe(forty)
    assert frames == [[1, 80, 1500], [2, 80, 2400], [2, 80, 3000]]
    full = Transcriber(window="full")
    monkeypatch.setattr(full, "model", tr.model)
    full.transcribe(three)
    assert frames[-1] == [1, 80, 3000]
    with pytest.raises(ValueError, match="window must be one of"):
        Transcriber(window="tiny")
