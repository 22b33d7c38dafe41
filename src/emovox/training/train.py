"""Train a model from manifests with a recipe, and write it as a native emovox model folder.

>>> # model = train_model(read_rows(["ravdess/manifest.csv"]), Recipe(), seed=0)
>>> # save_model(model, "models/my-model", name="my-model")
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..corpora.manifest import ManifestRow, read_manifest
from ..errors import EmovoxError
from ..labels import EMOTIONS
from ..models.adapt_estimate import AdaptStats, adapt_stats
from .features import Backbone, FeatureCache, recipe_backbone
from .recipe import FitData, FitResult, Recipe, fit_head, torch

CARD = "MODEL_CARD.md"
RECIPE = "recipe.json"


def read_rows(manifests: Sequence[str | os.PathLike]) -> list[ManifestRow]:
    """All rows of the given manifests, in order."""
    if not manifests:
        raise EmovoxError("no manifest given: pass at least one --manifest CSV")
    return [row for m in manifests for row in read_manifest(m)]


def label_order(emotions) -> list[str]:
    """Canonical display order (labels.EMOTIONS), then any other label alphabetically."""
    present = set(emotions)
    known = [e for e in EMOTIONS if e in present]
    return known + sorted(present - set(known))


def pooled_matrix(cache: FeatureCache, rows: Sequence[ManifestRow], copies: Sequence[str], pooling: str,
                  progress: bool = True) -> np.ndarray:
    """(len(copies), N, F) pooled features, one slab per copy name (features.copy_names)."""
    from tqdm.auto import tqdm

    out = []
    for copy in copies:
        desc = "features" if copy == "clean" else f"{copy} copy"
        out.append(np.stack([
            cache.pooled(r.path, copy, pooling)
            for r in tqdm(rows, desc=desc, disable=not progress, leave=False, mininterval=2)
        ]))
    return np.stack(out)


@dataclass
class Trained:
    """A fitted head on a backbone, with what it was trained on."""

    backbone: Backbone
    fit: FitResult
    labels: list[str]
    recipe: Recipe
    seed: int
    data: dict
    adapted: FitResult | None = None  # the head on per-corpus-centred features (recipe adapt_head)
    adapted_stats: AdaptStats | None = None  # what the safe estimate of a reference's offset needs

    @torch.no_grad()
    def logits(self, pooled: np.ndarray) -> np.ndarray:
        """Calibrated logits (logits / temperature) for pooled features (N, F)."""
        return self.fit.head(torch.as_tensor(pooled, dtype=torch.float32)).numpy() / self.fit.temperature

    def module(self):
        from .head import EmotionNet

        if self.backbone.parts:
            raise EmovoxError(f"backbone {self.backbone.name!r} (two encoders side by side) is for evaluation; "
                              "exporting it as one model is not built")
        head = self.fit.head.compact()
        return EmotionNet(self.backbone.module, head, self.backbone.frontend, self.recipe.pooling,
                          pooled_output=self.adapted is not None).eval()


def train_model(
    rows: Sequence[ManifestRow],
    recipe: Recipe,
    seed: int = 0,
    *,
    backbone: Backbone | None = None,
    cache: FeatureCache | None = None,
    progress: bool = True,
) -> Trained:
    """Pooled features (cached) -> fitted head; labels are the union of the rows' emotions."""
    torch.set_num_threads(recipe.threads)
    backbone = backbone or recipe_backbone(recipe)
    cache = cache or FeatureCache(backbone, aug_seed=recipe.aug_seed)
    labels = label_order(r.emotion for r in rows)
    X = pooled_matrix(cache, rows, recipe.copies, recipe.pooling, progress)
    trained = fit_rows(rows, X, labels, recipe, seed, backbone)
    if recipe.adapt_head:
        trained.adapted = fit_rows(rows, centre_by_corpus(X, [r.corpus for r in rows]), labels, recipe, seed,
                                   backbone).fit
        head = trained.adapted.head.compact()
        trained.adapted_stats = adaptation_statistics(head.projection.numpy(), X[0], rows, trained.labels,
                                                      recipe.relabel)
    return trained


def adaptation_statistics(projection: np.ndarray, X: np.ndarray, rows: Sequence[ManifestRow],
                          labels: Sequence[str], relabel: dict[str, str] | None = None) -> AdaptStats:
    """``models.adapt_estimate.adapt_stats`` of the clean training features ``X`` (N, F) of ``rows``
    projected by the adapted head's ``projection`` (F, D); ``labels``: the head's classes (rows of
    other labels, or relabelled away, are left out)."""
    relabel = relabel or {}
    emotions = [relabel.get(r.emotion, r.emotion) for r in rows]
    keep = np.flatnonzero([e in labels for e in emotions])
    y = np.array([list(labels).index(emotions[i]) for i in keep])
    U = np.asarray(X, dtype=np.float64)[keep] @ np.asarray(projection, dtype=np.float64)
    return adapt_stats(U, y, [rows[i].corpus for i in keep], [rows[i].speaker for i in keep], len(labels))


def centre_by_corpus(X: np.ndarray, corpora: Sequence[str], scale: bool = False) -> np.ndarray:
    """X (copies, N, F) with each corpus' mean (per copy) subtracted: what the adapted head trains on.

    At run time ``Recognizer.adapt`` subtracts the mean of the user's own recordings instead, so the
    head sees features relative to the domain they come from (language, channel, recording set-up).
    """
    corpora = np.asarray(corpora)
    out = np.empty_like(X)
    for corpus in np.unique(corpora):
        m = corpora == corpus
        out[:, m] = X[:, m] - X[:, m].mean(axis=1, keepdims=True)
        if scale:  # also unit spread per feature (a study setting of loco.recipe_fit)
            out[:, m] /= X[:, m].std(axis=1, keepdims=True) + 1e-6
    return out


