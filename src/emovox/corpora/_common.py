"""Shared by the corpus recipes: finding audio, clip durations, skip warnings, empty-root errors."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TypeVar

from ..errors import EmovoxError
from .manifest import ManifestRow

AUDIO_SUFFIXES = (".wav", ".flac")
"""Original downloads are WAV; FLAC copies (like shared/corpora) are read the same way."""


class SkippedFilesWarning(UserWarning):
    """Some files under a corpus root did not follow the corpus' naming and were left out."""


class Skip(ValueError):
    """Leave one item out: its name carries an undefined code, or its audio is missing/unreadable."""


def check_root(root: str | os.PathLike, corpus: str) -> Path:
    """The corpus root as a Path, or an EmovoxError when it is not a folder."""
    path = Path(root).expanduser()
    if not path.is_dir():
        raise EmovoxError(f"{corpus} root {path} is not a folder")
    return path


def find_audio(root: Path) -> list[Path]:
    """Every .wav/.flac file under `root` (any depth), sorted; hidden files are ignored."""
    return sorted(
        p for p in root.rglob("*")
        if p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith(".") and p.is_file()
    )


def audio_duration(path: Path) -> float:
    """Duration in seconds (3 decimals) from the file header (soundfile, else PyAV), or Skip."""
    import soundfile as sf

    try:
        return round(sf.info(str(path)).duration, 3)
    except RuntimeError:  # soundfile.LibsndfileError: not a format libsndfile reads
        pass
    import av

    try:
        with av.open(str(path)) as container:
            if container.duration:
                return round(container.duration / 1_000_000, 3)
    except (OSError, av.FFmpegError):
        pass
    raise Skip("audio unreadable or empty")


class Collector:
    """Gathers rows and skipped files for one recipe run, then warns once and checks emptiness."""

    def __init__(self, corpus: str, root: Path, expected: str) -> None:
        self.corpus, self.root, self.expected = corpus, root, expected
        self.rows: list[ManifestRow] = []
        self.skipped: list[str] = []

    def skip(self, name: str, reason: str) -> None:
        self.skipped.append(f"{name} ({reason})")

    def finish(self) -> list[ManifestRow]:
        """Rows sorted by path; warns about skipped files; raises when nothing was found."""
        if self.skipped:
            examples = "; ".join(self.skipped[:3])
            warnings.warn(
                f"{self.corpus}: skipped {len(self.skipped)} item(s) (undefined codes, missing or unreadable audio), e.g. {examples}",
                SkippedFilesWarning,
                stacklevel=3,
            )
        if not self.rows:
            note = f" ({len(self.skipped)} file(s) did not match)" if self.skipped else ""
            raise EmovoxError(
                f"no {self.corpus} files found under {self.root}; expected {self.expected}{note}"
            )
        return sorted(self.rows, key=lambda r: str(r.path))


def collect(corpus: str, root: str | os.PathLike, expected: str, parse) -> list[ManifestRow]:
    """Run `parse(path) -> ManifestRow | None` on every audio file under `root`.

    `parse` returns None for files the corpus documents but the manifest leaves out (e.g. songs),
    and raises Skip for names that do not follow the documented convention.
    """
    folder = check_root(root, corpus)
    collector = Collector(corpus, folder, expected)
    for path in find_audio(folder):
        try:
            row = parse(path)
        except Skip as exc:
            collector.skip(path.name, str(exc))
            continue
        if row is not None:
            collector.rows.append(row)
    return collector.finish()


T = TypeVar("T")


def lookup(table: dict[str, T], code: str, what: str) -> T:
    """`table[code]`, or Skip naming the code and the accepted ones."""
    if code not in table:
        raise Skip(f"{what} code {code!r} not in {', '.join(table)}")
    return table[code]
