"""Conversations: who spoke when (the shipped speaker encoder on synthetic voices) and what each felt
(the pitch test double: the 230 Hz voice is "happy", the 110 Hz one "sad"), summaries, adaptation to
each speaker, and the CSV / WebVTT / JSON shapes."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from conversation_helpers import talk
from emovox.analysis.conversation import Conversation, build_conversation, split_turn
from emovox.errors import OptionError
from test_diarization import SR
from timeline_helpers import pitch_model


@pytest.fixture(scope="module")
def alternating() -> tuple[Conversation, list]:
    signal, truth = talk("LHLH", 4.0)
    return pitch_model().conversation((signal, SR)), truth


def test_two_voices_alternating_give_two_speakers_the_right_turns_and_emotions(alternating):
    conv, truth = alternating
    assert conv.speaker_names == ["S1", "S2"]
    assert [t.speaker for t in conv.turns] == ["S1", "S2", "S1", "S2"]
    for turn, (start, end, _) in zip(conv.turns, truth, strict=True):
        assert abs(turn.start - start) < 0.3 and abs(turn.end - end) < 0.3
    # a 4 s turn is one segment (up to 1.5 windows of 3 s)
    assert [(s.speaker, s.emotion) for s in conv.segments] == [("S1", "sad"), ("S2", "happy")] * 2
    assert all(s.adapted is None for s in conv.segments)  # the test double has no adapted head


def test_summaries_per_speaker_and_for_the_whole(alternating):
    conv, truth = alternating
    s1, s2 = conv.speakers
    assert (s1.speaker, s1.dominant, s1.turns, s1.changes) == ("S1", "sad", 2, 0)
    assert (s2.speaker, s2.dominant, s2.turns, s2.changes) == ("S2", "happy", 2, 0)
    assert s1.shares == {"happy": 0.0, "sad": 1.0}
    whole = conv.summary
    assert whole.speaker is None and whole.changes == 3 and whole.turns == 4 and whole.adapted is None
    assert whole.speech_s == pytest.approx(s1.speech_s + s2.speech_s)
    assert whole.speech_s == pytest.approx(sum(b - a for a, b, _ in truth), abs=1.0)
    assert whole.shares["happy"] == pytest.approx(s2.speech_s / whole.speech_s)


def test_one_voice_gives_one_speaker_and_long_turns_are_cut_into_windows():
    signal, _ = talk("LL", 7.5)
    conv = pitch_model().conversation((signal, SR), window_s=3.0)
    assert conv.speaker_names == ["S1"] and len(conv.turns) == 2
    assert len(conv.segments) == 2 * 3  # a ~7.6 s turn -> 3 pieces of ~2.5 s
    assert all(s.speaker == "S1" and s.emotion == "sad" for s in conv.segments)
    assert all(2.3 < s.duration < 2.8 for s in conv.segments)
    assert conv.to_dict()["num_speakers"] == 1 and len(conv.to_dict()["speakers"]) == 1


def test_silence_gives_no_speakers_and_no_emotion():
    conv = pitch_model().conversation((np.zeros(5 * SR, np.float32), SR))
    assert conv.segments == () and conv.turns == () and conv.speakers == []
    d = conv.to_dict()
    assert d["num_speakers"] == 0 and d["segments"] == [] and d["summary"]["dominant"] is None
    assert conv.to_vtt() == "WEBVTT\n"
    assert conv.to_csv().splitlines() == ["speaker,start,end,emotion,confidence,adapted,happy,sad"]


def test_num_speakers_is_obeyed_and_checked():
    signal, _ = talk("LHLH", 3.0)
    assert pitch_model().conversation((signal, SR), num_speakers=1).speaker_names == ["S1"]
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(OptionError, match="num_speakers"):
            pitch_model().conversation((signal, SR), num_speakers=bad)
    with pytest.raises(OptionError, match="adapt"):
        pitch_model().conversation((signal, SR), adapt="yes")


def test_split_turn():
    assert split_turn(1.0, 5.5, 3.0) == [(1.0, 5.5)]
    pieces = split_turn(0.0, 30.0, 3.0)
    assert len(pieces) == 10 and pieces[0] == (0.0, 3.0) and pieces[-1][1] == 30.0
    assert all(b == c for (_, b), (c, _) in zip(pieces, pieces[1:], strict=False))


def test_csv_vtt_and_json_shapes(alternating):
    conv, _ = alternating
    rows = list(csv.DictReader(io.StringIO(conv.to_csv())))
    assert [r["speaker"] for r in rows] == ["S1", "S2", "S1", "S2"]
    assert list(rows[0]) == ["speaker", "start", "end", "emotion", "confidence", "adapted", "happy", "sad"]
    assert rows[1]["emotion"] == "happy" and rows[1]["adapted"] == "0"
    assert float(rows[1]["happy"]) > 0.5
    vtt = conv.to_vtt()
    assert vtt.startswith("WEBVTT\n") and "<v S1>Sad " in vtt and "<v S2>Happy " in vtt
    assert vtt.count(" --> ") == 4
    d = conv.to_dict()
    assert set(d) == {"file", "duration_s", "model", "window_s", "labels", "num_speakers", "segments",
                      "speakers", "summary"}
    seg = d["segments"][0]
    assert set(seg) == {"speaker", "start_s", "end_s", "emotion", "confidence", "scores", "adapted"}
    assert d["speakers"][1]["speaker"] == "S2" and d["speakers"][1]["dominant"] == "happy"
    assert "speaker" not in d["summary"] and d["summary"]["changes"] == 3


def test_plot_has_one_lane_per_speaker(alternating, tmp_path):
    pytest.importorskip("matplotlib", reason="plotting needs the plot extra")
    conv, _ = alternating
    path = tmp_path / "talk.png"
    conv.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_each_speaker_with_enough_speech_is_its_own_adaptation_source():
    """The built-in model has an adapted head: S1 (24 one-second segments) is adapted to itself, S2
    (6 of them, under the 20 needed) is not; adapt=False adapts no one."""
    import emovox

    model = emovox.load_model(features=False)
    signal, _ = talk("LLLLLLH", 4.0)
    conv = build_conversation(model, (signal, SR), window_s=1.0, num_speakers=2)
    by = {s.speaker: s for s in conv.speakers}
    assert set(by) == {"S1", "S2"}
    assert by["S1"].adapted is not None and by["S1"].adapted["to"] == "speaker:S1"
    assert by["S2"].adapted is None
    assert all((s.adapted is not None) == (s.speaker == "S1") for s in conv.segments)
    assert conv.summary.adapted == {"S1": by["S1"].adapted}
    # the one encoding gives what adapting to S1's segments by hand and predicting them gives
    mine = [s for s in conv.segments if s.speaker == "S1"]
    clips = [signal[int(round(s.start * SR)):int(round(s.end * SR))] for s in mine]
    by_hand = model.adapt([(c, SR) for c in clips], to="speaker:S1")
    assert by_hand.adapted == by["S1"].adapted
    for seg, p in zip(mine, by_hand.predict_signals(clips), strict=True):
        assert seg.emotion == p.emotion and seg.scores == pytest.approx(p.scores, abs=1e-4)
    plain = build_conversation(model, (signal, SR), window_s=1.0, num_speakers=2, adapt=False)
    assert all(s.adapted is None for s in plain.segments)
    assert [s.speaker for s in plain.segments] == [s.speaker for s in conv.segments]


@pytest.mark.slow
@pytest.mark.corpus
def test_real_voices_alternating_with_the_built_in_model(corpora):
    """Two RAVDESS actors' calm clips in turns: two speakers, each segment inside its true turn's speaker."""
    import emovox
    from test_diarization import in_turns, ravdess_clips

    pause = np.zeros(int(0.6 * SR), np.float32)
    signal, truth = in_turns(ravdess_clips(corpora, 1, 3), ravdess_clips(corpora, 2, 3), pause)
    conv = emovox.load_model(features=False).conversation((signal, SR))
    assert conv.speaker_names == ["S1", "S2"]
    for s in conv.segments:
        mid = 0.5 * (s.start + s.end)
        who = next(w for x, y, w in truth if x - 0.3 <= mid <= y + 0.3)
        assert s.speaker == {"a": "S1", "b": "S2"}[who]
        assert s.emotion in conv.labels
