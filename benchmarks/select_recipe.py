"""Compare recipe variants: leave-one-corpus-out (LOCO) first, within-corpus validation second.

Primary criterion: LOCO over the given manifests (``training.loco``: for each corpus, the variant is
trained on all the others and tested on it): mean and worst-corpus UA on the four common emotions
(angry, happy, neutral, sad; calm counts as neutral) and the mean ECE. A user's recordings come from
none of the training corpora, so this is the number to choose by.
Second check: the variant fitted on all manifests, scored by its own speaker cross-validation inside
the training data (out-of-fold UA per corpus, mean over corpora), which rewards cues that hold only
inside one corpus and must not be used alone.

Usage: python benchmarks/select_recipe.py --config base.json --manifest A.csv ... \\
           --variant '{"pooling": "speech_cmn"}' --variant '{"weight_decay": 0.01}'
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
    ap.add_argument("--no-within", action="store_true", help="skip the within-corpus second check")
    args = ap.parse_args()

    from emovox.training.features import FeatureCache, recipe_backbone
    from emovox.training.loco import loco_predict, loco_report, recipe_fit
    from emovox.training.recipe import Recipe
    from emovox.training.train import fit_rows, label_order, pooled_matrix, read_rows

    base = Recipe.load(args.config)
    variants = [{}] + [json.loads(v) for v in args.variant]
    rows = read_rows(args.manifest)
    backbone = recipe_backbone(base)
    cache = FeatureCache(backbone, aug_seed=base.aug_seed)
    if len({replace(base, **v).preprocess for v in variants}) != 1:
        raise SystemExit("variants must share the preprocessing (compare it with benchmarks/loco_study.py)")
    copies = list(dict.fromkeys(c for v in variants for c in replace(base, **v).copies))
    X = {p: pooled_matrix(cache, rows, copies, p) for p in dict.fromkeys(replace(base, **v).pooling for v in variants)}
    labels = label_order(r.emotion for r in rows)
    print("\n| variant | LOCO UA 4-emo mean % | LOCO worst % | LOCO ECE 4-emo mean % | within: out-of-fold UA % "
          "(mean of corpora) | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for v in variants:
        recipe = replace(base, **v)
        feats = X[recipe.pooling][[copies.index(c) for c in recipe.copies]]
        t0 = time.time()
        loco = loco_report(loco_predict(rows, feats, recipe_fit(recipe, args.seed)))["summary"]["four"]
        within = "" if args.no_within else \
            f"{100 * fit_rows(rows, feats, labels, recipe, args.seed, backbone).fit.val['ua']:.1f}"
        print(f"| {json.dumps(v) if v else 'base'} | {100 * loco['ua_mean']:.1f} | {100 * loco['ua_worst']:.1f} "
              f"({loco['worst_corpus']}) | {100 * loco['ece_mean']:.1f} | {within} | {time.time() - t0:.0f} |", flush=True)


if __name__ == "__main__":
    main()
