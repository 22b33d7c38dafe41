"""Shipped weights (fp16 storage) vs int8 on speakers the head never saw, through the public API.

For each RAVDESS fold the shipped recipe is retrained on the other speakers (plus all of EmoDB-2s and
TurEV-DB, as the shipped model is), exported twice (``weights="fp16"``, the shipped storage, and
``weights="int8"``, dynamic int8 matmuls) into a temporary folder, and both exports score the
held-out clips through ``emovox.load_model(...).predict_many`` -- the path users run. Prints UA, ECE,
how often the two agree on the top emotion, the largest score difference, and the median model time.

Usage: python benchmarks/weights_heldout.py [--corpus ravdess] [--folds 1,2,...] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CORPORA = ("ravdess", "emodb_2s", "turev_db")
WEIGHTS = ("fp16", "int8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", choices=CORPORA, default="ravdess")
    ap.add_argument("--folds", default=None, help="comma-separated fold names (default: all)")
    ap.add_argument("--corpora", default=str(ROOT.parent / "shared" / "corpora"))
    ap.add_argument("--config", default=str(ROOT / "src/emovox/assets/emovox-base/recipe.json"))
    ap.add_argument("--out", default=None, help="folder for table.md and report-<weights>.json")
    args = ap.parse_args()

    import torch

    import emovox
    from emovox.corpora.manifest import read_folds, read_manifest
    from emovox.training.evaluate import scored, speaker_folds
    from emovox.training.features import FeatureCache, load_backbone
    from emovox.training.recipe import Recipe
    from emovox.training.report import build_report
    from emovox.training.train import fit_rows, label_order, pooled_matrix, save_model

    t0 = time.time()
    corpora = Path(args.corpora)
    recipe = Recipe.load(args.config)
    torch.set_num_threads(recipe.threads)
    rows = read_manifest(corpora / args.corpus / "manifest.csv")
    others = [r for c in CORPORA if c != args.corpus for r in read_manifest(corpora / c / "manifest.csv")]
    folds_file = corpora / args.corpus / "folds.csv"
    fold_of = speaker_folds(rows, read_folds(folds_file) if folds_file.is_file() else None)
    all_rows = rows + others
    labels = label_order(r.emotion for r in all_rows)
    test_labels = [lab for lab in labels if lab in {r.emotion for r in rows}]
    backbone = load_backbone(recipe.backbone)
    X = pooled_matrix(FeatureCache(backbone, aug_seed=recipe.aug_seed), all_rows, recipe.copies, recipe.pooling)

    wanted = args.folds.split(",") if args.folds else sorted(set(fold_of.values()))
    records = {w: [] for w in WEIGHTS}
    agree, max_diff, ms = [], 0.0, {w: [] for w in WEIGHTS}
    test_fold = np.array([fold_of[r.speaker] for r in rows] + [""] * len(others))
    for fold in wanted:
        train = np.flatnonzero(test_fold != fold)
        test_rows = [rows[i] for i in np.flatnonzero(test_fold == fold)]
        trained = fit_rows([all_rows[i] for i in train], X[:, train], labels, recipe, 0, backbone)
        predictions = {}
        with tempfile.TemporaryDirectory() as tmp:
            for w in WEIGHTS:
                folder = save_model(trained, Path(tmp) / w, name=f"fold-{fold}-{w}", weights=w)
                model = emovox.load_model(str(folder))
                predictions[w] = model.predict_many([r.path for r in test_rows], features=False)
                for r in test_rows[:20]:  # model time on single clips, after the batch warmed it up
                    start = time.perf_counter()
                    model.predict(r.path, features=False)
                    ms[w].append(1000 * (time.perf_counter() - start))
        for w in WEIGHTS:
            records[w] += [scored(r, p, fold, test_labels) for r, p in zip(test_rows, predictions[w])]
        for a, b in zip(*(predictions[w] for w in WEIGHTS)):
            agree.append(a.emotion == b.emotion)
            if a.scores and b.scores:
                max_diff = max(max_diff, max(abs(a.scores[k] - b.scores[k]) for k in a.scores))
        print(f"fold {fold} done ({time.time() - t0:.0f} s)", file=sys.stderr)

    lines = [f"{args.corpus}: folds {', '.join(wanted)}, each head trained on the other speakers + the other two "
             f"corpora, scored through emovox.load_model().predict_many ({time.time() - t0:.0f} s)", "",
             "| weights | clips | UA % (mean of folds) | UA % (pooled) | ECE % (pooled) | predict(path) median ms |",
             "|---|---:|---:|---:|---:|---:|"]
    reports = {}
    for w in WEIGHTS:
        rep = build_report(records[w], test_labels, {"weights": w, "corpus": args.corpus})
        reports[w] = rep
        m, p = rep["mean_over_folds"], rep["pooled"]
        lines.append(f"| {w} | {p['n']} | {100 * m['ua']:.1f} | {100 * p['ua']:.1f} | {100 * p['ece']:.1f} "
                     f"| {statistics.median(ms[w]):.1f} |")
    lines += ["", f"Same top emotion (all labels): {100 * np.mean(agree):.1f} % of {len(agree)} clips; "
              f"largest score difference {max_diff:.3f}."]
    table = "\n".join(lines)
    print(table)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "table.md").write_text(table + "\n")
        for w, rep in reports.items():
            (out / f"report-{w}.json").write_text(json.dumps(rep, indent=1))


if __name__ == "__main__":
    main()
