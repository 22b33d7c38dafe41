"""Compare recipe variants by validation only: speaker cross-validation inside the training data.

Every variant is fitted on the full training set of the shipped model (all given manifests); its
score is the out-of-fold UA of ``fit_head`` (each training speaker predicted by a head fitted
without them), per corpus and mean over corpora, plus the out-of-fold ECE after calibration.
No test fold is involved, so this is the place to choose settings.

Usage: python benchmarks/select_recipe.py --config base.json --manifest A.csv ... \\
           --variant '{"pca_dims": 512}' --variant '{"weight_decay": 0.003}'
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="base recipe.json")
    ap.add_argument("--manifest", action="append", required=True)
    ap.add_argument("--variant", action="append", default=[], help="JSON object of settings to change")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from emovox.training.features import FeatureCache, load_backbone
    from emovox.training.recipe import Recipe
    from emovox.training.train import fit_rows, label_order, pooled_matrix, read_rows

    base = Recipe.load(args.config)
    variants = [{}] + [json.loads(v) for v in args.variant]
    rows = read_rows(args.manifest)
    backbone = load_backbone(base.backbone)
    copies = list(dict.fromkeys(c for v in variants for c in replace(base, **v).copies))
    pooling = {replace(base, **v).pooling for v in variants}
    if len(pooling) != 1:
        raise SystemExit("variants must share the pooling")
    X = pooled_matrix(FeatureCache(backbone, aug_seed=base.aug_seed), rows, copies, base.pooling)
    labels = label_order(r.emotion for r in rows)
    print("\n| variant | out-of-fold UA % (mean of corpora) | per corpus UA % | temperatures | seconds |")
    print("|---|---:|---|---|---:|")
    for v in variants:
        recipe = replace(base, **v)
        t0 = time.time()
        trained = fit_rows(rows, X[[copies.index(c) for c in recipe.copies]], labels, recipe, args.seed, backbone)
        val = trained.fit.val
        per = val.get("per_corpus", {})
        temps = val.get("temperatures", {})
        print(f"| {json.dumps(v) if v else 'base'} | {100 * val['ua']:.1f} | "
              + ", ".join(f"{c} {100 * u:.1f}" for c, u in per.items()) + " | "
              + ", ".join(f"{c} {t:.2f}" for c, t in temps.items()) + f" | {time.time() - t0:.0f} |", flush=True)


if __name__ == "__main__":
    main()
