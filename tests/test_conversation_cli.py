"""`emovox analyze --timeline --speakers` through the real entry point (debug model: random weights,
so only the speakers, times and shapes are known answers, not the emotions)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from conftest import run_emovox
from conversation_helpers import talk


@pytest.fixture(scope="module")
def two_voices(tmp_path_factory):
    import soundfile as sf

    signal, truth = talk("LHLH", 3.0)
    path = tmp_path_factory.mktemp("conv") / "talk.wav"
    sf.write(path, signal, 16_000)
    return path, truth


def test_json_segments_carry_the_speaker(debug_model, two_voices, tmp_path):
    path, truth = two_voices
    missing = tmp_path / "missing.wav"
    r = run_emovox("analyze", str(path), str(missing), "--timeline", "--speakers", "--json",
                   "--model", str(debug_model))
    assert r.returncode == 1 and "missing.wav" in r.stderr and "Traceback" not in r.stderr
    body, error = (json.loads(line) for line in r.stdout.splitlines())
    assert "error" in error
    assert body["num_speakers"] == 2 and [s["speaker"] for s in body["speakers"]] == ["S1", "S2"]
    segs = body["segments"]
    assert [s["speaker"] for s in segs] == ["S1", "S2", "S1", "S2"]
    for s, (a, b, _) in zip(segs, truth, strict=True):
        assert abs(s["start_s"] - a) < 0.3 and abs(s["end_s"] - b) < 0.3
        assert s["emotion"] in body["labels"] and s["adapted"] is None  # 2 turns each: too few to adapt


def test_csv_vtt_num_speakers_and_plot(debug_model, two_voices, tmp_path):
    path, _ = two_voices
    model = ("--model", str(debug_model))
    r = run_emovox("analyze", str(path), "--timeline", "--speakers", "--csv", *model)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["speaker"] for row in rows] == ["S1", "S2", "S1", "S2"]
    assert {"start", "end", "emotion", "confidence", "adapted", "angry", "happy", "neutral", "sad"} <= set(rows[0])
    r = run_emovox("analyze", str(path), "--timeline", "--speakers", "--vtt", "--num-speakers", "1", *model)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("WEBVTT") and set(re.findall(r"<v (S\d+)>", r.stdout)) == {"S1"}
    r = run_emovox("analyze", str(path), "--timeline", "--speakers", *model)
    assert r.returncode == 0 and "S2" in r.stdout and "speaker" in r.stdout
    pytest.importorskip("matplotlib", reason="--plot needs the plot extra")
    png = tmp_path / "talk.png"
    r = run_emovox("analyze", str(path), "--timeline", "--speakers", "--plot", str(png), "--json", *model)
    assert r.returncode == 0, r.stderr
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--speakers"], "--speakers only applies with --timeline"),
        (["--timeline", "--num-speakers", "2"], "--num-speakers only applies with --timeline --speakers"),
        (["--timeline", "--speakers", "--csv", "--vtt"], "choose one of"),
        (["--timeline", "--speakers", "--num-speakers", "0"], "positive integer"),
    ],
)
def test_bad_flags(two_voices, flags, message):
    r = run_emovox("analyze", str(two_voices[0]), *flags)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
