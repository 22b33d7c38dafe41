"""Voice activity: regions of a known speech/silence layout, streaming equals one shot."""

import numpy as np
import pytest

from emovox.signal.vad import VoiceActivityDetector, regions_from_events, speech_regions
from timeline_helpers import layout, speech_truth

TOL = 0.3  # seconds: 30 ms frames, 0.1 s padding, and speech_like's soft onsets


def _layout():
    return layout([("silence", 1.5), ("high", 3.0), ("silence", 2.0), ("low", 1.2),
                   ("silence", 0.8), ("high", 4.0), ("silence", 1.0)])


def test_regions_match_the_layout():
    signal, truth = _layout()
    found = speech_regions(signal)
    expected = speech_truth(truth)
    assert len(found) == len(expected)
    for (a, b), (ta, tb) in zip(found, expected, strict=True):
        assert abs(a - ta) < TOL and abs(b - tb) < TOL


def test_silence_and_near_silence_have_no_speech():
    assert speech_regions(np.zeros(5 * 16000, np.float32)) == []
    quiet = (1e-4 * np.random.default_rng(0).standard_normal(3 * 16000)).astype(np.float32)
    assert speech_regions(quiet) == []


def test_frames_below_the_level_gate_are_not_speech():
    signal, _ = layout([("silence", 1.0), ("high", 2.0), ("silence", 1.0)])
    quiet = signal * 0.01  # 40 dB down: WebRTC alone hears it; past the -70 dBFS gate too few frames remain
    assert speech_regions(quiet) == []
    assert len(speech_regions(quiet, min_dbfs=-90.0)) == 1


@pytest.mark.parametrize("chunk", [160, 333, 480, 16000])
def test_streaming_in_any_chunk_size_equals_one_shot(chunk):
    signal, _ = _layout()
    vad = VoiceActivityDetector()
    events = []
    for i in range(0, signal.size, chunk):
        events += vad.feed(signal[i : i + chunk])
    events += vad.close()
    assert regions_from_events(events) == speech_regions(signal)


def test_int16_input_and_short_pauses_bridged():
    signal, truth = layout([("high", 1.0), ("silence", 0.2), ("high", 1.0)])
    pcm = (signal * 32767).astype(np.int16)
    regions = speech_regions(pcm)
    assert len(regions) == 1  # a 0.2 s pause is shorter than the 0.3 s hangover
    assert speech_regions(signal, hangover_s=0.1, pad_s=0.0) != regions


def test_events_are_reported_late_but_dated_right():
    signal, truth = layout([("silence", 1.0), ("high", 2.0), ("silence", 2.0)])
    vad = VoiceActivityDetector()
    seen = []
    for i in range(0, signal.size, 480):
        for e in vad.feed(signal[i : i + 480]):
            seen.append((e.kind, e.time, vad.time))
    (k1, t1, at1), (k2, t2, at2) = seen
    assert (k1, k2) == ("start", "end")
    assert abs(t1 - 1.0) < TOL and abs(t2 - 3.0) < TOL
    assert at1 - t1 < 0.5 and at2 - t2 < 0.5  # known within half a second


@pytest.mark.parametrize("opts", [{"aggressiveness": 4}, {"sample_rate": 22050}, {"hangover_s": -1}])
def test_bad_options(opts):
    with pytest.raises(ValueError):
        VoiceActivityDetector(**opts)
