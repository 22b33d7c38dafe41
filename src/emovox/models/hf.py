"""Hugging Face backend: any AutoModelForAudioClassification checkpoint (folder or hub id).

Needs the ``hf`` extra (torch + transformers). Labels come from the checkpoint's ``id2label`` and
are mapped onto the canonical vocabulary; labels that collapse onto one name (e.g. ``hap`` and
``exc``) are merged by adding their probabilities.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ModelError, require
from ..io.audio import SAMPLE_RATE
from ..labels import canonical
from ..results.result import ModelInfo

WINDOW_S = 30.0


class HFBackend:
    def __init__(self, model, extractor, info: ModelInfo, groups: list[list[int]]) -> None:
        self.model = model
        self.extractor = extractor
        self.info = info
        self._groups = groups  # output column -> checkpoint label ids merged into it
        self.min_samples = SAMPLE_RATE  # pad sub-second clips to 1 s
        self.max_samples = int(WINDOW_S * SAMPLE_RATE)

    def forward(self, batch: list[np.ndarray]) -> np.ndarray:
        torch = require("torch", "hf", "the Hugging Face backend")
        lengths = {len(x) for x in batch}
        # Models without an attention mask would see the zero padding: run those one by one.
        if len(lengths) > 1 and not getattr(self.extractor, "return_attention_mask", False):
            return np.concatenate([self.forward([x]) for x in batch])
        inputs = self.extractor(
            [np.asarray(x, dtype=np.float32) for x in batch],
            sampling_rate=SAMPLE_RATE,
            return_tensors="pt",
            padding=True,
        )
        with torch.inference_mode():
            logits = self.model(**inputs).logits.float().numpy()
        return self._merge(logits)

    def _merge(self, logits: np.ndarray) -> np.ndarray:
        if all(len(g) == 1 for g in self._groups):
            return logits[:, [g[0] for g in self._groups]]
        shifted = logits - logits.max(axis=1, keepdims=True)
        return np.stack(
            [np.log(np.exp(shifted[:, g]).sum(axis=1)) for g in self._groups], axis=1
        )


def label_groups(id2label: dict) -> tuple[tuple[str, ...], list[list[int]]]:
    """Canonical labels in first-seen order, and which checkpoint ids feed each."""
    names: list[str] = []
    groups: list[list[int]] = []
    for idx in sorted(int(i) for i in id2label):
        name = canonical(id2label[idx] if idx in id2label else id2label[str(idx)])
        if name in names:
            groups[names.index(name)].append(idx)
        else:
            names.append(name)
            groups.append([idx])
    return tuple(names), groups


def load(location: str, name: str | None = None, threads: int | None = None, **_: object) -> HFBackend:
    """Load a checkpoint through transformers' real ``from_pretrained`` path."""
    torch = require("torch", "hf", "loading a Hugging Face model")
    transformers = require("transformers", "hf", "loading a Hugging Face model")
    if threads:
        torch.set_num_threads(int(threads))
    try:
        extractor = transformers.AutoFeatureExtractor.from_pretrained(location)
        model = transformers.AutoModelForAudioClassification.from_pretrained(location)
    except (OSError, ValueError, KeyError) as exc:
        where = "folder" if Path(location).exists() else "Hugging Face hub id (needs a network the first time)"
        raise ModelError(f"could not load audio-classification model from {where} {location!r}: {exc}") from exc
    model.eval()
    rate = getattr(extractor, "sampling_rate", SAMPLE_RATE)
    if rate != SAMPLE_RATE:
        raise ModelError(f"{location} expects {rate} Hz audio; emovox models work at {SAMPLE_RATE} Hz")
    labels, groups = label_groups(model.config.id2label)
    info = ModelInfo(
        name=name or Path(location).name,
        version=str(getattr(model.config, "_commit_hash", "") or ""),
        labels=labels,
        backend="hf",
        source=location,
        extra={"architecture": type(model).__name__},
    )
    return HFBackend(model, extractor, info, groups)
