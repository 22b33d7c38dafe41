"""The text loader, the built-in text model through the public API, and its training export."""

from __future__ import annotations

import json

import pytest

import emovox
from emovox.errors import TextError, TextTooLongError
from emovox.io.text import MAX_TEXT_LENGTH, load_text, max_text_length


def test_load_text_normalises_quotes_spaces_and_controls():
    assert load_text("  I can\u2019t\u00a0  believe\tit!\n") == "I can't believe it!"
    assert load_text("a\x00b\u200bc") == "a b c"
    assert load_text("\ufeffcaf\u00e9".encode()) == "café"


@pytest.mark.parametrize("bad", ["", "   ", "\n\t ", "\x00\x01", b"", b"  \n"])
def test_empty_or_whitespace_text_is_refused(bad):
    with pytest.raises(TextError, match="empty|whitespace"):
        load_text(bad)


def test_non_utf8_bytes_are_refused_with_the_offset():
    with pytest.raises(TextError, match=r"not valid UTF-8 \(byte 0xff at offset 3\)"):
        load_text(b"abc\xff\xfe")


def test_length_limit_default_and_environment(monkeypatch):
    monkeypatch.delenv("EMOVOX_MAX_TEXT_LENGTH", raising=False)
    monkeypatch.delenv("MAX_TEXT_LENGTH", raising=False)
    assert max_text_length() == MAX_TEXT_LENGTH == 5000
    load_text("a" * 5000)
    with pytest.raises(TextTooLongError, match="5,001 characters long; the limit is 5,000"):
        load_text("a" * 5001)
    monkeypatch.setenv("MAX_TEXT_LENGTH", "10")  # the seed's name
    with pytest.raises(TextTooLongError):
        load_text("eleven char")
    monkeypatch.setenv("EMOVOX_MAX_TEXT_LENGTH", "20")  # emovox's name wins
    assert load_text("eleven char") == "eleven char"
    monkeypatch.setenv("EMOVOX_MAX_TEXT_LENGTH", "lots")
    with pytest.raises(TextError, match="EMOVOX_MAX_TEXT_LENGTH must be a positive whole number"):
        load_text("hello")


@pytest.fixture(scope="module")
def tm():
    return emovox.load_text_model()


@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        ("I'm so happy for you, congratulations!", "happy"),
        ("Stop lying to me, I hate you.", "angry"),
        ("I miss her so much, I've been crying all day.", "sad"),
        ("I'm really scared of what happens next.", "fearful"),
        ("Wow, I did not expect that at all!", "surprised"),
        ("That is absolutely disgusting, gross.", "disgust"),
        ("The meeting is at 3 pm in room 12.", "neutral"),
    ],
)
def test_builtin_text_model_on_clear_sentences(tm, text, emotion):
    p = tm.predict(text)
    assert isinstance(p, emovox.TextPrediction)
    assert p.emotion == emotion, p.top(3)
    assert set(p.scores) == set(tm.labels) == {"neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised"}
    assert sum(p.scores.values()) == pytest.approx(1.0)
    assert p.confidence == max(p.scores.values())
    d = p.to_dict(top_k=2)
    assert d["emotion"] == emotion and len(d["scores"]) == 2 and d["text"] == text


def test_predict_many_matches_predict_and_checks_every_text(tm):
    texts = ["I love this so much", "This is terrible news, I'm heartbroken", "ok"] * 30
    many = tm.predict_many(texts, batch_size=7)
    assert [p.emotion for p in many] == [tm.predict(t).emotion for t in texts]
    assert many[1].scores == pytest.approx(tm.predict(texts[1]).scores)
    with pytest.raises(TextError, match="whitespace"):
        tm.predict_many(["fine", "   "])


def test_builtin_model_assets_fit_the_budget_and_match_their_training():
    from emovox.recognizers.words import DEFAULT_TEXT_MODEL

    size = sum(f.stat().st_size for f in DEFAULT_TEXT_MODEL.iterdir())
    assert size < 30_000_000  # issue 17: shipped text-model assets <= 30 MB
    config = json.loads((DEFAULT_TEXT_MODEL / "text_model.json").read_text())
    assert config["arch"] == "minilm-onnx" and config["version"] == "2.0"
    assert "GoEmotions" in config["licence"] and "MiniLM" in config["licence"]
    training = config["training"]
    assert training["parity_max_abs_diff_dev_fp32"] < 1e-4  # ONNX vs torch on every dev text
    kept = training[f"dev_macro_f1_onnx_{config['weights']}"]
    assert kept >= training["dev_macro_f1_onnx_fp32"] - 0.005  # int8 only if it keeps the score
    assert kept > 0.5733  # emovox-text 1.0's dev macro-F1


def test_missing_text_model_folder_is_a_model_error(tmp_path):
    with pytest.raises(emovox.ModelError, match="no text model"):
        emovox.load_text_model(str(tmp_path))


def test_import_emovox_and_text_model_stay_light():
    import subprocess
    import sys

    code = ("import sys, emovox; at_import = [m for m in ('onnxruntime', 'tokenizers') if m in sys.modules];"
            "emovox.load_text_model().predict('hello there');"
            "bad = [m for m in ('torch', 'sklearn', 'fastapi', 'transformers') if m in sys.modules];"
            "print(at_import, bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] []"
