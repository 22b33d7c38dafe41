"""TextRecognizer: load_text -> backend forward -> softmax -> TextPrediction.

>>> tm = load_text_model()
>>> tm.predict("I'm so happy for you!").emotion
'happy'
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..io.text import TextSource, load_text
from ..models.base import Front, softmax
from ..results.result import TextPrediction

DEFAULT_TEXT_MODEL = Path(__file__).parents[1] / "assets" / "emovox-text"


class TextRecognizer(Front):
    """Emotion from words. ``predict(text)`` -> TextPrediction; ``predict_many(texts)`` -> list."""

    def __init__(self, backend, *, max_length: int | None = None) -> None:
        self.backend = backend
        self.max_length = max_length

    def predict(self, text: TextSource) -> TextPrediction:
        """Emotion of one text (str or UTF-8 bytes); TextError for empty, too long or not UTF-8."""
        return self.predict_many([text])[0]

    def predict_many(self, texts: Iterable[TextSource], batch_size: int = 64) -> list[TextPrediction]:
        """Every text validated first (the first bad one raises TextError), then batches of ``batch_size``."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        clean = [load_text(t, max_length=self.max_length) for t in texts]
        out: list[TextPrediction] = []
        for start in range(0, len(clean), batch_size):
            batch = clean[start:start + batch_size]
            probs = softmax(np.asarray(self.backend.forward(batch), dtype=np.float64))
            out += [self._postprocess(text, row) for text, row in zip(batch, probs)]
        return out

    def _postprocess(self, text: str, probs: np.ndarray) -> TextPrediction:
        scores = {label: float(p) for label, p in zip(self.labels, probs)}
        best = int(np.argmax(probs))
        return TextPrediction(emotion=self.labels[best], confidence=float(probs[best]), scores=scores,
                              model=self.info.id, text=text)


def load_text_model(path: str | Path | None = None, *, max_length: int | None = None) -> TextRecognizer:
    """The built-in text model (None), or a folder written by ``emovox train-text``.

    The folder's ``text_model.json`` says which backend runs it: ``"arch": "minilm-onnx"`` (a
    fine-tuned transformer in ONNX), else TF-IDF + linear in numpy (the 1.0 assets have no arch).
    """
    import json

    from ..models.text_linear import CONFIG, TextLinearBackend

    folder = Path(path) if path is not None else DEFAULT_TEXT_MODEL
    if not (folder / CONFIG).is_file():
        raise ModelError(f"no text model in {folder} (expected {CONFIG}; `emovox train-text --out` writes one)")
    try:
        config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {folder / CONFIG}: {exc}") from exc
    arch = config.get("arch", "tfidf-linear") if isinstance(config, dict) else None
    if arch == "minilm-onnx":
        from ..models.text_onnx import TextOnnxBackend

        return TextRecognizer(TextOnnxBackend(folder, config), max_length=max_length)
    if arch != "tfidf-linear":
        raise ModelError(f"text model {folder}: unknown arch {arch!r}; known: minilm-onnx, tfidf-linear")
    return TextRecognizer(TextLinearBackend(folder), max_length=max_length)
