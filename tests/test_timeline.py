"""Timelines on files with a known speech/silence (and pitch) layout; outputs parse back."""

import csv
import io
import json

import numpy as np
import pytest

import emovox
from conftest import SR, speech_like
from emovox.analysis.analyze import Analyzer
from emovox.signal.segmenter import AudioRing
from timeline_helpers import PitchBackend, layout, pitch_model, speech_truth

TOL = 0.3

PARTS = [("silence", 2.0), ("high", 8.0), ("low", 7.0), ("silence", 3.0), ("low", 2.0), ("silence", 1.5),
         ("high", 0.7), ("silence", 2.0)]


def _covering(tl):
    assert tl.segments[0].start == 0.0
    assert tl.segments[-1].end == pytest.approx(tl.duration_s)
    for a, b in zip(tl.segments, tl.segments[1:], strict=False):
        assert a.end == pytest.approx(b.start) and a.end > a.start


def test_emotion_change_and_silences_are_found(write_audio):
    signal, truth = layout(PARTS)
    path = write_audio("talk.flac", signal)
    tl = pitch_model().timeline(path)
    _covering(tl)
    assert tl.duration_s == pytest.approx(signal.size / SR)
    # speech/silence layout
    assert len(tl.speech_regions) == len(speech_truth(truth))
    for (a, b), (ta, tb) in zip(tl.speech_regions, speech_truth(truth), strict=True):
        assert abs(a - ta) < TOL and abs(b - tb) < TOL
    for s in tl.segments:
        assert (s.emotion is None) == (not s.speech)
        if not s.speech:
            assert s.scores == {} and s.confidence == 0.0
    # emotions: high -> happy, low -> sad, with the change 10 s in (within one hop)
    speech = [s for s in tl.segments if s.speech]
    assert [s.emotion for s in speech] == ["happy", "sad", "sad", "happy"]
    assert abs(speech[0].end - 10.0) <= 1.0
    for s in speech:
        assert sum(s.scores.values()) == pytest.approx(1.0)
        assert s.confidence == max(s.scores.values())
    summary = tl.summary
    assert summary.changes == 2 and summary.dominant == "sad"
    assert sum(summary.shares.values()) == pytest.approx(1.0)
    assert summary.speech_s == pytest.approx(sum(s.duration for s in speech))
    assert summary.top_segments["sad"][0].confidence >= summary.top_segments["sad"][-1].confidence


def test_outputs_parse_back():
    signal, _ = layout(PARTS)
    tl = pitch_model().timeline((signal, SR))
    rows = list(csv.DictReader(io.StringIO(tl.to_csv())))
    assert len(rows) == len(tl.segments)
    for row, s in zip(rows, tl.segments, strict=True):
        assert float(row["start"]) == pytest.approx(s.start, abs=1e-3)
        assert float(row["end"]) == pytest.approx(s.end, abs=1e-3)
        assert (row["emotion"] or None) == s.emotion and row["speech"] == str(int(s.speech))
        if s.speech:
            assert float(row["happy"]) == pytest.approx(s.scores["happy"], abs=1e-4)
    cues = parse_vtt(tl.to_vtt())
    speech = [s for s in tl.segments if s.speech]
    assert len(cues) == len(speech)
    for (a, b, text), s in zip(cues, speech, strict=True):
        assert a == pytest.approx(s.start, abs=1e-3) and b == pytest.approx(s.end, abs=1e-3)
        assert text.startswith(s.emotion.title())
    back = json.loads(tl.to_json())
    assert [d["emotion"] for d in back["segments"]] == [s.emotion for s in tl.segments]
    assert back["summary"]["dominant"] == tl.summary.dominant
    assert back["labels"] == ["happy", "sad"]


def parse_vtt(text: str) -> list[tuple[float, float, str]]:
    """A small WebVTT reader: (start, end, text) per cue."""
    lines = text.splitlines()
    assert lines[0] == "WEBVTT"

    def seconds(stamp: str) -> float:
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    cues = []
    for i, line in enumerate(lines):
        if "-->" in line:
            a, b = (x.strip() for x in line.split("-->"))
            cues.append((seconds(a), seconds(b), lines[i + 1]))
    return cues


