"""`emovox train`: fit an emotion model on corpus manifests and write a model folder."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("train", help="train an emotion model from manifests (needs emovox[train])")
    p.add_argument("--manifest", action="append", required=True, metavar="CSV",
                   help="a corpus manifest (repeat for multi-corpus training)")
    p.add_argument("--out", required=True, metavar="DIR", help="model folder to write")
    p.add_argument("--backbone", help="whisper-tiny.en (default), a Hugging Face model folder or hub id")
    p.add_argument("--config", metavar="JSON", help="recipe JSON (e.g. a model folder's recipe.json)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--name", help="model name (default: the folder name)")
    p.add_argument("--version", default="1", help="model version string")
    p.add_argument("--weights", choices=("fp16", "int8", "fp32"), default="fp16", help="ONNX weight storage")
    p.add_argument("--metrics", action="append", default=[], metavar="REPORT_DIR",
                   help="an `emovox evaluate` report folder whose summary goes into emovox.json (repeatable)")
    p.set_defaults(func=run)


def run(args) -> int:
    from dataclasses import replace
    from pathlib import Path

    from ..training.recipe import Recipe
    from ..training.report import report_summary
    from ..training.train import calibration_text, read_rows, save_model, train_model

    recipe = Recipe.load(args.config) if args.config else Recipe()
    if args.backbone:
        recipe = replace(recipe, backbone=args.backbone)
    metrics = {Path(d).name: report_summary(d) for d in args.metrics}
    rows = read_rows(args.manifest)
    trained = train_model(rows, recipe, seed=args.seed)
    out = save_model(trained, args.out, name=args.name or Path(args.out).name, version=args.version,
                     weights=args.weights, metrics=metrics)
    val = trained.fit.val
    if val:
        checked = (f"validation UA {val['ua']:.3f} ({val['scheme']}, {len(trained.fit.val_speakers)} speakers, "
                   f"{val['clips']} clips); calibration: {calibration_text(trained)}")
    else:
        checked = "no validation (fewer than two speakers per corpus)"
    print(f"wrote {out} ({len(trained.labels)} labels: {', '.join(trained.labels)}; {checked})")
    return 0
