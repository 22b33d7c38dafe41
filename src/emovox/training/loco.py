"""Leave-one-corpus-out (LOCO): for each corpus, train the recipe on all the others and test on it.

This is the number that matters to a user, whose recordings come from none of the training corpora
(other speakers, microphones, rooms, languages). Per held-out corpus it reports
- ``four``: the four emotions every corpus has (angry, happy, neutral, sad; ``calm`` counts as
  neutral in the truth, as TurEV-DB has calm and no neutral); other clips are dropped and the model's
  other outputs masked, the rest renormalised;
- ``shared``: every label the corpus shares with the training set (other clips dropped, outputs
  outside the shared labels masked);
each with UA, WA, ECE and the confusion matrix; then the mean and the worst corpus.

>>> m = restricted_metrics(["angry", "calm"], np.array([[.7, .2, .1], [.1, .3, .6]]),
...                        ["angry", "sad", "neutral"], ["angry", "neutral", "sad"], {"calm": "neutral"})
>>> m["ua"], m["n"]
(1.0, 2)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..corpora.manifest import ManifestRow
from ..errors import EmovoxError
from .metrics import FOUR, HARMONISE, restricted_metrics  # noqa: F401  (FOUR, HARMONISE: this module's names too)


def corpus_report(truth: Sequence[str], probs: np.ndarray, labels: Sequence[str], train_labels: Sequence[str]) -> dict:
    """The four-emotion and the shared-label scores of one held-out corpus."""
    shared = [lab for lab in labels if lab in set(truth) and lab in set(train_labels)]
    return {
        "four": restricted_metrics(truth, probs, labels, list(FOUR), HARMONISE),
        "shared": restricted_metrics(truth, probs, labels, shared),
        "shared_labels": shared,
    }


def summary(per_corpus: dict[str, dict]) -> dict:
    """Mean over corpora and the worst corpus, for the four-emotion and the shared-label scores."""
    out: dict = {}
    for part in ("four", "shared"):
        ua = {c: r[part]["ua"] for c, r in per_corpus.items()}
        worst = min(ua, key=ua.get)
        out[part] = {"ua_mean": float(np.mean(list(ua.values()))), "ua_worst": ua[worst], "worst_corpus": worst,
                     "ece_mean": float(np.mean([r[part]["ece"] for r in per_corpus.values()])),
                     "wa_mean": float(np.mean([r[part]["wa"] for r in per_corpus.values()]))}
    return out


Fit = Callable[[list[ManifestRow], np.ndarray, list[str]], Callable[[np.ndarray], np.ndarray]]
"""(training rows, their features (copies, N, F), labels) -> a function: test features (M, F) -> probs."""


def recipe_fit(recipe, seed: int = 0, adapt: int = 0, adapt_scale: bool = False) -> Fit:
    """The recipe's head fit (``fit_rows``) as a LOCO fit: calibrated probabilities over its labels
    (0 for a label that ``recipe.relabel`` merged away).

    ``adapt`` > 0 scores what ``Recognizer.adapt`` (``emovox batch --adapt N``) gives a user instead:
    the head is fitted on features centred per training corpus (the recipe's ``adapt_head``), and the
    held-out corpus is centred on the mean of ``adapt`` of its own clips drawn at random (seeded),
    unlabelled (all of them when it has fewer). ``adapt_scale``: also divide by their spread (per
    feature), training corpora likewise (a study setting; ``Recognizer.adapt`` centres only).
    """
    from ..models.base import softmax
    from .train import centre_by_corpus, fit_rows

    if adapt < 0:
        raise EmovoxError(f"--adapt must be a number of clips >= 0, got {adapt}")

    def fit(rows, X, labels):
        if adapt:
            X = centre_by_corpus(X, [r.corpus for r in rows], scale=adapt_scale)
        trained = fit_rows(rows, X, labels, recipe, seed, backbone=None)
        cols = [labels.index(lab) for lab in trained.labels]  # fewer when recipe.relabel merged labels

        def predict(Z):
            if adapt:
                draw = np.random.default_rng(seed).permutation(len(Z))[:adapt]
                Z = Z - Z[draw].mean(axis=0, keepdims=True)
                if adapt_scale:
                    Z = Z / (Z[draw].std(axis=0, keepdims=True) + 1e-6)
            probs = np.zeros((len(Z), len(labels)))
            probs[:, cols] = softmax(trained.logits(Z))
            return probs

        return predict

    return fit


def loco_predict(rows: Sequence[ManifestRow], X: np.ndarray, fit: Fit,
                 progress: bool = False, test_copies: Sequence[int] = (0,)) -> dict[str, dict]:
    """For each corpus: fit on the others' rows (all copies of X), predict its clean features (X[0]);
    ``test_copies``: the copies of X whose predictions are averaged per held-out clip instead
    (test-time averaging, e.g. the clean clip and its crops)."""
    from tqdm.auto import tqdm

    from .train import label_order

    corpus = np.array([r.corpus for r in rows])
    names = sorted(set(corpus))
    if len(names) < 2:
        raise EmovoxError(f"leave-one-corpus-out needs at least two corpora; got {', '.join(names) or 'none'}")
    out = {}
    for name in tqdm(names, desc="held-out corpora", disable=not progress):
        train = np.flatnonzero(corpus != name)
        test = np.flatnonzero(corpus == name)
        train_rows = [rows[i] for i in train]
        labels = label_order(r.emotion for r in train_rows)
        predict = fit(train_rows, X[:, train], labels)
        probs = np.mean([predict(X[c, test]) for c in test_copies], axis=0)
        out[name] = {"truth": [rows[i].emotion for i in test], "probs": probs, "labels": labels,
                     "paths": [str(rows[i].path) for i in test], "train_clips": int(len(train))}
    return out


def loco_report(predictions: dict[str, dict], meta: dict | None = None) -> dict:
    """Per held-out corpus metrics (see ``corpus_report``), their mean and worst, and ``meta``."""
    per = {}
    for name, p in predictions.items():
        per[name] = corpus_report(p["truth"], p["probs"], p["labels"], p["labels"])
        per[name].update(test_clips=len(p["truth"]), train_clips=p["train_clips"], labels=p["labels"])
    return {"meta": meta or {}, "corpora": per, "summary": summary(per)}


def loco_evaluate(recipe, manifests: Sequence[str | os.PathLike], seed: int = 0, progress: bool = True,
                  command: str = "", adapt: int = 0, adapt_method: str = "safe") -> tuple[dict, dict[str, dict]]:
    """Read the manifests, compute (cached) features, run LOCO with the recipe; (report, predictions).
    ``adapt``: each held-out corpus adapted to that many of its unlabelled clips with ``adapt_method``
    (the report's main table), and also to one-emotion and skewed sources with every candidate
    method, un-adapted beside them (``adapt_study``; under the report's ``adapt_sources``)."""
    from .features import FeatureCache, recipe_backbone
    from .train import pooled_matrix, read_rows, torch

    torch.set_num_threads(recipe.threads)  # as train_model does: more threads than cores crawl when shared
    rows = read_rows(manifests)
    backbone = recipe_backbone(recipe)
    X = pooled_matrix(FeatureCache(backbone, aug_seed=recipe.aug_seed), rows, recipe.copies, recipe.pooling, progress)
    meta = {"protocol": "leave-one-corpus-out", "recipe": recipe.to_dict(), "seed": seed, "command": command,
            "manifests": [str(m) for m in manifests], "adapted_to_clips": adapt}
    if not adapt:
        predictions = loco_predict(rows, X, recipe_fit(recipe, seed, adapt), progress)
        return loco_report(predictions, meta), predictions
    from .adapt_study import adaptation_study, study_json

    if adapt < 0:
        raise EmovoxError(f"--adapt must be a number of clips >= 0, got {adapt}")
    study = adaptation_study(rows, X, recipe, adapt, seed, progress=progress)
    if adapt_method not in study["variants"]:
        raise EmovoxError(f"unknown adaptation method {adapt_method!r}; known: {', '.join(study['variants'])}")
    predictions = {name: {"truth": r["truth"], "probs": r["mixed_probs"][adapt_method], "labels": r["labels"],
                          "paths": r["paths"], "train_clips": r["train_clips"]}
                   for name, r in study["corpora"].items()}
    meta["adapt_method"] = adapt_method
    report = loco_report(predictions, meta)
    report["adapt_sources"] = study_json(study)
    return report, predictions


def loco_table(report: dict) -> str:
    """Markdown table: per held-out corpus, then mean and worst (UA and ECE in %)."""
    lines = ["| held-out corpus | trained on (clips) | clips 4-emo | UA 4-emo % | ECE 4-emo % | shared labels "
             "| UA shared % | ECE shared % |", "|---|---:|---:|---:|---:|---|---:|---:|"]
    for name, r in report["corpora"].items():
        f, s = r["four"], r["shared"]
        lines.append(f"| {name} | {r['train_clips']} | {f['n']} | {100 * f['ua']:.1f} | {100 * f['ece']:.1f} | "
                     f"{len(r['shared_labels'])} | {100 * s['ua']:.1f} | {100 * s['ece']:.1f} |")
    f, s = report["summary"]["four"], report["summary"]["shared"]
    lines.append(f"| **mean** | | | **{100 * f['ua_mean']:.1f}** | **{100 * f['ece_mean']:.1f}** | | "
                 f"**{100 * s['ua_mean']:.1f}** | **{100 * s['ece_mean']:.1f}** |")
    lines.append(f"| **worst** | | | **{100 * f['ua_worst']:.1f}** ({f['worst_corpus']}) | | | "
                 f"**{100 * s['ua_worst']:.1f}** ({s['worst_corpus']}) | |")
    return "\n".join(lines)


def write_loco(report: dict, predictions: dict[str, dict], folder: str | os.PathLike) -> Path:
    """report.json, report.md (the table and each corpus' four-emotion confusion) and predictions.jsonl."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    with (folder / "predictions.jsonl").open("w") as f:
        for name, p in predictions.items():
            for path, truth, probs in zip(p["paths"], p["truth"], p["probs"]):
                scores = {lab: round(float(v), 5) for lab, v in zip(p["labels"], probs)}
                f.write(json.dumps({"corpus": name, "path": path, "truth": truth, "scores": scores}) + "\n")
    parts = [f"# Leave-one-corpus-out\n\n`{report['meta'].get('command', '')}`\n", loco_table(report), ""]
    if "adapt_sources" in report:
        from .adapt_study import study_tables

        parts += ["## Adapted to mixed, one-emotion and skewed sources\n", study_tables(report["adapt_sources"]), ""]
    for name, r in report["corpora"].items():
        conf = r["four"]["confusion"]
        parts += [f"## {name}: four emotions (rows true, columns predicted)\n",
                  "| | " + " | ".join(conf["labels"]) + " |", "|---|" + "---:|" * len(conf["labels"])]
        parts += [f"| {lab} | " + " | ".join(map(str, row)) + " |" for lab, row in zip(conf["labels"], conf["matrix"])]
        parts.append("")
    (folder / "report.md").write_text("\n".join(parts))
    return folder
