"""Routes on top of a recipe, scored by leave-one-corpus-out (LOCO) with all of its feature copies.

``loco_study.py`` compares head settings on clean features; this script takes one recipe as trained
(every copy it names: clean, noise, telephone, crops) and measures changes that are not recipe
settings, each against the recipe itself in the same run:

- ``nap:GROUPS:K``  nuisance attribute projection. In the training set's standardised feature space,
  the K main directions along which the GROUPS' means differ once each emotion's mean is removed
  (``speaker``: every training speaker; ``corpus-emotion``: every corpus x emotion cell) are projected
  out of every feature vector, training and test alike. A fixed linear map, so a shipped head could
  carry it at no cost; it asks whether the directions that tell speakers or corpora apart carry what
  fails on a new corpus.
- ``tta:COPIES``  test-time averaging: each held-out clip is also scored on its crop copies (the same
  0.6-1.5 s stretches the training copies use) and the probabilities are averaged, e.g.
  ``tta:clean,crop1,crop2,crop3``; the head is the recipe's.
- ``recipe:JSON``  recipe settings changed (e.g. ``recipe:{"hidden": 256, "seeds": 1}`` for an MLP head).
- ``ensemble:ROUTE + ROUTE ...``  the routes' held-out probabilities averaged (a route already run
  in the same call is not run again).

Each route prints one line: 4-emotion UA mean and worst over the held-out corpora, mean ECE with no
temperature and at a temperature chosen per held-out corpus on the other corpora's predictions (as
``loco_temperature.py --nested``), and UA per corpus; lines are appended to OUT/routes.jsonl.

Usage: python benchmarks/loco_routes.py --config RECIPE.json --manifest A.csv ... \\
           --route base --route nap:speaker:8 --route tta:clean,crop1,crop2,crop3 --out DIR
       python benchmarks/loco_routes.py --out DIR --table
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

HEADER = ("| route | LOCO UA 4-emo mean % | worst % | ECE % (T = 1) | ECE % (nested T) | per corpus UA 4-emo % "
          "| seconds |\n|---|---:|---:|---:|---:|---|---:|")


def nuisance_projection(X: np.ndarray, emotions, groups, k: int):
    """(mean, scale, U): standardise with the training statistics, then remove the span of U (F, k),
    the k main directions of the groups' mean offsets after each emotion's mean is taken out."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0) + 1e-5
    Z = (X - mean) / scale
    emotions, groups = np.asarray(emotions), np.asarray(groups)
    for e in np.unique(emotions):
        Z[emotions == e] -= Z[emotions == e].mean(axis=0)
    offsets = np.stack([Z[groups == g].mean(axis=0) for g in np.unique(groups)])
    offsets -= offsets.mean(axis=0)
    U = np.linalg.svd(offsets, full_matrices=False)[2][:k].T
    return mean.astype(np.float32), scale.astype(np.float32), U.astype(np.float32)


def project(A: np.ndarray, mean: np.ndarray, scale: np.ndarray, U: np.ndarray) -> np.ndarray:
    Z = (A - mean) / scale
    return Z - (Z @ U) @ U.T


def nap_fit(inner, groups: str, k: int):
    """A LOCO fit (see training.loco.Fit) that projects out ``k`` nuisance directions before ``inner``."""
    if groups not in ("speaker", "corpus-emotion"):
        raise SystemExit(f"nap groups must be speaker or corpus-emotion, not {groups!r}")

    def fit(rows, X, labels):
        keys = [f"{r.corpus}:{r.speaker}" if groups == "speaker" else f"{r.corpus}:{r.emotion}" for r in rows]
        p = nuisance_projection(X[0], [r.emotion for r in rows], keys, k)
        predict = inner(rows, np.stack([project(x, *p) for x in X]), labels)
        return lambda Z: predict(project(Z, *p))

    return fit


def nested_ece(predictions: dict) -> tuple[float, float]:
    """Mean 4-emotion ECE at a temperature chosen per held-out corpus on the others, and the T chosen on
    all (``loco_temperature.nested`` on in-memory predictions)."""
    from loco_temperature import nested

    per, overall = nested(predictions)
    return float(np.mean([ece for _, ece in per.values()])), overall


