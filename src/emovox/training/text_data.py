"""Readers for the labelled text-emotion sets in ``../shared/text``, on emovox's vocabulary.

Each reader returns ``(texts, labels)`` for one split; labels are canonical names (happy, sad...).

- GoEmotions (Apache-2.0): 27 emotions + neutral, multi-label. Mapped with its ``ekman_mapping.json``
  (e.g. admiration, amusement, approval, caring, desire, excitement, gratitude, joy, love, optimism,
  pride, relief -> happy; anger, annoyance, disapproval -> angry; fear, nervousness -> fearful;
  sadness, disappointment, embarrassment, grief, remorse -> sad; surprise, realization, confusion,
  curiosity -> surprised; disgust -> disgust; neutral -> neutral). Only comments whose labels all
  fall in ONE group are kept (train 39,555 / dev 4,946 / test 4,968 of 43,410 / 5,426 / 5,427).
- MELD (GPL-3.0 repository): one label per utterance, the same seven; evaluation only here.
- dair-ai emotion tweets (research only): six labels; ``love`` has no canonical name and is read as
  happy (the Ekman mapping above also files GoEmotions' ``love`` under joy). Evaluation only.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from ..labels import canonical

SPLITS = ("train", "dev", "test")
TEXT_SETS = ("goemotions", "meld", "dair-emotion")


def text_root(start: str | os.PathLike | None = None) -> Path:
    """``$EMOVOX_TEXT_DATA``, else the nearest ``shared/text`` in ``start`` or a folder above it."""
    if os.environ.get("EMOVOX_TEXT_DATA"):
        return Path(os.environ["EMOVOX_TEXT_DATA"])
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "shared" / "text").is_dir():
            return folder / "shared" / "text"
    return here.parent / "shared" / "text"


def goemotions_mapping(root: Path) -> dict[str, str]:
    """GoEmotions label name -> canonical emovox name, through its Ekman mapping."""
    groups = json.loads((root / "goemotions" / "ekman_mapping.json").read_text(encoding="utf-8"))
    mapping = {"neutral": "neutral"}
    for group, members in groups.items():
        for name in members:
            mapping[name] = canonical(group)
    return mapping


def read_goemotions(split: str, root: Path | None = None) -> tuple[list[str], list[str]]:
    """Comments whose labels all map to one group, with that group's canonical name."""
    root = root or text_root()
    names = (root / "goemotions" / "emotions.txt").read_text(encoding="utf-8").split()
    mapping = goemotions_mapping(root)
    texts, labels = [], []
    with open(root / "goemotions" / f"{split}.tsv", encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            groups = {mapping[names[int(i)]] for i in row[1].split(",")}
            if len(groups) == 1:
                texts.append(row[0])
                labels.append(groups.pop())
    return texts, labels


def read_meld(split: str, root: Path | None = None) -> tuple[list[str], list[str]]:
    root = root or text_root()
    with open(root / "meld" / f"{split}_sent_emo.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["Utterance"] for r in rows], [canonical(r["Emotion"]) for r in rows]


def read_dair(split: str, root: Path | None = None, native: bool = False) -> tuple[list[str], list[str]]:
    """Tweets with canonical labels; ``love`` -> happy (see the module docstring).

    ``native``: the set's own six names (sadness, joy, love, anger, fear, surprise), as its papers
    score it; for the in-domain research runs.
    """
    root = root or text_root()
    name = {"dev": "val"}.get(split, split)
    texts, labels = [], []
    for line in (root / "dair-emotion" / f"{name}.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            text, label = line.rsplit(";", 1)
            texts.append(text)
            labels.append(label if native else "happy" if label == "love" else canonical(label))
    return texts, labels


READERS = {"goemotions": read_goemotions, "meld": read_meld, "dair-emotion": read_dair}


def read_text_set(name: str, split: str, root: Path | None = None,
                  native: bool = False) -> tuple[list[str], list[str]]:
    """``read_text_set("meld", "test")`` -> (texts, canonical labels).

    ``native=True``: the tweet set keeps its own six labels (``love`` apart); the others are unchanged.
    """
    if name not in READERS:
        raise ValueError(f"unknown text set {name!r}; known: {', '.join(READERS)}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    if native and name == "dair-emotion":
        return read_dair(split, root, native=True)
    return READERS[name](split, root)
