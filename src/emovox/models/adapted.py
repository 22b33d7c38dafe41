"""Adapting a model to the user's own recordings (numpy only; see ``Recognizer.adapt``).

A model trained with the recipe's ``adapt_head`` carries a second linear head (``adapted.npz``)
fitted on pooled features from which each training corpus' own mean was subtracted. Given a set
of the user's recordings (the reference), ``Adapted`` subtracts their mean pooled feature and scores
with that head, so the model sees each clip relative to the recordings' domain (language, channel,
microphone, speaking style) instead of relative to the training corpora.

Plain centring (``method="centre"``) needs a reference that is a fair sample of the audio being
analysed (several emotions): a reference of one emotion shifts every answer away from that emotion.
The default, ``method="safe"``, estimates the reference's offset together with its emotion mix
(``adapt_estimate``) from training statistics stored in ``adapted.npz``; a file from before those
statistics falls back to plain centring and says so (``info.extra["adapted"]["fallback"]``).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..defaults import MIN_REFERENCE_CLIPS
from ..errors import ModelError
from ..results.result import Reference
from .adapt_estimate import DEFAULT_METHOD, AdaptStats, soft_combine, source_centre
from .base import sha256_file, softmax

__all__ = ["ADAPTED_FILE", "MIN_REFERENCE_CLIPS", "Adapted", "AdaptedHead", "Reference", "load_adapted_head",
           "save_adapted"]

ADAPTED_FILE = "adapted.npz"


def save_adapted(path: str | os.PathLike, shift, projection, bias, classes: int, log_t, temperature: float,
                 stats: AdaptStats | None = None) -> None:
    """Write the adapted head: logits = ((x - shift) @ projection + bias)[:, :classes], calibrated;
    with ``stats``, also what the safe estimate of a reference's offset needs (``adapt_stats``)."""
    arrays = {"shift": shift, "projection": projection, "bias": bias, "classes": np.array(classes),
              "temperature": np.array(temperature, dtype=np.float32)}
    if log_t is not None:
        arrays["log_t"] = log_t
    arrays = {k: np.asarray(v, dtype=np.float32 if k != "classes" else np.int64) for k, v in arrays.items()}
    if stats is not None:
        arrays.update({k: np.asarray(v, dtype=np.float64) for k, v in stats.arrays().items()})
    with open(path, "wb") as f:
        np.savez(f, **arrays)


class AdaptedHead:
    """Centred pooled features (N, F) -> calibrated logits (N, classes), as the training head computes them
    (``training.head.LinearHead`` and ``calibrated``, then the global temperature)."""

    def __init__(self, path: str | os.PathLike, labels: int) -> None:
        try:
            with np.load(path, allow_pickle=False) as z:
                self.shift, self.projection, self.bias = z["shift"], z["projection"], z["bias"]
                self.classes, self.temperature = int(z["classes"]), float(z["temperature"])
                self.log_t = z["log_t"] if "log_t" in z.files else None
                self.stats = AdaptStats.from_arrays({k: z[k] for k in z.files})
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"cannot read the adapted head {path}: {exc}") from exc
        if self.classes != labels or self.projection.shape[1] != self.bias.shape[0]:
            raise ModelError(f"{path}: the adapted head has {self.classes} classes, the model {labels} labels")

        if self.stats is not None and self.stats.centroids.shape[1] != self.projection.shape[1]:
            raise ModelError(f"{path}: the adaptation statistics do not match the adapted head's outputs")

    @property
    def dims(self) -> int:
        return self.projection.shape[0]

    def centre(self, pooled: np.ndarray, method: str = DEFAULT_METHOD, main_probs: np.ndarray | None = None
               ) -> tuple[np.ndarray, dict]:
        """The centre to subtract for a reference of per-clip pooled features (N, F), and what was done
        (see ``adapt_estimate.source_centre``; ``main_probs`` (N, classes): the main head's
        probabilities of the same clips, which ``soft`` needs)."""
        def probs_at(c):
            z = self(pooled - c)
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)

        try:
            return source_centre(pooled, self.projection, self.stats, method, probs_at=probs_at, main_probs=main_probs)
        except ValueError as exc:
            raise ModelError(str(exc)) from exc

    def __call__(self, centred: np.ndarray) -> np.ndarray:
        y = (np.asarray(centred, dtype=np.float32) - self.shift) @ self.projection + self.bias
        logits = y[:, : self.classes]
        if self.log_t is not None:
            if y.shape[1] > self.classes and self.log_t.size > 1:
                d = y[:, self.classes:] - y[:, self.classes:].max(axis=1, keepdims=True)
                p = np.exp(d) / np.exp(d).sum(axis=1, keepdims=True)
                logits = logits / np.exp(p @ self.log_t)[:, None]
            else:
                logits = logits / np.exp(self.log_t.reshape(-1)[0])
        return logits / np.float32(self.temperature)


