"""The `emovox` command through its real entry point (python -m emovox) in a child process."""

import json

import numpy as np
import pytest

from conftest import encode, run_emovox, speech_like
from emovox import __version__


@pytest.fixture
def clips(tmp_path):
    good_wav = tmp_path / "a.wav"
    good_wav.write_bytes(encode(speech_like(1.2), 16000, "wav"))
    good_mp3 = tmp_path / "b.mp3"
    good_mp3.write_bytes(encode(speech_like(1.0, seed=3), 16000, "mp3"))
    bad = tmp_path / "notes.wav"
    bad.write_text("meeting notes, not audio")
    return good_wav, good_mp3, bad


def test_version_and_help():
    out = run_emovox("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"emovox {__version__}"
    help_text = run_emovox("--help").stdout
    for command in ("analyze", "models"):
        assert command in help_text
    assert "--top-k" in run_emovox("analyze", "--help").stdout


def test_analyze_json_lines(clips, debug_model):
    good_wav, good_mp3, _ = clips
    out = run_emovox("analyze", str(good_wav), str(good_mp3), "--json", "--model", str(debug_model))
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["file"] for r in rows] == [str(good_wav), str(good_mp3)]
    for r in rows:
        assert set(r["scores"]) == {"angry", "happy", "neutral", "sad"}
        assert sum(r["scores"].values()) == pytest.approx(1, abs=1e-6)
        assert r["emotion"] in r["scores"] and 0 <= r["confidence"] <= 1
        assert r["model"] and r["duration_s"] > 0.9


def test_failed_file_is_reported_others_still_analyzed(clips, debug_model):
    good_wav, _, bad = clips
    out = run_emovox("analyze", str(bad), str(good_wav), "--json", "--top-k", "2", "--no-features",
                     "--model", str(debug_model))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert f"emovox: error: {bad}: could not decode" in out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert "error" in rows[0] and rows[1]["file"] == str(good_wav) and len(rows[1]["scores"]) == 2


def test_table_output_names_the_dominant_emotion(clips, debug_model):
    good_wav, _, _ = clips
    out = run_emovox("analyze", str(good_wav), "--no-features", "--model", str(debug_model),
                     env_extra={"COLUMNS": "120"})
    assert out.returncode == 0, out.stderr
    assert "a.wav" in out.stdout and "confidence" in out.stdout
    for label in ("Angry", "Happy", "Neutral", "Sad"):
        assert label in out.stdout


def test_user_mistakes_are_one_line_errors(tmp_path):
    out = run_emovox("analyze", str(tmp_path / "x.wav"), "--model", "no-such-model")
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert "unknown model 'no-such-model'" in out.stderr and "Traceback" not in out.stderr
    bad_k = run_emovox("analyze", "x.wav", "--top-k", "0")
    assert bad_k.returncode == 2 and "positive integer" in bad_k.stderr


def test_models_lists_the_default():
    out = run_emovox("models", "--json")
    assert out.returncode == 0
    rows = json.loads(out.stdout)
    default = [r for r in rows if r["default"]]
    assert len(default) == 1 and default[0]["name"] == "emovox-base"
    assert "emovox-base" in run_emovox("models", env_extra={"COLUMNS": "200"}).stdout


@pytest.mark.parametrize("args", [
    ("analyze", "{wav}", "--max-duration", "0"),
    ("analyze", "{wav}", "--max-duration", "-5", "--timeline"),
    ("analyze", "{wav}", "--timeline", "--window", "2", "--hop", "3"),
    ("batch", "{wav}", "--out", "{tmp}/r.csv", "--max-duration", "0", "--no-features"),
])
def test_option_values_out_of_range_are_one_line_errors(clips, tmp_path, debug_model, args):
    good_wav, _, _ = clips
    argv = [a.format(wav=good_wav, tmp=tmp_path) for a in args] + ["--model", str(debug_model)]
    out = run_emovox(*argv)
    assert out.returncode in (1, 2) and "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("emovox"), out.stderr
    assert "max_duration_s must be" in lines[0] or "--hop (3) must not exceed --window (2)" in lines[0]


def test_option_errors_are_emovox_errors_and_still_value_errors(debug_model):
    import emovox
    from emovox.errors import EmovoxError, OptionError

    for bad in ({"max_duration_s": 0}, {"max_duration_s": -1.0}):
        with pytest.raises(OptionError, match="max_duration_s must be") as caught:
            emovox.load_model(str(debug_model), **bad)
        assert isinstance(caught.value, EmovoxError) and isinstance(caught.value, ValueError)
    model = emovox.load_model(str(debug_model), features=False)
    with pytest.raises(OptionError, match=r"hop_s \(2\) must not exceed window_s \(1\)"):
        model.timeline((np.zeros(16_000, np.float32), 16_000), window_s=1, hop_s=2)
    with pytest.raises(OptionError, match="batch_size"):
        model.predict_many([], batch_size=0)
