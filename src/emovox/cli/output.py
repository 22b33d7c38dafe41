"""What the CLI commands share: the line printed for an input that could not be analysed (one
stderr line, and with ``--json`` one JSON line in the results stream, so a failed input is never
silently missing), the readable block of one prediction, clock times, ``--adapt-to``, and what the
timeline and conversation commands share: the usage error, their model, their output formats and a
summary's shares."""

from __future__ import annotations

import json
import sys


def report_error(name: str, exc: Exception, as_json: bool, *, key: str = "file", value: str | None = None) -> None:
    """``emovox: error: NAME: EXC`` on stderr; with ``as_json`` also ``{key: value or name, "error": ...}``."""
    print(f"emovox: error: {name}: {exc}", file=sys.stderr)
    if as_json:
        print(json.dumps({key: name if value is None else value, "error": str(exc)}, ensure_ascii=False),
              flush=True)


def adapted(model, args):
    """``model`` adapted to ``--adapt-to`` (N files drawn at random, seed 0), or unchanged without it."""
    if not getattr(args, "adapt_to", None):
        return model
    from ..batch.reference import adapt_to

    model = adapt_to(model, args.adapt_to, args.adapt)
    print(f"emovox: adapted to {model.info.extra['adapted_to_clips']} clips of {args.adapt_to}", file=sys.stderr)
    return model


def usage_error(problem: str) -> int:
    """``emovox analyze: error: PROBLEM`` on stderr; returns the exit status for a usage error, 2."""
    print(f"emovox analyze: error: {problem}", file=sys.stderr)
    return 2


def timeline_model(args):
    """The voice model that ``analyze --timeline`` (with or without ``--speakers``) runs: ``--model`` with
    ``--labels`` and ``--max-duration``, no descriptors, adapted to ``--adapt-to`` when given."""
    import emovox

    return adapted(emovox.load_model(
        args.model, features=False, max_duration_s=args.max_duration, labels=args.labels
    ), args)


def emit_recording(result, args, show) -> None:
    """A timeline, conversation or video timeline as ``--json`` (one line), ``--csv`` or ``--vtt`` on
    stdout, or else as ``show(result)``'s table; then ``--plot``'s PNG."""
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False), flush=True)
    elif args.csv:
        sys.stdout.write(result.to_csv())
    elif args.vtt:
        sys.stdout.write(result.to_vtt())
    else:
        show(result)
    if args.plot:
        result.plot(args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)


def shares_text(shares: dict[str, float]) -> str:
    """``Neutral 60%, Happy 40%``: the emotions with a share of speech time, largest first."""
    from ..labels import emotion_info

    return ", ".join(f"{emotion_info(k).label} {v:.0%}" for k, v in sorted(shares.items(), key=lambda kv: -kv[1]) if v > 0)


def print_prediction(p, top_k: int | None = None, console=None) -> None:
    """A readable block: dominant emotion, one bar per emotion, the descriptors."""
    from rich.console import Console, Group
    from rich.panel import Panel
    from rich.table import Table

    from ..labels import emotion_info

    console = console or Console()
    if p.silent:
        head = "[bold]silent[/] - no speech energy, so no emotion is given"
    else:
        info = emotion_info(p.emotion)
        head = f"{info.emoji} [bold {info.color}]{info.label}[/]  {p.confidence:.0%} confidence"
    bars = Table.grid(padding=(0, 1))
    for label, score in p.top(top_k):
        info = emotion_info(label)
        bar = "█" * round(score * 30)
        bars.add_row(f"{info.emoji} {info.label}", f"[{info.color}]{bar}[/]", f"{score:6.1%}")
    parts = [head, bars]
    if p.features:
        desc = Table.grid(padding=(0, 2))
        for key, value in p.features.items():
            desc.add_row(key, "-" if value is None else f"{value:.4g}")
        parts += ["", "[dim]acoustic descriptors[/]", desc]
    title = f"{p.file or 'audio'}  ({p.duration_s:.2f} s, {p.model})"
    console.print(Panel(Group(*parts), title=title, title_align="left"))


def clock(t: float) -> str:
    """``m:ss.sss`` (``h:mm:ss.sss`` from an hour on) for a time in seconds."""
    m, s = divmod(t, 60.0)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:06.3f}" if h else f"{m:d}:{s:06.3f}"
