"""Recognizer.adapt: scoring clips relative to a reference set of the user's recordings (fast, no corpora)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import emovox  # noqa: E402
from conftest import speech_like  # noqa: E402
from emovox.errors import EmovoxError, ModelError  # noqa: E402
from emovox.models.adapted import ADAPTED_FILE, save_adapted  # noqa: E402
from emovox.models.whisper import log_mel  # noqa: E402

LABELS = ["angry", "happy", "sad"]
RNG = np.random.default_rng(0)
W_MAIN = RNG.normal(size=(8, 3)).astype(np.float32)
W_ADAPT = RNG.normal(size=(8, 3 + 2)).astype(np.float32)  # 3 logits + a 2-corpus domain classifier
SHIFT = RNG.normal(size=8).astype(np.float32) * 0.1
BIAS = RNG.normal(size=5).astype(np.float32)
LOG_T = np.log(np.array([1.0, 2.0], dtype=np.float32))


class Pooled(torch.nn.Module):
    """(1, 80, T) mel -> logits (1, 3) and pooled features (1, 8): the mean of 8 mel bands."""

    def forward(self, mel):
        pooled = mel[:, :8].mean(dim=2) * 4.0
        return pooled @ torch.from_numpy(W_MAIN), pooled


def _pooled(clip: np.ndarray) -> np.ndarray:
    return log_mel(clip)[:8].mean(axis=1) * 4.0


def _adapted_logits(centred: np.ndarray) -> np.ndarray:
    y = (centred - SHIFT) @ W_ADAPT + BIAS
    d = np.exp(y[:, 3:] - y[:, 3:].max(axis=1, keepdims=True))
    return y[:, :3] / np.exp((d / d.sum(axis=1, keepdims=True)) @ LOG_T)[:, None] / 1.5


@pytest.fixture(scope="module")
def adaptable(tmp_path_factory):
    """A model folder as `emovox train` writes it with the recipe's adapt_head."""
    from emovox.models.native import sha256_file
    from emovox.training.export import write_model_folder

    folder = tmp_path_factory.mktemp("adaptable") / "m"
    folder.mkdir()
    save_adapted(folder / ADAPTED_FILE, SHIFT, W_ADAPT, BIAS, 3, LOG_T, 1.5)
    extra = {"adapted_head": {"file": ADAPTED_FILE, "sha256": sha256_file(folder / ADAPTED_FILE)}}
    return write_model_folder(folder, Pooled().eval(), LABELS, name="adaptable", version="1", weights="fp32",
                              extra=extra)


def _voices(n: int, start: int = 0) -> list[tuple[np.ndarray, int]]:
    return [(speech_like(1.2, f0=100.0 + 7 * i, seed=i), 16_000) for i in range(start, start + n)]


def test_adapt_scores_with_the_adapted_head_relative_to_the_reference(adaptable):
    model = emovox.load_model(str(adaptable), features=False)
    reference = _voices(20)
    adapted = model.adapt(reference)
    clip = speech_like(1.5, f0=180.0, seed=99)
    mean = np.mean([_pooled(x) for x, _ in reference], axis=0)
    expected = _adapted_logits((_pooled(clip) - mean)[None])[0]
    np.testing.assert_allclose(adapted.backend.forward([clip])[0], expected, rtol=1e-4, atol=1e-4)
    p, q = model.predict((clip, 16_000)), adapted.predict((clip, 16_000))
    assert p.scores != q.scores and sum(q.scores.values()) == pytest.approx(1.0)
    assert adapted.info.extra["adapted_to_clips"] == 20
    # this adapted.npz predates the safe estimate's statistics: plain centring, and the info says so
    info = adapted.info.extra["adapted"]
    assert info["clips"] == 20 and info["method"] == "centre" and "lacks" in info["fallback"]
    # the original recognizer is unchanged, and adapting again starts from the plain model
    assert model.predict((clip, 16_000)).scores == p.scores
    again = adapted.adapt(reference)
    np.testing.assert_allclose(again.backend.forward([clip]), adapted.backend.forward([clip]), rtol=1e-6)


