"""Metrics, calibration error, label masking and reports on hand-computed examples."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("torch")

from emovox.errors import EmovoxError  # noqa: E402
from emovox.results.result import Prediction  # noqa: E402
from emovox.training.evaluate import Scored, restrict, scored, speaker_folds  # noqa: E402
from emovox.training.metrics import classification_metrics, expected_calibration_error, reliability  # noqa: E402
from emovox.training.report import build_report, write_report  # noqa: E402


def test_metrics_by_hand():
    truth = ["a", "a", "b", "b", "c"]
    pred = ["a", "b", "b", "b", "a"]
    m = classification_metrics(truth, pred, ["a", "b", "c"])
    assert m["ua"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert m["wa"] == pytest.approx(3 / 5)
    assert m["per_class"]["a"]["precision"] == pytest.approx(0.5)
    assert m["per_class"]["b"]["precision"] == pytest.approx(2 / 3)
    assert m["per_class"]["b"]["f1"] == pytest.approx(0.8)
    assert m["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert m["confusion"]["matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]


def test_ece_known_cases():
    assert expected_calibration_error([1.0, 1.0], [True, True]) == pytest.approx(0.0)
    # two clips in different bins: |1 - 0.9| / 2 + |0 - 0.6| / 2
    assert expected_calibration_error([0.9, 0.6], [True, False]) == pytest.approx(0.35)
    # ten clips at 0.8 confidence, 8 right: perfectly calibrated
    assert expected_calibration_error([0.8] * 10, [True] * 8 + [False] * 2) == pytest.approx(0.0)
    # always sure, half right: ECE 0.5
    assert expected_calibration_error([1.0] * 4, [True, False, True, False]) == pytest.approx(0.5)
    bins = reliability([0.9, 0.6], [True, False])
    assert sum(b["count"] for b in bins) == 2 and len(bins) == 15


def test_restrict_masks_and_renormalises():
    scores = {"angry": 0.5, "happy": 0.3, "calm": 0.2}
    assert restrict(scores, ["happy", "calm"]) == pytest.approx({"happy": 0.6, "calm": 0.4})
    assert restrict(scores, None) == scores
    with pytest.raises(EmovoxError, match="surprised"):
        restrict(scores, ["happy", "surprised"])


def test_scored_argmax_after_masking(tmp_path):
    from emovox.corpora.manifest import ManifestRow

    row = ManifestRow(path=tmp_path / "a.wav", corpus="c", speaker="s1", emotion="happy")
    p = Prediction("angry", 0.5, {"angry": 0.5, "happy": 0.3, "calm": 0.2}, 1.0, "m")
    s = scored(row, p, "1", ["happy", "calm"])
    assert (s.emotion, s.truth) == ("happy", "happy")
    assert s.confidence == pytest.approx(0.6)


def test_silent_clip_counts_as_a_miss(tmp_path):
    from emovox.corpora.manifest import ManifestRow
    from emovox.training.evaluate import SILENT

    row = ManifestRow(path=tmp_path / "a.wav", corpus="c", speaker="s1", emotion="sad")
    s = scored(row, Prediction(None, 0.0, {}, 1.0, "m", silent=True), "1", None)
    assert (s.emotion, s.confidence) == (SILENT, 0.0)
    other = scored(row, Prediction("sad", 0.9, {"sad": 0.9, "happy": 0.1}, 1.0, "m"), "1", None)
    report = build_report([s, other], ["sad", "happy"])
    assert report["pooled"]["wa"] == pytest.approx(0.5) and report["pooled"]["silent"] == 1


def test_speaker_folds():
    from emovox.corpora.manifest import ManifestRow

    rows = [ManifestRow(path=f"{s}.wav", corpus="c", speaker=s, emotion="sad") for s in ("x", "y")]
    assert speaker_folds(rows, None) == {"x": "x", "y": "y"}
    assert speaker_folds(rows, {"x": 1, "y": 2}) == {"x": "1", "y": "2"}
    with pytest.raises(EmovoxError, match="not in the folds"):
        speaker_folds(rows, {"x": 1})


def _records():
    def rec(fold, speaker, truth, emotion, conf):
        other = "sad" if emotion == "happy" else "happy"
        return Scored(f"{speaker}-{truth}.wav", "c", speaker, fold, truth, emotion, conf,
                      {emotion: conf, other: 1 - conf})

    return [
        rec("1", "s1", "happy", "happy", 0.9), rec("1", "s1", "sad", "happy", 0.6),
        rec("2", "s2", "happy", "happy", 0.8), rec("2", "s2", "sad", "sad", 0.7),
    ]


def test_report_per_fold_and_pooled(tmp_path):
    records = _records()
    report = build_report(records, ["happy", "sad"], {"command": "emovox evaluate ..."})
    assert report["folds"]["1"]["ua"] == pytest.approx(0.5)
    assert report["folds"]["2"]["ua"] == pytest.approx(1.0)
    assert report["pooled"]["ua"] == pytest.approx((1.0 + 0.5) / 2)
    assert report["mean_over_folds"]["ua"] == pytest.approx(0.75)
    assert report["per_speaker"]["s1"] == {"n": 2, "accuracy": 0.5}
    write_report(report, records, tmp_path / "r")
    for name in ("report.json", "report.md", "confusion.png", "confusion.json", "reliability.png", "predictions.jsonl"):
        assert (tmp_path / "r" / name).stat().st_size > 0
    assert json.loads((tmp_path / "r" / "confusion.json").read_text())["matrix"] == [[2, 0], [1, 1]]
    md = (tmp_path / "r" / "report.md").read_text()
    assert "| **pooled** | | 4 | **75.0** |" in md


def test_drop_other_tests_only_the_scored_labels(tmp_path, debug_model):
    from conftest import encode, speech_like
    from emovox.training.run import evaluate

    emotions = ["angry", "happy", "surprised", "angry", "happy", "surprised", "calm"]
    lines = ["path,corpus,speaker,emotion"]
    for i, emotion in enumerate(emotions):
        (tmp_path / f"{i}.wav").write_bytes(encode(speech_like(1.0, seed=i), 16000, "wav"))
        lines.append(f"{i}.wav,fake,s{i % 2},{emotion}")
    manifest = tmp_path / "m.csv"
    manifest.write_text("\n".join(lines) + "\n")
    with pytest.raises(EmovoxError, match="surprised.*not scored labels"):
        evaluate(str(debug_model), manifest, tmp_path / "r0", labels=["angry", "happy"])
    report = evaluate(str(debug_model), manifest, tmp_path / "r", labels=["angry", "happy"], drop_other=True)
    assert report["pooled"]["n"] == 4 and report["labels"] == ["angry", "happy"]
    assert report["meta"]["dropped"] == {"calm": 1, "surprised": 2}
    assert "not tested (emotion outside the scored labels, --drop-other): calm 1, surprised 2" in (
        tmp_path / "r" / "report.md").read_text()
    with pytest.raises(EmovoxError, match="needs --labels"):
        evaluate(str(debug_model), manifest, tmp_path / "r2", drop_other=True)
    with pytest.raises(EmovoxError, match="no clip of"):
        evaluate(str(debug_model), manifest, tmp_path / "r3", labels=["sad", "neutral"], drop_other=True)
