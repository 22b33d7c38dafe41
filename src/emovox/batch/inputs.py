"""Which files a batch covers: a folder (recursively), a glob, a manifest, or an explicit list.

Every path comes back absolute (``os.path.abspath``, symlinks kept), so that ``--resume`` matches
files across runs started from different working directories.

>>> import os
>>> discover([__file__]) == [os.path.abspath(__file__)]
True
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import EmovoxError, require
from ..io.audio import AUDIO_EXTENSIONS

MANIFEST_SUFFIXES = (".csv", ".parquet", ".pq")
ACCEPTED_INPUT = (
    "a folder (searched recursively for "
    + ", ".join(AUDIO_EXTENSIONS)
    + "), a glob such as 'calls/**/*.mp3', a manifest .csv/.parquet with a 'path' column, "
    "or an audio file"
)


class InputError(EmovoxError):
    """The batch input could not be turned into a list of files."""


def discover(source: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    """Expand a batch input to absolute file paths, in a stable (sorted or manifest) order."""
    if not isinstance(source, (str, os.PathLike)):
        return [os.path.abspath(os.fspath(p)) for p in source]
    text = os.fspath(source)
    path = Path(text).expanduser()
    if path.is_dir():
        return scan_folder(path)
    if path.is_file():
        if path.suffix.lower() in MANIFEST_SUFFIXES:
            return read_manifest(path)
        return [os.path.abspath(path)]
    if glob.has_magic(text):
        found = sorted(
            os.path.abspath(p) for p in glob.glob(os.path.expanduser(text), recursive=True)
            if os.path.isfile(p)
        )
        if not found:
            raise InputError(f"the pattern {text!r} matches no files")
        return found
    raise InputError(f"no such file, folder or pattern: {text!r}; accepted: {ACCEPTED_INPUT}")


def scan_folder(folder: Path) -> list[str]:
    """Every audio file under ``folder`` (by extension, case-insensitive), sorted."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        found.extend(
            os.path.abspath(os.path.join(root, name))
            for name in files
            if name.lower().endswith(AUDIO_EXTENSIONS) and not name.startswith(".")
        )
    if not found:
        raise InputError(
            f"no audio files under {folder} (looked recursively for {', '.join(AUDIO_EXTENSIONS)})"
        )
    return sorted(found)


def read_manifest(manifest: Path) -> list[str]:
    """The ``path`` column of a CSV or Parquet manifest, relative paths taken from its folder."""
    if manifest.suffix.lower() == ".csv":
        paths = _csv_paths(manifest)
    else:
        pq = require("pyarrow.parquet", "batch", "reading a Parquet manifest")
        try:
            table = pq.read_table(manifest)
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise InputError(f"could not read the Parquet manifest {manifest}: {exc}") from exc
        if "path" not in table.column_names:
            raise InputError(_no_path_column(manifest, table.column_names))
        paths = table.column("path").to_pylist()
    base = manifest.resolve().parent
    out = []
    for i, value in enumerate(paths):
        if value is None or not str(value).strip():
            raise InputError(f"{manifest}: row {i + 1} has an empty 'path'")
        out.append(os.path.abspath(base / os.path.expanduser(str(value).strip())))
    if not out:
        raise InputError(f"the manifest {manifest} lists no files")
    return out


def _csv_paths(manifest: Path) -> list[str]:
    import csv

    with open(manifest, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "path" not in reader.fieldnames:
            raise InputError(_no_path_column(manifest, reader.fieldnames or []))
        return [row["path"] for row in reader]


def _no_path_column(manifest: Path, columns) -> str:
    return f"the manifest {manifest} has no 'path' column (columns: {', '.join(columns) or 'none'})"


def groups_of(source, paths: list[str], by: str) -> dict[str, str | None]:
    """path -> its group for ``--adapt-by``: ``"folder"`` (the file's parent folder) or a column of the
    manifest ``source`` (a missing or empty value: None). The first row of a path listed twice wins."""
    if by == "folder":
        return {p: os.path.dirname(p) for p in paths}
    manifest = Path(os.fspath(source)).expanduser() if isinstance(source, (str, os.PathLike)) else None
    if manifest is None or not manifest.is_file() or manifest.suffix.lower() not in MANIFEST_SUFFIXES:
        raise InputError(f"--adapt-by {by}: a column needs a manifest (.csv/.parquet) as input; "
                         "use --adapt-by folder for folders and globs")
    listed = read_manifest(manifest)
    values = _column(manifest, by)
    out: dict[str, str | None] = {}
    for path, value in zip(listed, values, strict=True):
        text = None if value is None else str(value).strip()
        out.setdefault(path, text or None)
    return out


def _column(manifest: Path, column: str) -> list:
    if manifest.suffix.lower() == ".csv":
        import csv

        with open(manifest, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            names = reader.fieldnames or []
            if column not in names:
                raise InputError(_no_column(manifest, column, names))
            return [row[column] for row in reader]
    pq = require("pyarrow.parquet", "batch", "reading a Parquet manifest")
    table = pq.read_table(manifest)
    if column not in table.column_names:
        raise InputError(_no_column(manifest, column, table.column_names))
    return table.column(column).to_pylist()


def _no_column(manifest: Path, column: str, columns) -> str:
    return (f"--adapt-by {column}: the manifest {manifest} has no {column!r} column "
            f"(columns: {', '.join(columns) or 'none'}; or use --adapt-by folder)")
