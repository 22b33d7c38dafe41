"""The contract every backend meets: a batch of 16 kHz mono arrays in, logits out."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import ModelError
from ..results.result import ModelInfo


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits along the last axis (shifted by the max: no overflow)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@runtime_checkable
class Backend(Protocol):
    """A loaded model. ``info.labels`` are canonical names in the order of the logits' columns.

    ``min_samples``: shorter inputs are zero-padded to this length by the recognizer.
    ``max_samples``: longer inputs are cut into windows of at most this length (None: no limit).
    """

    info: ModelInfo
    min_samples: int
    max_samples: int | None

    def forward(self, batch: list[np.ndarray]) -> np.ndarray:
        """Return float logits of shape (len(batch), len(info.labels))."""
        ...


class Front:
    """What the recognizers share: a loaded ``backend``, its model info and its labels."""

    backend: Backend

    @property
    def info(self) -> ModelInfo:
        return self.backend.info

    @property
    def labels(self) -> tuple[str, ...]:
        return self.backend.info.labels

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.info.id}, labels={list(self.labels)})"


class LabelSubset:
    """Another backend restricted to some of its labels: the other logits are dropped, so the
    softmax renormalises over the kept labels (the same masking as ``emovox evaluate --labels``).

    Useful when an application needs a fixed label set (say angry, happy, neutral, sad), or when a
    multi-corpus model splits a clip between near-synonyms such as neutral and calm.
    """

    def __init__(self, backend: Backend, labels: Sequence[str]) -> None:
        inner = backend.inner if isinstance(backend, LabelSubset) else backend
        kept = subset_labels(labels, inner.info.labels)
        self.inner = inner
        self.columns = np.array([inner.info.labels.index(label) for label in kept])
        self.info = replace(inner.info, labels=kept)
        self.min_samples = inner.min_samples
        self.max_samples = inner.max_samples

    def forward(self, batch: list[np.ndarray]) -> np.ndarray:
        return np.asarray(self.inner.forward(batch))[:, self.columns]


def subset_labels(labels: str | Sequence[str], available: Sequence[str]) -> tuple[str, ...]:
    """``"angry,happy"`` or ``["Angry", "happiness"]`` -> canonical labels, all among ``available``.

    Raises ModelError naming what is wrong (empty, repeated, unknown) and what the model has.
    """
    from ..labels import canonical_list

    kept = canonical_list(labels)
    have = ", ".join(available)
    if len(kept) < 2:
        raise ModelError(f"give at least two labels to choose between (the model has: {have})")
    repeated = sorted({x for x in kept if kept.count(x) > 1})
    if repeated:
        raise ModelError(f"label given twice: {', '.join(repeated)}")
    unknown = [x for x in kept if x not in available]
    if unknown:
        raise ModelError(f"not among the model's labels: {', '.join(unknown)} (the model has: {have})")
    return kept


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (model folders record it for every file)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
