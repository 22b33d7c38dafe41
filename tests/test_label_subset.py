"""Answering only some of a model's labels: Python, CLI, batch and HTTP give the same masked scores."""

from __future__ import annotations

import json

import numpy as np
import pytest

import emovox
from conftest import SR, encode, run_emovox, speech_like
from emovox.batch import run_batch
from emovox.errors import ModelError

KEPT = ("angry", "sad")


@pytest.fixture(scope="module")
def model(debug_model):
    return emovox.load_model(str(debug_model), features=False)


def renormalised(scores: dict[str, float], labels=KEPT) -> dict[str, float]:
    total = sum(scores[label] for label in labels)
    return {label: scores[label] / total for label in labels}


def test_restricted_scores_are_the_full_scores_renormalised(model):
    clip = (speech_like(1.5, seed=4), SR)
    full = model.predict(clip)
    sub = model.restrict("Angry, sad").predict(clip)  # names go through the label vocabulary
    assert list(sub.scores) == list(KEPT)
    assert sub.scores == pytest.approx(renormalised(full.scores), abs=1e-6)
    assert sub.emotion == max(KEPT, key=full.scores.get)
    assert sub.confidence == pytest.approx(sub.scores[sub.emotion])
    assert sub.model == full.model
    assert model.labels == ("angry", "happy", "neutral", "sad")  # the original is untouched


def test_load_model_labels_and_restricting_twice(model, debug_model):
    clip = (speech_like(1.2, seed=5), SR)
    loaded = emovox.load_model(str(debug_model), features=False, labels=["sad", "angry"])
    assert loaded.labels == ("sad", "angry")
    twice = model.restrict("angry,happy,sad").restrict(["angry", "sad"])  # a subset of the model's labels
    assert twice.predict(clip).scores == pytest.approx(loaded.predict(clip).scores, abs=1e-6)
    assert twice.restrict("neutral,happy").labels == ("neutral", "happy")  # always from the full model
    with pytest.raises(ModelError, match="at least two labels"):
        emovox.load_model(str(debug_model), labels="")  # asked for a subset, gave none


def test_timeline_of_a_restricted_model(model):
    signal = np.concatenate([speech_like(2.0, seed=1), np.zeros(SR, np.float32), speech_like(2.5, seed=2)])
    tl = model.restrict(KEPT).timeline((signal, SR))
    speech = [s for s in tl.segments if s.emotion]
    assert speech and all(set(s.scores) == set(KEPT) and s.emotion in KEPT for s in speech)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("angry,surprised", "not among the model's labels: surprised (the model has: angry, happy"),
        ("angry", "at least two labels"),
        ("", "at least two labels"),
        ("angry,anger", "label given twice: angry"),
    ],
)
def test_bad_label_lists_are_clear_errors(model, labels, message):
    with pytest.raises(ModelError, match=message.replace("(", r"\(")):
        model.restrict(labels)


def test_cli_analyze_labels(tmp_path, debug_model):
    clip = tmp_path / "a.wav"
    clip.write_bytes(encode(speech_like(1.3, seed=6), SR, "wav"))
    args = ("analyze", str(clip), "--json", "--no-features", "--model", str(debug_model))
    full = json.loads(run_emovox(*args).stdout)
    out = run_emovox(*args, "--labels", "angry,sad")
    assert out.returncode == 0, out.stderr
    sub = json.loads(out.stdout)
    assert sub["scores"] == pytest.approx(renormalised(full["scores"]), abs=1e-6)
    bad = run_emovox(*args, "--labels", "angry,bored")
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.strip().splitlines()[-1] == (
        "emovox: error: not among the model's labels: boredom (the model has: angry, happy, neutral, sad)"
    )
    assert "Traceback" not in bad.stderr


def test_batch_labels_write_only_those_score_columns(tmp_path, debug_model, model):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    folder = tmp_path / "audio"
    folder.mkdir()
    for i in range(2):
        (folder / f"{i}.wav").write_bytes(encode(speech_like(1.0 + i / 2, seed=i), SR, "wav"))
    out = tmp_path / "r.csv"
    summary = run_batch(folder, out, model=str(debug_model), features=False, labels="angry,sad")
    assert (summary.files, summary.failed) == (2, 0)
    with pytest.raises(ModelError, match="not among the model's labels: surprised"):
        run_batch(folder, tmp_path / "bad.csv", model=str(debug_model), features=False, labels="angry,surprised")
    df = pd.read_csv(out).sort_values("path")
    assert [c for c in df.columns if c.startswith("score_")] == ["score_angry", "score_sad"]
    for _, row in df.iterrows():
        want = renormalised(model.predict(row["path"]).scores)
        assert [row["score_angry"], row["score_sad"]] == pytest.approx(list(want.values()), abs=1e-6)


def test_http_labels(debug_model):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from emovox.server import Settings, create_app

    wav = encode(speech_like(1.5, seed=8), SR, "wav")
    app = create_app(Settings(model=str(debug_model), max_upload_mb=1, max_duration_s=10))
    with TestClient(app) as client:
        def post(**params):
            files = {"file": ("clip.wav", wav, "audio/wav")}
            return client.post("/v1/analyze", files=files, params={"features": "false", **params})

        full = post().json()
        r = post(labels="angry,sad")
        assert r.status_code == 200, r.text
        assert r.json()["scores"] == pytest.approx(renormalised(full["scores"]), abs=1e-6)
        assert set(r.json()["display"]) == set(KEPT)
        tl = post(labels="angry,sad", timeline="true")
        assert tl.status_code == 200, tl.text
        assert all(set(s["scores"]) <= set(KEPT) for s in tl.json()["segments"])
        for labels in ("angry,contempt", "angry", "", "sad,sadness"):
            bad = post(labels=labels)
            assert bad.status_code == 422 and bad.json()["detail"].startswith("labels: "), bad.text
        assert post().json()["scores"] == pytest.approx(full["scores"])  # the loaded model is unchanged
