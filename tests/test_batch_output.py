"""Batch outputs that cannot be written: refused before any analysis, one line, parts written early."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess

import pytest

from conftest import run_emovox, speech_like
from emovox.batch import OutputError, run_batch

pytest.importorskip("pyarrow", reason="batch output needs the batch extra (pyarrow)")


@pytest.fixture
def clips(tmp_path, write_audio):
    (tmp_path / "audio").mkdir()
    for i in range(4):
        write_audio(f"audio/{i}.wav", speech_like(1.0, seed=i))
    return tmp_path / "audio"


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody may write in; as root (who ignores permission bits) made immutable instead."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = False
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        immutable = bool(chattr) and subprocess.run([chattr, "+i", str(folder)],
                                                    capture_output=True).returncode == 0
        if not immutable:
            folder.chmod(0o755)
            pytest.skip("running as root without chattr +i: no folder is read-only to root")
    try:
        yield folder
    finally:
        if immutable:
            subprocess.run([chattr, "-i", str(folder)], check=True)
        folder.chmod(0o755)


@pytest.fixture
def no_analysis(monkeypatch):
    """Fails the test if any file is analysed."""
    from emovox.batch import worker

    def analysed(self, paths):
        raise AssertionError(f"analysed {paths} before checking the output")

    monkeypatch.setattr(worker.Analyzer, "table", analysed)


@pytest.mark.parametrize("name", ["r.parquet", "r.csv", "r.jsonl", "parts", "new/deeper/r.parquet"])
def test_a_read_only_output_folder_is_refused_before_any_analysis(clips, read_only_folder, debug_model,
                                                                  no_analysis, name):
    with pytest.raises(OutputError, match=r"cannot write batch results to .*read-only.*: .*(not writable|ermi)"):
        run_batch(clips, read_only_folder / name, model=str(debug_model), features=False)
    assert not any(read_only_folder.iterdir())


@pytest.mark.parametrize("name", ["r.parquet", "r.csv", "parts", "sub/r.jsonl"])
def test_an_output_under_a_file_is_refused_before_any_analysis(clips, tmp_path, debug_model, no_analysis, name):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    with pytest.raises(OutputError, match=r"notes.txt is a file, not a folder"):
        run_batch(clips, tmp_path / "notes.txt" / name, model=str(debug_model), features=False)


def test_the_cli_says_one_line_for_an_unwritable_output(clips, read_only_folder, tmp_path, debug_model):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    for out in (read_only_folder / "r.parquet", tmp_path / "notes.txt" / "r.csv"):
        proc = run_emovox("batch", str(clips), "--out", str(out), "--model", str(debug_model), "--no-features")
        assert proc.returncode == 1
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("emovox: error: cannot write batch results to"), proc.stderr


def test_a_full_disk_during_a_run_is_one_error_that_keeps_the_parts_written(clips, tmp_path, debug_model,
                                                                            monkeypatch):
    import pyarrow.parquet as pq

    from emovox.batch import writers

    real, calls = pq.write_table, []

    def fill_up(table, where, *a, **kw):
        calls.append(where)
        if len(calls) > 1:  # the first part fits, then the disk is full
            with open(where, "wb") as f:
                f.write(b"PAR1 half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(table, where, *a, **kw)

    monkeypatch.setattr(writers, "PART_ROWS", 1)
    monkeypatch.setattr(pq, "write_table", fill_up)
    out = tmp_path / "r.parquet"
    with pytest.raises(OutputError, match=r"cannot write batch results to .*No space left on device.*--resume"):
        run_batch(clips, out, model=str(debug_model), features=False, chunk_size=1)
    parts = out.with_name("r.parquet.parts")
    assert [p.name.startswith("part-") for p in parts.iterdir()] == [True]  # no temp file left behind
    monkeypatch.setattr(pq, "write_table", real)
    summary = run_batch(clips, out, model=str(debug_model), features=False, resume=True)
    assert (summary.skipped, summary.files) == (1, 3)


def test_parquet_parts_are_written_during_a_long_run(clips, tmp_path, debug_model, monkeypatch):
    """A kill loses at most the rows of the last ~30 s: parts appear while the run goes on."""
    from emovox.batch import worker, writers

    clock = [1000.0]
    monkeypatch.setattr(writers, "monotonic", lambda: clock[0])
    real, seen = worker.Analyzer.table, []
    parts = tmp_path / "r.parquet.parts"

    def slow_chunk(self, paths):
        seen.append(len(list(parts.glob("part-*.parquet"))) if parts.is_dir() else 0)
        clock[0] += 31.0  # each chunk takes 31 s of (fake) time
        return real(self, paths)

    monkeypatch.setattr(worker.Analyzer, "table", slow_chunk)
    run_batch(clips, tmp_path / "r.parquet", model=str(debug_model), features=False, chunk_size=1)
    assert seen == [0, 1, 2, 3]  # every chunk found the previous ones already on disk
    assert not parts.exists()  # and the end merged them
