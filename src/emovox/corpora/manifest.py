"""The corpus manifest: one CSV row per clip, the schema of every ``shared/corpora/*/manifest.csv``.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> row = ManifestRow(path=folder / "audio" / "a.wav", corpus="demo", speaker="demo_1", emotion="ang")
>>> out = write_manifest([row], folder / "manifest.csv")
>>> out.read_text().splitlines()[1]
'audio/a.wav,demo,demo_1,,,angry,,,,'
>>> read_manifest(out)[0].path == folder / "audio" / "a.wav"
True
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import EmovoxError
from ..labels import canonical

MANIFEST_COLUMNS = (
    "path", "corpus", "speaker", "gender", "language", "emotion",
    "original_label", "sentence", "intensity", "duration_s",
)
REQUIRED_COLUMNS = ("path", "emotion", "speaker")
FOLD_COLUMNS = ("speaker", "fold")


@dataclass(frozen=True, kw_only=True)
class ManifestRow:
    """One clip: where it is, who says what with which emotion; `emotion` is canonical."""

    path: Path
    corpus: str
    speaker: str
    emotion: str
    gender: str = ""
    language: str = ""
    original_label: str = ""
    sentence: str = ""
    intensity: str = ""
    duration_s: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        object.__setattr__(self, "emotion", canonical(self.emotion))

    def to_dict(self) -> dict[str, str | float | None]:
        """The row as plain values in MANIFEST_COLUMNS order (path as a string)."""
        return {c: (str(self.path) if c == "path" else getattr(self, c)) for c in MANIFEST_COLUMNS}


def read_manifest(path: str | os.PathLike) -> list[ManifestRow]:
    """Read a manifest CSV; relative clip paths are resolved against the manifest's own folder."""
    path = Path(path)
    if not path.is_file():
        raise EmovoxError(
            f"manifest {path} not found: expected a CSV file with columns {', '.join(MANIFEST_COLUMNS)}"
        )
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise EmovoxError(
                f"manifest {path} lacks required column(s) {', '.join(missing)}: it has "
                f"{', '.join(columns) or 'no header'}; required: {', '.join(REQUIRED_COLUMNS)}"
            )
        rows = [_parse_row(record, path, reader.line_num) for record in reader]
    if not rows:
        raise EmovoxError(f"manifest {path} has a header but no rows")
    return rows


def _parse_row(record: Mapping[str, str | None], manifest: Path, line: int) -> ManifestRow:
    """One CSV record -> ManifestRow, with errors that name the file and line."""
    values = {c: (record.get(c) or "").strip() for c in MANIFEST_COLUMNS}
    for column in REQUIRED_COLUMNS:
        if not values[column]:
            raise EmovoxError(f"manifest {manifest} line {line}: empty '{column}'")
    clip = Path(values.pop("path"))
    duration = values.pop("duration_s")
    try:
        seconds = float(duration) if duration else None
    except ValueError:
        raise EmovoxError(
            f"manifest {manifest} line {line}: duration_s {duration!r} is not a number"
        ) from None
    return ManifestRow(
        path=clip if clip.is_absolute() else manifest.parent / clip, duration_s=seconds, **values
    )


def write_manifest(rows: Iterable[ManifestRow], out_path: str | os.PathLike) -> Path:
    """Write rows as CSV; clips under the manifest's folder get paths relative to it."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    base = Path(os.path.abspath(out_path.parent))
    with out_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            record = row.to_dict()
            record["path"] = _relative(row.path, base)
            record["duration_s"] = "" if row.duration_s is None else f"{row.duration_s:.3f}"
            writer.writerow(record)
    return out_path


def _relative(clip: Path, base: Path) -> str:
    """`clip` relative to `base` when it lies under it, else absolute (POSIX separators)."""
    absolute = Path(os.path.abspath(clip))
    try:
        return absolute.relative_to(base).as_posix()
    except ValueError:
        return absolute.as_posix()


def read_folds(path: str | os.PathLike) -> dict[str, int]:
    """Read a ``speaker,fold`` CSV (e.g. shared/corpora/ravdess/folds.csv) into speaker -> fold."""
    path = Path(path)
    if not path.is_file():
        raise EmovoxError(f"folds file {path} not found: expected a CSV with columns speaker,fold")
    folds: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if any(c not in (reader.fieldnames or []) for c in FOLD_COLUMNS):
            raise EmovoxError(
                f"folds file {path} has columns {', '.join(reader.fieldnames or [])}; "
                "expected speaker,fold"
            )
        for record in reader:
            speaker, fold = (record["speaker"] or "").strip(), (record["fold"] or "").strip()
            if not speaker or not fold.isdigit():
                raise EmovoxError(
                    f"folds file {path} line {reader.line_num}: expected a speaker and an integer "
                    f"fold, got {speaker!r},{fold!r}"
                )
            if speaker in folds:
                raise EmovoxError(f"folds file {path}: speaker {speaker} is listed twice")
            folds[speaker] = int(fold)
    if not folds:
        raise EmovoxError(f"folds file {path} has a header but no rows")
    return folds
