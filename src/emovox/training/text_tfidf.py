"""The TF-IDF + logistic regression text model: train, export (numpy), evaluate, the card's table.

The command line is ``python -m emovox.training.text`` (``text.py``); MiniLM is ``text_minilm``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..errors import require
from ..io.text import normalise
from .text_data import read_text_set

LABELS = ("neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised")
BLOCKS = (  # (analyzer, ngram_range, min_df, max_features)
    ("word", (1, 2), 2, 60_000),
    ("char_wb", (2, 5), 3, 60_000),
)
GRID = ((1.0, "balanced"), (3.0, "balanced"), (10.0, "balanced"), (3.0, None))
DAIR_LABELS = ("happy", "sad", "angry", "fearful", "surprised")


def _vectorizer():
    require("sklearn", "train", "training the text model")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion([
        (analyzer, TfidfVectorizer(analyzer=analyzer, ngram_range=rng, min_df=min_df,
                                   max_features=cap, sublinear_tf=True, lowercase=True, dtype=np.float64))
        for analyzer, rng, min_df, cap in BLOCKS
    ])


def _classifier(c: float, weight: str | None, seed: int):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight=weight, max_iter=2000, random_state=seed)


def macro_f1(y_true, y_pred, labels) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, labels=list(labels), average="macro", zero_division=0))


def train(root: Path | None = None, seed: int = 0, log=print, *, corpus: str = "goemotions",
          labels: tuple[str, ...] = LABELS, native: bool = False):
    """Fit on ``corpus`` train for each (C, class weight) of GRID; keep the best by dev macro-F1.

    ``native``: the corpus's own label names (see ``read_text_set``); research runs only.
    """
    x_train, y_train = read_text_set(corpus, "train", root, native=native)
    x_dev, y_dev = read_text_set(corpus, "dev", root, native=native)
    vec = _vectorizer()
    a = vec.fit_transform([normalise(t) for t in x_train])
    b = vec.transform([normalise(t) for t in x_dev])
    best = None
    for c, weight in GRID:
        clf = _classifier(c, weight, seed).fit(a, y_train)
        score = macro_f1(y_dev, clf.predict(b), labels)
        log(f"C={c:g} class_weight={weight}: {corpus} dev macro-F1 {score:.4f}")
        if best is None or score > best[0]:
            best = (score, c, weight, clf)
    score, c, weight, clf = best
    log(f"chosen: C={c:g} class_weight={weight} (dev macro-F1 {score:.4f})")
    return vec, clf, {"C": c, "class_weight": weight, "dev_macro_f1": round(score, 4),
                      "train_texts": len(x_train), "dev_texts": len(x_dev), "seed": seed}


def export(vec, clf, out: str | Path, *, name: str = "emovox-text", version: str = "1.0",
           recipe: dict | None = None, labels: tuple[str, ...] = LABELS,
           licence: str = "Apache-2.0 (trained on GoEmotions, Apache-2.0)") -> Path:
    """Write ``text_model.json`` + ``weights.npz`` (float32), the columns in ``labels`` order."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("model.onnx", "tokenizer.json"):  # a minilm model's files, if the folder had one
        (out / stale).unlink(missing_ok=True)
    order = [list(clf.classes_).index(label) for label in labels]
    blocks, idf = [], []
    for analyzer, v in vec.transformer_list:
        vocab = sorted(v.vocabulary_, key=v.vocabulary_.get)
        blocks.append({"analyzer": analyzer, "ngram_range": list(v.ngram_range), "vocabulary": vocab})
        idf.append(v.idf_)
    config = {"name": name, "version": version, "labels": list(labels), "blocks": blocks,
              "training": recipe or {}, "licence": licence}
    (out / "text_model.json").write_text(json.dumps(config, ensure_ascii=False, separators=(",", ":")),
                                         encoding="utf-8")
    np.savez_compressed(out / "weights.npz", idf=np.concatenate(idf).astype(np.float32),
                        coef=clf.coef_[order].T.astype(np.float32),
                        intercept=clf.intercept_[order].astype(np.float32))
    return out


