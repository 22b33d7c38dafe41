"""`emovox batch INPUT --out results.parquet`: a folder, glob or manifest -> one row per file.

Exits 1 when any file failed (like `emovox analyze`): every row, failed ones included, is still
written, and the summary lists the failures by reason. Ctrl-C saves the finished rows (exit 130);
`--resume` continues.
"""

from __future__ import annotations

import json
import sys

from ..defaults import (
    ADAPT_CLIPS,
    MAX_DURATION_S,
    MIN_REFERENCE_CLIPS,
    TIMELINE_HOP_S,
    TIMELINE_WINDOW_S,
    check_window,
)


def register(sub) -> None:
    p = sub.add_parser(
        "batch",
        help="analyze a folder, glob or manifest into Parquet/CSV/JSON Lines (local or Ray)",
        description="Analyze many recordings: one row per file (path, duration_s, emotion, "
        "confidence, score_<emotion>..., descriptors, silent, error) or per segment with "
        "--timeline. Exits 1 if any file failed; its row carries the error.",
    )
    p.add_argument("input", metavar="INPUT",
                   help="a folder (searched recursively), a quoted glob ('calls/**/*.mp3'), or a "
                   "manifest .csv/.parquet with a 'path' column (relative to the manifest's folder)")
    p.add_argument("--out", "-o", default="results.parquet",
                   help="results.parquet (default), .csv, .jsonl, or a folder for Parquet parts")
    p.add_argument("--model", "-m", default=None, help="model name, folder or hub id (default: built-in)")
    p.add_argument("--workers", "-w", type=_count, default=1,
                   help="worker processes (local; 0 or 1: in this process) or actors (ray), each "
                   "with one model (default 1)")
    p.add_argument("--engine", choices=("local", "ray"), default="local", help="default: local")
    p.add_argument("--address", default=None,
                   help="Ray cluster to join (ray://host:10001, or auto); default: start a local Ray")
    p.add_argument("--timeline", action="store_true", help="one row per timeline segment")
    p.add_argument("--window", type=float, default=None,
                   help=f"timeline window in seconds (default {TIMELINE_WINDOW_S:g})")
    p.add_argument("--hop", type=float, default=None,
                   help=f"timeline hop in seconds (default {TIMELINE_HOP_S:g})")
    p.add_argument("--speakers", action="store_true",
                   help="with --timeline: who spoke when; one row per speaker segment with a speaker column")
    p.add_argument("--num-speakers", type=_positive, default=None, metavar="N",
                   help="with --speakers: the number of voices when known (default: estimated)")
    p.add_argument("--resume", action="store_true", help="skip files already in --out, append the rest")
    p.add_argument("--overwrite", action="store_true", help="replace results already in --out")
    p.add_argument("--batch-size", type=_positive, default=8, help="clips per model call (default 8)")
    p.add_argument("--threads", type=_positive, default=None,
                   help="math threads per worker (default: cores / workers)")
    p.add_argument("--no-features", action="store_true", help="skip the acoustic descriptors")
    p.add_argument("--labels", default=None, metavar="A,B,...",
                   help="score only these of the model's emotions (e.g. angry,happy,neutral,sad)")
    a = p.add_argument_group(
        "adapting to the input (default: on when it has at least 20 files; see README 'Adapting to your recordings')")
    a.add_argument("--adapt", type=_count, default=None, metavar="N",
                   help=f"draw N input files at random (seed 0: --resume draws the same) and fail if the model "
                   f"cannot be adapted to them (default: min(all, {ADAPT_CLIPS}), and a batch of fewer than "
                   f"{MIN_REFERENCE_CLIPS} files, or one the model cannot adapt to, is analysed un-adapted)")
    a.add_argument("--no-adapt", action="store_true",
                   help="do not adapt (neither to the batch nor, with --timeline, to each recording)")
    a.add_argument("--adapt-by", default=None, metavar="COLUMN|folder",
                   help="adapt per group: each file's parent folder, or a manifest column (caller, site, "
                   f"speaker); a group of fewer than {MIN_REFERENCE_CLIPS} files uses the whole batch's adaptation")
    p.add_argument("--max-duration", type=float, default=MAX_DURATION_S,
                   help=f"longest file in seconds; longer files get an error row (default {MAX_DURATION_S:g}; "
                   "--timeline has no limit)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.set_defaults(func=run)


def _whole(value: str, minimum: int) -> int:
    import argparse

    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < minimum:
        raise argparse.ArgumentTypeError(f"expected {minimum} or more, got {value!r}")
    return n


def _count(value: str) -> int:
    return _whole(value, 0)


def _positive(value: str) -> int:
    return _whole(value, 1)


def run(args) -> int:
    from ..batch import BatchInterrupted, run_batch

    if args.address and args.engine != "ray":
        args.engine = "ray"  # --address only makes sense for Ray
    _check_window(args.window, args.hop)
    if args.no_adapt and (args.adapt is not None or args.adapt_by):
        print("emovox batch: error: --no-adapt cannot be combined with --adapt or --adapt-by", file=sys.stderr)
        return 2
    adapt = False if args.no_adapt else ("auto" if args.adapt is None else args.adapt)
    try:
        summary = run_batch(
            args.input, args.out, model=args.model, engine=args.engine, workers=args.workers,
            address=args.address, batch_size=args.batch_size, timeline=args.timeline,
            window_s=args.window, hop_s=args.hop,
            resume=args.resume, overwrite=args.overwrite, features=not args.no_features,
            max_duration_s=args.max_duration, labels=args.labels, threads=args.threads,
            progress=not args.no_progress and sys.stderr.isatty(), adapt=adapt, adapt_by=args.adapt_by,
            speakers=args.speakers, num_speakers=args.num_speakers,
        )
    except BatchInterrupted as stop:
        report(stop.summary, args.json)
        print(f"emovox: interrupted; finished rows are in {args.out}: rerun with --resume to continue",
              file=sys.stderr)
        return 130
    report(summary, args.json)
    return 1 if summary.failed else 0


def _check_window(window: float | None, hop: float | None) -> None:
    """The timeline window/hop in the user's words, the default named when it is the one at fault."""
    if window is None and hop is None:
        return
    check_window(TIMELINE_WINDOW_S if window is None else window, TIMELINE_HOP_S if hop is None else hop,
                 names=("--window" if window is not None else "the default --window",
                        "--hop" if hop is not None else "the default --hop"))


def report(summary, as_json: bool = False) -> None:
    """The end-of-run summary: a table on stderr, or JSON on stdout."""
    if as_json:
        print(json.dumps(summary.to_dict()), flush=True)
        return
    from rich.console import Console
    from rich.table import Table

    d = summary.to_dict()
    table = Table(title=f"emovox batch -> {d['output']}", show_header=False, title_justify="left")
    for key in ("engine", "files", "ok", "failed", "skipped", "rows", "audio_hours", "elapsed_s",
                "files_per_s", "audio_hours_per_hour"):
        table.add_row(key.replace("_", " "), str(d[key]))
    for key, value in adaptation_lines(d["adapted"]):
        table.add_row(key, value)
    for why, count in d["failures"].items():
        table.add_row("[red]failed[/]", f"{count} x {why}")
    Console(stderr=True).print(table)


def adaptation_lines(adapted: dict | None) -> list[tuple[str, str]]:
    """The summary's ``adapted`` as table rows: what the batch (and each group) was adapted to, or why not."""
    if adapted is None:
        return [("adapted", "no (--no-adapt)")]
    lines = [("adapted", _one(adapted, "batch"))]
    groups = adapted.get("groups")
    if groups is not None:
        own = sum(1 for g in groups.values() if g.get("clips"))
        lines.append((f"adapted by {adapted.get('by')}", f"{own} of {len(groups)} group(s) on their own files"))
        for key, g in groups.items():
            lines.append((f"  {key or '(none)'}", f"{g['files']} files: {_one(g, 'batch')}"))
    return lines


def _one(info: dict, fallback: str) -> str:
    if info.get("clips") and info.get("to"):
        applied = "" if info.get("applied", True) else f", not applied: {info.get('reason', 'kept the un-adapted model')}"
        return f"to {info['to']} ({info['clips']} clips, {info.get('method', 'safe')}{applied})"
    if info.get("to"):  # a group that fell back
        return f"as the {info['to']} ({info.get('reason')})"
    return f"no ({info.get('reason', 'not adapted')})"
