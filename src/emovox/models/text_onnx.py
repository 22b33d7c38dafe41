"""The transformer text backend: a fine-tuned encoder exported to ONNX, run by onnxruntime, with
its WordPiece tokenizer run by ``tokenizers``. No torch, no transformers at inference.

Asset folder: ``text_model.json`` (``"arch": "minilm-onnx"``, name, version, labels, ``max_tokens``,
file names), ``model.onnx`` (inputs ``input_ids`` and ``attention_mask``, int64 (batch, tokens);
output ``logits`` (batch, labels)) and ``tokenizer.json``. Written by
``emovox train-text --arch minilm``; both libraries are imported when such a model is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..results.result import ModelInfo

ARCH = "minilm-onnx"


class TextOnnxBackend:
    """``forward(texts) -> logits``, one onnxruntime run per text (at most ``max_tokens`` tokens).

    One text per run, not padded batches: int8 dynamic quantisation scales the activations over the
    whole input, so in a padded batch a text's scores depended on its neighbours (on 640 GoEmotions
    dev comments the top emotion changed for 3 %), and it was slower too (7.8 vs 4.4 ms a text,
    the padding being wasted work).
    """

    def __init__(self, folder: str | Path, config: dict, threads: int | None = None) -> None:
        import onnxruntime as ort  # both are core dependencies, imported only when such a model loads
        import tokenizers

        from .native import session_options

        folder = Path(folder)
        try:
            self.max_tokens = int(config.get("max_tokens", 64))
            self.tokenizer = tokenizers.Tokenizer.from_file(str(folder / config.get("tokenizer", "tokenizer.json")))
            self.session = ort.InferenceSession(
                str(folder / config.get("model", "model.onnx")), sess_options=session_options(threads),
                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime and tokenizers raise their own exception types
            raise ModelError(f"cannot load the text model in {folder}: {exc}") from exc
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)
        outputs = self.session.get_outputs()
        if outputs[0].shape[-1] != len(config["labels"]):
            raise ModelError(f"text model {folder}: {outputs[0].shape[-1]} outputs for "
                             f"{len(config['labels'])} labels")
        self.info = ModelInfo(
            name=config["name"], version=str(config["version"]), labels=tuple(config["labels"]),
            backend="text-onnx", source=str(folder), sample_rate=0,
            extra={"modality": "text", "arch": ARCH, "max_tokens": self.max_tokens,
                   "weights": config.get("weights", "fp32")},
        )

    def tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(input_ids, attention_mask), int64, right-padded with 0 to the batch's longest text."""
        return pad_ids([e.ids for e in self.tokenizer.encode_batch(list(texts))])

    def forward(self, texts: Sequence[str]) -> np.ndarray:
        """Logits of shape (len(texts), len(labels)) for normalised texts."""
        rows = []
        for text in texts:
            ids, mask = self.tokens([text])
            rows.append(self.session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0][0])
        return np.stack(rows) if rows else np.zeros((0, len(self.info.labels)), np.float32)


def pad_ids(seqs: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(input_ids, attention_mask), int64, right-padded with id 0 to the longest sequence (training
    batches the fine-tuning the same way).

    >>> ids, mask = pad_ids([[101, 7, 102], [101, 102]])
    >>> ids.tolist(), mask.tolist()
    ([[101, 7, 102], [101, 102, 0]], [[1, 1, 1], [1, 1, 0]])
    """
    width = max(len(s) for s in seqs)
    ids = np.zeros((len(seqs), width), np.int64)
    mask = np.zeros((len(seqs), width), np.int64)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = s
        mask[i, :len(s)] = 1
    return ids, mask
