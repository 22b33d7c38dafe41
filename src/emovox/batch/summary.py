"""What a batch run did: files, audio hours, failures by reason, speed; and its progress bar."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .rows import reason


@dataclass(frozen=True)
class BatchSummary:
    """The result of ``run_batch``: counts for this run (``skipped``: already in the output)."""

    output: str
    engine: str
    files: int
    failed: int
    skipped: int
    rows: int
    audio_s: float
    elapsed_s: float
    failures: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    adapted_to_clips: int = 0  # the reference clips the model was adapted to (the whole batch's)
    adapted: dict | None = None  # what was adapted to, and why not (None: adaptation was turned off)

    @property
    def ok(self) -> int:
        return self.files - self.failed

    @property
    def audio_hours(self) -> float:
        return self.audio_s / 3600.0

    @property
    def files_per_s(self) -> float:
        return self.files / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def audio_hours_per_hour(self) -> float:
        """Hours of audio analysed per hour of wall time (the real-time speed-up)."""
        return self.audio_s / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": self.output,
            "engine": self.engine,
            "files": self.files,
            "ok": self.ok,
            "failed": self.failed,
            "skipped": self.skipped,
            "rows": self.rows,
            "audio_hours": round(self.audio_hours, 4),
            "elapsed_s": round(self.elapsed_s, 3),
            "files_per_s": round(self.files_per_s, 3),
            "audio_hours_per_hour": round(self.audio_hours_per_hour, 2),
            "failures": dict(self.failures),
            "interrupted": self.interrupted,
            "adapted_to_clips": self.adapted_to_clips,
            "adapted": self.adapted,
        }


class Tally:
    """Accumulates tables as they are written; ``summary()`` freezes the counts."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.files = 0
        self.failed = 0
        self.rows = 0
        self.audio_s = 0.0
        self.failures: Counter[str] = Counter()

    def add(self, table) -> int:
        """Count one table's rows; returns how many files it covered."""
        seen: set[str] = set()
        rows = table.select(["path", "duration_s", "error"]).to_pylist()
        for row in rows:
            if row["path"] in seen:  # timeline: later segments of the same file
                continue
            seen.add(row["path"])
            self.audio_s += row["duration_s"] or 0.0
            if row["error"] is not None:
                self.failed += 1
                self.failures[reason(row["error"], row["path"])] += 1
        self.files += len(seen)
        self.rows += len(rows)
        return len(seen)

    def summary(self, output: str, engine: str, skipped: int, interrupted: bool,
                adapted_to_clips: int = 0, adapted: dict | None = None) -> BatchSummary:
        return BatchSummary(
            output=output,
            engine=engine,
            files=self.files,
            failed=self.failed,
            skipped=skipped,
            rows=self.rows,
            audio_s=self.audio_s,
            elapsed_s=time.perf_counter() - self.start,
            failures=dict(self.failures.most_common()),
            interrupted=interrupted,
            adapted_to_clips=adapted_to_clips,
            adapted=adapted,
        )


def progress_bar(total: int, enabled: bool = True):
    """A rich progress bar on stderr: files done / total, files/s and ETA."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Speed(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("-- files/s" if speed is None else f"{speed:.1f} files/s")

    progress = Progress(
        TextColumn("[bold]analyzing"),
        BarColumn(),
        MofNCompleteColumn(),
        Speed(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        speed_estimate_period=60.0,
    )
    task = progress.add_task("files", total=total)
    return progress, task