class Adapted:
    """A native backend scored with its adapted head, relative to a reference mean of pooled features."""

    def __init__(self, backend, reference: Reference, to: str = "reference") -> None:
        if reference.mean.shape != (backend.adapted_head.dims,):
            raise ModelError(
                f"the reference has {reference.mean.size} features, {backend.info.id}'s adapted head "
                f"{backend.adapted_head.dims} (a reference computed with another model?)"
            )
        self.inner = backend
        self.reference = np.asarray(reference.mean, dtype=np.float32)
        self.applied = reference.adaptation.get("applied", True)  # False: safe kept the un-adapted model
        # soft: the main head's probabilities mixed with the adapted head's, this share to the latter
        self.share = float(reference.adaptation.get("share", 1.0)) if reference.adaptation.get("method") == "soft" else 1.0
        self.clips = reference.clips
        adapted = {"to": to, "clips": reference.clips, "method": "centre", "applied": True,
                   **reference.adaptation}
        if isinstance(adapted.get("mix"), list) and len(adapted["mix"]) == len(backend.info.labels):
            adapted["mix"] = dict(zip(backend.info.labels, adapted["mix"]))
        self.info = replace(backend.info, extra={**backend.info.extra, "adapted_to_clips": reference.clips,
                                                 "adapted": adapted})
        self.min_samples = backend.min_samples
        self.max_samples = backend.max_samples

    def forward(self, batch: list[np.ndarray]) -> np.ndarray:
        if not self.applied:
            return self.inner.forward(batch)
        if self.share >= 1.0:
            return self.inner.adapted_head(self.inner.pooled(batch) - self.reference)
        main, pooled = forward_pooled(self.inner, batch)
        return soft_logits(main, self.inner.adapted_head(pooled - self.reference), self.share)


def forward_pooled(backend, batch: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The main head's logits and the pooled features of ``batch``, from one encoding where the backend
    can (``models.native``)."""
    both = getattr(backend, "forward_pooled", None)
    return both(batch) if callable(both) else (backend.forward(batch), backend.pooled(batch))


def soft_logits(main: np.ndarray, adapted: np.ndarray, share: float) -> np.ndarray:
    """Logits whose softmax is ``(1 - share) softmax(main) + share softmax(adapted)`` (``soft``)."""
    p = soft_combine(softmax(np.asarray(main, np.float64)), softmax(np.asarray(adapted, np.float64)), share)
    return np.log(np.clip(p, 1e-30, None)).astype(np.float32)


def load_adapted_head(folder: Path, extra: dict, labels: int) -> AdaptedHead | None:
    """The folder's adapted head if its emovox.json names one (checking its sha256), else None."""
    entry = extra.get("adapted_head")
    if not entry:
        return None
    path = folder / str(entry.get("file", ADAPTED_FILE))
    if not path.is_file():
        raise ModelError(f"{folder}: emovox.json names an adapted head {path.name}, which is missing")
    if entry.get("sha256") and sha256_file(path) != entry["sha256"]:
        raise ModelError(f"{path}: sha256 does not match emovox.json (a damaged or replaced file)")
    return AdaptedHead(path, labels)
