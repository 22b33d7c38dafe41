"""Adapting without being asked: `emovox batch` adapts to its input (per group with --adapt-by), and a
timeline adapts to the recording's own speech once it has enough of it (fast, tiny adaptable model)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

import emovox  # noqa: E402
from conftest import SR, speech_like  # noqa: E402
from emovox.batch import run_batch  # noqa: E402
from emovox.cli import main  # noqa: E402
from emovox.errors import EmovoxError, ModelError, OptionError  # noqa: E402
from emovox.signal.segmenter import plan_windows  # noqa: E402
from test_adapt import adaptable  # noqa: E402, F401  (the module-scoped fixture: a model with an adapted head)

ADAPTED = ["adapted_to", "adapted_clips", "adapted_applied"]


def _calls(tmp_path, write_audio, folder: str, n: int, start: int = 0) -> list[str]:
    (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    return [str(write_audio(f"{folder}/c{i:02d}.wav", speech_like(1.2, f0=100.0 + 7 * i, seed=i)))
            for i in range(start, start + n)]


def _read(out) -> pd.DataFrame:
    df = pd.read_csv(out) if str(out).endswith(".csv") else pd.read_parquet(out)
    return df.set_index("path")


def test_batch_adapts_to_its_input_by_default_and_no_adapt_turns_it_off(adaptable, tmp_path, write_audio):  # noqa: F811
    files = _calls(tmp_path, write_audio, "calls", 24)
    summary = run_batch(tmp_path / "calls", tmp_path / "out.parquet", model=str(adaptable), features=False)
    assert summary.adapted["to"] == "batch" and summary.adapted["clips"] == 24 and summary.adapted_to_clips == 24
    assert summary.adapted["applied"] is True
    df = _read(tmp_path / "out.parquet")
    assert list(df.columns[-3:]) == ADAPTED
    assert (df["adapted_to"] == "batch").all() and (df["adapted_clips"] == 24).all() and df["adapted_applied"].all()
    model = emovox.load_model(str(adaptable), features=False)
    expected = model.adapt(files, to="batch").predict(files[5])
    assert expected.adapted["to"] == "batch"
    assert df.loc[files[5], "score_angry"] == pytest.approx(expected.scores["angry"], abs=1e-5)
    plain = model.predict(files[5]).scores
    assert df.loc[files[5], "score_angry"] != pytest.approx(plain["angry"], abs=1e-4)

    # --no-adapt: the plain model's scores, rows that say so, a summary that says so
    code = main(["batch", str(tmp_path / "calls"), "--out", str(tmp_path / "plain.csv"), "--model", str(adaptable),
                 "--no-features", "--no-adapt", "--no-progress"])
    assert code == 0
    df = _read(tmp_path / "plain.csv")
    assert df["adapted_to"].isna().all() and not df["adapted_applied"].any()
    assert df.loc[files[5], "score_angry"] == pytest.approx(plain["angry"], abs=1e-5)
    assert main(["batch", str(tmp_path / "calls"), "--out", str(tmp_path / "x.csv"), "--no-adapt", "--adapt", "30"]) == 2


def test_a_small_batch_is_not_adapted_and_the_summary_says_why(adaptable, tmp_path, write_audio, capsys):  # noqa: F811
    _calls(tmp_path, write_audio, "few", 19)
    code = main(["batch", str(tmp_path / "few"), "--out", str(tmp_path / "few.csv"), "--model", str(adaptable),
                 "--no-features", "--json", "--no-progress"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["adapted"] == {"to": None, "clips": 0, "reason": "19 file(s); adapting needs at least 20"}
    assert summary["adapted_to_clips"] == 0
    df = _read(tmp_path / "few.csv")
    assert df["adapted_to"].isna().all() and not df["adapted_applied"].any()
    # 20 files, 2 of them unreadable: 18 usable clips, so not adapted either (the reason is the estimator's)
    _calls(tmp_path, write_audio, "few", 1, start=19)
    (tmp_path / "few" / "c00.wav").write_bytes(b"")
    (tmp_path / "few" / "c01.wav").write_bytes(b"not audio")
    summary = run_batch(tmp_path / "few", tmp_path / "few2.csv", model=str(adaptable), features=False)
    assert summary.adapted["to"] is None and "got 18" in summary.adapted["reason"]
    # asked for explicitly (--adapt N), the same input is an error before anything is written
    with pytest.raises(EmovoxError, match="cannot adapt to the batch: .*got 18"):
        run_batch(tmp_path / "few", tmp_path / "few3.csv", model=str(adaptable), features=False, adapt=50)
    assert not (tmp_path / "few3.csv").exists()


def test_a_model_without_adapted_head_runs_un_adapted(debug_model, tmp_path, write_audio):
    _calls(tmp_path, write_audio, "calls", 20)
    summary = run_batch(tmp_path / "calls", tmp_path / "out.csv", model=str(debug_model), features=False)
    assert summary.adapted["to"] is None and "has no adapted head" in summary.adapted["reason"]
    assert _read(tmp_path / "out.csv")["adapted_to"].isna().all()


def test_adapt_by_folder_adapts_each_folder_and_a_small_one_falls_back_to_the_batch(
        adaptable, tmp_path, write_audio, capsys):  # noqa: F811
    a = _calls(tmp_path, write_audio, "in/a", 21)
    b = _calls(tmp_path, write_audio, "in/b", 20, start=30)
    c = _calls(tmp_path, write_audio, "in/c", 3, start=60)
    code = main(["batch", str(tmp_path / "in"), "--out", str(tmp_path / "out.parquet"), "--model", str(adaptable),
                 "--no-features", "--adapt-by", "folder", "--json", "--no-progress"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)["adapted"]
    folder_a, folder_b, folder_c = (str(tmp_path / "in" / x) for x in "abc")
    assert summary["to"] == "batch" and summary["clips"] == 44 and summary["by"] == "folder"
    assert summary["groups"][folder_a]["to"] == f"folder:{folder_a}" and summary["groups"][folder_a]["clips"] == 21
    assert summary["groups"][folder_c] == {"files": 3, "to": "batch", "reason": "3 file(s); adapting needs at least 20"}
    df = _read(tmp_path / "out.parquet")
    assert (df.loc[a, "adapted_to"] == f"folder:{folder_a}").all() and (df.loc[a, "adapted_clips"] == 21).all()
    assert (df.loc[b, "adapted_to"] == f"folder:{folder_b}").all() and (df.loc[b, "adapted_clips"] == 20).all()
    assert (df.loc[c, "adapted_to"] == "batch").all() and (df.loc[c, "adapted_clips"] == 44).all()
    model = emovox.load_model(str(adaptable), features=False)
    for files, reference in ((a, a), (b, b), (c, a + b + c)):
        expected = model.adapt(reference).predict(files[1]).scores
        assert df.loc[files[1], "score_happy"] == pytest.approx(expected["happy"], abs=1e-5)
    # a resumed run over the same input draws the same references: its rows are the ones a full run writes
    kept = df.drop(index=a[3:9]).reset_index()
    kept.to_parquet(tmp_path / "part.parquet", index=False)
    assert main(["batch", str(tmp_path / "in"), "--out", str(tmp_path / "part.parquet"), "--model", str(adaptable),
                 "--no-features", "--adapt-by", "folder", "--resume", "--no-progress"]) == 0
    resumed = _read(tmp_path / "part.parquet")
    pd.testing.assert_frame_equal(resumed.loc[a, ["score_happy", *ADAPTED]], df.loc[a, ["score_happy", *ADAPTED]],
                                  check_exact=False, rtol=1e-6)


def test_adapt_by_a_manifest_column(adaptable, tmp_path, write_audio):  # noqa: F811
    files = _calls(tmp_path, write_audio, "calls", 26)
    rows = ["path,speaker"] + [f"{f},{'ann' if i < 22 else 'bob'}" for i, f in enumerate(files)]
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    summary = run_batch(tmp_path / "m.csv", tmp_path / "out.csv", model=str(adaptable), features=False,
                        adapt_by="speaker")
    assert summary.adapted["groups"]["ann"]["clips"] == 22 and summary.adapted["groups"]["bob"]["to"] == "batch"
    df = _read(tmp_path / "out.csv")
    assert (df.loc[files[:22], "adapted_to"] == "speaker:ann").all()
    assert (df.loc[files[22:], "adapted_to"] == "batch").all()
    with pytest.raises(EmovoxError, match="no 'site' column"):
        run_batch(tmp_path / "m.csv", tmp_path / "x.csv", model=str(adaptable), adapt_by="site")
    with pytest.raises(EmovoxError, match="needs a manifest"):
        run_batch(tmp_path / "calls", tmp_path / "x.csv", model=str(adaptable), adapt_by="speaker")


def _recording(seconds: float) -> np.ndarray:
    """Continuous speech-like audio whose pitch moves every 5 s."""
    parts = [speech_like(5.0, f0=110.0 + 25 * (i % 5), seed=i) for i in range(int(np.ceil(seconds / 5)))]
    return np.concatenate(parts)[: int(seconds * SR)]


def test_a_long_recordings_timeline_is_adapted_to_its_own_speech(adaptable):  # noqa: F811
    model = emovox.load_model(str(adaptable), features=False)
    signal = _recording(45.0)
    tl = model.timeline((signal, SR))
    info = tl.adapted
    windows = [(a, b) for start, end in tl.speech_regions for a, b in plan_windows(start, end, 3.0, 1.5)]
    assert len(windows) >= 20
    assert info["to"] == "recording" and info["applied"] is True and info["clips"] == len(windows)
    assert all(s.adapted for s in tl.segments if s.speech)
    d = tl.to_dict()
    assert d["adapted"] == info and d["summary"]["adapted"] == info and d["segments"][0]["adapted"] in (True, False)
    assert tl.to_csv().splitlines()[0].endswith(",adapted")
    # the same as adapting to those windows as clips first (one encoding: pooled features reused)
    clips = [(signal[int(round(a * SR)) : int(round(b * SR))], SR) for a, b in windows]
    explicit = model.adapt(clips, to="recording")
    again = explicit.timeline((signal, SR))  # an adapted model is kept as it is
    np.testing.assert_allclose(tl.step_scores, again.step_scores, rtol=1e-4, atol=1e-5)
    assert again.adapted == explicit.adapted
    plain = model.timeline((signal, SR), adapt=False)
    assert plain.adapted is None and not any(s.adapted for s in plain.segments)
    assert not np.allclose(plain.step_scores, tl.step_scores, atol=1e-3)


def test_a_short_recording_is_not_adapted_and_says_why(adaptable, debug_model):  # noqa: F811
    model = emovox.load_model(str(adaptable), features=False)
    tl = model.timeline((_recording(12.0), SR))
    info = tl.adapted
    assert info["to"] == "recording" and info["applied"] is False and "needs at least 20" in info["reason"]
    assert info["clips"] < 20 and not any(s.adapted for s in tl.segments)
    np.testing.assert_allclose(tl.step_scores, model.timeline((_recording(12.0), SR), adapt=False).step_scores)
    with pytest.raises(EmovoxError, match="cannot adapt the timeline"):
        model.timeline((_recording(12.0), SR), adapt=True)
    with pytest.raises(OptionError, match="adapt must be"):
        model.timeline((_recording(12.0), SR), adapt="yes")
    debug = emovox.load_model(str(debug_model), features=False)
    assert debug.timeline((_recording(40.0), SR)).adapted is None  # nothing to adapt with: None, as before
    with pytest.raises(ModelError, match="no adapted head"):
        debug.timeline((_recording(12.0), SR), adapt=True)


def test_cli_timeline_adapts_and_no_adapt_turns_it_off(adaptable, tmp_path, write_audio, capsys):  # noqa: F811
    path = str(write_audio("long.wav", _recording(45.0)))
    (tmp_path / "empty").mkdir()
    assert main(["analyze", path, "--timeline", "--json", "--model", str(adaptable)]) == 0
    assert json.loads(capsys.readouterr().out)["adapted"]["applied"] is True
    assert main(["analyze", path, "--timeline", "--json", "--model", str(adaptable), "--no-adapt"]) == 0
    assert json.loads(capsys.readouterr().out)["adapted"] is None
    assert main(["analyze", path, "--timeline", "--model", str(adaptable)]) == 0
    assert "adapted: to the recording" in capsys.readouterr().out
    assert main(["analyze", path, "--no-adapt", "--adapt-to", str(tmp_path / "empty")]) == 2


def test_batch_timeline_rows_say_what_they_were_adapted_to(adaptable, tmp_path, write_audio):  # noqa: F811
    (tmp_path / "long").mkdir()
    write_audio("long/one.wav", _recording(45.0))
    write_audio("long/two.wav", _recording(12.0))
    run_batch(tmp_path / "long", tmp_path / "t.csv", model=str(adaptable), timeline=True)
    df = pd.read_csv(tmp_path / "t.csv")
    one, two = df[df["path"].str.endswith("one.wav")], df[df["path"].str.endswith("two.wav")]
    assert (one["adapted_to"] == "recording").all() and one["adapted_applied"].all()
    assert (two["adapted_to"] == "recording").all() and not two["adapted_applied"].any()
    run_batch(tmp_path / "long", tmp_path / "n.csv", model=str(adaptable), timeline=True, adapt=False)
    assert pd.read_csv(tmp_path / "n.csv")["adapted_to"].isna().all()


@pytest.mark.slow
def test_ray_actors_get_the_references_and_write_the_local_rows(adaptable, tmp_path, write_audio):  # noqa: F811
    pytest.importorskip("ray")
    _calls(tmp_path, write_audio, "in/a", 20)
    _calls(tmp_path, write_audio, "in/b", 4, start=30)
    local = run_batch(tmp_path / "in", tmp_path / "local.parquet", model=str(adaptable), features=False,
                      adapt_by="folder")
    ray = run_batch(tmp_path / "in", tmp_path / "ray_out", model=str(adaptable), features=False,
                    adapt_by="folder", engine="ray", workers=2)
    assert ray.adapted == local.adapted and local.adapted["groups"][str(tmp_path / "in" / "a")]["clips"] == 20
    import pyarrow.dataset as ds

    got = ds.dataset(tmp_path / "ray_out").to_table().to_pandas().sort_values("path").reset_index(drop=True)
    want = pd.read_parquet(tmp_path / "local.parquet").sort_values("path").reset_index(drop=True)
    assert set(want["adapted_to"]) == {f"folder:{tmp_path / 'in' / 'a'}", "batch"}
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-5)
