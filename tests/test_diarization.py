"""Who spoke when: the DER metric on known cases, the clustering on made-up embeddings, the shipped
speaker encoder on known answers, and its ONNX + numpy pipeline against resemblyzer's torch model."""

from __future__ import annotations

import numpy as np
import pytest

from emovox.analysis.diarization import (
    Embedded,
    Turn,
    assign,
    cluster,
    diarization_error_rate,
    diarize,
    join_pauses,
    plan_windows,
)
from emovox.errors import OptionError
from emovox.models.speaker import SpeakerEncoder, power_spectrogram

SR = 16_000


# --- the metric -----------------------------------------------------------------------------------

REF = [(0.0, 10.0, "a"), (10.0, 20.0, "b")]


def test_der_perfect_answer_with_other_names_is_zero():
    d = diarization_error_rate(REF, [(0.0, 10.0, "S2"), (10.0, 20.0, "S1")], collar=0)
    assert d["der"] == 0.0 and d["speech"] == pytest.approx(20.0)


def test_der_one_speaker_for_two_is_half_confusion():
    d = diarization_error_rate(REF, [(0.0, 20.0, "x")], collar=0)
    assert d["confusion"] == pytest.approx(10.0) and d["der"] == pytest.approx(0.5)


def test_der_missed_and_false_alarm():
    d = diarization_error_rate(REF, [(0.0, 10.0, "x"), (10.0, 15.0, "y"), (25.0, 27.0, "y")], collar=0)
    assert d["missed"] == pytest.approx(5.0) and d["false_alarm"] == pytest.approx(2.0)
    assert d["der"] == pytest.approx(7.0 / 20.0)


def test_der_collar_forgives_boundary_shifts_within_it():
    late = [(0.2, 10.2, "x"), (10.2, 20.0, "y")]
    assert diarization_error_rate(REF, late, collar=0.25)["der"] == 0.0
    assert diarization_error_rate(REF, late, collar=0.0)["der"] > 0.0


def test_der_overlap_given_to_one_speaker_misses_the_other():
    ref = [(0.0, 6.0, "a"), (4.0, 10.0, "b")]  # 2 s of both
    d = diarization_error_rate(ref, [(0.0, 5.0, "x"), (5.0, 10.0, "y")], collar=0)
    assert d["speech"] == pytest.approx(12.0)
    assert d["missed"] == pytest.approx(2.0) and d["confusion"] == pytest.approx(0.0)


def test_der_speaker_mapping_without_scipy(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "scipy.optimize", None)  # the light install has no scipy
    ref = [(0.0, 4.0, "a"), (4.0, 8.0, "b"), (8.0, 12.0, "c")]
    hyp = [(0.0, 4.0, "y"), (4.0, 8.0, "z"), (8.0, 10.0, "x"), (10.0, 12.0, "y")]
    assert diarization_error_rate(ref, hyp, collar=0)["confusion"] == pytest.approx(2.0)


# --- clustering and turns on made-up embeddings -------------------------------------------------------


