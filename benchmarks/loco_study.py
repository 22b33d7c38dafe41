"""Compare recipe candidates by leave-one-corpus-out (LOCO) on cached clean features, in seconds each.

Every clip's hidden states are read once from the feature cache (computed as inference computes
them); each candidate is a pooling (head.POOLINGS), an optional subset of encoder layers and a set of
recipe changes; it is scored by ``training.loco`` (train on all corpora but one, test on it).
Candidates use clean features only (no augmented copies), so they are compared on equal terms;
augmentation is measured by ``emovox evaluate --loco --config ...``.

Usage: python benchmarks/loco_study.py --config base.json --manifest A.csv ... \\
           --candidate '{"pooling": "speech_cmn", "weight_decay": 0.01}' --out benchmarks/results/loco/study
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HEADER = ("| candidate (clean features) | LOCO UA 4-emo mean % | worst % | ECE 4-emo mean % | per corpus UA 4-emo % "
          "| UA shared mean % | seconds |\n|---|---:|---:|---:|---|---:|---:|")


def pooled_variants(rows, poolings, backbone):
    """pooling -> (1, N, F) clean pooled features, from the cached states of every row."""
    import torch
    from tqdm.auto import tqdm

    from emovox.training.features import FeatureCache

    torch.set_num_threads(1)  # tiny tensors: more threads only contend
    from emovox.training.head import pool_clip

    cache = FeatureCache(backbone)
    out = {p: [] for p in poolings}
    for r in tqdm(rows, desc="states", mininterval=5):
        states, energy = cache.get(r.path, "clean")
        s = tuple(torch.from_numpy(states).float()[:, None])
        e = torch.from_numpy(energy)[None]
        for p in poolings:
            out[p].append(pool_clip(s, e, p)[0].numpy())
    return {p: np.stack(v)[None] for p, v in out.items()}


def layer_columns(layers: list[int], n_layers: int, dim: int, blocks: int) -> np.ndarray:
    """Columns of the pooled vector that belong to ``layers`` (each block is (layers, 2 * dim))."""
    per = 2 * dim
    return np.concatenate([b * n_layers * per + k * per + np.arange(per) for b in range(blocks) for k in layers])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", help="base recipe.json")
    ap.add_argument("--manifest", action="append", default=[])
    ap.add_argument("--candidate", action="append", default=[],
                    help='JSON: recipe changes, plus optional "layers": [..] (encoder states to pool) and "adapt": N '
                         '(each held-out corpus adapted to N of its unlabelled clips, as batch --adapt; '
                         '"adapt_scale": true also scales by their spread); '
                         'or {"ensemble": [candidate, ...]}: their LOCO probabilities averaged')
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="folder: study.jsonl (one line appended per candidate)")
    ap.add_argument("--table", action="store_true", help="only print every candidate of OUT/study.jsonl as one table")
    args = ap.parse_args()
    if args.table:
        print(HEADER)
        for line in (Path(args.out) / "study.jsonl").read_text().splitlines():
            print(json.loads(line)["line"])
        return

    from emovox.training.features import recipe_backbone
    from emovox.training.loco import loco_predict, loco_report, recipe_fit
    from emovox.training.recipe import Recipe
    from emovox.training.train import read_rows, torch

    base = replace(Recipe.load(args.config), aug_copies=0, telephone_copies=0)
    torch.set_num_threads(base.threads)  # more threads than free cores crawl on a shared machine
    candidates = [json.loads(c) for c in args.candidate] or [{}]
    rows = read_rows(args.manifest)
    X = {}
    members = [m for c in candidates for m in c.get("ensemble", [c])]
    for prep in sorted({c.get("preprocess", base.preprocess) for c in members}):
        poolings = sorted({c.get("pooling", base.pooling) for c in members if c.get("preprocess", base.preprocess) == prep})
        backbone = recipe_backbone(replace(base, preprocess=prep))
        X.update({(prep, p): v for p, v in pooled_variants(rows, poolings, backbone).items()})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print("\n" + HEADER)
    def predict(cand):
        settings = {k: v for k, v in cand.items() if k not in ("layers", "adapt", "adapt_scale")}
        recipe = replace(base, **settings)
        feats = X[(recipe.preprocess, recipe.pooling)]
        if "layers" in cand:
            n_layers, blocks = 5, 1 if recipe.pooling == "mean_std" else 2
            feats = feats[..., layer_columns(cand["layers"], n_layers, feats.shape[-1] // (2 * n_layers * blocks), blocks)]
        return loco_predict(rows, feats, recipe_fit(recipe, args.seed, cand.get("adapt", 0), cand.get("adapt_scale", False))), recipe

    for cand in candidates:
        t0 = time.time()
        if "ensemble" in cand:  # the members' probabilities averaged, per held-out corpus
            runs = [predict(m) for m in cand["ensemble"]]
            predictions = runs[0][0]
            for name, p in predictions.items():
                p["probs"] = np.mean([r[0][name]["probs"] for r in runs], axis=0)
            meta = {"candidate": cand, "recipes": [r[1].to_dict() for r in runs]}
        else:
            predictions, recipe = predict(cand)
            meta = {"candidate": cand, "recipe": recipe.to_dict()}
        report = loco_report(predictions, meta)
        f, s = report["summary"]["four"], report["summary"]["shared"]
        per = ", ".join(f"{c} {100 * r['four']['ua']:.1f}" for c, r in report["corpora"].items())
        line = (f"| {json.dumps(cand) if cand else 'base (clean)'} | {100 * f['ua_mean']:.1f} | {100 * f['ua_worst']:.1f} "
                f"| {100 * f['ece_mean']:.1f} | {per} | {100 * s['ua_mean']:.1f} | {time.time() - t0:.0f} |")
        print(line, flush=True)
        with (out / "study.jsonl").open("a") as fh:
            fh.write(json.dumps({"candidate": cand, "summary": report["summary"],
                                 "per_corpus_four_ua": {c: r["four"]["ua"] for c, r in report["corpora"].items()},
                                 "per_corpus_four_ece": {c: r["four"]["ece"] for c, r in report["corpora"].items()},
                                 "line": line}) + "\n")


if __name__ == "__main__":
    main()