def parity(vec, clf, folder: str | Path, texts: list[str], labels: tuple[str, ...] = LABELS) -> float:
    """Largest |probability| difference between scikit-learn and the exported numpy model."""
    from ..recognizers.words import load_text_model

    model = load_text_model(folder)
    ours = np.array([[p.scores[label] for label in labels] for p in model.predict_many(texts)])
    order = [list(clf.classes_).index(label) for label in labels]
    ref = clf.predict_proba(vec.transform([normalise(t) for t in texts]))[:, order]
    return float(np.abs(ours - ref).max())


def evaluate(model_path: str | Path | None = None, root: Path | None = None) -> list[dict]:
    """Rows of the card's table: the shipped model through the public API on each test split."""
    from ..recognizers.words import load_text_model

    model = load_text_model(model_path)
    sets = (("goemotions", LABELS), ("meld", LABELS), ("dair-emotion", DAIR_LABELS))
    return [score_row(model, name, labels, root) for name, labels in sets]


def score_row(model, name: str, labels, root: Path | None = None, split: str = "test",
              native: bool = False) -> dict:
    """Accuracy, UA, macro and weighted F1 of ``model`` on one split, answering among ``labels``."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    texts, truth = read_text_set(name, split, root, native=native)
    preds = model.predict_many(texts)
    columns = [model.labels.index(label) for label in labels]
    scores = np.array([[p.scores[model.labels[i]] for i in columns] for p in preds])
    guess = [labels[i] for i in scores.argmax(axis=1)]
    return {
        "set": name, "n": len(texts), "labels": len(labels),
        "accuracy": accuracy_score(truth, guess),
        "ua": balanced_accuracy_score(truth, guess),
        "macro_f1": f1_score(truth, guess, labels=list(labels), average="macro", zero_division=0),
        "weighted_f1": f1_score(truth, guess, labels=list(labels), average="weighted", zero_division=0),
    }


def latency_ms(model_path: str | Path | None = None, repeats: int = 200) -> float:
    """Median ms of ``predict`` on a 64-word text."""
    from ..recognizers.words import load_text_model

    model = load_text_model(model_path)
    text = " ".join(["I honestly cannot believe you would do this to me after everything"] * 6)
    text = " ".join(text.split()[:64])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.predict(text)
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


def table(rows: list[dict]) -> str:
    lines = ["| test set | texts | labels | accuracy | UA | macro-F1 | weighted F1 |",
             "|---|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        lines.append(f"| {r['set']} | {r['n']:,} | {r['labels']} | {r['accuracy']:.3f} | {r['ua']:.3f} | "
                     f"{r['macro_f1']:.3f} | {r['weighted_f1']:.3f} |")
    return "\n".join(lines)


def run_train(root: Path, out: str, seed: int = 0) -> int:
    vec, clf, recipe = train(root, seed)
    folder = export(vec, clf, out, recipe=recipe)
    x_dev, _ = read_text_set("goemotions", "dev", root)
    recipe["parity_max_abs_diff_dev"] = parity(vec, clf, folder, x_dev)
    config = json.loads((folder / "text_model.json").read_text(encoding="utf-8"))
    config["training"] = recipe
    (folder / "text_model.json").write_text(json.dumps(config, ensure_ascii=False, separators=(",", ":")),
                                            encoding="utf-8")
    size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 1e6
    print(f"wrote {folder} ({size:.1f} MB); numpy vs scikit-learn on {len(x_dev):,} dev texts: "
          f"max |p| difference {recipe['parity_max_abs_diff_dev']:.2e}")
    return 0


def write_card(path: str | Path, table_text: str, marker: str = "table") -> None:
    """Replace the block between the card's ``<!-- marker -->`` lines with ``table_text``."""
    path = Path(path)
    card = path.read_text(encoding="utf-8")
    start, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    head, rest = card.split(start, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(f"{head}{start}\n```\n{table_text}\n```\n{end}{tail}", encoding="utf-8")