def fit_rows(rows, X: np.ndarray, labels: list[str], recipe: Recipe, seed: int, backbone: Backbone) -> Trained:
    """Fit the head on already pooled features X (copies, N, F) of ``rows``; ``recipe.relabel`` first
    merges (or, mapped to "", drops) training labels, so the head's labels may be fewer than ``labels``."""
    if recipe.relabel:
        emotions = [recipe.relabel.get(r.emotion, r.emotion) for r in rows]
        keep = np.flatnonzero([bool(e) for e in emotions])
        rows = [dataclasses.replace(rows[i], emotion=emotions[i]) for i in keep]
        X = X[:, keep]
        labels = [lab for lab in label_order(recipe.relabel.get(lab, lab) for lab in labels) if lab]
    y = np.array([labels.index(r.emotion) for r in rows])
    data = FitData(X, y, [r.corpus for r in rows], [r.speaker for r in rows], labels)
    fit = fit_head(data, recipe, seed)
    summary = {
        "clips": len(rows),
        "speakers": len({r.speaker for r in rows}),
        "corpora": dict(Counter(r.corpus for r in rows)),
        "emotions": dict(Counter(r.emotion for r in rows)),
    }
    return Trained(backbone, fit, labels, recipe, seed, summary)


def save_model(trained: Trained, out: str | os.PathLike, *, name: str, version: str = "1",
               metrics: dict | None = None, weights: str = "fp16") -> Path:
    """Export to ONNX + emovox.json (recipe, data, validation metrics inside) + recipe.json + card."""
    from ..models.adapted import ADAPTED_FILE, save_adapted
    from ..models.native import sha256_file
    from .export import write_model_folder

    out = Path(out)
    extra = {
        "recipe": trained.recipe.to_dict(),
        "seed": trained.seed,
        "backbone": trained.backbone.name,
        "data": trained.data,
        "validation": {"speakers": trained.fit.val_speakers, **trained.fit.val},
        "metrics": metrics or {},
    }
    out.mkdir(parents=True, exist_ok=True)
    adapted = out / ADAPTED_FILE
    adapted.unlink(missing_ok=True)  # a head from an earlier model in this folder must not be picked up
    if trained.adapted is not None:
        head = trained.adapted.head.compact()
        save_adapted(adapted, head.shift.numpy(), head.projection.numpy(), head.bias.detach().numpy(),
                     head.classes, None if head.log_t is None else head.log_t.numpy(), trained.adapted.temperature,
                     stats=trained.adapted_stats)
        extra["adapted_head"] = {"file": ADAPTED_FILE, "sha256": sha256_file(adapted)}
    write_model_folder(
        out, trained.module(), trained.labels, name=name, version=version,
        frontend=trained.backbone.frontend, temperature=trained.fit.temperature, weights=weights,
        description=f"{trained.backbone.name} + pooled-statistics emotion head (emovox train)",
        extra=extra, preprocess=trained.backbone.preprocess,
    )
    (out / RECIPE).write_text(json.dumps(trained.recipe.to_dict(), indent=2) + "\n")
    if not (out / CARD).is_file():
        (out / CARD).write_text(basic_card(name, trained))
    return out


def calibration_text(trained: Trained) -> str:
    """How the trained head is calibrated, in one phrase (for the card and the CLI)."""
    temps = trained.fit.val.get("temperatures") or {}
    if trained.recipe.temperature:
        return f"a fixed temperature ({trained.recipe.temperature:g}) set by the recipe"
    if not trained.recipe.calibrate or not trained.fit.val:
        return "none"
    if trained.recipe.calibration == "corpus" and len(trained.data["corpora"]) >= 2:
        return (f"one temperature ({trained.fit.temperature:.3f}) fitted on out-of-corpus predictions "
                "(each training corpus predicted by a head fitted on the others)")
    if trained.recipe.calibration == "domain":
        return ("per-corpus temperatures (" + ", ".join(f"{c} {t:.2f}" for c, t in temps.items())
                + ") fitted on out-of-fold predictions of held-out speakers, mixed per clip by a corpus classifier")
    return f"temperature {trained.fit.temperature:.3f} fitted on held-out speakers"


def basic_card(name: str, trained: Trained) -> str:
    """A short model card: data, recipe, validation; evaluation numbers are added by the user."""
    data = trained.data
    lines = [
        f"# {name}", "",
        f"Backbone: {trained.backbone.name} (frozen). Head: per-layer mean+std pooling, standardise"
        f"{' + PCA' if trained.recipe.pca_dims else ''}, "
        + ("a linear (logistic-regression) head" if trained.recipe.hidden <= 0
           else f"ensemble of {trained.recipe.seeds} MLP(s)")
        + f"; calibration: {calibration_text(trained)}.", "",
        f"Labels: {', '.join(trained.labels)}", "",
        "## Data", "",
        f"{data['clips']} clips, {data['speakers']} speakers; per corpus: "
        + ", ".join(f"{k} {v}" for k, v in data["corpora"].items()), "",
        "## Validation (speakers held out of training)", "",
        f"{trained.fit.val.get('scheme', 'none')}; speakers: {', '.join(trained.fit.val_speakers) or 'none'}; "
        f"UA (mean over corpora): {trained.fit.val.get('ua', float('nan')):.4f}", "",
        "## Recipe", "", "```json", json.dumps(trained.recipe.to_dict(), indent=2), "```", "",
        "Licences: the model inherits the terms of its training data (RAVDESS CC BY-NC-SA 4.0 and "
        "TurEV-DB CC BY-NC-ND 4.0 are non-commercial; ASED states no licence: research use only).", "",
    ]
    return "\n".join(lines)
