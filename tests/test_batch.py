"""Batch analysis: inputs, rows, errors, resume, formats, CLI, and the Ray engine's rows."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from conftest import run_emovox, speech_like
from emovox.batch import BatchInterrupted, OutputError, discover, reason, run_batch
from emovox.batch.inputs import InputError
from emovox.errors import EmovoxError

pd = pytest.importorskip("pandas", reason="these tests read the results with pandas (the batch extra)")
pytest.importorskip("pyarrow", reason="batch writes with pyarrow (the batch extra)")

LABELS = ("angry", "happy", "neutral", "sad")
SCORES = [f"score_{label}" for label in LABELS]
GOOD = ["a.wav", "sub/b.flac", "sub/deeper/c.mp3"]
BAD = {
    "empty.wav": "is empty (0 bytes)",
    "corrupt.flac": "could not decode",
    "notes.wav": "could not decode",  # a text file renamed .wav
}


@pytest.fixture
def folder(tmp_path, write_audio):
    """audio/ with three good clips in nested folders, a silent one, three bad files, a .txt."""
    root = tmp_path / "audio"
    (root / "sub" / "deeper").mkdir(parents=True)
    for i, name in enumerate(GOOD):
        write_audio(f"audio/{name}", speech_like(1.0 + 0.5 * i, seed=i))
    write_audio("audio/quiet.wav", np.zeros(16_000, np.float32))
    (root / "empty.wav").write_bytes(b"")
    (root / "corrupt.flac").write_bytes(b"fLaC" + bytes(range(256)) * 4)
    (root / "notes.wav").write_text("these are meeting notes, not audio\n")
    (root / "readme.txt").write_text("not picked up: not an audio extension")
    return root


def batch(source, out, model, **kw):
    kw.setdefault("features", False)
    return run_batch(source, out, model=str(model), **kw)


def read(out) -> pd.DataFrame:
    out = str(out)
    if out.endswith(".csv"):
        df = pd.read_csv(out)
    elif out.endswith(".jsonl"):
        df = pd.read_json(out, lines=True)
    else:
        df = pd.read_parquet(out)
    return df.sort_values("path").reset_index(drop=True)


def test_local_engine_rows_and_errors(folder, tmp_path, debug_model):
    out = tmp_path / "results.parquet"
    summary = batch(folder, out, debug_model, batch_size=2)
    df = read(out)
    names = [os.path.relpath(p, folder) for p in df["path"]]
    assert sorted(names) == sorted(GOOD + list(BAD) + ["quiet.wav"])
    assert list(df.columns) == ["path", "duration_s", "emotion", "confidence", *SCORES, "silent", "error", "model",
                                "adapted_to", "adapted_clips", "adapted_applied"]
    # 7 files: too few to adapt to by default; the rows say not adapted, the summary why
    assert df[["adapted_to", "adapted_clips"]].isna().all().all()
    assert not df["adapted_applied"].any()
    assert summary.adapted == {"to": None, "clips": 0, "reason": "7 file(s); adapting needs at least 20"}
    good = df[df["path"].isin([str(folder / n) for n in GOOD])]
    assert good["error"].isna().all() and len(good) == 3
    assert np.allclose(good[SCORES].sum(axis=1), 1.0)
    assert (good["confidence"] == good[SCORES].max(axis=1)).all()
    assert set(good["emotion"]) <= set(LABELS)
    assert np.allclose(sorted(good["duration_s"]), [1.0, 1.5, 2.0], atol=0.06)  # mp3 pads a little
    quiet = df[df["path"] == str(folder / "quiet.wav")].iloc[0]
    assert quiet["silent"] and pd.isna(quiet["emotion"]) and pd.isna(quiet[SCORES]).all()
    for name, message in BAD.items():
        row = df[df["path"] == str(folder / name)].iloc[0]
        assert message in row["error"] and str(folder / name) in row["error"]
        assert pd.isna(row["emotion"]) and pd.isna(row["duration_s"])
    assert (summary.files, summary.failed, summary.skipped, summary.rows) == (7, 3, 0, 7)
    assert summary.failures == {"could not decode FILE: not a supported audio format or codec": 2,
                                "FILE is empty": 1}
    assert summary.audio_s == pytest.approx(good["duration_s"].sum() + 1.0)
    assert not out.with_name("results.parquet.parts").exists()  # parts merged and removed


def test_worker_processes_write_the_same_rows(folder, tmp_path, debug_model):
    batch(folder, tmp_path / "one.parquet", debug_model)
    summary = batch(folder, tmp_path / "two.parquet", debug_model, workers=2, chunk_size=2)
    assert (summary.files, summary.failed) == (7, 3)
    pd.testing.assert_frame_equal(read(tmp_path / "one.parquet"), read(tmp_path / "two.parquet"),
                                  check_exact=False, rtol=1e-5)


def test_resume_processes_only_new_files(folder, tmp_path, debug_model, write_audio):
    out = tmp_path / "r.parquet"
    batch(folder, out, debug_model)
    with pytest.raises(OutputError, match="--resume"):
        batch(folder, out, debug_model)
    (folder / "new").mkdir()
    write_audio("audio/new/d.wav", speech_like(1.2, seed=7))
    (folder / "new" / "broken.ogg").write_bytes(b"OggS" + b"\0" * 40)
    summary = batch(folder, out, debug_model, resume=True)
    assert (summary.files, summary.skipped, summary.failed) == (2, 7, 1)
    df = read(out)
    assert len(df) == 9 and df["path"].is_unique
    assert df.loc[df["path"] == str(folder / "new" / "d.wav"), "emotion"].iloc[0] in LABELS
    again = batch(folder, out, debug_model, resume=True)
    assert (again.files, again.skipped) == (0, 9) and len(read(out)) == 9
    fresh = batch(folder, out, debug_model, overwrite=True)
    assert fresh.files == 9 and len(read(out)) == 9


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl", ".csv"])
def test_ctrl_c_leaves_a_valid_resumable_output(folder, tmp_path, debug_model, monkeypatch, suffix):
    from emovox.batch import worker

    real, calls = worker.Analyzer.table, []

    def interrupt_second_chunk(self, paths):
        calls.append(paths)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, paths)

    monkeypatch.setattr(worker.Analyzer, "table", interrupt_second_chunk)
    out = tmp_path / f"partial{suffix}"
    with pytest.raises(BatchInterrupted) as stop:
        batch(folder, out, debug_model, chunk_size=2)
    assert stop.value.summary.interrupted and stop.value.summary.files == 2
    assert len(read(out)) == 2  # what finished is readable as it is
    monkeypatch.setattr(worker.Analyzer, "table", real)
    summary = batch(folder, out, debug_model, resume=True)
    assert (summary.files, summary.skipped) == (5, 2)
    df = read(out)
    assert len(df) == 7 and df["path"].is_unique


def test_torn_last_line_is_cut_on_resume(folder, tmp_path, debug_model):
    out = tmp_path / "r.jsonl"
    batch([folder / "a.wav"], out, debug_model)
    with open(out, "a") as f:
        f.write('{"path": "/half/written.wav", "dura')  # a run killed mid-write
    summary = batch(folder, out, debug_model, resume=True)
    assert (summary.files, summary.skipped) == (6, 1)
    lines = out.read_text().splitlines()
    assert len(lines) == 7 and all(json.loads(line)["path"] for line in lines)


@pytest.mark.parametrize("name", ["r.parquet", "r.csv", "r.jsonl", "parts"])
def test_every_format_reads_back_the_same(folder, tmp_path, debug_model, name):
    batch(folder, tmp_path / "ref.parquet", debug_model)
    reference = read(tmp_path / "ref.parquet")
    out = tmp_path / name
    batch(folder, out, debug_model, chunk_size=3)
    if name == "parts":
        import pyarrow.dataset as ds

        assert len(list(out.glob("*.parquet"))) >= 1
        assert ds.dataset(out).to_table().num_rows == 7
    df = read(out)
    assert list(df.columns) == list(reference.columns)
    pd.testing.assert_frame_equal(df, reference, check_dtype=False, check_exact=False, rtol=1e-6)


def test_unknown_output_suffix_is_refused(folder, tmp_path, debug_model):
    with pytest.raises(OutputError, match="accepted: results.parquet"):
        batch(folder, tmp_path / "r.xlsx", debug_model)


def test_manifest_csv_and_parquet_paths_are_relative_to_the_manifest(folder, tmp_path, debug_model):
    rows = pd.DataFrame({"path": ["a.wav", "sub/b.flac", "empty.wav"], "speaker": ["s1", "s2", "s3"]})
    rows.to_csv(folder / "manifest.csv", index=False)
    rows.to_parquet(folder / "manifest.parquet")
    expected = [str(folder / p) for p in rows["path"]]
    assert discover(folder / "manifest.csv") == expected
    assert discover(str(folder / "manifest.parquet")) == expected
    summary = batch(folder / "manifest.csv", tmp_path / "m.csv", debug_model)
    assert (summary.files, summary.failed) == (3, 1)
    assert sorted(read(tmp_path / "m.csv")["path"]) == sorted(expected)
    pd.DataFrame({"file": ["a.wav"]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(InputError, match="no 'path' column .*columns: file"):
        discover(tmp_path / "bad.csv")


def test_glob_and_folder_discovery(folder):
    assert discover(str(folder / "**" / "*.flac")) == [str(folder / "corrupt.flac"), str(folder / "sub" / "b.flac")]
    found = discover(folder)
    assert str(folder / "readme.txt") not in found and len(found) == 7
    with pytest.raises(InputError, match="matches no files"):
        discover(str(folder / "*.mkv"))
    with pytest.raises(InputError, match="no such file, folder or pattern"):
        discover(folder / "missing")


def test_timeline_gives_one_row_per_segment(folder, tmp_path, debug_model, write_audio):
    speech = speech_like(2.5, seed=3)
    write_audio("audio/long.wav", np.concatenate([speech, np.zeros(3 * 16_000, np.float32), speech]))
    summary = batch(folder, tmp_path / "t.parquet", debug_model, timeline=True)
    df = read(tmp_path / "t.parquet")
    assert list(df.columns[:5]) == ["path", "duration_s", "segment", "start_s", "end_s"]
    assert summary.files == 8 and summary.failed == 3 and summary.rows == len(df)
    for name in BAD:
        rows = df[df["path"] == str(folder / name)]
        assert len(rows) == 1 and pd.isna(rows["segment"].iloc[0]) and rows["error"].notna().all()
    long = df[df["path"] == str(folder / "long.wav")].sort_values("segment")
    assert len(long) >= 3 and long["error"].isna().all()
    assert long["start_s"].iloc[0] == 0 and long["end_s"].iloc[-1] == pytest.approx(8.0, abs=0.05)
    assert np.allclose(long["start_s"].iloc[1:].to_numpy(), long["end_s"].iloc[:-1].to_numpy())
    speech_rows, gaps = long[~long["silent"]], long[long["silent"]]
    assert set(speech_rows["emotion"]) <= set(LABELS) and np.allclose(speech_rows[SCORES].sum(axis=1), 1)
    assert len(gaps) >= 1 and gaps["emotion"].isna().all()
    with pytest.raises(EmovoxError, match="hop_s"):
        batch(folder, tmp_path / "bad.parquet", debug_model, timeline=True, window_s=1, hop_s=2)


def test_descriptor_columns(folder, tmp_path, debug_model):
    pytest.importorskip("emovox.signal.features", reason="descriptors (emovox.signal.features) not in this build")
    batch(folder, tmp_path / "f.parquet", debug_model, features=True)
    df = read(tmp_path / "f.parquet")
    extra = [c for c in df.columns if c not in ("path", "duration_s", "emotion", "confidence",
                                                 *SCORES, "silent", "error", "model")]
    assert extra, "descriptor columns missing"
    good = df[df["error"].isna() & ~df["silent"]]
    assert good[extra].notna().any(axis=None)


def test_reason_groups_messages_by_cause():
    assert reason("/x/a b.wav is empty (0 bytes)", "/x/a b.wav") == "FILE is empty"
    assert reason("file not found: /x/y.wav", "/x/y.wav") == "file not found: FILE"


def test_cli_writes_rows_summarises_and_exits_1_on_failures(folder, tmp_path, debug_model):
    out = tmp_path / "cli.jsonl"
    proc = run_emovox("batch", str(folder), "--out", str(out), "--model", str(debug_model),
                      "--no-features", "--json")
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["files"], summary["failed"]) == (7, 3)
    assert len(read(out)) == 7
    again = run_emovox("batch", str(folder), "--out", str(out), "--model", str(debug_model), "--no-features")
    assert again.returncode == 1 and "--resume" in again.stderr and "Traceback" not in again.stderr
    good = run_emovox("batch", str(folder / "sub" / "*.flac"), "--out", str(tmp_path / "ok.csv"),
                      "--model", str(debug_model), "--no-features", "--workers", "0")
    assert good.returncode == 0, good.stderr
    assert "files" in good.stderr and len(read(tmp_path / "ok.csv")) == 1


@pytest.mark.slow
def test_ray_engine_writes_the_same_rows_as_the_local_engine(folder, tmp_path, debug_model, write_audio):
    pytest.importorskip("ray")
    batch(folder, tmp_path / "local.parquet", debug_model)
    summary = batch(folder, tmp_path / "ray_out", debug_model, engine="ray", workers=2)
    assert (summary.engine, summary.files, summary.failed) == ("ray", 7, 3)
    pd.testing.assert_frame_equal(read(tmp_path / "ray_out"), read(tmp_path / "local.parquet"),
                                  check_exact=False, rtol=1e-5)
    write_audio("audio/late.wav", speech_like(1.0, seed=9))
    more = batch(folder, tmp_path / "ray_out", debug_model, engine="ray", workers=2, resume=True)
    assert (more.files, more.skipped, more.failed) == (1, 7, 0)
    df = read(tmp_path / "ray_out")
    assert len(df) == 8 and df["path"].is_unique


def test_ray_engine_refuses_text_outputs_before_starting_ray(folder, tmp_path, debug_model):
    with pytest.raises(OutputError, match="ray engine writes Parquet"):
        batch(folder, tmp_path / "r.csv", debug_model, engine="ray")


def test_a_model_that_fails_to_load_in_the_workers_is_reported_as_such(folder, tmp_path):
    with pytest.raises(EmovoxError, match="model not found: .*no-such-model"):
        run_batch(folder, tmp_path / "r.parquet", model=str(tmp_path / "no-such-model"),
                  workers=2, features=False)
    with pytest.raises(EmovoxError, match="unknown engine 'spark'; accepted: local, ray"):
        run_batch(folder, tmp_path / "r.parquet", engine="spark", features=False)


def test_a_torn_part_file_is_set_aside_on_resume(folder, tmp_path, debug_model):
    out = tmp_path / "parts"
    batch(folder, out, debug_model)
    (out / "part-killed-00000.parquet").write_bytes(b"PAR1 half a file")  # a write killed midway
    with pytest.warns(UserWarning, match="set aside unreadable part"):
        summary = batch(folder, out, debug_model, resume=True)
    assert summary.files == 0 and len(read(out)) == 7
    assert (out / "_unreadable-part-killed-00000.parquet").exists()


def test_resume_finishes_after_an_unreadable_part_and_again_after_that(folder, tmp_path, debug_model):
    out = tmp_path / "r.parquet"
    batch([folder / "a.wav"], out, debug_model)
    parts = tmp_path / "r.parquet.parts"  # a run killed before its merge leaves its parts here
    parts.mkdir()
    (parts / "part-killed-00000.parquet").write_bytes(b"PAR1 half a file")  # a write killed midway
    with pytest.warns(UserWarning, match="set aside unreadable part"):
        first = batch(folder, out, debug_model, resume=True)
    assert first.files == 6 and len(read(out)) == 7 and read(out)["path"].is_unique
    again = batch(folder, out, debug_model, resume=True)  # the set-aside part is not read again
    assert (again.files, again.skipped) == (0, 7) and len(read(out)) == 7
    assert (parts / "_unreadable-part-killed-00000.parquet").exists()


def test_a_timeline_window_is_checked_against_the_default_hop_the_timeline_uses(folder, tmp_path, debug_model):
    """--window 1.2 alone is one up-front error naming the real default hop, not an error row per file."""
    good = folder / "sub" / "b.flac"
    help_text = run_emovox("batch", "--help").stdout
    assert "(default 1.5)" in " ".join(help_text.split())
    proc = run_emovox("batch", str(good), "--out", str(tmp_path / "w.jsonl"), "--model", str(debug_model),
                      "--timeline", "--window", "1.2", "--no-features")
    assert proc.returncode == 1 and proc.stderr.strip().splitlines() == [
        "emovox: error: the default --hop (1.5) must not exceed --window (1.2): audio would be skipped"], proc.stderr
    assert not (tmp_path / "w.jsonl").exists()
    ok = run_emovox("batch", str(good), "--out", str(tmp_path / "ok.jsonl"), "--model", str(debug_model),
                    "--timeline", "--window", "1.2", "--hop", "1.2", "--no-features", "--json")
    assert ok.returncode == 0, ok.stderr
    rows = [json.loads(line) for line in (tmp_path / "ok.jsonl").read_text().splitlines()]
    assert rows and all(r["error"] is None and r["emotion"] in LABELS for r in rows)
