"""Shared by robustness.py and weights_heldout.py: one corpus' speaker folds with the shipped recipe.

``held_out`` loads the test corpus (plus, unless ``single_corpus``, the other corpora, which are
always trained on), its folds, the label sets and the cached pooled features of every clip;
``HeldOut.split`` gives a fold's training and test indices; ``write_results`` saves a printed table
and its per-condition reports.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CORPORA = ("ravdess", "emodb_2s", "turev_db", "ased")


@dataclass
class HeldOut:
    recipe: object
    rows: list  # the test corpus
    all_rows: list  # the test corpus, then the other corpora
    fold_of: dict  # speaker -> fold name
    labels: list  # the model's labels
    test_labels: list  # the test corpus' labels, in model order
    backbone: object
    X: np.ndarray  # (copies, len(all_rows), F) pooled features

    @property
    def folds(self) -> list[str]:
        return sorted(set(self.fold_of.values()))

    def split(self, fold: str) -> tuple[np.ndarray, np.ndarray]:
        """Indices into all_rows to train on (everything but the fold's speakers) and into rows to test."""
        test_fold = np.array([self.fold_of[r.speaker] for r in self.rows]
                             + [""] * (len(self.all_rows) - len(self.rows)))
        return np.flatnonzero(test_fold != fold), np.flatnonzero(test_fold == fold)


def held_out(corpus: str, corpora: str | Path, recipe, single_corpus: bool = False) -> HeldOut:
    import torch

    from emovox.corpora.manifest import read_folds, read_manifest
    from emovox.training.evaluate import speaker_folds
    from emovox.training.features import FeatureCache, recipe_backbone
    from emovox.training.train import label_order, pooled_matrix

    corpora = Path(corpora)
    torch.set_num_threads(recipe.threads)
    rows = read_manifest(corpora / corpus / "manifest.csv")
    others = [] if single_corpus else [
        r for c in CORPORA if c != corpus for r in read_manifest(corpora / c / "manifest.csv")
    ]
    folds_file = corpora / corpus / "folds.csv"
    fold_of = speaker_folds(rows, read_folds(folds_file) if folds_file.is_file() else None)
    all_rows = rows + others
    labels = label_order(r.emotion for r in all_rows)
    test_labels = [lab for lab in labels if lab in {r.emotion for r in rows}]
    backbone = recipe_backbone(recipe)  # with the recipe's preprocessing, for the test clips too
    X = pooled_matrix(FeatureCache(backbone, aug_seed=recipe.aug_seed), all_rows, recipe.copies, recipe.pooling)
    return HeldOut(recipe, rows, all_rows, fold_of, labels, test_labels, backbone, X)


def write_results(out: str | Path | None, table: str, reports: dict[str, dict]) -> None:
    """Print the table; with ``out``, also write it as table.md and each report as report-<name>.json."""
    print(table)
    if out:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "table.md").write_text(table + "\n")
        for name, rep in reports.items():
            (out / f"report-{name.replace(' ', '-')}.json").write_text(json.dumps(rep, indent=1))
