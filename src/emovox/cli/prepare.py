"""`emovox prepare CORPUS ROOT --out manifest.csv`: a manifest from a corpus' original download."""

from __future__ import annotations

# Mirrors corpora.PREPARERS (checked by a test) so that `emovox --help` imports no recipe.
CORPORA = ("ravdess", "crema-d", "cremad", "tess", "emodb", "savee", "iemocap", "turev", "turev-db", "ased")


def register(sub) -> None:
    p = sub.add_parser(
        "prepare",
        help="write a manifest CSV from a corpus' original download",
        description="Walk a corpus' original download, parse its documented file naming and write "
        "a manifest (path, corpus, speaker, gender, language, emotion, original_label, sentence, "
        "intensity, duration_s). Files off the naming are skipped with a warning.",
    )
    p.add_argument("corpus", choices=CORPORA, metavar="CORPUS", help=f"one of: {', '.join(CORPORA)}")
    p.add_argument("root", metavar="ROOT", help="the folder the corpus was downloaded to")
    p.add_argument("--out", "-o", default="manifest.csv", help="manifest to write (default manifest.csv)")
    p.set_defaults(func=run)


def run(args) -> int:
    import sys
    import warnings

    from rich.console import Console

    from ..corpora import PREPARERS, write_manifest

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = PREPARERS[args.corpus](args.root)
    for w in caught:
        print(f"emovox: warning: {w.message}", file=sys.stderr)
    out = write_manifest(rows, args.out)

    Console().print(summary(rows, args.corpus))
    print(f"wrote {out}")
    return 0


def summary(rows, corpus: str):
    """A rich table: clips, speakers and hours per emotion, and a total line."""
    from rich.table import Table

    table = Table(title=f"{corpus} manifest")
    for col in ("emotion", "clips", "speakers", "hours"):
        table.add_column(col, justify="left" if col == "emotion" else "right")
    emotions: dict[str, list] = {}
    for r in rows:
        emotions.setdefault(r.emotion, []).append(r)
    for emotion, group in sorted(emotions.items(), key=lambda kv: -len(kv[1])):
        table.add_row(emotion, *_counts(group))
    table.add_row("total", *_counts(rows), style="bold")
    return table


def _counts(rows) -> tuple[str, str, str]:
    hours = sum(r.duration_s or 0.0 for r in rows) / 3600
    return str(len(rows)), str(len({r.speaker for r in rows})), f"{hours:.2f}"
