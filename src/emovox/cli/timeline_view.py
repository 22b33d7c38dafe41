"""`emovox analyze --timeline`: segments as a table, JSON Lines, CSV or WebVTT, and a PNG chart."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from ..defaults import check_window
from ..errors import EmovoxError, OptionError
from .output import clock, emit_recording, report_error, shares_text, timeline_model, usage_error

LONG_S = 60.0
"""Files longer than this get a progress bar (on a terminal)."""


def run_timeline(args) -> int:
    """One timeline per file; a failed file is reported and the others still run (exit 1)."""
    problem = _check(args)
    if problem:
        return usage_error(problem)
    model = timeline_model(args)
    from .media_view import is_media

    failed = 0
    for path in args.files:
        if is_media(path):  # a video: voice, face and fused lanes
            from .media_timeline_view import run_media_timeline

            failed += run_media_timeline(path, model, args)
            continue
        try:
            with _progress(path) as progress:
                tl = model.timeline(
                    path, window_s=args.window, hop_s=args.hop, progress=progress,
                    max_duration_s=args.max_duration, adapt=_adapt(args),
                )
        except EmovoxError as exc:
            failed += 1
            report_error(path, exc, args.json)
            continue
        emit_recording(tl, args, print_timeline)
    return 1 if failed else 0


def _adapt(args):
    """The timeline's adapt option: "auto", or False with --no-adapt."""
    return False if getattr(args, "no_adapt", False) else "auto"


def _check(args) -> str | None:
    formats = [name for name in ("json", "csv", "vtt") if getattr(args, name)]
    if not args.timeline:
        used = [f"--{n}" for n in ("csv", "vtt") if getattr(args, n)] + ["--plot"] * bool(args.plot)
        return f"{' and '.join(used)} only apply with --timeline" if used else None
    if len(formats) > 1:
        return "choose one of --json, --csv, --vtt"
    try:
        check_window(args.window, args.hop, names=("--window", "--hop"))
    except OptionError as exc:
        return str(exc)
    if len(args.files) > 1 and (args.csv or args.vtt or args.plot):
        return "--csv, --vtt and --plot take one input file"
    return None


def print_timeline(tl, console=None) -> None:
    """A table of segments and the summary under it."""
    from rich.console import Console
    from rich.table import Table

    from ..labels import emotion_info

    console = console or Console()
    table = Table(title=f"{tl.file or 'audio'}  ({tl.duration_s:.1f} s, {tl.model})", title_justify="left")
    for col, justify in (("start", "right"), ("end", "right"), ("emotion", "left"), ("confidence", "right")):
        table.add_column(col, justify=justify)
    for s in tl.segments:
        if s.emotion is None:
            what = "[dim]· silence / non-speech[/]" if not s.speech else "[dim]· no emotion[/]"
            conf = ""
        else:
            info = emotion_info(s.emotion)
            what, conf = f"{info.emoji} [{info.color}]{info.label}[/]", f"{s.confidence:.0%}"
        table.add_row(clock(s.start), clock(s.end), what, conf)
    console.print(table)
    summary = tl.summary
    if summary.dominant is None:
        console.print("no speech found: no emotion is given")
        return
    shares = shares_text(summary.shares)
    dominant = emotion_info(summary.dominant)
    console.print(
        f"speech {summary.speech_s:.1f} s of {tl.duration_s:.1f} s; dominant {dominant.emoji} "
        f"{dominant.label}; {summary.changes} change(s); share of speech time: {shares}"
    )
    if tl.adapted is not None:
        console.print(f"adapted: {adapted_line(tl.adapted)}")


def adapted_line(adapted: dict) -> str:
    """What a timeline was adapted to, in a few words."""
    if not adapted.get("applied", True):
        return f"no ({adapted.get('reason', 'the safe estimate kept the un-adapted model')})"
    return f"to the {adapted.get('to')} ({adapted.get('clips')} {'windows' if adapted.get('to') == 'recording' else 'clips'}, " \
        f"{adapted.get('method')})"


@contextmanager
def _progress(path: str):
    """A rich progress bar for long files on a terminal; otherwise no callback."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(), console=Console(stderr=True), transient=True,
    )
    task = None

    def update(done: float, total: float | None) -> None:
        nonlocal task
        if task is None:
            if total is None or total < LONG_S:
                return
            bar.start()
            task = bar.add_task(path, total=total)
        bar.update(task, completed=min(done, total or done))

    try:
        yield update
    finally:
        bar.stop()
