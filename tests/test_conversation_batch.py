"""`emovox batch --timeline --speakers`: one row per conversation segment with its speaker."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from conftest import run_emovox
from conversation_helpers import talk
from emovox.batch import run_batch
from emovox.errors import EmovoxError


@pytest.fixture
def folder(tmp_path, write_audio):
    (tmp_path / "audio").mkdir()
    write_audio("audio/talk.wav", talk("LHLH", 3.0)[0])
    write_audio("audio/quiet.wav", np.zeros(3 * 16_000, np.float32))
    (tmp_path / "audio" / "broken.wav").write_bytes(b"not audio at all" * 10)
    return tmp_path / "audio"


def test_rows_carry_the_speaker(folder, tmp_path, debug_model):
    out = tmp_path / "rows.csv"
    summary = run_batch(folder, out, model=str(debug_model), workers=0, timeline=True, speakers=True,
                        features=False)
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:6] == ["path", "duration_s", "segment", "start_s", "end_s", "speaker"]
    by_file = {name: [r for r in rows if r["path"].endswith(name)] for name in ("talk.wav", "broken.wav")}
    assert [r["speaker"] for r in by_file["talk.wav"]] == ["S1", "S2", "S1", "S2"]
    assert all(r["emotion"] for r in by_file["talk.wav"])
    assert len(by_file["broken.wav"]) == 1 and by_file["broken.wav"][0]["error"]
    assert not [r for r in rows if r["path"].endswith("quiet.wav") and r["speaker"]]  # silence: no speaker
    assert summary.failed == 1
    one = tmp_path / "one.csv"
    run_batch(folder, one, model=str(debug_model), workers=0, timeline=True, speakers=True, num_speakers=1,
              features=False)
    with open(one, newline="") as f:
        assert {r["speaker"] for r in csv.DictReader(f) if r["path"].endswith("talk.wav")} == {"S1"}


def test_speaker_options_are_checked(folder, tmp_path, debug_model):
    with pytest.raises(EmovoxError, match="needs timeline"):
        run_batch(folder, tmp_path / "a.csv", model=str(debug_model), workers=0, speakers=True)
    with pytest.raises(EmovoxError, match="only applies with speakers"):
        run_batch(folder, tmp_path / "b.csv", model=str(debug_model), workers=0, timeline=True, num_speakers=2)
    r = run_emovox("batch", str(folder), "--out", str(tmp_path / "c.csv"), "--speakers")
    assert r.returncode != 0 and "needs timeline" in r.stderr and "Traceback" not in r.stderr
