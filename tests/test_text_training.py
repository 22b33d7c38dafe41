"""The text model's training export: the numpy model reproduces scikit-learn's probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from emovox.text import normalise  # noqa: E402
from emovox.training import text as training  # noqa: E402

TRAIN = [
    ("I love this, what a wonderful day", "happy"), ("so happy and grateful for you all", "happy"),
    ("this is great news, congrats!!", "happy"), ("I hate you, get out", "angry"),
    ("stop lying to me, I'm furious", "angry"), ("what an idiot, so annoying", "angry"),
    ("I miss him so much, it hurts", "sad"), ("I cried all night, so lonely", "sad"),
    ("I'm scared, what if it happens again", "fearful"), ("terrified of the dark", "fearful"),
    ("ew that's gross and disgusting", "disgust"), ("wow I did not expect that", "surprised"),
    ("the bus leaves at 5", "neutral"), ("it's in the second drawer", "neutral"),
] * 3
UNSEEN = ["Wow wow wow, I love love love it", "a b c", "!!!", "I", "café déjà vu naïve",
          "zzzqqq unknownword", "Stop. It. Now.", "the  the the bus bus", "x" * 300]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    texts, labels = zip(*TRAIN)
    vec = training._vectorizer()
    x = vec.fit_transform([normalise(t) for t in texts])
    clf = training._classifier(10.0, "balanced", 0).fit(x, labels)
    folder = training.export(vec, clf, tmp_path_factory.mktemp("text-model"), name="tiny-text", version="0")
    return vec, clf, folder


def test_numpy_export_matches_scikit_learn(fitted):
    vec, clf, folder = fitted
    texts = [t for t, _ in TRAIN[:14]] + UNSEEN
    assert training.parity(vec, clf, folder, texts) < 1e-5


def test_exported_model_loads_through_the_public_api(fitted):
    import emovox

    _, clf, folder = fitted
    tm = emovox.load_text_model(str(folder))
    assert tm.labels == training.LABELS and tm.info.id == "tiny-text@0"
    p = tm.predict("I love this wonderful day")
    assert p.emotion == "happy"
    assert np.isclose(sum(p.scores.values()), 1.0)


def test_write_card_replaces_only_the_table(tmp_path):
    card = tmp_path / "MODEL_CARD.md"
    card.write_text("# card\nbefore\n<!-- table -->\nold\n<!-- /table -->\nafter\n")
    training.write_card(card, "| new |")
    assert card.read_text() == "# card\nbefore\n<!-- table -->\n```\n| new |\n```\n<!-- /table -->\nafter\n"


@pytest.mark.slow
@pytest.mark.corpus
def test_shipped_text_model_on_each_test_set_far_above_chance():
    """The card's table, recomputed: GoEmotions near its dev score, MELD and tweets well above chance."""
    from emovox.training.text_data import text_root

    root = text_root(Path(__file__).resolve().parent)
    if not (root / "goemotions" / "test.tsv").is_file():
        pytest.skip(f"text data not found at {root} (set EMOVOX_TEXT_DATA)")
    rows = {r["set"]: r for r in training.evaluate(root=root)}
    assert rows["goemotions"]["macro_f1"] >= 0.55  # card: 0.581
    assert rows["meld"]["ua"] >= 1.5 / 7  # uniform chance 1/7; card: 0.277
    assert rows["dair-emotion"]["ua"] >= 1.5 / 5  # uniform chance 1/5; card: 0.384
