"""Batch outputs that survive Ctrl-C: every write leaves a valid file that ``--resume`` can continue.

- ``.parquet``: part files in ``<out>.parts/`` (each written to a hidden temp name, then renamed),
  merged into ``<out>`` when the run ends; an interrupted run keeps its parts for ``--resume``.
- a folder (no suffix, or an existing folder): Parquet part files, no merge (what Ray writes too).
- ``.csv`` / ``.jsonl``: appended and flushed chunk by chunk; a torn last line is cut on resume.

A Parquet part is written every ``PART_ROWS`` rows or ``PART_SECONDS`` seconds, so a kill or a full
disk loses at most the last half minute (plus the chunks in flight). ``open_output`` checks that the
output can be written before any analysis; a write that fails later is one ``OutputError`` line.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from time import monotonic

from ..errors import EmovoxError, require

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PART_ROWS = 2048  # a Parquet part at least every this many rows...
PART_SECONDS = 30.0  # ...or this many seconds, whichever comes first
HIDDEN = ("_", ".")  # prefixes of files in a parts folder that are not parts
ACCEPTED_OUTPUT = "results.parquet (default), results.csv, results.jsonl, or a folder (Parquet parts)"


class OutputError(EmovoxError):
    """The output cannot be written, or would overwrite results without --resume/--overwrite."""


def output_kind(out: str | os.PathLike) -> str:
    """'parquet', 'folder', 'csv' or 'jsonl', from the output's suffix."""
    text = os.fspath(out)
    path = Path(text)
    suffix = path.suffix.lower()
    if text.endswith(("/", os.sep)) or path.is_dir() or not suffix:
        return "folder"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    raise OutputError(f"cannot write batch results to {text!r} (suffix {suffix}); accepted: {ACCEPTED_OUTPUT}")


def open_output(out: str | os.PathLike, *, resume: bool = False, overwrite: bool = False, **kw):
    """The writer for ``out``, checked before any analysis: it can be written, and it holds no results
    unless resuming or overwriting. Nothing on disk changes here (``--overwrite``: ``writer.remove()``)."""
    if resume and overwrite:
        raise OutputError("--resume and --overwrite cannot be used together")
    kind = output_kind(out)
    cls = {"parquet": ParquetFile, "folder": ParquetFolder, "csv": CsvOutput, "jsonl": JsonlOutput}[kind]
    writer = cls(Path(os.fspath(out)), **kw)
    writer.check_writable()
    if writer.exists() and not (resume or overwrite):
        raise OutputError(
            f"{out} already holds results; pass --resume to continue it or --overwrite to replace it"
        )
    return writer


def check_writable(out: Path, folder: bool) -> None:
    """Raise OutputError unless ``out`` (a file, or a folder when ``folder``) can be created or written.

    Probes with a hidden temp file in the nearest existing folder, so a read-only folder or file
    system, a path under a file, or a folder where a file should be fails now, not after the analysis.
    """
    where = f"cannot write batch results to {out}"
    if out.exists() and out.is_dir() != folder:
        raise OutputError(f"{where}: it is a {'file' if folder else 'folder'}, not a {'folder' if folder else 'file'}")
    existing = out if out.is_dir() else out.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{where}: {existing} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".emovox-write-check-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{where}: {existing} is not writable ({_why(exc)})") from exc
    if out.is_file():
        try:
            open(out, "ab").close()  # opens for appending, writes nothing
        except OSError as exc:
            raise OutputError(f"{where}: the file is not writable ({_why(exc)})") from exc


@contextmanager
def writing(out: Path, tmp: Path | None = None) -> Iterator[None]:
    """Turn a failed write (disk full, permissions changed, ...) into one OutputError line; drop ``tmp``."""
    try:
        yield
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write batch results to {out}: {_why(exc)}") from exc


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


