"""LOCO adapted to mixed, one-emotion and skewed sources (training.adapt_study): on synthetic corpora with
a known channel offset each, and `emovox evaluate --loco --adapt N` on a small real subset (slow)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from conftest import run_emovox  # noqa: E402
from emovox.corpora.manifest import ManifestRow  # noqa: E402
from emovox.training.adapt_study import adaptation_study, draw_sources, study_tables  # noqa: E402
from emovox.training.recipe import Recipe  # noqa: E402

NAMES = ["angry", "happy", "neutral", "sad"]


def _corpora(rng, n=80):
    """Four corpora sharing four class centres (each emotion a quarter), each shifted by its own offset."""
    centres = rng.normal(size=(4, 12)) * 2.5
    rows, X = [], []
    for c in ("one", "two", "three", "four"):
        offset = rng.normal(size=12) * 4
        for i in range(n):
            k = i % 4
            rows.append(ManifestRow(path=f"/x/{c}{i}.wav", corpus=c, speaker=f"{c}_{i % 6}", emotion=NAMES[k]))
            X.append(centres[k] + rng.normal(size=12) + offset)
    return rows, np.stack(X).astype(np.float32)[None]


def test_draw_sources_one_emotion_and_skewed():
    truth = ["angry"] * 40 + ["happy"] * 40 + ["calm"] * 40 + ["sad"] * 40
    sources = draw_sources(truth, 20, 0)
    assert {truth[i] for i in sources["one:neutral"]} == {"calm"} and len(sources["one:neutral"]) == 20
    skew = [truth[i] for i in sources["skew:sad"]]
    assert skew.count("sad") == 14 and skew.count("angry") == 2 and len(skew) == 20
    assert len(sources["mixed"]) == 20


def test_safe_adaptation_helps_mixed_sources_and_spares_one_emotion_sources():
    rows, X = _corpora(np.random.default_rng(0))
    recipe = Recipe(aug_copies=0, telephone_copies=0, calibration="global", val_folds=0, val_fraction=0,
                    calibrate=False, adapt_head=True)
    study = adaptation_study(rows, X, recipe, 40, progress=False)
    s = study["summary"]
    # the corpora's offsets ruin the un-adapted head; centring on a mixed source repairs it
    assert s["centre"]["mixed_mean"] > s["unadapted"]["mixed_mean"] + 0.1
    # centring a one-emotion source pulls it to the middle; the safe estimate does not
    assert s["centre"]["one_change_mean"] < -0.2
    assert s["safe"]["one_mean"] > s["centre"]["one_mean"] + 0.2 and s["safe"]["one_change_worst"] > -0.1
    assert s["safe"]["mixed_mean"] > s["unadapted"]["mixed_mean"] + 0.1
    # the soft combinations keep most of the main head's answer on one-emotion sources
    for soft in ("soft 0.3, centre", "soft 0.3, main-head mix"):
        assert s[soft]["one_change_mean"] > s["centre"]["one_change_mean"] + 0.1
    sources = study["corpora"]["one"]["sources"]
    assert sources["one:sad"]["soft 0.3, main-head mix info"] == {"method": "soft-mix", "weight": 0.3}
    assert set(sources) == {"mixed", *(f"one:{e}" for e in NAMES), *(f"skew:{e}" for e in NAMES)}
    assert sources["one:angry"]["safe info"]["method"] == "safe"
    table = study_tables(study)
    assert "| safe |" in table and "| one | one:sad | 20 |" in table


@pytest.mark.slow
@pytest.mark.corpus
def test_evaluate_loco_adapt_scores_one_emotion_sources_on_real_subsets(corpora, tmp_path, monkeypatch):
    """`emovox evaluate --loco --adapt N` on three real corpora (a few speakers each): the report holds
    every (corpus, emotion) one-emotion source and the skewed ones, un-adapted beside adapted."""
    from emovox.corpora.manifest import read_manifest, write_manifest

    monkeypatch.setenv("EMOVOX_CACHE", str(tmp_path / "cache"))
    manifests = []
    for folder, speakers in (("ravdess", 4), ("emodb_2s", 4), ("turev_db", 2)):
        rows = read_manifest(corpora / folder / "manifest.csv")
        keep = sorted({r.speaker for r in rows})[:speakers]
        rows = [r for r in rows if r.speaker in keep and r.emotion in ("angry", "sad", "neutral", "calm", "happy")]
        rows = rows[::3] if folder == "turev_db" else rows
        manifests += ["--manifest", str(write_manifest(rows, tmp_path / f"{folder}.csv"))]
    config = tmp_path / "recipe.json"
    config.write_text(json.dumps({"aug_copies": 0, "telephone_copies": 0, "calibration": "global", "val_folds": 0,
                                  "adapt_head": True, "seeds": 1, "epochs": 20}))
    result = run_emovox("evaluate", "--loco", "--adapt", "20", *manifests, "--config", str(config),
                        "--report", str(tmp_path / "r"), timeout=900)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    study = report["adapt_sources"]
    assert report["meta"]["adapt_method"] == "safe" and study["clips"] == 20
    for name in ("ravdess", "emodb_2s", "turev_db"):
        sources = study["corpora"][name]["sources"]
        assert {f"one:{e}" for e in NAMES} <= set(sources) and {f"skew:{e}" for e in NAMES} <= set(sources)
        for entry in sources.values():
            assert 0 <= entry["unadapted"] <= 1 and 0 <= entry["safe"] <= 1 and 0 <= entry["centre"] <= 1
    # the main table is the safe adaptation of the mixed source
    for name, r in report["corpora"].items():
        assert r["four"]["ua"] == pytest.approx(study["corpora"][name]["sources"]["mixed"]["safe"])
    assert "| unadapted |" in result.stdout and "one:angry" in result.stdout
    assert "Adapted to mixed, one-emotion and skewed sources" in (tmp_path / "r" / "report.md").read_text()