def loco_routes(rows, X, copies, recipe, route: str, seed: int = 0):
    """LOCO predictions for one route (see the module docstring)."""
    from emovox.training.loco import loco_predict, recipe_fit

    kind, _, arg = route.partition(":")
    if kind == "recipe":
        return loco_predict(rows, X, recipe_fit(replace(recipe, **json.loads(arg)), seed))
    fit = recipe_fit(recipe, seed)
    if kind == "base":
        return loco_predict(rows, X, fit)
    if kind == "nap":
        groups, _, k = arg.partition(":")
        return loco_predict(rows, X, nap_fit(fit, groups, int(k)))
    if kind == "tta":
        names = arg.split(",")
        missing = [c for c in names if c not in copies]
        if missing:
            raise SystemExit(f"tta copies {missing} are not copies of the recipe ({', '.join(copies)})")
        return loco_predict(rows, X, fit, test_copies=[copies.index(c) for c in names])
    raise SystemExit(f"unknown route {route!r}: base, nap:GROUPS:K, tta:COPIES, recipe:JSON or ensemble:A + B")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", help="recipe.json (its copies are the training copies)")
    ap.add_argument("--manifest", action="append", default=[])
    ap.add_argument("--route", action="append", default=[], help="base | nap:GROUPS:K | tta:COPIES | recipe:JSON | ensemble:ROUTE + ROUTE")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="folder: routes.jsonl (one line appended per route)")
    ap.add_argument("--table", action="store_true", help="only print every route of OUT/routes.jsonl as one table")
    args = ap.parse_args()
    out = Path(args.out)
    if args.table:
        print(HEADER)
        for line in (out / "routes.jsonl").read_text().splitlines():
            print(json.loads(line)["line"])
        return

    from emovox.training.features import FeatureCache, recipe_backbone
    from emovox.training.loco import loco_report
    from emovox.training.recipe import Recipe
    from emovox.training.train import pooled_matrix, read_rows, torch

    recipe = Recipe.load(args.config)
    recipe = replace(recipe, temperature=0.0, adapt_head=False)  # the ECE columns choose their own T
    torch.set_num_threads(recipe.threads)
    rows = read_rows(args.manifest)
    copies = list(recipe.copies)
    X = pooled_matrix(FeatureCache(recipe_backbone(recipe), aug_seed=recipe.aug_seed), rows, copies, recipe.pooling)
    out.mkdir(parents=True, exist_ok=True)
    print("\n" + HEADER)
    done: dict[str, dict] = {}

    def predict(route: str) -> dict:
        if route not in done:
            if route.startswith("ensemble:"):
                members = [predict(m.strip()) for m in route.partition(":")[2].split(" + ")]
                done[route] = {name: dict(p, probs=np.mean([m[name]["probs"] for m in members], axis=0))
                               for name, p in members[0].items()}
            else:
                done[route] = loco_routes(rows, X, copies, recipe, route, args.seed)
        return done[route]

    for route in args.route or ["base"]:
        t0 = time.time()
        predictions = predict(route)
        report = loco_report(predictions, {"route": route, "recipe": recipe.to_dict()})
        f = report["summary"]["four"]
        nested, t_all = nested_ece(predictions)
        per = ", ".join(f"{c} {100 * r['four']['ua']:.1f}" for c, r in report["corpora"].items())
        line = (f"| `{route}` | {100 * f['ua_mean']:.1f} | {100 * f['ua_worst']:.1f} ({f['worst_corpus']}) "
                f"| {100 * f['ece_mean']:.1f} | {100 * nested:.1f} (T on all {t_all:g}) | {per} | {time.time() - t0:.0f} |")
        print(line, flush=True)
        with (out / "routes.jsonl").open("a") as fh:
            fh.write(json.dumps({"route": route, "config": args.config, "summary": report["summary"],
                                 "nested_ece": nested, "t_all": t_all,
                                 "per_corpus_four_ua": {c: r["four"]["ua"] for c, r in report["corpora"].items()},
                                 "line": line}) + "\n")


if __name__ == "__main__":
    main()
