"""The contract every backend meets: a batch of 16 kHz mono arrays in, logits out."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..result import ModelInfo


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
