"""Evaluate a model on a manifest, or cross-validate its recipe over speaker-independent folds.

Scoring a model goes through the public path (``emovox.load_model(...).predict_many``); cross-
validation retrains the recipe for each fold on the other folds' speakers (plus any extra training
manifests) and predicts the unseen speakers from the same cached features that inference computes.
Both end in ``Scored`` records; the report only aggregates them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..corpora.manifest import ManifestRow
from ..errors import EmovoxError
from ..models.base import softmax
from ..results.result import Prediction


@dataclass(frozen=True)
class Scored:
    """One test clip: truth, speaker, fold, and the (label-restricted) prediction."""

    path: str
    corpus: str
    speaker: str
    fold: str
    truth: str
    emotion: str
    confidence: float
    scores: dict[str, float]

    def to_dict(self) -> dict:
        return asdict(self)


def restrict(scores: dict[str, float], labels: Sequence[str] | None) -> dict[str, float]:
    """Keep only ``labels`` (mask the model's other outputs) and renormalise to sum 1."""
    if not labels:
        return dict(scores)
    missing = [lab for lab in labels if lab not in scores]
    if missing:
        raise EmovoxError(
            f"--labels {', '.join(missing)} not among the model's labels ({', '.join(scores)})"
        )
    kept = {lab: scores[lab] for lab in labels}
    total = sum(kept.values())
    if total <= 0:
        return {lab: 1.0 / len(kept) for lab in kept}
    return {lab: v / total for lab, v in kept.items()}


SILENT = "(silent)"
"""The 'emotion' of a clip the recognizer found silent: it has no prediction and counts as a miss."""


def scored(row: ManifestRow, prediction: Prediction, fold: str, labels: Sequence[str] | None) -> Scored:
    """A Prediction for a manifest row, restricted to ``labels``."""
    if prediction.silent:
        return Scored(str(row.path), row.corpus, row.speaker, fold, row.emotion, SILENT, 0.0, {})
    scores = restrict(prediction.scores, labels)
    best = max(scores, key=scores.get)
    return Scored(str(row.path), row.corpus, row.speaker, fold, row.emotion, best, float(scores[best]), scores)


def check_labels(rows: Sequence[ManifestRow], labels: Sequence[str]) -> None:
    """Every test clip's true emotion must be one the model (or --labels) can answer."""
    missing = sorted({r.emotion for r in rows} - set(labels))
    if missing:
        raise EmovoxError(
            f"the manifest has emotions {', '.join(missing)} that are not scored labels "
            f"({', '.join(labels)}); pass --labels with them or drop those rows"
        )


def score_model(model: str | os.PathLike | None, rows: Sequence[ManifestRow],
                labels: Sequence[str] | None = None, batch_size: int = 16,
                adapt_to: Sequence[str] = (), adapt_method: str = "safe") -> list[Scored]:
    """Run a model on every row through ``emovox.load_model(...).predict_many`` (after
    ``Recognizer.adapt(adapt_to, method=adapt_method)`` when reference clips are given)."""
    from tqdm.auto import tqdm

    from .. import load_model

    recognizer = load_model(None if model is None else str(model))
    if adapt_to:
        recognizer = recognizer.adapt(adapt_to, method=adapt_method)
    check_labels(rows, labels or recognizer.labels)
    out = []
    step = max(1, batch_size)
    for i in tqdm(range(0, len(rows), step), desc="scoring", mininterval=2, leave=False):
        chunk = rows[i : i + step]
        predictions = recognizer.predict_many([r.path for r in chunk], batch_size=step, features=False,
                                                 faces=False)
        out += [scored(r, p, "all", labels) for r, p in zip(chunk, predictions)]
    return out


def speaker_folds(rows: Sequence[ManifestRow], folds: dict[str, int] | None) -> dict[str, str]:
    """speaker -> fold name: from a folds file, or one fold per speaker (leave one speaker out)."""
    speakers = sorted({r.speaker for r in rows})
    if folds is None:
        return {s: s for s in speakers}
    missing = [s for s in speakers if s not in folds]
    if missing:
        raise EmovoxError(f"speakers {', '.join(missing[:5])} of the manifest are not in the folds file")
    return {s: str(folds[s]) for s in speakers}


def cross_validate(recipe, rows: Sequence[ManifestRow], folds: dict[str, int] | None,
                   train_rows: Sequence[ManifestRow] = (), labels: Sequence[str] | None = None,
                   seed: int = 0, progress: bool = True) -> list[Scored]:
    """Retrain the recipe per fold on the other folds (+ ``train_rows``); score the held-out speakers."""
    from tqdm.auto import tqdm

    from .features import FeatureCache, recipe_backbone
    from .train import fit_rows, label_order, pooled_matrix

    fold_of = speaker_folds(rows, folds)
    all_rows = list(rows) + list(train_rows)
    model_labels = label_order(r.emotion for r in all_rows)
    check_labels(rows, labels or model_labels)
    backbone = recipe_backbone(recipe)
    cache = FeatureCache(backbone, aug_seed=recipe.aug_seed)
    X = pooled_matrix(cache, all_rows, recipe.copies, recipe.pooling, progress)
    test_fold = np.array([fold_of[r.speaker] for r in rows] + [""] * len(train_rows))
    out: list[Scored] = []
    for fold in tqdm(sorted(set(fold_of.values()), key=_natural), desc="folds", disable=not progress):
        train = np.flatnonzero(test_fold != fold)
        test = np.flatnonzero(test_fold == fold)
        trained = fit_rows([all_rows[i] for i in train], X[:, train], model_labels, recipe, seed, backbone)
        probs = softmax(trained.logits(X[0, test]))
        for i, p in zip(test, probs):
            prediction = prediction_from_probs(trained.labels, p, all_rows[i])
            out.append(scored(all_rows[i], prediction, fold, labels))
    return out


def prediction_from_probs(labels: Sequence[str], probs: np.ndarray, row: ManifestRow) -> Prediction:
    best = int(np.argmax(probs))
    return Prediction(
        emotion=labels[best], confidence=float(probs[best]),
        scores={lab: float(v) for lab, v in zip(labels, probs)},
        duration_s=float(row.duration_s or 0.0), model="cross-validation", file=str(row.path),
    )


def _natural(name: str):
    return (0, int(name), "") if name.isdigit() else (1, 0, name)
