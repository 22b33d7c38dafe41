"""The text model's training export: the numpy model reproduces scikit-learn's probabilities."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from emovox.io.text import normalise  # noqa: E402
from emovox.training import text_tfidf as training  # noqa: E402

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
    assert rows["goemotions"]["macro_f1"] >= 0.60  # issue 17's target; card: 0.632 (1.0: 0.581)
    assert rows["meld"]["ua"] >= 1.5 / 7  # uniform chance 1/7; card: 0.289
    assert rows["dair-emotion"]["ua"] >= 2 / 5  # uniform chance 1/5; card: 0.508 (1.0: 0.384)


def _tiny_tweets(root):
    """A tweet-set folder in the corpus's format (text;label), with love apart from joy."""
    rows = [("i feel so happy and grateful today", "joy"), ("i love you so much my darling", "love"),
            ("i am so sad and lonely tonight", "sadness"), ("i am furious and angry at you", "anger"),
            ("i feel scared and afraid of the dark", "fear"), ("wow i am so surprised and amazed", "surprise")]
    folder = root / "dair-emotion"
    folder.mkdir(parents=True)
    for name, repeat in (("train", 4), ("val", 1), ("test", 1)):
        (folder / f"{name}.txt").write_text("".join(f"{t};{label}\n" for t, label in rows * repeat))


def test_research_run_trains_in_domain_with_native_labels_outside_the_package(tmp_path):
    from emovox.training import text_research

    _tiny_tweets(tmp_path / "data")
    rows = text_research.run(tmp_path / "data", "tfidf", ["dair-emotion"], tmp_path / "out", log=lambda *_: None)
    (row,) = rows
    assert row["labels"] == 6 and row["n"] == 6 and row["accuracy"] == 1.0
    import emovox

    tm = emovox.load_text_model(str(tmp_path / "out" / "dair-emotion-tfidf"))
    assert "love" in tm.labels and tm.predict("i love you my darling").emotion == "love"
    assert "research only" in json.loads((tmp_path / "out" / "dair-emotion-tfidf" / "text_model.json").read_text())["licence"]
    assert "| dair-emotion | tfidf | 6 | 6 |" in text_research.table(rows)


def test_research_models_are_never_written_into_the_package(tmp_path):
    from emovox.errors import OptionError
    from emovox.recognizers.words import DEFAULT_TEXT_MODEL
    from emovox.training import text_research

    with pytest.raises(OptionError, match="inside the emovox package"):
        text_research.run(tmp_path, "tfidf", ["dair-emotion"], DEFAULT_TEXT_MODEL / "research")
    assert not (DEFAULT_TEXT_MODEL / "research").exists()


def test_tfidf_export_over_a_minilm_folder_leaves_no_stale_onnx(fitted, tmp_path):
    import emovox

    vec, clf, _ = fitted
    (tmp_path / "model.onnx").write_bytes(b"old")
    (tmp_path / "tokenizer.json").write_text("{}")
    training.export(vec, clf, tmp_path, name="tiny-text", version="1")
    assert sorted(f.name for f in tmp_path.iterdir()) == ["text_model.json", "weights.npz"]
    assert emovox.load_text_model(str(tmp_path)).info.backend == "text-tfidf-linear"