class ParquetFolder:
    """A folder of Parquet part files; readable at any moment with pyarrow/pandas/Ray."""

    def __init__(self, folder: Path, rows_per_part: int | None = None, seconds_per_part: float | None = None) -> None:
        self.folder = folder
        self.rows_per_part = rows_per_part or PART_ROWS
        self.seconds_per_part = PART_SECONDS if seconds_per_part is None else seconds_per_part
        self._pending: list = []
        self._rows = 0
        self._last = monotonic()
        self._run = uuid.uuid4().hex[:8]
        self._count = 0
        self._columns: list[str] | None = None

    def parts(self) -> list[Path]:
        """The part files; names starting ``_`` or ``.`` (set aside, temp) are not parts, as in
        pyarrow datasets and Ray, so a set-aside part is never read, merged or set aside again."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.glob("*.parquet") if not p.name.startswith(HIDDEN))

    def exists(self) -> bool:
        return bool(self.parts())

    def check_writable(self) -> None:
        check_writable(self.folder, folder=True)

    def remove(self) -> None:
        for part in self.parts():  # only our kind of file: never rmtree a user's folder
            part.unlink()

    def done_paths(self) -> set[str]:
        """Paths already written (unreadable parts, e.g. a killed Ray write, are set aside)."""
        return _read_paths(self.parts(), self)

    def write(self, table) -> None:
        """Buffer rows; write a part when enough rows or time have gathered."""
        self.check_columns(table.column_names)
        if table.num_rows:
            self._pending.append(table)
            self._rows += table.num_rows
        if self._rows >= self.rows_per_part or monotonic() - self._last >= self.seconds_per_part:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        pa = require("pyarrow", "batch", "writing Parquet")
        pq = require("pyarrow.parquet", "batch", "writing Parquet")
        name = f"part-{self._run}-{self._count:05d}.parquet"
        tmp = self.folder / f".{name}.tmp"
        with writing(self.folder, tmp):
            self.folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.concat_tables(self._pending), tmp)
            os.replace(tmp, self.folder / name)  # a part is either whole or absent
        self._count += 1
        self._pending, self._rows, self._last = [], 0, monotonic()

    def close(self) -> None:
        self.flush()

    def finalize(self) -> Path:
        self.flush()
        return self.folder

    def check_columns(self, columns: list[str]) -> None:
        if self._columns is None:
            self._columns = _existing_columns(self.parts()) or list(columns)
        _same_columns(self.folder, self._columns, columns)

    def set_aside(self, part: Path, exc: Exception) -> None:
        aside = part.with_name(f"_unreadable-{part.name}")
        os.replace(part, aside)
        import warnings

        warnings.warn(f"set aside unreadable part {part} -> {aside.name} ({exc}); its files will be redone",
                      stacklevel=2)


class ParquetFile(ParquetFolder):
    """One Parquet file, built from parts in ``<out>.parts/`` and merged atomically at the end."""

    def __init__(self, out: Path, **kw) -> None:
        super().__init__(out.with_name(out.name + ".parts"), **kw)
        self.out = out

    def exists(self) -> bool:
        return self.out.exists() or super().exists()

    def check_writable(self) -> None:
        check_writable(self.out, folder=False)
        if self.folder.exists():
            check_writable(self.folder, folder=True)

    def remove(self) -> None:
        super().remove()
        self.out.unlink(missing_ok=True)

    def done_paths(self) -> set[str]:
        done = _read_paths([self.out], None) if self.out.exists() else set()
        return done | super().done_paths()

    def check_columns(self, columns: list[str]) -> None:
        if self._columns is None and self.out.exists():
            self._columns = _existing_columns([self.out])
        super().check_columns(columns)

    def finalize(self) -> Path:
        """Merge the existing file and every part into ``out`` (temp file + rename), drop the parts."""
        self.flush()
        with writing(self.out, self.out.with_name(f".{self.out.name}.tmp")):
            merge_parquet(([self.out] if self.out.exists() else []) + self.parts(), self.out)
        for part in self.parts():
            part.unlink()
        if self.folder.is_dir() and not any(self.folder.iterdir()):
            self.folder.rmdir()
        return self.out


def merge_parquet(sources: list[Path], out: Path) -> None:
    """Stream ``sources`` into one file; rows of a path already seen in an earlier source are dropped."""
    if not sources or sources == [out]:
        return
    pa = require("pyarrow", "batch", "writing Parquet")
    pc = require("pyarrow.compute", "batch", "writing Parquet")
    pq = require("pyarrow.parquet", "batch", "writing Parquet")
    tmp = out.with_name(f".{out.name}.tmp")
    writer = None
    seen: set[str] = set()
    try:
        for source in sources:
            table = pq.read_table(source)
            if seen:
                keep = pc.invert(pc.is_in(table["path"], value_set=pa.array(sorted(seen), pa.string())))
                table = table.filter(keep)
            seen.update(table["path"].to_pylist())
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
    os.replace(tmp, out)


class _TextOutput:
    """Shared by CSV and JSON Lines: append + flush per chunk, repair a torn tail on resume."""

    def __init__(self, out: Path, **_: object) -> None:
        self.out = out
        self._columns: list[str] | None = None

    def exists(self) -> bool:
        return self.out.exists() and self.out.stat().st_size > 0

    def check_writable(self) -> None:
        check_writable(self.out, folder=False)

    def remove(self) -> None:
        self.out.unlink(missing_ok=True)

    def repair(self) -> None:
        """Cut a last line left half-written by a killed run."""
        if not self.out.exists():
            return
        with open(self.out, "rb+") as f:
            data = f.read()
            if data and not data.endswith(b"\n"):
                f.truncate(data.rfind(b"\n") + 1)

    def write(self, table) -> None:
        columns = table.column_names
        if self._columns is None:
            self._columns = self._existing() or list(columns)
        _same_columns(self.out, self._columns, columns)
        new = not self.exists()
        with writing(self.out):
            self.out.parent.mkdir(parents=True, exist_ok=True)
            with open(self.out, "a", newline="", encoding="utf-8") as f:
                self._append(f, table.to_pylist(), new)
                f.flush()
                os.fsync(f.fileno())

    def close(self) -> None:
        pass

    def finalize(self) -> Path:
        return self.out


class CsvOutput(_TextOutput):
    def done_paths(self) -> set[str]:
        self.repair()
        if not self.exists():
            return set()
        with open(self.out, newline="", encoding="utf-8") as f:
            return {row["path"] for row in csv.DictReader(f) if row.get("path")}

    def _existing(self) -> list[str] | None:
        if not self.exists():
            return None
        with open(self.out, newline="", encoding="utf-8") as f:
            return next(csv.reader(f), None)

    def _append(self, f, rows: list[dict], new: bool) -> None:
        writer = csv.DictWriter(f, fieldnames=self._columns)
        if new:
            writer.writeheader()
        writer.writerows(rows)


class JsonlOutput(_TextOutput):
    def done_paths(self) -> set[str]:
        self.repair()
        if not self.exists():
            return set()
        with open(self.out, encoding="utf-8") as f:
            return {json.loads(line)["path"] for line in f if line.strip()}

    def _existing(self) -> list[str] | None:
        if not self.exists():
            return None
        with open(self.out, encoding="utf-8") as f:
            return list(json.loads(f.readline()))

    def _append(self, f, rows: list[dict], new: bool) -> None:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _read_paths(files: list[Path], folder: ParquetFolder | None) -> set[str]:
    pq = require("pyarrow.parquet", "batch", "reading Parquet")
    done: set[str] = set()
    for file in files:
        try:
            names = pq.read_schema(file).names
        except Exception as exc:  # a torn file (killed write): pyarrow raises ArrowInvalid/OSError
            if folder is None:
                raise OutputError(f"cannot resume: {file} is not a readable Parquet file ({exc})") from exc
            folder.set_aside(file, exc)
            continue
        if "path" not in names:
            raise OutputError(f"{file} is not emovox batch output (no 'path' column); choose another --out")
        done.update(pq.read_table(file, columns=["path"])["path"].to_pylist())
    return done


def _existing_columns(files: list[Path]) -> list[str] | None:
    if not files:
        return None
    pq = require("pyarrow.parquet", "batch", "reading Parquet")
    return list(pq.read_schema(files[0]).names)


def _same_columns(where: Path, existing: list[str], new: list[str]) -> None:
    if list(existing) != list(new):
        raise OutputError(
            f"{where} holds columns {existing}, but this run writes {list(new)} "
            f"(a different model, --timeline or descriptor setting?); write to a new output"
        )


def remove_tree(folder: Path) -> None:
    """Remove a folder this module created (used by tests and the Ray engine's temp parts)."""
    shutil.rmtree(folder, ignore_errors=True)
