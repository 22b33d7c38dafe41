"""The evaluate command's work: resolve the model's recipe, score or cross-validate, write the report."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from ..batch.reference import draw
from ..corpora.manifest import read_folds, read_manifest
from ..errors import EmovoxError
from .evaluate import cross_validate, score_model
from .recipe import Recipe
from .report import build_report, write_report


def model_recipe(model: str | None, config: str | None) -> Recipe:
    """The recipe to retrain per fold: ``config`` if given, else the one stored in the model folder."""
    if config:
        return Recipe.load(config)
    from ..models.registry import NATIVE_CONFIG, _resolve, spec_path

    folder = Path(spec_path(_resolve(model)))
    file = folder / NATIVE_CONFIG
    recipe = json.loads(file.read_text()).get("extra", {}).get("recipe") if file.is_file() else None
    if not recipe:
        raise EmovoxError(
            f"model {model or 'default'} ({folder}) stores no training recipe; pass --config recipe.json"
        )
    return Recipe.from_dict(recipe)


def parse_labels(text: str | None) -> list[str] | None:
    """'angry, happy' -> ['angry', 'happy'] in canonical names."""
    if not text:
        return None
    from ..labels import canonical_list

    labels = list(canonical_list(text))
    if len(labels) < 2:
        raise EmovoxError(f"--labels needs at least two labels, got {text!r}")
    return labels


def evaluate(model: str | None, manifest: str | os.PathLike, report_dir: str | os.PathLike, *,
             folds: str | os.PathLike | None = None, loso: bool = False,
             train_manifests: Sequence[str | os.PathLike] = (), labels: Sequence[str] | None = None,
             config: str | None = None, seed: int = 0, command: str = "", drop_other: bool = False,
             adapt: int = 0, adapt_method: str = "safe") -> dict:
    """Score ``model`` on ``manifest`` (no folds) or cross-validate its recipe; write and return the report.

    ``drop_other``: test only the clips whose emotion is among ``labels`` (a 4-class protocol on an
    8-class corpus, or a cross-corpus test on the labels both sides share); the report counts the rest.
    """
    rows = read_manifest(manifest)
    if adapt < 0:
        raise EmovoxError(f"--adapt must be a number of clips >= 0, got {adapt}")
    if adapt and (folds or loso):
        raise EmovoxError("--adapt scores a trained model (use it without --folds/--loso)")
    reference = [r.path for r in draw(rows, adapt, seed)]  # unlabelled, dropped emotions included
    dropped: dict[str, int] = {}
    if drop_other:
        if not labels:
            raise EmovoxError("--drop-other needs --labels (the emotions to keep)")
        for r in rows:
            if r.emotion not in labels:
                dropped[r.emotion] = dropped.get(r.emotion, 0) + 1
        rows = [r for r in rows if r.emotion in labels]
        if not rows:
            raise EmovoxError(f"no clip of {manifest} has one of the labels {', '.join(labels)}")
    if folds or loso:
        recipe = model_recipe(model, config)
        fold_map = read_folds(folds) if folds else None
        extra = [r for m in train_manifests for r in read_manifest(m)]
        records = cross_validate(recipe, rows, fold_map, extra, labels, seed)
        protocol = "folds" if folds else "leave-one-speaker-out"
        meta = {"protocol": protocol, "recipe": recipe.to_dict(), "seed": seed}
    else:
        if train_manifests:
            raise EmovoxError("--train-manifest only applies to cross-validation (--folds or --loso)")
        records = score_model(model, rows, labels, adapt_to=reference, adapt_method=adapt_method)
        meta = {"protocol": "score", "model": model or "default"}
        if reference:
            meta["adapted_to_clips"] = len(reference)
            meta["adapt_method"] = adapt_method
    used = labels or next(list(r.scores) for r in records if r.scores)
    meta.update({"command": command, "manifest": str(manifest), "train_manifests": [str(m) for m in train_manifests]})
    if drop_other:
        meta["dropped"] = dict(sorted(dropped.items()))
    report = build_report(records, used, meta)
    write_report(report, records, report_dir)
    return report


def loco(model: str | None, manifests: Sequence[str | os.PathLike], report_dir: str | os.PathLike, *,
         config: str | None = None, seed: int = 0, command: str = "", adapt: int = 0,
         adapt_method: str = "safe") -> dict:
    """Leave-one-corpus-out over ``manifests`` with the model's (or ``config``'s) recipe; write the report.
    ``adapt`` > 0: each held-out corpus is scored adapted to that many of its own unlabelled clips
    (``adapt_method``), and to one-emotion and skewed sources (``loco.loco_evaluate``)."""
    from .loco import loco_evaluate, write_loco

    if len(manifests) < 2:
        raise EmovoxError("--loco needs at least two --manifest files (one per corpus)")
    report, predictions = loco_evaluate(model_recipe(model, config), manifests, seed, command=command, adapt=adapt,
                                        adapt_method=adapt_method)
    write_loco(report, predictions, report_dir)
    return report


def evaluate_command(args, command: str = "") -> dict:
    """Adapter from the CLI's argparse namespace."""
    manifests = args.manifest if isinstance(args.manifest, list) else [args.manifest]
    if getattr(args, "loco", False):
        if args.train_manifest or args.labels or args.drop_other:
            raise EmovoxError("--loco takes only --manifest (one per corpus), --config, --adapt, --seed and --report")
        return loco(args.model, manifests, args.report, config=args.config, seed=args.seed, command=command,
                    adapt=args.adapt, adapt_method=getattr(args, "adapt_method", "safe"))
    if len(manifests) > 1:
        raise EmovoxError("several --manifest files need --loco (otherwise give one test manifest)")
    return evaluate(
        args.model, manifests[0], args.report, folds=args.folds, loso=args.loso,
        train_manifests=args.train_manifest, labels=parse_labels(args.labels), config=args.config,
        seed=args.seed, command=command, drop_other=args.drop_other, adapt=args.adapt,
        adapt_method=getattr(args, "adapt_method", "safe"),
    )
