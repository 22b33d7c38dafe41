"""A live stream adapts to its own speech after a warm-up of ADAPT_AFTER speech results, and not before."""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("onnx")

import emovox  # noqa: E402
from adapt_helpers import write_adaptable_model  # noqa: E402
from conftest import SR, speech_like  # noqa: E402
from emovox.analysis.live import ADAPT_AFTER, LiveSession, StreamResult  # noqa: E402
from emovox.errors import OptionError  # noqa: E402
from timeline_helpers import pitch_model  # noqa: E402


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return emovox.load_model(str(write_adaptable_model(tmp_path_factory.mktemp("adaptable") / "m")), features=False)


def _talk(seconds_each: float = 3.0, n: int = 10) -> np.ndarray:
    """Continuous speech of changing pitch (one speech region)."""
    return np.concatenate([speech_like(seconds_each, f0=110.0 + 9 * i, seed=i) for i in range(n)])


def _chunks(signal: np.ndarray, size: int = 1600):
    return [signal[i : i + size] for i in range(0, signal.size, size)]


def _speech_results(events) -> list[StreamResult]:
    return [e for e in events if isinstance(e, StreamResult) and e.speech]


def test_a_stream_adapts_after_its_warm_up_and_not_before(model):
    signal = _talk()
    results = _speech_results(model.stream(_chunks(signal)))
    assert len(results) > ADAPT_AFTER + 3
    assert all(r.adapted is None for r in results[:ADAPT_AFTER])
    after = results[ADAPT_AFTER:]
    assert all(r.adapted is not None and r.adapted["to"] == "session" and r.adapted["clips"] == ADAPT_AFTER
               for r in after)
    assert all(r.to_dict()["adapted"] == r.adapted for r in results)
    # the session centre is exactly the first ADAPT_AFTER windows' reference: same scores as adapting by hand
    windows = [signal[round(r.start * SR) : round(r.end * SR)] for r in results]
    by_hand = model.adapt([(w, SR) for w in windows[:ADAPT_AFTER]], to="session")
    plain = model.predict_signals(windows[ADAPT_AFTER:])
    expected = by_hand.predict_signals(windows[ADAPT_AFTER:])
    for r, q in zip(after, expected, strict=True):
        assert r.scores == pytest.approx(q.scores, abs=1e-4)
    assert any(p.scores != pytest.approx(q.scores, abs=1e-3) for p, q in zip(plain, expected, strict=True))
    # and before the warm-up, the plain model's scores
    for r, p in zip(results[:ADAPT_AFTER], model.predict_signals(windows[:ADAPT_AFTER]), strict=True):
        assert r.scores == pytest.approx(p.scores, abs=1e-4)


def test_adapt_false_keeps_the_plain_model(model):
    results = _speech_results(model.stream(_chunks(_talk()), adapt=False))
    assert len(results) > ADAPT_AFTER and all(r.adapted is None for r in results)


def test_push_session_says_when_it_adapted_and_a_short_session_never_does(model):
    session = LiveSession(model, hop_s=0.5)
    pieces = _chunks(_talk(n=4))
    events = [e for chunk in pieces for e in session.feed(chunk)] + session.close()
    speech = _speech_results(events)
    assert len(speech) > ADAPT_AFTER and session.adapted["to"] == "session"
    short = LiveSession(model)
    for chunk in _chunks(_talk(n=2)):
        short.feed(chunk)
    warm = short._live.warmup
    assert warm is not None and 0 < warm.sent < ADAPT_AFTER
    assert all(r.adapted is None for r in _speech_results(short.close()))
    warm._thread.join(timeout=10)
    assert not warm._thread.is_alive() and short.adapted is None  # the warm-up thread ended with the stream


def test_an_abandoned_stream_ends_its_warm_up_thread(model):
    before = threading.active_count()
    stream = model.stream(_chunks(_talk(n=2)))
    while not any(t.name == "emovox-live-adapt" for t in threading.enumerate()):
        next(stream)  # until the warm-up has begun
    stream.close()  # the generator is dropped before its end: stop() still runs
    for t in threading.enumerate():
        if t.name == "emovox-live-adapt":
            t.join(timeout=10)
    assert threading.active_count() <= before


def test_a_model_without_an_adapted_head_streams_as_before():
    session = LiveSession(pitch_model())
    assert session._live.warmup is None
    with pytest.raises(OptionError, match="adapt"):
        LiveSession(pitch_model(), adapt="no")