def voices(n_per: list[int], spread: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows near one random unit direction per voice (positive, as GE2E embeddings are)."""
    rng = np.random.default_rng(seed)
    centres = np.abs(rng.normal(size=(len(n_per), 256)))
    rows, labels = [], []
    for k, n in enumerate(n_per):
        rows.append(centres[k] + spread * np.abs(rng.normal(size=(n, 256))))
        labels += [k] * n
    x = np.concatenate(rows)
    return x / np.linalg.norm(x, axis=1, keepdims=True), np.array(labels)


def test_cluster_finds_three_voices_and_obeys_num_speakers():
    x, truth = voices([6, 5, 7], 0.4)
    order = np.random.default_rng(1).permutation(len(x))
    x, truth = x[order], truth[order]
    found = cluster(x - x.mean(0), threshold=1.0)
    assert len(set(found.tolist())) == 3
    # same partition as the truth, whatever the numbering
    assert len({(a, b) for a, b in zip(found.tolist(), truth.tolist())}) == 3
    assert len(set(cluster(x, num_speakers=2).tolist())) == 2


def alternating(n_turns: int, n_voices: int, per_turn: int = 3) -> Embedded:
    """Regions of 2.25 s (3 windows of 1.5 s at hop 0.75 s each) with 1 s pauses; voice k % n_voices."""
    x, _ = voices([per_turn * n_turns] * n_voices, 0.3)
    regions, windows, rows = [], [], []
    for t in range(n_turns):
        a = t * 3.25
        regions.append((a, a + 3.0))
        ws = plan_windows(a, a + 3.0, 1.5, 0.75)
        windows += ws
        voice = t % n_voices
        rows.append(x[voice * per_turn * n_turns + t * len(ws): voice * per_turn * n_turns + (t + 1) * len(ws)])
    return Embedded(regions, windows, np.concatenate(rows))


def test_two_voices_alternating_give_two_speakers_with_the_right_turns():
    turns = assign(alternating(6, 2), threshold=1.0, one_speaker=(0.0, 0.0, 0.0))
    assert [t.speaker for t in turns] == ["S1", "S2"] * 3
    edges = [x for t in turns for x in (t.start, t.end)]
    assert edges == pytest.approx([x for k in range(6) for x in (k * 3.25, k * 3.25 + 3.0)])


def test_one_close_voice_is_one_speaker():
    x, _ = voices([12], 0.3)
    regions = [(0.0, 3.0), (4.0, 7.0), (8.0, 11.0), (12.0, 15.0)]
    windows = [w for a, b in regions for w in plan_windows(a, b, 1.5, 0.75)]
    turns = assign(Embedded(regions, windows, x))
    assert [(t.start, t.end) for t in turns] == regions and {t.speaker for t in turns} == {"S1"}
    assert [(t.start, t.end) for t in join_pauses(turns)] == [(0.0, 15.0)]  # 1 s pauses: one turn
    assert len(join_pauses(turns, 0.5)) == 4


def test_a_speaker_change_inside_one_region_splits_it():
    x, _ = voices([4, 4], 0.2)
    regions = [(0.0, 6.0)]  # 7 windows: the first 3.5 from voice 0, the rest from voice 1
    windows = plan_windows(0.0, 6.0, 1.5, 0.75)
    emb = np.concatenate([x[:4], x[4:7]])
    turns = assign(Embedded(regions, windows, emb), num_speakers=2)
    assert [t.speaker for t in turns] == ["S1", "S2"]
    assert 2.5 <= turns[0].end <= 4.0


def test_options_are_checked():
    with pytest.raises(OptionError, match="num_speakers"):
        diarize((np.zeros(SR, np.float32), SR), num_speakers=0)
    with pytest.raises(OptionError, match="hop_s"):
        diarize((np.zeros(SR, np.float32), SR), window_s=1.0, hop_s=2.0)


# --- the shipped encoder --------------------------------------------------------------------------------


def synthetic_voice(f0: float, formants: list[tuple[float, float]], seconds: float, seed: int) -> np.ndarray:
    """A harmonic source at ``f0`` (with vibrato), shaped by formant peaks, in 4 Hz syllables."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t + rng.uniform(0, 6)))) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 40) if k * f0 < 7000)
    freqs = np.fft.rfftfreq(t.size, 1 / SR)
    env = sum(1 / (1 + ((freqs - f) / bw) ** 2) for f, bw in formants)
    x = np.fft.irfft(np.fft.rfft(x) * env, t.size) * 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) ** 2
    return (0.1 * x / np.abs(x).max()).astype(np.float32)


