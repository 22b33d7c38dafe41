"""Leave-one-corpus-out: the metrics on synthetic predictions with known answers, the protocol on
synthetic features, and `emovox evaluate --loco` end to end on a small real subset (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from conftest import run_emovox  # noqa: E402
from emovox.corpora.manifest import ManifestRow  # noqa: E402
from emovox.errors import EmovoxError  # noqa: E402
from emovox.training.loco import (  # noqa: E402
    loco_predict,
    loco_report,
    loco_table,
    recipe_fit,
    restricted_metrics,
    summary,
)
from emovox.training.recipe import FitData, Recipe, fit_head  # noqa: E402

LABELS = ["neutral", "calm", "happy", "sad", "angry", "disgust"]


def test_four_emotion_score_masks_outputs_and_counts_calm_as_neutral():
    truth = ["angry", "angry", "calm", "happy", "sad", "disgust"]
    probs = np.array([
        [0.0, 0.0, 0.0, 0.0, 0.9, 0.1],  # angry, right at 0.9/(0.9) = 1.0 after masking
        [0.25, 0.0, 0.0, 0.0, 0.1, 0.65],  # disgust is masked: neutral 0.25 / 0.35 beats angry
        [0.3, 0.6, 0.0, 0.1, 0.0, 0.0],  # calm truth counts as neutral; calm output masked -> neutral 0.75
        [0.0, 0.0, 0.35, 0.65, 0.0, 0.0],  # happy said sad (0.65)
        [0.0, 0.0, 0.0, 1.0, 0.0, 0.0],  # sad, right
        [0.0, 0.0, 0.0, 0.0, 0.0, 1.0],  # disgust clip: dropped
    ])
    m = restricted_metrics(truth, probs, LABELS, ["angry", "happy", "neutral", "sad"], {"calm": "neutral"})
    assert m["n"] == 5 and m["dropped"] == 1
    # recalls: angry 1/2, happy 0/1, neutral 1/1, sad 1/1
    assert m["ua"] == pytest.approx((0.5 + 0 + 1 + 1) / 4)
    assert m["wa"] == pytest.approx(3 / 5)
    confusion = dict(zip(m["confusion"]["labels"], m["confusion"]["matrix"]))
    assert confusion["angry"] == [1, 0, 1, 0] and confusion["happy"] == [0, 0, 0, 1]
    assert confusion["neutral"] == [0, 0, 1, 0]
    # confidences 1.0 (hit), 0.714 (miss), 0.75 (hit), 0.65 (miss), 1.0 (hit): four bins of 15
    expected = (2 / 5) * 0.0 + (1 / 5) * (0.25 / 0.35) + (1 / 5) * 0.25 + (1 / 5) * 0.65
    assert m["ece"] == pytest.approx(expected)


def test_summary_mean_and_worst():
    per = {c: {"four": {"ua": u, "ece": e, "wa": u}, "shared": {"ua": u / 2, "ece": e, "wa": u}}
           for c, u, e in (("a", 0.8, 0.1), ("b", 0.5, 0.3), ("c", 0.65, 0.2))}
    s = summary(per)
    assert s["four"]["ua_mean"] == pytest.approx(0.65) and s["four"]["ua_worst"] == 0.5
    assert s["four"]["worst_corpus"] == "b" and s["four"]["ece_mean"] == pytest.approx(0.2)
    assert s["shared"]["ua_mean"] == pytest.approx(0.325)


def _corpora(rng, n=40):
    """Three corpora sharing four class centres, each shifted by its own offset (a channel)."""
    centres = rng.normal(size=(4, 12)) * 3
    names = ["angry", "happy", "neutral", "sad"]
    rows, X = [], []
    for c, offset in (("one", 0.0), ("two", 1.0), ("three", -1.0)):
        for i in range(n):
            k = i % 4
            label = "calm" if (c == "three" and names[k] == "neutral") else names[k]
            rows.append(ManifestRow(path=f"/x/{c}{i}.wav", corpus=c, speaker=f"{c}_{i % 5}", emotion=label))
            X.append(centres[k] + rng.normal(size=12) + offset)
    return rows, np.stack(X).astype(np.float32)[None]


def test_loco_trains_on_the_other_corpora_and_tests_on_each():
    rows, X = _corpora(np.random.default_rng(0))
    seen = []

    def fit(train_rows, train_X, labels):
        seen.append(({r.corpus for r in train_rows}, train_X.shape[1], labels))
        return recipe_fit(Recipe(aug_copies=0, telephone_copies=0, calibration="corpus", val_folds=0))(
            train_rows, train_X, labels)

    predictions = loco_predict(rows, X, fit)
    assert sorted(predictions) == ["one", "three", "two"]
    assert [s[0] for s in seen] == [{"two", "three"}, {"one", "two"}, {"one", "three"}]
    assert all(n == 80 for _, n, _ in seen)
    assert "calm" in seen[0][2] and "calm" not in seen[1][2]  # three (calm) held out: no calm output
    report = loco_report(predictions)
    assert report["corpora"]["three"]["four"]["n"] == 40  # its calm clips are scored as neutral
    assert report["corpora"]["three"]["shared_labels"] == ["happy", "sad", "angry"]  # calm: not in training
    assert report["summary"]["four"]["ua_mean"] > 0.9
    table = loco_table(report)
    assert "| three |" in table and "| **mean** |" in table and "| **worst** |" in table


def test_loco_adapt_centres_each_held_out_corpus_on_its_own_clips():
    """A large per-corpus offset (a channel) ruins the plain head on the held-out corpus; adapted to its
    own unlabelled clips (as `batch --adapt` would be), the held-out corpus is classified again."""
    rng = np.random.default_rng(3)
    rows, X = _corpora(rng)
    offsets = {"one": 0.0, "two": 12.0, "three": -12.0}
    X = X + np.array([offsets[r.corpus] for r in rows], dtype=np.float32)[None, :, None]
    recipe = Recipe(aug_copies=0, telephone_copies=0, calibration="global", val_folds=0, val_fraction=0,
                    calibrate=False)
    plain = loco_report(loco_predict(rows, X, recipe_fit(recipe)))["summary"]["four"]["ua_mean"]
    adapted = loco_report(loco_predict(rows, X, recipe_fit(recipe, adapt=20)))["summary"]["four"]["ua_mean"]
    assert plain < 0.7 and adapted > 0.9
    with pytest.raises(EmovoxError, match="--adapt must be"):
        recipe_fit(recipe, adapt=-1)


def test_corpus_calibration_fits_one_temperature_on_out_of_corpus_predictions():
    rows, X = _corpora(np.random.default_rng(1))
    labels = ["neutral", "calm", "happy", "sad", "angry"]
    y = np.array([labels.index(r.emotion) for r in rows])
    data = FitData(X, y, [r.corpus for r in rows], [r.speaker for r in rows], labels)
    fit = fit_head(data, Recipe(aug_copies=0, calibration="corpus"), seed=0)
    assert fit.val["scheme"] == "leave-one-corpus-out inside the training set"
    assert set(fit.val["per_corpus"]) == {"one", "two", "three"}
    # corpus three's calm clips have no calm training clip elsewhere: they are left out of calibration
    assert fit.val["clips"] == 120 - 10
    assert fit.head.log_t is None and fit.head.domain is None and fit.temperature != 1.0


def test_per_utterance_normalisation_removes_a_clip_wide_offset_and_scale():
    """speech_cmn pooling ignores a constant added to every frame (a channel offset); speech_in also
    ignores a constant factor; both keep the loud-frame contrast, and the all-frame mean block is 0."""
    from emovox.training.head import pool_clip

    rng = np.random.default_rng(0)
    states = tuple(torch.as_tensor(rng.normal(size=(1, 50, 6)), dtype=torch.float32) for _ in range(2))
    energy = torch.as_tensor(np.r_[np.zeros(20), -2 * np.ones(30)][None], dtype=torch.float32)
    shifted = tuple(s + torch.linspace(-3, 3, 6) for s in states)
    scaled = tuple(2.5 * s + 1.0 for s in states)
    cmn = pool_clip(states, energy, "speech_cmn")
    assert torch.allclose(pool_clip(shifted, energy, "speech_cmn"), cmn, atol=1e-4)
    assert not torch.allclose(pool_clip(scaled, energy, "speech_cmn"), cmn, atol=1e-2)
    assert torch.allclose(pool_clip(scaled, energy, "speech_in"), pool_clip(states, energy, "speech_in"), atol=1e-3)
    assert not torch.allclose(pool_clip(shifted, energy, "speech"), pool_clip(states, energy, "speech"), atol=1e-2)
    # layout per block: each layer's [mean (6), std (6)]; block 1 all frames, block 2 loud frames
    first = cmn[0, :24].reshape(2, 2, 6)
    assert torch.allclose(first[:, 0], torch.zeros(2, 6), atol=1e-5)
    loud = cmn[0, 24:].reshape(2, 2, 6)[:, 0]  # mean of the 20 loud frames minus the clip mean
    expected = torch.stack([s[0, :20].mean(0) - s[0].mean(0) for s in states])
    assert torch.allclose(loud, expected, atol=1e-3)
    with pytest.raises(Exception, match="pooling must be one of"):
        Recipe.from_dict({"pooling": "median"})
    with pytest.raises(Exception, match="preprocess must be one of"):
        Recipe.from_dict({"preprocess": "louder"})


def test_loco_needs_two_manifests(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,speaker,emotion\na.wav,s1,angry\n")
    result = run_emovox("evaluate", "--loco", "--manifest", str(manifest), "--report", str(tmp_path / "r"))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("emovox: error:") and "at least two --manifest" in result.stderr
    assert "Traceback" not in result.stderr
    two = ["--manifest", str(manifest), "--manifest", str(manifest)]
    result = run_emovox("evaluate", *two, "--report", str(tmp_path / "r"))
    assert result.returncode == 1 and "several --manifest files need --loco" in result.stderr
    result = run_emovox("evaluate", "--loco", *two, "--labels", "angry,sad", "--report", str(tmp_path / "r"))
    assert result.returncode == 1 and "--loco takes only" in result.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_evaluate_loco_end_to_end_on_real_subsets(corpora, tmp_path, monkeypatch):
    """Three real corpora (a few speakers each): `emovox evaluate --loco` prints the table and writes
    report.json with each corpus held out once."""
    from emovox.corpora.manifest import read_manifest, write_manifest

    monkeypatch.setenv("EMOVOX_CACHE", str(tmp_path / "cache"))
    manifests, four = [], {}
    for folder, speakers in (("ravdess", 4), ("emodb_2s", 3), ("turev_db", 2)):
        rows = read_manifest(corpora / folder / "manifest.csv")
        keep = sorted({r.speaker for r in rows})[:speakers]
        rows = [r for r in rows if r.speaker in keep and r.emotion in ("angry", "sad", "neutral", "calm", "happy", "fearful")]
        rows = rows[::3] if folder == "turev_db" else rows
        four[folder] = sum(r.emotion != "fearful" for r in rows)  # calm counts as neutral; fearful dropped
        manifests += ["--manifest", str(write_manifest(rows, tmp_path / f"{folder}.csv"))]
    config = tmp_path / "recipe.json"
    config.write_text(json.dumps({"aug_copies": 0, "telephone_copies": 0, "calibration": "corpus", "val_folds": 0}))
    result = run_emovox("evaluate", "--loco", *manifests, "--config", str(config), "--report", str(tmp_path / "r"),
                        timeout=900)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert set(report["corpora"]) == {"ravdess", "emodb_2s", "turev_db"}
    assert report["meta"]["protocol"] == "leave-one-corpus-out"
    for name, r in report["corpora"].items():
        assert r["four"]["n"] == four[name] and len(r["four"]["confusion"]["matrix"]) == 4
        assert sum(map(sum, r["four"]["confusion"]["matrix"])) == four[name]
        assert f"| {name} | " in result.stdout and f"| {100 * r['four']['ua']:.1f} |" in result.stdout
    # TurEV-DB has no fearful: held out, its shared labels exclude it; EmoDB-2s held out keeps fearful
    assert "fearful" not in report["corpora"]["turev_db"]["shared_labels"]
    assert "fearful" in report["corpora"]["emodb_2s"]["shared_labels"]
    mean = np.mean([r["four"]["ua"] for r in report["corpora"].values()])
    assert report["summary"]["four"]["ua_mean"] == pytest.approx(mean)
    assert "| **worst** |" in result.stdout and (tmp_path / "r" / "report.md").is_file()


def test_relabel_merges_calm_into_neutral_before_the_fit():
    rows, X = _corpora(np.random.default_rng(3))
    recipe = Recipe(aug_copies=0, telephone_copies=0, val_folds=0, calibrate=False, calibration="global",
                    relabel={"calm": "neutral"})
    predictions = loco_predict(rows, X, recipe_fit(recipe))
    two = predictions["two"]  # trained on one (neutral) and three (calm): one neutral class, no calm output
    assert "calm" in two["labels"] and np.all(two["probs"][:, two["labels"].index("calm")] == 0)
    neutral = np.array(two["truth"]) == "neutral"
    picked = np.array(two["labels"])[two["probs"].argmax(axis=1)]
    assert np.mean(picked[neutral] == "neutral") > 0.8
    dropped = loco_predict(rows, X, recipe_fit(Recipe(**{**recipe.to_dict(), "relabel": {"calm": ""}})))
    assert np.all(dropped["two"]["probs"][:, dropped["two"]["labels"].index("calm")] == 0)


def test_recipe_relabel_must_map_names_to_names():
    with pytest.raises(EmovoxError, match="relabel must map label names"):
        Recipe.from_dict({"relabel": {"calm": 1}})


def _benchmark_script(name: str):
    """benchmarks/<name>.py as a module (a script, not part of the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def loco_temperature():
    return _benchmark_script("loco_temperature")


def test_temperature_sweep_at_one_reproduces_a_saved_loco_report(loco_temperature):
    """benchmarks/loco_temperature.py scores a saved LOCO run as the report did: at T = 1 its ECE per
    corpus is the report's; a flatter T lowers the mean confidence on every corpus."""
    mod = loco_temperature
    folder = ROOT / "benchmarks" / "results" / "loco" / "normalise-size-crop3"
    report = json.loads((folder / "report.json").read_text())
    (t, eces), = mod.sweep(folder, [1.0])
    # the saved scores are rounded to 5 decimals: a clip may move to the next confidence bin
    assert eces == pytest.approx({c: r["four"]["ece"] for c, r in report["corpora"].items()}, abs=2e-3)
    p = np.array([[0.7, 0.2, 0.1], [0.5, 0.3, 0.2]])
    assert np.allclose(mod.scaled(p, 1.0), p)
    assert (mod.scaled(p, 2.0).max(axis=1) < p.max(axis=1)).all()
    assert (mod.scaled(p, 2.0).argmax(axis=1) == p.argmax(axis=1)).all()


def test_nested_temperature_is_chosen_on_the_other_corpora(tmp_path, loco_temperature):
    """``loco_temperature.py --nested``: each held-out corpus gets the temperature that suits the
    *other* corpora's predictions. Three corpora are overconfident the same way (right 60 % of the time
    at confidence 0.9) and one is well calibrated: the odd one out is scored at the others' T (> 1,
    which makes it worse than T = 1), and each of the three at a T above 1 that helps it."""
    mod = loco_temperature
    rng = np.random.default_rng(0)
    labels = ["neutral", "happy", "sad", "angry"]
    lines = []
    for corpus, hit_rate, top in (("a", 0.6, 0.9), ("b", 0.6, 0.9), ("c", 0.6, 0.9), ("d", 0.9, 0.9)):
        for i in range(400):
            truth = labels[i % 4]
            pred = truth if rng.random() < hit_rate else labels[(i + 1) % 4]
            scores = {lab: (top if lab == pred else (1 - top) / 3) for lab in labels}
            lines.append(json.dumps({"corpus": corpus, "truth": truth, "scores": scores}))
    (tmp_path / "predictions.jsonl").write_text("\n".join(lines) + "\n")
    per, overall = mod.nested(tmp_path)
    (plain,) = [e for _, e in mod.sweep(tmp_path, [1.0])]
    assert per["d"][0] > 1.2 and per["d"][1] > plain["d"] + 0.1
    for c in "abc":
        assert per[c][0] > 1.2 and per[c][1] < plain[c] - 0.1
    assert overall > 1.2
    table, per_again, mean, overall_again = mod.nested_table(tmp_path)  # what --nested and the card print
    assert per_again == per and overall_again == overall
    assert mean == pytest.approx(np.mean([e for _, e in per.values()]))
    assert f"| d | {per['d'][0]:g} | {100 * per['d'][1]:.1f} | {100 * plain['d']:.1f} |" in table
    records = [json.loads(line) for line in lines]  # the same predictions in memory, as loco_routes has them
    in_memory = {c: {"truth": [r["truth"] for r in records if r["corpus"] == c], "labels": labels,
                     "probs": np.array([[r["scores"][k] for k in labels] for r in records if r["corpus"] == c])}
                 for c in "abcd"}
    assert mod.nested(in_memory) == (per, overall)


@pytest.fixture(scope="module")
def loco_routes():
    return _benchmark_script("loco_routes")


def test_nuisance_projection_removes_group_offsets_and_keeps_the_emotion_axis(loco_routes):
    rng = np.random.default_rng(3)
    n = 400
    emotion = rng.integers(0, 2, n)
    group = rng.integers(0, 4, n)
    X = rng.normal(size=(n, 6)) * 0.1
    X[:, 0] += 2.0 * emotion  # the label lives on feature 0
    X[:, 1] += np.array([-3.0, -1.0, 1.0, 3.0])[group]  # each group shifted along feature 1
    X[:, 2] += 0.5 * X[:, 1]  # ... and partly along feature 2
    mean, scale, U = loco_routes.nuisance_projection(X, emotion, group, 1)
    Z = loco_routes.project(X, mean, scale, U)
    offsets = np.stack([Z[group == g].mean(axis=0) for g in range(4)])
    before = np.stack([((X - mean) / scale)[group == g].mean(axis=0) for g in range(4)])
    assert np.abs(before[:, 1:3] - before[:, 1:3].mean(axis=0)).max() > 1.0
    assert np.abs(offsets[:, 1:3] - offsets[:, 1:3].mean(axis=0)).max() < 0.05  # the shifted features agree now
    gap = Z[emotion == 1].mean(axis=0) - Z[emotion == 0].mean(axis=0)
    assert gap[0] > 1.5 and np.abs(gap[1:]).max() < 0.2  # the emotion axis survives


def test_test_time_averaging_averages_the_copies_probabilities():
    rows, X = _corpora(np.random.default_rng(0))
    X2 = np.stack([X[0], X[0] + 100.0])  # a second "copy", far off: its predictions differ
    calls = []

    def fit(train_rows, train_X, labels):
        def predict(Z):
            calls.append(Z[0, 0])
            return np.tile(np.eye(len(labels))[int(Z[0, 0] > 50)], (len(Z), 1))
        return predict

    predictions = loco_predict(rows, X2, fit, test_copies=[0, 1])
    assert len(calls) == 2 * len(predictions)
    for p in predictions.values():
        assert np.allclose(p["probs"][:, :2].sum(axis=1), 1.0) and np.allclose(p["probs"][:, :2], 0.5)
