"""`emovox train-text --out DIR [--arch minilm]`: train the text model on GoEmotions (needs emovox[train])."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("train-text", help="train the text emotion model on GoEmotions (needs emovox[train])",
                       description="tfidf: TF-IDF word + character n-grams and logistic regression, C picked "
                       "on GoEmotions dev, numpy assets. minilm: all-MiniLM-L6-v2 fine-tuned on GoEmotions "
                       "(Ekman-mapped), best dev macro-F1 checkpoint, ONNX assets (int8 if it keeps the score).")
    p.add_argument("--out", required=True, metavar="DIR", help="model folder to write")
    p.add_argument("--arch", choices=("tfidf", "minilm"), default="tfidf", help="model family (default tfidf)")
    p.add_argument("--data", default=None, metavar="DIR", help="text data folder (default: ../shared/text)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--epochs", type=float, default=2.0, help="minilm: epochs (default 2)")
    p.add_argument("--threads", type=int, default=1, help="minilm: torch threads (default 1)")
    p.add_argument("--work", default=None, metavar="DIR",
                   help="minilm: checkpoint folder (default ~/.cache/emovox/text-train)")
    p.add_argument("--from-checkpoint", action="store_true",
                   help="minilm: export the best checkpoint in --work instead of training")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..training.text import main

    argv = ["train", "--out", args.out, "--arch", args.arch, "--seed", str(args.seed),
            "--epochs", str(args.epochs), "--threads", str(args.threads)]
    argv += ["--data", args.data] if args.data else []
    argv += ["--work", args.work] if args.work else []
    argv += ["--from-checkpoint"] if args.from_checkpoint else []
    return main(argv)