def test_short_clip_is_one_segment_like_predict():
    model = pitch_model()
    clip = np.concatenate([np.zeros(4000, np.float32), speech_like(1.75, f0=250)])
    tl = model.timeline((clip, SR))
    assert len(tl.segments) == 1
    (seg,) = tl.segments
    assert (seg.start, seg.end) == (0.0, pytest.approx(2.0))
    p = model.predict((clip, SR), features=False)
    assert seg.emotion == p.emotion == "happy"
    assert seg.scores == pytest.approx(p.scores)
    silent = model.timeline((np.zeros(SR, np.float32), SR))
    assert [(s.emotion, s.speech) for s in silent.segments] == [(None, False)]


def test_memory_is_bounded_and_windows_are_batched(monkeypatch, write_audio):
    # 4 minutes, decoded in 5 s blocks: the ring never holds more than a block + a window + slack
    signal, _ = layout([("high", 20.0), ("silence", 2.0), ("low", 30.0), ("silence", 8.0)] * 4)
    path = write_audio("long.flac", signal)
    held = []
    original = AudioRing.append

    def spy(self, chunk):
        original(self, chunk)
        held.append(self.data.size)

    monkeypatch.setattr(AudioRing, "append", spy)
    backend = PitchBackend()
    progress = []
    tl = Analyzer(backend, features=False).timeline(
        path, batch_size=8, chunk_s=5.0, progress=lambda done, total: progress.append((done, total))
    )
    assert max(held) <= (5.0 + 3.0 + 1.0) * SR
    assert max(len(b) for b in backend.batches) <= 8
    assert max(n for b in backend.batches for n in b) <= 3.0 * SR + 1  # never more than a window
    assert progress[-1][0] == pytest.approx(tl.duration_s) and progress[-1][1] == pytest.approx(240.0)
    assert [s.emotion for s in tl.segments if s.speech][:2] == ["happy", "sad"]


def test_tiny_hf_model_timeline(tiny_hf_model, write_audio):
    signal, truth = layout(PARTS)
    path = write_audio("talk.mp3", signal)
    model = emovox.load_model(str(tiny_hf_model), features=False)
    tl = model.timeline(path, window_s=2.0, hop_s=1.0)
    _covering(tl)
    assert tl.labels == model.labels
    assert len(tl.speech_regions) == len(speech_truth(truth))
    for (a, b), (ta, tb) in zip(tl.speech_regions, speech_truth(truth), strict=True):
        assert abs(a - ta) < TOL and abs(b - tb) < TOL
    for s in tl.segments:
        if s.speech:
            assert s.emotion in model.labels and sum(s.scores.values()) == pytest.approx(1.0)
        else:
            assert s.emotion is None
    assert tl.steps.shape[0] == tl.step_scores.shape[0] > 0


def test_bad_options_fail_before_any_work():
    model = pitch_model()
    with pytest.raises(ValueError, match="must not exceed"):
        model.timeline((np.zeros(SR, np.float32), SR), window_s=1.0, hop_s=2.0)
    with pytest.raises(emovox.AudioError, match="zero length"):
        model.timeline((np.zeros(0, np.float32), SR))
    with pytest.raises(emovox.AudioError, match="longer than the maximum"):
        model.timeline((np.zeros(5 * SR, np.float32), SR), max_duration_s=2.0, chunk_s=1.0)


def test_speech_below_the_silence_threshold_gets_no_emotion():
    # the second voice is about -72 dBFS (no 100 ms of it reaches -60 dBFS): no emotion for it
    signal, _ = layout([("silence", 1.0), ("high", 5.0), ("silence", 1.0), ("low", 5.0), ("silence", 1.0)])
    signal[7 * SR :] *= 0.003
    tl = pitch_model().timeline((signal, SR))
    _covering(tl)
    assert [(s.emotion, s.speech) for s in tl.segments] == [(None, False), ("happy", True), (None, False)]
    assert tl.segments[1].end == pytest.approx(6.0, abs=TOL)


def test_plot_writes_a_png_and_needs_matplotlib(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib", reason="plotting needs the plot extra")
    signal, _ = layout(PARTS)
    tl = pitch_model().timeline((signal, SR))
    assert emovox.Timeline is type(tl) and emovox.Segment is type(tl.segments[0])
    tl.plot(tmp_path / "tl.png")
    assert (tmp_path / "tl.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    with pytest.raises(emovox.MissingExtraError, match=r"emovox\[plot\]"):
        tl.plot(tmp_path / "again.png")
    assert not (tmp_path / "again.png").exists()
