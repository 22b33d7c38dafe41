"""`emovox analyze --timeline --speakers`: who spoke when and what each felt, as a table, JSON Lines,
CSV, WebVTT with voice tags, and a PNG with one lane per speaker."""

from __future__ import annotations

from ..errors import EmovoxError
from .output import clock, emit_recording, report_error, shares_text, timeline_model, usage_error


def run_conversation(args) -> int:
    """One conversation per file; a failed file is reported and the others still run (exit 1)."""
    problem = _check(args)
    if problem:
        return usage_error(problem)
    model = timeline_model(args)
    # each speaker is their own adaptation source unless the user adapted the model (--adapt-to) or said not to
    per_speaker = not getattr(args, "no_adapt", False) and not getattr(args, "adapt_to", None)
    failed = 0
    for path in args.files:
        try:
            conv = model.conversation(path, num_speakers=args.num_speakers, window_s=args.window,
                                      adapt=per_speaker, batch_size=args.batch_size,
                                      max_duration_s=args.max_duration)
        except EmovoxError as exc:
            failed += 1
            report_error(path, exc, args.json)
            continue
        emit_recording(conv, args, print_conversation)
    return 1 if failed else 0


def _check(args) -> str | None:
    if not args.speakers:
        return "--num-speakers only applies with --timeline --speakers"
    if not args.timeline:
        return "--speakers only applies with --timeline"
    if args.transcribe:
        return "--speakers does not take --transcribe yet"
    if sum(bool(getattr(args, name)) for name in ("json", "csv", "vtt")) > 1:
        return "choose one of --json, --csv, --vtt"
    if len(args.files) > 1 and (args.csv or args.vtt or args.plot):
        return "--csv, --vtt and --plot take one input file"
    return None


def print_conversation(conv, console=None) -> None:
    """A table of segments (speaker, time, emotion) and a line per speaker under it."""
    from rich.console import Console
    from rich.table import Table

    from ..labels import emotion_info

    console = console or Console()
    table = Table(title=f"{conv.file or 'audio'}  ({conv.duration_s:.1f} s, {len(conv.speaker_names)} speaker(s), "
                  f"{conv.model})", title_justify="left")
    for col, justify in (("speaker", "left"), ("start", "right"), ("end", "right"), ("emotion", "left"),
                         ("confidence", "right")):
        table.add_column(col, justify=justify)
    for s in conv.segments:
        if s.emotion is None:
            what, conf = "[dim]· no emotion[/]", ""
        else:
            info = emotion_info(s.emotion)
            what, conf = f"{info.emoji} [{info.color}]{info.label}[/]", f"{s.confidence:.0%}"
        table.add_row(s.speaker, clock(s.start), clock(s.end), what, conf)
    console.print(table)
    if not conv.segments:
        console.print("no speech found: no speakers and no emotion are given")
        return
    for summary in [*conv.speakers, conv.summary]:
        who = summary.speaker or "all"
        if summary.dominant is None:
            console.print(f"{who}: {summary.speech_s:.1f} s of speech, no emotion")
            continue
        shares = shares_text(summary.shares)
        dominant = emotion_info(summary.dominant)
        applied = summary.speaker and summary.adapted and summary.adapted.get("applied", True)
        note = " (adapted to this speaker)" if applied else ""
        console.print(f"{who}: {summary.speech_s:.1f} s of speech in {summary.turns} turn(s); dominant "
                      f"{dominant.emoji} {dominant.label}; {summary.changes} change(s); {shares}{note}")
