"""`emovox train-text --out DIR`: train the text model on GoEmotions (needs emovox[train])."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("train-text", help="train the text emotion model on GoEmotions (needs emovox[train])",
                       description="Fit TF-IDF word + character n-grams and logistic regression on "
                       "GoEmotions (Ekman-mapped), pick C on its dev split, export numpy assets.")
    p.add_argument("--out", required=True, metavar="DIR", help="model folder to write")
    p.add_argument("--data", default=None, metavar="DIR", help="text data folder (default: ../shared/text)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from ..training.text import run_train
    from ..training.text_data import text_root

    return run_train(Path(args.data) if args.data else text_root(), args.out, args.seed)
