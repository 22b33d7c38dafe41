"""Classification and calibration metrics (scikit-learn), and the plots that go with them.

>>> m = classification_metrics(["a", "a", "b", "b"], ["a", "b", "b", "b"], labels=["a", "b"])
>>> m["ua"], m["wa"]
(0.75, 0.75)
>>> round(expected_calibration_error([0.9, 0.6], [True, False], bins=15), 3)
0.35
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import EmovoxError, require


def classification_metrics(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict:
    """UA (balanced accuracy over the classes present), WA, macro-F1, per-class P/R/F1, confusion."""
    skm = require("sklearn.metrics", "train", "evaluation metrics")
    present = [c for c in labels if c in set(y_true)]
    p, r, f, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=present, zero_division=0
    )
    return {
        "n": len(y_true),
        "ua": float(skm.balanced_accuracy_score(y_true, y_pred)),
        "wa": float(skm.accuracy_score(y_true, y_pred)),
        "macro_f1": float(np.mean(f)) if len(f) else 0.0,
        "per_class": {
            c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
            for i, c in enumerate(present)
        },
        "confusion": {
            "labels": list(labels),
            "matrix": skm.confusion_matrix(y_true, y_pred, labels=list(labels)).tolist(),
        },
    }


def _bins(confidence: np.ndarray, bins: int) -> np.ndarray:
    edges = np.linspace(0.0, 1.0, bins + 1)
    return np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], bins: int = 15) -> float:
    """ECE: sum over equal-width confidence bins of (bin share) x |accuracy - mean confidence|."""
    conf = np.asarray(confidence, dtype=np.float64)
    hit = np.asarray(correct, dtype=np.float64)
    if conf.size == 0:
        return 0.0
    idx = _bins(conf, bins)
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.mean() * abs(hit[sel].mean() - conf[sel].mean())
    return float(total)


def reliability(confidence: Sequence[float], correct: Sequence[bool], bins: int = 15) -> list[dict]:
    """Per bin: its range, count, mean confidence and accuracy (the reliability diagram's data)."""
    conf = np.asarray(confidence, dtype=np.float64)
    hit = np.asarray(correct, dtype=np.float64)
    idx = _bins(conf, bins) if conf.size else np.zeros(0, int)
    out = []
    for b in range(bins):
        sel = idx == b
        out.append({
            "low": b / bins, "high": (b + 1) / bins, "count": int(sel.sum()),
            "confidence": float(conf[sel].mean()) if sel.any() else None,
            "accuracy": float(hit[sel].mean()) if sel.any() else None,
        })
    return out


def _pyplot():
    matplotlib = require("matplotlib", "train", "evaluation plots")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(confusion: dict, path: str | Path, title: str = "") -> Path:
    """Row-normalised confusion matrix with counts, as PNG."""
    plt = _pyplot()
    labels, m = confusion["labels"], np.asarray(confusion["matrix"], dtype=float)
    rows = m.sum(axis=1, keepdims=True)
    norm = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * len(labels), 0.8 + 0.7 * len(labels)))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center",
                    color="white" if norm[i, j] > 0.5 else "black", fontsize=8)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def plot_reliability(bins: list[dict], ece: float, path: str | Path, title: str = "") -> Path:
    """Reliability diagram: accuracy per confidence bin against the diagonal, as PNG."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    width = bins[0]["high"] - bins[0]["low"]
    for b in bins:
        if b["count"]:
            ax.bar(b["low"], b["accuracy"], width=width, align="edge", color="#3b82f6", edgecolor="white")
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{title} ECE={ece:.3f}".strip())
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


FOUR = ("angry", "happy", "neutral", "sad")
"""The emotions every LOCO corpus has (label order of labels.EMOTIONS)."""
HARMONISE = {"calm": "neutral"}
"""Truth labels that count as another label in the four-emotion score (TurEV-DB has calm, no neutral)."""
BINS = 15


def restricted_metrics(truth: Sequence[str], probs: np.ndarray, labels: Sequence[str], keep: Sequence[str],
                       harmonise: dict[str, str] | None = None) -> dict:
    """Score ``probs`` (N, len(labels)) on the clips whose (harmonised) truth is in ``keep``, with the
    model's outputs restricted to ``keep`` and renormalised: UA, WA, macro-F1, ECE, confusion."""
    harmonise = harmonise or {}
    missing = [k for k in keep if k not in labels]
    if missing:
        raise EmovoxError(f"labels {', '.join(missing)} are not model outputs ({', '.join(labels)})")
    truth = np.array([harmonise.get(t, t) for t in truth])
    sel = np.isin(truth, list(keep))
    cols = [list(labels).index(k) for k in keep]
    p = np.asarray(probs, dtype=np.float64)[sel][:, cols]
    p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
    pred = [keep[i] for i in p.argmax(axis=1)] if len(p) else []
    out = classification_metrics(list(truth[sel]), pred, list(keep))
    conf = p.max(axis=1) if len(p) else np.zeros(0)
    out["ece"] = expected_calibration_error(conf, truth[sel] == np.array(pred, dtype=object), BINS)
    out["mean_confidence"] = float(conf.mean()) if len(conf) else 0.0
    out["dropped"] = int((~sel).sum())
    return out
