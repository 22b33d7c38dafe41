"""`emovox evaluate`: score a model on a manifest, or cross-validate its recipe by speaker."""

from __future__ import annotations


def register(sub) -> None:
    from ..models.adapt_estimate import DEFAULT_METHOD, METHODS

    p = sub.add_parser("evaluate", help="evaluate a model or cross-validate its recipe (needs emovox[train])")
    p.add_argument("--model", help="model name or folder (default: the built-in model)")
    p.add_argument("--manifest", required=True, action="append", metavar="CSV",
                   help="test manifest (with --loco: one per corpus, repeated)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--folds", metavar="CSV", help="speaker,fold file: retrain per fold, test unseen speakers")
    group.add_argument("--loso", action="store_true", help="leave one speaker out (retrain per speaker)")
    group.add_argument("--loco", action="store_true",
                       help="leave one corpus out over the --manifest files: train on the others, test on each")
    p.add_argument("--train-manifest", action="append", default=[], metavar="CSV",
                   help="extra training data for every fold (cross-validation only)")
    p.add_argument("--labels", help="comma-separated labels to score; the model's other outputs are masked")
    p.add_argument("--drop-other", action="store_true",
                   help="test only clips whose emotion is among --labels (others are counted in the report)")
    p.add_argument("--adapt", type=int, default=0, metavar="N",
                   help="adapt the model to N random clips of the manifest first (Recognizer.adapt; "
                        "labels unused); with --loco: each held-out corpus, adapted to N of its clips")
    p.add_argument("--adapt-method", default=DEFAULT_METHOD, choices=METHODS,
                   help=f"how --adapt finds the clips' offset (default {DEFAULT_METHOD}): safe (estimated with "
                        "their emotion mix; un-adapted when that mix is one-sided), soft (as safe, then the "
                        "adapted and the plain model's scores mixed), centre (their plain mean), gate (centring "
                        "shrunk for one-sided clips), none")
    p.add_argument("--config", metavar="JSON", help="recipe for cross-validation (default: the model's own)")
    p.add_argument("--seed", type=int, default=0, help="random seed for cross-validation")
    p.add_argument("--report", required=True, metavar="DIR", help="folder for report.json/.md and plots")
    p.set_defaults(func=run)


def run(args) -> int:
    import sys

    from ..training.run import evaluate_command

    report = evaluate_command(args, command="emovox " + " ".join(sys.argv[1:]))
    from ..training.loco import loco_table
    from ..training.report import fold_table

    print(loco_table(report) if args.loco else fold_table(report))
    if "adapt_sources" in report:
        from ..training.adapt_study import study_tables

        print()
        print(study_tables(report["adapt_sources"]))
    print(f"report: {args.report}/report.md")
    return 0
