"""Train, export and evaluate the built-in text model (needs the ``train`` extra: scikit-learn).

    python -m emovox.training.text train --out src/emovox/assets/emovox-text   # = emovox train-text
    python -m emovox.training.text evaluate [--card MODEL_CARD.md]               # the card's table
    python -m emovox.training.text train --arch minilm --out DIR                 # fine-tuned MiniLM
    python -m emovox.training.text research [--arch tfidf|minilm]               # in-domain, not shipped

Shipped models train on GoEmotions only (Apache-2.0; see ``text_data``): C and class weights (tfidf)
or the checkpoint (minilm, ``text_minilm``) are picked on its dev split, the test splits are read only
by ``evaluate``. MELD and the tweet set are evaluation only, except for ``research`` (never shipped).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import require
from .text_data import text_root
from .text_tfidf import (
    BLOCKS,
    DAIR_LABELS,
    GRID,
    LABELS,
    evaluate,
    export,
    latency_ms,
    macro_f1,
    parity,
    run_train,
    score_row,
    table,
    train,
    write_card,
)

__all__ = ["BLOCKS", "DAIR_LABELS", "GRID", "LABELS", "evaluate", "export", "latency_ms", "macro_f1", "main",
           "parity", "run_train", "score_row", "table", "train", "write_card"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emovox.training.text", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train on GoEmotions and export the numpy model")
    t.add_argument("--out", required=True, help="model folder to write")
    t.add_argument("--data", default=None, help="the text data folder (default: ../shared/text)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--arch", choices=("tfidf", "minilm"), default="tfidf",
                   help="tfidf: n-grams + logistic regression (numpy); minilm: fine-tuned MiniLM (ONNX)")
    t.add_argument("--epochs", type=float, default=2.0, help="minilm: epochs (default 2)")
    t.add_argument("--lr", type=float, default=8e-5, help="minilm: peak learning rate (default 8e-5)")
    t.add_argument("--threads", type=int, default=1, help="minilm: torch threads (default 1)")
    t.add_argument("--work", default=None, help="minilm: checkpoint folder (default ~/.cache/emovox/text-train)")
    t.add_argument("--from-checkpoint", action="store_true",
                   help="minilm: export the best checkpoint in --work instead of training")
    r = sub.add_parser("research", help="in-domain runs on the tweets and MELD (never shipped)")
    r.add_argument("--arch", choices=("tfidf", "minilm"), default="tfidf")
    r.add_argument("--sets", nargs="+", default=["dair-emotion", "meld"], help="default: dair-emotion meld")
    r.add_argument("--out", default=None, help="model folders (default ~/.cache/emovox/text-research)")
    r.add_argument("--data", default=None, help="the text data folder (default: ../shared/text)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--epochs", type=float, default=2.0, help="minilm: epochs (default 2)")
    r.add_argument("--threads", type=int, default=1, help="minilm: torch threads (default 1)")
    r.add_argument("--card", default=None, help="also write the table into this model card")
    e = sub.add_parser("evaluate", help="print the test table of a text model")
    e.add_argument("--model", default=None, help="model folder (default: the built-in one)")
    e.add_argument("--data", default=None, help="the text data folder (default: ../shared/text)")
    e.add_argument("--card", default=None, help="also write the table into this model card")
    args = parser.parse_args(argv)
    root = Path(args.data) if args.data else text_root()
    if getattr(args, "arch", None) == "minilm":  # torch missing: one line naming the extra
        require("torch", "train", "fine-tuning MiniLM")
    if args.cmd == "research":
        from . import text_research

        extra = {"epochs": args.epochs, "threads": args.threads} if args.arch == "minilm" else {}
        rows = text_research.run(root, args.arch, args.sets, Path(args.out) if args.out else None,
                                 args.seed, **extra)
        print(text_research.table(rows))
        if args.card:
            write_card(args.card, text_research.table(rows), marker=f"research-{args.arch}")
        return 0
    if args.cmd == "train" and args.arch == "minilm":
        from .text_minilm import run_train as run_minilm

        run_minilm(root, args.out, LABELS, seed=args.seed, epochs=args.epochs, lr=args.lr,
                   threads=args.threads, work=Path(args.work) if args.work else None,
                   from_checkpoint=args.from_checkpoint)
        return 0
    if args.cmd == "train":
        return run_train(root, args.out, args.seed)
    rows = evaluate(args.model, root)
    text = table(rows) + f"\n\nmedian latency, one 64-word text: {latency_ms(args.model):.2f} ms"
    print(text)
    if args.card:
        write_card(args.card, text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
