"""`emovox text "..."` / `emovox text --file lines.txt --json`: the emotion of words."""

from __future__ import annotations

import json
import sys

from .output import report_error


def register(sub) -> None:
    p = sub.add_parser(
        "text",
        help="the emotion of a text (table, or JSON Lines with --json)",
        description="Emotion of English text: the dominant emotion and a bar per emotion. Texts come "
        "from the arguments, or one per line from --file (blank lines skipped; '-' reads stdin). "
        "Exits 1 if any text failed; the others are still reported.",
    )
    p.add_argument("texts", nargs="*", metavar="TEXT", help="texts to analyze")
    p.add_argument("--file", "-f", default=None, metavar="FILE", help="one text per line (UTF-8); '-' for stdin")
    p.add_argument("--model", "-m", default=None, help="text model folder (default: built-in emovox-text)")
    p.add_argument("--json", action="store_true", help="one JSON object per text (JSON Lines)")
    p.add_argument("--top-k", type=int, default=None, help="show only the K most likely emotions")
    p.set_defaults(func=run)


def read_lines(path: str) -> list[str]:
    """The non-blank lines of a UTF-8 file (or stdin); TextError if it is not UTF-8 or missing."""
    from ..errors import TextError
    from ..io.text import decode

    try:
        data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()  # noqa: SIM115
    except OSError as exc:
        raise TextError(f"cannot read {path}: {exc.strerror or exc}") from None
    return [line for line in decode(data).splitlines() if line.strip()]


def run(args) -> int:
    from ..errors import EmovoxError, TextError
    from ..recognizers.words import load_text_model

    texts = list(args.texts)
    if args.file:
        texts += read_lines(args.file)
    if not texts:
        raise TextError("no text given: pass TEXT arguments or --file FILE")
    if args.top_k is not None and args.top_k < 1:
        raise TextError(f"--top-k must be a positive integer, got {args.top_k}")
    model = load_text_model(args.model)
    failed = 0
    for text in texts:
        try:
            p = model.predict(text)
        except EmovoxError as exc:
            failed += 1
            report_error(_short(text), exc, args.json, key="text", value=text)
            continue
        if args.json:
            print(json.dumps(p.to_dict(top_k=args.top_k), ensure_ascii=False), flush=True)
        else:
            print_text_prediction(p, args.top_k)
    return 1 if failed else 0


def _short(text: str, n: int = 40) -> str:
    return repr(text if len(text) <= n else text[:n] + "...")


def print_text_prediction(p, top_k: int | None = None, console=None) -> None:
    """A readable block: the text, its dominant emotion, one bar per emotion."""
    from rich.console import Console, Group
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    from ..labels import emotion_info

    console = console or Console()
    info = emotion_info(p.emotion)
    head = f"{info.emoji} [bold {info.color}]{info.label}[/]  {p.confidence:.0%} confidence"
    bars = Table.grid(padding=(0, 1))
    for label, score in p.top(top_k):
        meta = emotion_info(label)
        bars.add_row(f"{meta.emoji} {meta.label}", f"[{meta.color}]{'█' * round(score * 30)}[/]", f"{score:6.1%}")
    title = escape(_short(p.text or "", 60)) + f"  ({p.model})"
    console.print(Panel(Group(head, bars), title=title, title_align="left"))
