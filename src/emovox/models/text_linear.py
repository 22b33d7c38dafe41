"""The built-in text backend: TF-IDF word + character n-grams and a linear layer, in pure numpy.

It reproduces scikit-learn's ``TfidfVectorizer`` (lowercase; ``word`` tokens ``\\b\\w\\w+\\b`` and
``char_wb`` n-grams; sublinear tf; idf; l2 norm per block) followed by a multinomial logistic
regression, from the arrays ``emovox.training.text`` exports. No scikit-learn at inference.

Asset folder: ``text_model.json`` (name, version, labels, n-gram settings, vocabularies) and
``weights.npz`` (``idf`` and ``coef`` of shape (n_features, n_labels), ``intercept``).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..results.result import ModelInfo

CONFIG = "text_model.json"
WEIGHTS = "weights.npz"
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def word_ngrams(text: str, lo: int, hi: int) -> list[str]:
    """sklearn's ``analyzer="word"`` on an already lower-cased text."""
    tokens = _TOKEN.findall(text)
    out = list(tokens) if lo == 1 else []
    for n in range(max(lo, 2), min(hi, len(tokens)) + 1):
        out += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return out


def char_wb_ngrams(text: str, lo: int, hi: int) -> list[str]:
    """sklearn's ``analyzer="char_wb"``: n-grams inside each word padded with one space."""
    out: list[str] = []
    for w in text.split():
        w = f" {w} "
        for n in range(lo, hi + 1):
            out += [w[i:i + n] for i in range(max(1, len(w) - n + 1))]
            if len(w) <= n:  # a short word counts once, like sklearn
                break
    return out


ANALYZERS = {"word": word_ngrams, "char_wb": char_wb_ngrams}


class TfidfBlock:
    """One vectorizer: analyzer + vocabulary (term -> column) + idf, sublinear tf, l2 norm."""

    def __init__(self, analyzer: str, ngram_range: Sequence[int], vocabulary: Sequence[str],
                 idf: np.ndarray, offset: int) -> None:
        if analyzer not in ANALYZERS:
            raise ModelError(f"unknown text analyzer {analyzer!r}")
        self.analyze = ANALYZERS[analyzer]
        self.lo, self.hi = int(ngram_range[0]), int(ngram_range[1])
        self.index = {term: i for i, term in enumerate(vocabulary)}
        self.idf = idf
        self.offset = offset

    def transform(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(columns, l2-normalised tf-idf values) of one lower-cased text."""
        counts = Counter(self.analyze(text, self.lo, self.hi))
        cols = [self.index[t] for t in counts if t in self.index]
        if not cols:
            return np.zeros(0, np.int64), np.zeros(0)
        tf = np.array([1.0 + math.log(counts[t]) for t in counts if t in self.index])
        cols_arr = np.asarray(cols, np.int64)
        values = tf * self.idf[cols_arr]
        return cols_arr + self.offset, values / np.linalg.norm(values)


class TextLinearBackend:
    """``forward(texts) -> logits``; ``info.labels`` name the columns (they travel with the weights)."""

    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder)
        try:
            config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
            with np.load(folder / WEIGHTS, allow_pickle=False) as w:
                idf, coef, intercept = (w[k].astype(np.float64) for k in ("idf", "coef", "intercept"))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot load the text model in {folder}: {exc}") from exc
        self.blocks: list[TfidfBlock] = []
        offset = 0
        for block in config["blocks"]:
            n = len(block["vocabulary"])
            self.blocks.append(TfidfBlock(block["analyzer"], block["ngram_range"], block["vocabulary"],
                                          idf[offset:offset + n], offset))
            offset += n
        if coef.shape != (offset, len(config["labels"])):
            raise ModelError(f"text model {folder}: weights {coef.shape} do not match its vocabulary")
        self.coef, self.intercept = coef, intercept
        self.info = ModelInfo(
            name=config["name"], version=str(config["version"]), labels=tuple(config["labels"]),
            backend="text-tfidf-linear", source=str(folder), sample_rate=0,
            extra={"modality": "text", "features": offset},
        )

    def forward(self, texts: Sequence[str]) -> np.ndarray:
        """Logits of shape (len(texts), len(labels)) for normalised texts."""
        out = np.tile(self.intercept, (len(texts), 1))
        for row, text in enumerate(texts):
            lowered = text.lower()
            for block in self.blocks:
                cols, values = block.transform(lowered)
                if cols.size:
                    out[row] += values @ self.coef[cols]
        return out
