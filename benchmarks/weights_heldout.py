"""Shipped weights (fp16 storage) vs int8 on speakers the head never saw, through the public API.

For each RAVDESS fold the shipped recipe is retrained on the other speakers (plus all of the other
corpora, as the shipped model is), exported twice (``weights="fp16"``, the shipped storage, and
``weights="int8"``, dynamic int8 matmuls) into a temporary folder, and both exports score the
held-out clips through ``emovox.load_model(...).predict_many`` -- the path users run. Prints UA, ECE,
how often the two agree on the top emotion, the largest score difference, and the median model time.

Usage: python benchmarks/weights_heldout.py [--corpus ravdess] [--folds 1,2,...] [--out DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from heldout import (  # also puts the repository's src on sys.path
    CORPORA,
    ROOT,
    held_out,
    write_results,
)

WEIGHTS = ("fp16", "int8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", choices=CORPORA, default="ravdess")
    ap.add_argument("--folds", default=None, help="comma-separated fold names (default: all)")
    ap.add_argument("--corpora", default=str(ROOT.parent / "shared" / "corpora"))
    ap.add_argument("--config", default=str(ROOT / "src/emovox/assets/emovox-base/recipe.json"))
    ap.add_argument("--out", default=None, help="folder for table.md and report-<weights>.json")
    args = ap.parse_args()


    import emovox
    from emovox.training.evaluate import scored
    from emovox.training.recipe import Recipe
    from emovox.training.report import build_report
    from emovox.training.train import fit_rows, save_model

    t0 = time.time()
    h = held_out(args.corpus, args.corpora, Recipe.load(args.config))
    wanted = args.folds.split(",") if args.folds else h.folds
    records = {w: [] for w in WEIGHTS}
    agree, max_diff, ms = [], 0.0, {w: [] for w in WEIGHTS}
    for fold in wanted:
        train, test = h.split(fold)
        test_rows = [h.rows[i] for i in test]
        trained = fit_rows([h.all_rows[i] for i in train], h.X[:, train], h.labels, h.recipe, 0, h.backbone)
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
            records[w] += [scored(r, p, fold, h.test_labels) for r, p in zip(test_rows, predictions[w])]
        for a, b in zip(*(predictions[w] for w in WEIGHTS)):
            agree.append(a.emotion == b.emotion)
            if a.scores and b.scores:
                max_diff = max(max_diff, max(abs(a.scores[k] - b.scores[k]) for k in a.scores))
        print(f"fold {fold} done ({time.time() - t0:.0f} s)", file=sys.stderr)

    lines = [f"{args.corpus}: folds {', '.join(wanted)}, each head trained on the other speakers + the other "
             f"corpora, scored through emovox.load_model().predict_many ({time.time() - t0:.0f} s)", "",
             "| weights | clips | UA % (mean of folds) | UA % (pooled) | ECE % (pooled) | predict(path) median ms |",
             "|---|---:|---:|---:|---:|---:|"]
    reports = {}
    for w in WEIGHTS:
        rep = build_report(records[w], h.test_labels, {"weights": w, "corpus": args.corpus})
        reports[w] = rep
        m, p = rep["mean_over_folds"], rep["pooled"]
        lines.append(f"| {w} | {p['n']} | {100 * m['ua']:.1f} | {100 * p['ua']:.1f} | {100 * p['ece']:.1f} "
                     f"| {statistics.median(ms[w]):.1f} |")
    lines += ["", f"Same top emotion (all labels): {100 * np.mean(agree):.1f} % of {len(agree)} clips; "
              f"largest score difference {max_diff:.3f}."]
    write_results(args.out, "\n".join(lines), reports)

if __name__ == "__main__":
    main()