LOW = [(700, 80), (1200, 100), (2600, 150)]
HIGH = [(400, 60), (2200, 120), (3000, 150)]
GAP = np.zeros(SR // 2, np.float32)


def test_silence_gives_no_turns():
    assert diarize((np.zeros(5 * SR, np.float32), SR)) == []


def test_encoder_one_voice_gives_one_speaker_and_two_known_voices_two():
    one = np.concatenate([p for s in range(4) for p in (synthetic_voice(110, LOW, 2.5, s), GAP)])
    turns = diarize((one, SR))
    assert len(turns) == 4 and {t.speaker for t in turns} == {"S1"}
    two = np.concatenate([p for s in range(4) for p in
                          (synthetic_voice(110 if s % 2 == 0 else 230, LOW if s % 2 == 0 else HIGH, 2.5, s), GAP)])
    turns = diarize((two, SR), num_speakers=2)
    assert [t.speaker for t in turns] == ["S1", "S2", "S1", "S2"]
    assert [round(t.start * 2) / 2 for t in turns] == [0.0, 3.0, 6.0, 9.0]
    assert all(isinstance(t, Turn) and t.to_dict()["speaker"] == t.speaker for t in turns)


def test_embeddings_are_unit_rows_one_per_window_and_loudness_free():
    enc = SpeakerEncoder()
    x = synthetic_voice(150, LOW, 4.0, 0)
    windows = [(0.0, 1.5), (1.0, 4.0), (0.0, 0.4)]
    e = enc.embed_windows(x, windows)
    assert e.shape == (3, 256) and np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    quiet = enc.embed_windows(x * 0.05, windows)
    assert np.min(np.sum(e * quiet, axis=1)) > 0.999  # each partial is brought to -30 dBFS


def test_onnx_pipeline_matches_resemblyzer_torch():
    pytest.importorskip("torch")
    resemblyzer = pytest.importorskip("resemblyzer", reason="resemblyzer (emovox[speaker-export]) is not installed")
    import torch
    from resemblyzer import audio as r_audio

    x = synthetic_voice(130, LOW, 3.0, 1) + 0.01 * np.random.default_rng(0).normal(size=3 * SR).astype(np.float32)
    mel = r_audio.wav_to_mel_spectrogram(x)  # librosa's mel; resemblyzer's own frontend
    reference = resemblyzer.VoiceEncoder("cpu", verbose=False)
    with torch.no_grad():
        expected = reference(torch.from_numpy(np.stack([mel[:160], mel[100:260]]))).numpy()
    spec = power_spectrogram(x)
    got = SpeakerEncoder(normalize=False).forward(np.stack([spec[:160], spec[100:260]]))
    assert np.abs(got - expected).max() < 1e-4


# --- real voices (RAVDESS; skipped without the corpora) ------------------------------------------------


def ravdess_clips(corpora, actor: int, n: int) -> list[np.ndarray]:
    """``n`` neutral/calm clips of one actor, each cut to its VAD speech span."""
    from emovox.io.audio import load_audio
    from emovox.signal.vad import speech_regions

    out = []
    for path in sorted((corpora / "ravdess" / "audio").glob(f"03-01-0[12]-01-0*-*-{actor:02d}.flac"))[:n]:
        x = load_audio(path)
        (a, _), *_, (_, b) = speech_regions(x) * 2
        out.append(x[int(a * SR): int(b * SR)])
    return out


def in_turns(a: list[np.ndarray], b: list[np.ndarray], pause: np.ndarray):
    """``a[0], b[0], a[1], b[1], ...``, each followed by ``pause``: the signal and the true
    (start, end, "a" or "b") turns."""
    parts, truth, t = [], [], 0.0
    for pair in zip(a, b, strict=True):
        for clip, who in zip(pair, "ab", strict=True):
            parts += [clip, pause]
            truth.append((t, t + clip.size / SR, who))
            t += (clip.size + pause.size) / SR
    return np.concatenate(parts), truth


@pytest.mark.slow
@pytest.mark.corpus
def test_real_voices_alternating_and_alone(corpora):
    pause = np.zeros(int(0.6 * SR), np.float32)
    a, b = ravdess_clips(corpora, 1, 3), ravdess_clips(corpora, 2, 3)
    signal, truth = in_turns(a, b, pause)
    turns = diarize((signal, SR))
    assert len({x.speaker for x in turns}) == 2
    hyp = [(x.start, x.end, x.speaker) for x in turns]
    assert diarization_error_rate(truth, hyp)["der"] < 0.1
    alone = np.concatenate([p for clip in a for p in (clip, pause)])
    assert {x.speaker for x in diarize((alone, SR))} == {"S1"}