def test_adapt_keeps_a_label_subset_and_restrict_after_adapt(adaptable):
    model = emovox.load_model(str(adaptable), features=False)
    reference = _voices(20)
    clip = (speech_like(1.5, f0=180.0, seed=99), 16_000)
    full = model.adapt(reference).predict(clip).scores
    for adapted in (model.restrict("angry,sad").adapt(reference), model.adapt(reference).restrict("angry,sad")):
        assert adapted.labels == ("angry", "sad")
        got = adapted.predict(clip).scores
        total = full["angry"] + full["sad"]
        assert got["angry"] == pytest.approx(full["angry"] / total, rel=1e-5)


def test_adapt_refuses_too_few_clips_and_skips_silent_ones(adaptable):
    model = emovox.load_model(str(adaptable), features=False)
    silent = [(np.zeros(16_000, np.float32), 16_000)] * 5
    with pytest.raises(EmovoxError, match="at least 20 non-silent reference clips, got 19"):
        model.adapt(_voices(19) + silent)
    with pytest.raises(EmovoxError, match="got 0"):
        model.adapt([])


def test_adapt_raises_a_clear_error_for_a_bad_reference_file(adaptable, tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really a wav")
    model = emovox.load_model(str(adaptable), features=False)
    with pytest.raises(emovox.AudioError, match="bad.wav"):
        model.adapt([bad] + _voices(20))


def test_a_model_without_adapted_head_cannot_adapt(tmp_path):
    from emovox.training.export import write_model_folder

    class LogitsOnly(torch.nn.Module):
        def forward(self, mel):
            return Pooled()(mel)[0]

    folder = write_model_folder(tmp_path / "plain", LogitsOnly().eval(), LABELS, name="plain", version="1",
                                weights="fp32")
    with pytest.raises(ModelError, match="no adapted head"):
        emovox.load_model(str(folder)).adapt(_voices(20))


def test_damaged_or_missing_adapted_head_is_a_load_error(adaptable, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(adaptable, copy)
    with open(copy / ADAPTED_FILE, "ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelError, match="sha256"):
        emovox.load_model(str(copy))
    (copy / ADAPTED_FILE).unlink()
    with pytest.raises(ModelError, match="missing"):
        emovox.load_model(str(copy))


def test_centre_by_corpus_and_recipe_checks():
    from emovox.training.recipe import Recipe
    from emovox.training.train import centre_by_corpus

    X = np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
    out = centre_by_corpus(X, ["a", "b", "a", "b"])
    np.testing.assert_allclose(out[:, [0, 2]].mean(axis=1), 0, atol=1e-6)
    np.testing.assert_allclose(out[1, 0], X[1, 0] - X[1, [0, 2]].mean(axis=0))
    with pytest.raises(EmovoxError, match="adapt_head must be true or false"):
        Recipe.from_dict({"adapt_head": "yes"})
    with pytest.raises(EmovoxError, match="linear head"):
        Recipe.from_dict({"adapt_head": True, "hidden": 64})


def test_evaluate_adapt_option_is_checked(tmp_path):
    from emovox.training.run import evaluate

    manifest = tmp_path / "m.csv"
    manifest.write_text("path,corpus,speaker,gender,language,emotion\nx.wav,c,s1,f,en,angry\n")
    with pytest.raises(EmovoxError, match=">= 0"):
        evaluate(None, manifest, tmp_path / "r", adapt=-1)
    with pytest.raises(EmovoxError, match="without --folds"):
        evaluate(None, manifest, tmp_path / "r", loso=True, adapt=5)
    assert not (tmp_path / "r").exists()


def test_shipped_model_has_an_adapted_head():
    model = emovox.load_model()
    config = json.loads((Path(model.info.source) / "emovox.json").read_text())
    assert config["extra"]["adapted_head"]["file"] == ADAPTED_FILE
    assert model.backend.adapted_head is not None and model.backend.adapted_head.classes == len(model.labels)


def test_reference_is_reusable_and_can_skip_bad_files(adaptable, tmp_path):
    model = emovox.load_model(str(adaptable), features=False)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really a wav")
    voices = _voices(20)
    reference = model.reference([bad, (np.zeros(16_000, np.float32), 16_000), *voices], errors="skip")
    assert reference.clips == 20 and reference.skipped == (str(bad), "<array>")
    clip = speech_like(1.5, f0=180.0, seed=50)
    np.testing.assert_allclose(model.adapt(reference).backend.forward([clip]),
                               model.adapt(voices).backend.forward([clip]), rtol=1e-6)
    with pytest.raises(ValueError, match="errors must be"):
        model.reference(voices, errors="ignore")


@pytest.fixture(scope="module")
def with_stats(adaptable, tmp_path_factory):
    """The same model with the safe estimate's statistics in adapted.npz (as `emovox train` now writes)."""
    import shutil

    from emovox.models.adapt_estimate import adapt_stats
    from emovox.models.native import sha256_file

    folder = tmp_path_factory.mktemp("stats") / "m"
    shutil.copytree(adaptable, folder)
    rng = np.random.default_rng(5)
    U = rng.normal(size=(90, W_ADAPT.shape[1]))
    stats = adapt_stats(U, np.arange(90) % 3, ["a", "b", "c"] * 30, [f"s{i % 9}" for i in range(90)], 3)
    save_adapted(folder / ADAPTED_FILE, SHIFT, W_ADAPT, BIAS, 3, LOG_T, 1.5, stats=stats)
    config = json.loads((folder / "emovox.json").read_text())
    config["extra"]["adapted_head"]["sha256"] = sha256_file(folder / ADAPTED_FILE)
    (folder / "emovox.json").write_text(json.dumps(config))
    return folder


def test_adapt_uses_the_safe_estimate_when_the_model_has_its_statistics(with_stats, monkeypatch):
    from emovox.models import adapt_estimate
    from emovox.models.adapt_estimate import estimate

    model = emovox.load_model(str(with_stats), features=False)
    reference = _voices(20)
    clip = speech_like(1.5, f0=180.0, seed=99)
    monkeypatch.setattr(adapt_estimate, "ONE_SIDED", 1.01)  # never one-sided: the estimated offset is applied
    adapted = model.adapt(reference)
    info = adapted.info.extra["adapted"]
    assert info["method"] == "safe" and info["clips"] == 20 and info["applied"] and "fallback" not in info
    assert set(info["mix"]) == set(LABELS) and sum(info["mix"].values()) == pytest.approx(1.0, abs=1e-3)
    # the head sees exactly the estimated offset (in its output space)
    pooled = np.stack([_pooled(x) for x, _ in reference]).astype(np.float64)
    head = model.backend.adapted_head
    expected = estimate(pooled @ head.projection.astype(np.float64), head.stats).offset
    np.testing.assert_allclose(adapted.backend.reference @ head.projection, expected, rtol=1e-3, atol=1e-3)
    assert not np.allclose(adapted.backend.forward([clip]), model.backend.forward([clip]))
    # a mix judged one-sided keeps the un-adapted model, and says so
    monkeypatch.setattr(adapt_estimate, "ONE_SIDED", 0.0)
    kept = model.adapt(reference)
    assert kept.info.extra["adapted"]["applied"] is False and "one-sided" in kept.info.extra["adapted"]["reason"]
    np.testing.assert_allclose(kept.backend.forward([clip]), model.backend.forward([clip]), rtol=1e-6)
    # method="centre" is the plain mean, as before
    centred = model.adapt(reference, method="centre")
    assert centred.info.extra["adapted"]["method"] == "centre"
    np.testing.assert_allclose(centred.backend.reference, pooled.mean(axis=0), rtol=1e-5, atol=1e-5)
    with pytest.raises(emovox.EmovoxError, match="method must be one of"):
        model.adapt(reference, method="median")


def test_soft_adaptation_mixes_the_main_and_the_adapted_heads_answers(with_stats, monkeypatch):
    from emovox.models import adapt_estimate
    from emovox.models.adapt_estimate import SOFT_SHARPEN, SOFT_WEIGHT, mix_offset
    from emovox.models.base import softmax

    model = emovox.load_model(str(with_stats), features=False)
    reference = _voices(20)
    clip = speech_like(1.5, f0=180.0, seed=99)
    monkeypatch.setattr(adapt_estimate, "ONE_SIDED", 1.01)  # never one-sided: the heads are mixed
    adapted = model.adapt(reference, method="soft")
    info = adapted.info.extra["adapted"]
    assert info["method"] == "soft" and info["applied"] and info["share"] == SOFT_WEIGHT
    # the centre: the offset the main head's answers on the reference imply
    head = model.backend.adapted_head
    pooled = np.stack([_pooled(x) for x, _ in reference]).astype(np.float64)
    main_ref = softmax(pooled @ W_MAIN)
    expected = mix_offset(pooled @ head.projection.astype(np.float64), main_ref, head.stats, SOFT_SHARPEN)
    np.testing.assert_allclose(adapted.backend.reference @ head.projection, expected, rtol=1e-3, atol=1e-3)
    # a clip's scores: (1 - share) of the main head's plus share of the adapted head's
    p = _pooled(clip)[None]
    want = (1 - SOFT_WEIGHT) * softmax(p @ W_MAIN) + SOFT_WEIGHT * softmax(_adapted_logits(p - adapted.backend.reference))
    got = adapted.predict((clip, 16_000)).scores
    np.testing.assert_allclose([got[k] for k in LABELS], want[0], rtol=1e-4, atol=1e-5)
    # adapting from pooled features and probabilities (timelines, conversations) is the same adaptation
    signals = [x for x, _ in reference]
    probs, feats = model.score_windows(signals, pooled=True)
    again, rescored = model.adapt_pooled(np.stack(feats), to="recording", method="soft", probs=np.stack(probs))
    np.testing.assert_allclose(again.backend.reference, adapted.backend.reference, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(rescored, np.stack(adapted.score_windows(signals)[0]), rtol=1e-4, atol=1e-5)
    with pytest.raises(EmovoxError, match="probabilities"):
        model.adapt_pooled(np.stack(feats), to="recording", method="soft")
    # one-sided: the un-adapted model, as with safe
    monkeypatch.setattr(adapt_estimate, "ONE_SIDED", 0.0)
    kept = model.adapt(reference, method="soft")
    assert kept.info.extra["adapted"]["applied"] is False
    np.testing.assert_allclose(kept.backend.forward([clip]), model.backend.forward([clip]), rtol=1e-6)


def test_a_reference_from_another_model_is_refused(adaptable):
    from emovox.models.adapted import Reference

    model = emovox.load_model(str(adaptable), features=False)
    with pytest.raises(ModelError, match="reference has 5 features"):
        model.adapt(Reference(np.zeros(5, np.float32), 20))


def test_batch_adapt_scores_every_file_against_one_reference(adaptable, tmp_path, write_audio):
    pd = pytest.importorskip("pandas")

    from emovox.batch import run_batch
    from emovox.cli import main

    (tmp_path / "calls").mkdir()
    for i in range(24):
        write_audio(f"calls/c{i:02d}.wav", speech_like(1.2, f0=100.0 + 7 * i, seed=i))
    (tmp_path / "calls" / "broken.wav").write_bytes(b"")
    files = sorted(str(p) for p in (tmp_path / "calls").glob("*.wav"))
    summary = run_batch(tmp_path / "calls", tmp_path / "out.parquet", model=str(adaptable), features=False,
                        adapt=100)
    assert summary.adapted_to_clips == 24 and summary.failed == 1  # the empty file: skipped, then a row
    df = pd.read_parquet(tmp_path / "out.parquet").set_index("path")
    adapted = emovox.load_model(str(adaptable), features=False).adapt(f for f in files if "broken" not in f)
    expected = adapted.predict(files[3]).scores
    assert df.loc[files[3], "score_angry"] == pytest.approx(expected["angry"], abs=1e-5)
    assert df.loc[files[3], "emotion"] == max(expected, key=expected.get)
    # too few usable files: a clear error before anything is written
    code = main(["batch", str(tmp_path / "calls"), "--out", str(tmp_path / "few.csv"), "--model",
                 str(adaptable), "--no-features", "--adapt", "10"])
    assert code != 0 and not (tmp_path / "few.csv").exists()
    with pytest.raises(EmovoxError, match=">= 0"):
        run_batch(tmp_path / "calls", tmp_path / "x.csv", model=str(adaptable), adapt=-1)


def test_serve_adapt_to_a_folder(adaptable, tmp_path, write_audio):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from conftest import SR, encode, run_emovox
    from emovox.server import Settings, create_app
    from emovox.server.app import load_server_model

    (tmp_path / "calls").mkdir()
    for i in range(22):
        write_audio(f"calls/c{i:02d}.wav", speech_like(1.2, f0=100.0 + 7 * i, seed=i))
    settings = Settings(model=str(adaptable), adapt_to=str(tmp_path / "calls"), adapt_clips=20)
    wav = encode(speech_like(1.5, f0=180.0, seed=50), SR, "wav")
    with TestClient(create_app(settings)) as client:
        r = client.post("/v1/analyze", files={"file": ("a.wav", wav)})
        assert r.status_code == 200, r.text
        assert client.get("/v1/models").json()["loaded"]["adapted_to_clips"] == 20
    expected = load_server_model(settings).predict(wav).scores
    plain = emovox.load_model(str(adaptable)).predict(wav).scores
    assert r.json()["scores"] == pytest.approx(expected, abs=1e-5)
    assert r.json()["scores"] != pytest.approx(plain, abs=1e-3)
    # a missing folder, or too few usable files: one line, before the port is bound
    for name in ("c00.wav", "c01.wav", "c02.wav"):
        (tmp_path / "calls" / name).write_bytes(b"")  # 19 usable files of 22
    for where, n, says in (("nothing-here", "20", "no such file, folder or pattern"), ("calls", "22", "got 19")):
        result = run_emovox("serve", "--model", str(adaptable), "--adapt-to", str(tmp_path / where),
                            "--adapt", n, "--port", "1", timeout=120)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith("emovox: error: --adapt-to") and says in result.stderr, result.stderr
    with pytest.raises(Exception, match="adapt_clips"):
        Settings(adapt_clips=5)


def test_analyze_adapt_to_a_folder(adaptable, tmp_path, write_audio, capsys):
    from emovox.cli import main

    (tmp_path / "calls").mkdir()
    for i in range(21):
        write_audio(f"calls/c{i:02d}.wav", speech_like(1.2, f0=100.0 + 7 * i, seed=i))
    clip = write_audio("clip.wav", speech_like(4.0, f0=180.0, seed=50))
    args = ["analyze", str(clip), "--model", str(adaptable), "--no-features", "--json"]
    assert main(args + ["--adapt-to", str(tmp_path / "calls"), "--adapt", "20"]) == 0
    out, err = capsys.readouterr()
    files = sorted((tmp_path / "calls").glob("*.wav"))
    pick = sorted(np.random.default_rng(0).permutation(len(files))[:20])
    expected = emovox.load_model(str(adaptable), features=False).adapt([files[i] for i in pick]).predict(clip)
    assert json.loads(out)["scores"] == pytest.approx(expected.scores, abs=1e-6)
    assert "adapted to 20 clips" in err
    assert main(args + ["--timeline", "--adapt-to", str(tmp_path / "calls")]) == 0  # the timeline path too
    assert "adapted to 21 clips" in capsys.readouterr().err
    assert main(args + ["--adapt-to", str(tmp_path / "none")]) == 1
    assert "--adapt-to: no such file, folder or pattern" in capsys.readouterr().err
