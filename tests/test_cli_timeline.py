"""`emovox analyze --timeline` through the real entry point, with the native debug model (random weights)."""

import csv
import io
import json

import pytest

from conftest import run_emovox, speech_like
from test_timeline import parse_vtt
from timeline_helpers import layout, speech_truth

PARTS = [("silence", 1.5), ("high", 3.0), ("silence", 2.0), ("low", 4.0), ("silence", 1.0)]


@pytest.fixture
def files(write_audio):
    signal, truth = layout(PARTS)
    return write_audio("talk.wav", signal), write_audio("short.flac", speech_like(2.0)), truth


def test_json_lines_one_per_file_and_errors_reported(debug_model, files, tmp_path):
    talk, short, truth = files
    missing = tmp_path / "missing.wav"
    r = run_emovox("analyze", str(short), str(missing), str(talk), "--timeline", "--json",
                   "--model", str(debug_model))
    assert r.returncode == 1, r.stderr
    assert "missing.wav" in r.stderr and "Traceback" not in r.stderr
    first, error, third = (json.loads(line) for line in r.stdout.splitlines())
    assert len(first["segments"]) == 1 and first["segments"][0]["speech"]  # a 2 s clip: one segment
    assert first["segments"][0]["emotion"] in first["labels"]
    assert "error" in error
    speech = [s for s in third["segments"] if s["speech"]]
    assert len(speech) >= len(speech_truth(truth))
    assert all(s["emotion"] is None for s in third["segments"] if not s["speech"])
    assert third["segments"][-1]["end"] == pytest.approx(third["duration_s"], abs=1e-3)


def test_csv_vtt_plot_and_table(debug_model, files, tmp_path):
    talk, _, truth = files
    model = ("--model", str(debug_model))
    r = run_emovox("analyze", str(talk), "--timeline", "--csv", "--window", "2", "--hop", "0.5", *model)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows[0]["speech"] == "0" and rows[0]["emotion"] == "" and float(rows[0]["start"]) == 0.0
    assert {"angry", "happy", "neutral", "sad"} <= set(rows[0])
    pytest.importorskip("matplotlib", reason="--plot needs the plot extra")
    png = tmp_path / "talk.png"
    r = run_emovox("analyze", str(talk), "--timeline", "--vtt", "--plot", str(png), *model)
    assert r.returncode == 0, r.stderr
    cues = parse_vtt(r.stdout)
    assert cues and cues[0][0] == pytest.approx(speech_truth(truth)[0][0], abs=0.3)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    r = run_emovox("analyze", str(talk), "--timeline", *model)
    assert r.returncode == 0, r.stderr
    assert "silence" in r.stdout and "dominant" in r.stdout


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--csv"], "only apply with --timeline"),
        (["--timeline", "--json", "--csv"], "choose one"),
        (["--timeline", "--window", "1", "--hop", "2"], "must not exceed"),
        (["--timeline", "--hop", "0"], "positive number"),
    ],
)
def test_flag_mistakes_are_one_line(files, flags, message):
    talk, _, _ = files
    r = run_emovox("analyze", str(talk), *flags)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr


def test_without_timeline_the_output_is_unchanged(debug_model, files):
    _, short, _ = files
    r = run_emovox("analyze", str(short), "--json", "--no-features", "--model", str(debug_model))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"file", "duration_s", "emotion", "confidence", "scores", "silent", "features", "model",
                        "adapted"}
    assert out["duration_s"] == pytest.approx(2.0) and "segments" not in out
