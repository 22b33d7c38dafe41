"""model.stream(chunks): speech_start / result every hop / speech_end, from float, int16 or bytes."""

import numpy as np
import pytest

from conftest import SR
from emovox.analysis.live import SpeechEnd, SpeechStart, StreamResult
from emovox.errors import AudioError
from timeline_helpers import layout, pitch_model, speech_truth

TOL = 0.3


def _chunks(signal, size=320):
    return [signal[i : i + size] for i in range(0, signal.size, size)]


def _signal():
    return layout([("silence", 1.5), ("high", 4.0), ("silence", 2.0), ("low", 3.0), ("silence", 1.5)])


def test_events_follow_the_speech_layout():
    signal, truth = _signal()
    events = list(pitch_model().stream(_chunks(signal), hop_s=0.5))
    results = [e for e in events if isinstance(e, StreamResult)]
    assert len(results) == int(signal.size / SR / 0.5)  # one per hop
    assert [r.end for r in results] == pytest.approx([0.5 * (i + 1) for i in range(len(results))])
    starts = [e.time for e in events if isinstance(e, SpeechStart)]
    ends = [(e.start, e.end) for e in events if isinstance(e, SpeechEnd)]
    expected = speech_truth(truth)
    assert len(starts) == len(ends) == len(expected)
    for (a, b), (ta, tb) in zip(ends, expected, strict=True):
        assert abs(a - ta) < TOL and abs(b - tb) < TOL
    for r in results:
        assert r.end - r.start <= 3.0 + 1e-9
        if r.speech:
            assert r.emotion in ("happy", "sad") and sum(r.scores.values()) == pytest.approx(1.0)
        else:
            assert r.emotion is None and r.scores == {}
    in_first = [r for r in results if r.speech and r.end <= expected[0][1]]
    assert in_first and all(r.emotion == "happy" for r in in_first)
    in_second = [r for r in results if r.speech and r.start >= expected[1][0] - TOL and r.end > expected[1][0] + 1]
    assert in_second and all(r.emotion == "sad" for r in in_second)


def test_results_arrive_within_a_hop():
    """The result for hop k is yielded before the chunk after the one completing it is read."""
    signal, _ = _signal()
    fed = []

    def source():
        for c in _chunks(signal, 800):
            fed.append(c.size)
            yield c

    for e in pitch_model().stream(source(), hop_s=1.0):
        if isinstance(e, StreamResult):
            audio_seen = sum(fed) / SR
            assert e.end <= audio_seen < e.end + 800 / SR


def test_int16_bytes_and_resampled_input_agree():
    signal, _ = _signal()
    model = pitch_model()

    def kinds(events):
        return [(type(e).__name__, round(getattr(e, "time", getattr(e, "end", 0)), 1)) for e in events
                if not isinstance(e, StreamResult)]

    as_float = kinds(model.stream(_chunks(signal)))
    pcm = (signal * 32767).astype(np.int16)
    assert kinds(model.stream(_chunks(pcm))) == as_float
    assert kinds(model.stream([c.tobytes() for c in _chunks(pcm)])) == as_float
    import soxr

    at8k = soxr.resample(signal, SR, 8000).astype(np.float32)
    events = list(model.stream(_chunks(at8k, 160), sample_rate=8000))
    assert len([e for e in events if isinstance(e, SpeechEnd)]) == 2


def test_short_speech_between_hops_still_gets_a_result():
    signal, _ = layout([("silence", 1.2), ("high", 0.5), ("silence", 1.5)])
    events = list(pitch_model().stream(_chunks(signal), hop_s=1.0))
    names = [e.type for e in events]
    assert names.count("speech_start") == names.count("speech_end") == 1
    i = names.index("speech_end")
    assert events[i - 1].type == "result" and events[i - 1].speech


@pytest.mark.parametrize(
    ("chunk", "message"),
    [
        (np.zeros((2, 160), np.float32), "1-D"),
        (np.zeros(160, np.int32), "dtype int32"),
        (np.full(160, np.nan, np.float32), "NaN"),
        (b"\x00\x01\x02", "even length"),
        ("hello", "dtype"),
    ],
)
def test_bad_chunks(chunk, message):
    with pytest.raises(AudioError, match=message):
        list(pitch_model().stream([np.zeros(160, np.float32), chunk]))


def test_bad_options():
    with pytest.raises(AudioError, match="sample_rate"):
        pitch_model().stream([], sample_rate=0)  # raised at the call, before any chunk
    with pytest.raises(ValueError, match="hop_s"):
        pitch_model().stream([], hop_s=0)
