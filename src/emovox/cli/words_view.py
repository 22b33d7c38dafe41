"""`emovox analyze --transcribe [--timeline]`: the voice, what was said, its emotion, both fused."""

from __future__ import annotations

import dataclasses
import json
import sys

from ..errors import EmovoxError
from .output import adapted, print_prediction, report_error


def run_words(args) -> int:
    """Per file: voice prediction + transcript + text emotion + fused (or per speech segment)."""
    import emovox

    from ..analysis.transcribe import load_transcriber
    from ..io.audio import SAMPLE_RATE, load_audio

    if args.csv or args.vtt or args.plot:
        print("emovox analyze: error: --transcribe prints a table or --json (not --csv, --vtt, --plot)",
              file=sys.stderr)
        return 2
    transcriber = load_transcriber()  # a missing extra fails here, once, with the pip command
    limit = args.max_duration if args.max_duration is not None else (None if args.timeline else 600.0)
    model = adapted(emovox.load_model(args.model, features=not args.no_features and not args.timeline,
                                      max_duration_s=limit, labels=args.labels), args)
    failed = 0
    for path in args.files:
        try:
            signal = load_audio(path, max_duration_s=limit)
            if args.timeline:
                _timeline(model, signal, path, args, transcriber)
            else:
                p = model.predict((signal, SAMPLE_RATE), transcribe=True)
                _clip(dataclasses.replace(p, file=path), args)
        except EmovoxError as exc:
            failed += 1
            report_error(path, exc, args.json)
    return 1 if failed else 0


def _clip(p, args) -> None:
    if args.json:
        print(json.dumps(p.to_dict(top_k=args.top_k), ensure_ascii=False), flush=True)
        return

    print_prediction(p, args.top_k)
    print_words(p.transcript, p.text, p.fused)


def _timeline(model, signal, path, args, transcriber) -> None:
    from ..analysis.transcript import timeline_words
    from ..io.audio import SAMPLE_RATE

    tl = model.timeline((signal, SAMPLE_RATE), window_s=args.window, hop_s=args.hop,
                        adapt=False if getattr(args, "no_adapt", False) else "auto")
    tl = dataclasses.replace(tl, file=path)
    words = timeline_words(tl, signal, transcriber=transcriber)
    if args.json:
        print(json.dumps({**tl.to_dict(), "words": [w.to_dict() for w in words]}, ensure_ascii=False), flush=True)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from .timeline_view import print_timeline

    print_timeline(tl)
    table = Table(title="what was said (English, Whisper tiny.en)", title_justify="left")
    for column in ("start", "end", "voice", "words", "text", "fused"):
        table.add_column(column)
    for w in words:
        fused = w.fused.emotion + (" (conflict)" if w.fused.conflict else "") if w.fused else "-"
        table.add_row(f"{w.start:.1f}", f"{w.end:.1f}", w.voice or "-", escape(w.transcript) or "[dim]-[/]",
                      w.text.emotion if w.text else "-", fused)
    Console().print(table)


def print_words(transcript, text, fused, console=None) -> None:
    """The transcript, the emotion of its words and the fused answer, in a few lines."""
    from rich.console import Console
    from rich.markup import escape

    from ..labels import emotion_info

    console = console or Console()
    console.print(f"[dim]words (English, Whisper tiny.en):[/] {escape(transcript) if transcript else '[dim]none heard[/]'}")
    if text is not None:
        info = emotion_info(text.emotion)
        console.print(f"[dim]emotion of the words:[/] {info.emoji} [{info.color}]{info.label}[/] {text.confidence:.0%}")
    if fused is not None:
        info = emotion_info(fused.emotion)
        weights = ", ".join(f"{m} {w:.2f}" for m, w in fused.weights.items())
        line = f"[dim]voice + words:[/] {info.emoji} [bold {info.color}]{info.label}[/] {fused.confidence:.0%} ({weights})"
        if fused.conflict:
            line += "  [bold red]voice and words disagree[/]"
        console.print(line)
