"""Live audio: PCM chunks in, typed events out (speech_start, a result every hop, speech_end).

Every ``hop_s`` of audio time the stream yields a ``StreamResult`` for the last window: inside
speech, the scores of [max(speech start, now - window_s), now]; outside speech, a result with
``speech=False`` and no emotion. A result is computed as soon as the chunk that completes its hop
arrives, so it is never more than one hop (plus one model call) behind the audio.

>>> import numpy as np
>>> [e.type for e in stream_events(None, [np.zeros(16000, np.int16)], hop_s=0.5)]
['result', 'result']

``LiveSession`` is the same, push-style, for servers: ``feed(chunk) -> events``, ``close()``.

**Adapting to the session's own voice** (``adapt=True``, the default). Once ``ADAPT_AFTER`` (20)
speech results have been given, the stream scores relative to the speech it has heard
(``Recognizer.adapt(..., to="session")``, ``method="safe"``): results up to that one carry the
model's own ``adapted`` (``None`` for a plain model), every result after it
``{"to": "session", "clips": 20, ...}``. The warm-up windows' pooled features are computed in a
background thread as each window is scored (the audio is not kept), so no result waits for a whole
reference; the first adapted result waits at most for the last window's share. The estimate is made
once and not revised: a centre that followed the speaker would slowly take a sustained emotion
(a long angry stretch) for the speaker's neutral and score it away, and answers stay comparable
for the rest of the session. A model without an adapted head (or ``recognizer=None``) is never
adapted; ``adapt=False`` turns it off.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..defaults import LIVE_HOP_S, LIVE_WINDOW_S, check_window
from ..errors import AudioError, EmovoxError, ModelError, OptionError
from ..io.audio import SAMPLE_RATE
from ..signal.segmenter import AudioRing
from ..signal.vad import VadEvent, VoiceActivityDetector

if TYPE_CHECKING:
    from ..recognizers.voice import Recognizer

log = logging.getLogger("emovox.live")
ADAPT_AFTER = 20
"""Speech results (windows) a stream scores before it adapts to them (``MIN_REFERENCE_CLIPS``)."""
ADAPT_IDLE_S = 600.0
"""A warm-up that receives no speech window for this long is given up (its thread ends)."""


@dataclass(frozen=True)
class SpeechStart:
    """Speech began at ``time`` seconds (stream time, padding included)."""

    time: float
    type: ClassVar[str] = "speech_start"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "time": round(self.time, 3)}


@dataclass(frozen=True)
class SpeechEnd:
    """The speech region [start, end] is over."""

    start: float
    end: float
    type: ClassVar[str] = "speech_end"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "start": round(self.start, 3), "end": round(self.end, 3)}


@dataclass(frozen=True)
class StreamResult:
    """What is known about the last window [start, end]; no emotion outside speech."""

    start: float
    end: float
    speech: bool
    emotion: str | None = None
    confidence: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)
    adapted: dict | None = None  # what the scoring model was adapted to ({"to": "session", ...}), or None
    type: ClassVar[str] = "result"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "speech": self.speech,
            "emotion": self.emotion,
            "confidence": round(self.confidence, 4),
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "adapted": self.adapted,
        }


StreamEvent = SpeechStart | StreamResult | SpeechEnd


def as_pcm(chunk: Any) -> np.ndarray:
    """A chunk as float32 mono: float arrays as they are, int16 arrays or bytes (PCM16 LE) scaled."""
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        if len(chunk) % 2:
            raise AudioError(f"PCM16 bytes must have an even length, got {len(chunk)} bytes")
        chunk = np.frombuffer(chunk, dtype="<i2")
    array = np.asarray(chunk)
    if array.dtype != np.int16 and not np.issubdtype(array.dtype, np.floating):
        raise AudioError(f"a chunk must be float32 in [-1, 1] or int16 PCM, got dtype {array.dtype}")
    if array.ndim != 1:
        raise AudioError(f"a chunk must be 1-D mono samples, got shape {array.shape}")
    if array.dtype == np.int16:
        return array.astype(np.float32) / 32768.0
    if not np.isfinite(array).all():
        raise AudioError("a chunk contains NaN or infinite samples")
    return array.astype(np.float32, copy=False)


def stream_events(
    recognizer: Recognizer | None,
    chunks: Iterable[Any],
    *,
    window_s: float = LIVE_WINDOW_S,
    hop_s: float = LIVE_HOP_S,
    sample_rate: int = SAMPLE_RATE,
    vad: dict | None = None,
    adapt: bool = True,
) -> Iterator[StreamEvent]:
    """Events for a stream of PCM chunks at ``sample_rate`` (resampled to 16 kHz with soxr);
    ``adapt``: adapt to the stream's own speech after a warm-up (see the module docstring).

    Options are checked here, before the first chunk is read; chunk errors raise while iterating.
    """
    session = LiveSession(recognizer, window_s=window_s, hop_s=hop_s, sample_rate=sample_rate, vad=vad,
                          adapt=adapt)
    return _events(session, chunks)


def _events(session: LiveSession, chunks: Iterable[Any]) -> Iterator[StreamEvent]:
    try:
        for chunk in chunks:
            yield from session.iter_feed(chunk)
        yield from session.iter_close()
    finally:
        session.stop()


class LiveSession:
    """Push-style live analysis: ``feed`` each chunk as it arrives, get the events it completed.

    >>> import numpy as np
    >>> session = LiveSession(None, hop_s=0.5)
    >>> [e.type for e in session.feed(np.zeros(8000, np.int16))] + [e.type for e in session.close()]
    ['result']
    """

    def __init__(
        self,
        recognizer: Recognizer | None,
        *,
        window_s: float = LIVE_WINDOW_S,
        hop_s: float = LIVE_HOP_S,
        sample_rate: int = SAMPLE_RATE,
        vad: dict | None = None,
        adapt: bool = True,
    ) -> None:
        check_window(window_s, hop_s)
        if not isinstance(sample_rate, int) or isinstance(sample_rate, bool) or sample_rate <= 0:
            raise AudioError(f"sample_rate must be a positive integer, got {sample_rate!r}")
        if not isinstance(adapt, bool):
            raise OptionError(f"adapt must be True or False, got {adapt!r}")
        self.sample_rate = sample_rate
        warmup = _SessionAdapter(recognizer) if adapt and can_adapt(recognizer) else None
        self._live = _Live(recognizer, window_s, hop_s, VoiceActivityDetector(**(vad or {})), warmup)
        self._resampler = None
        if sample_rate != SAMPLE_RATE:
            import soxr

            self._resampler = soxr.ResampleStream(sample_rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")

    @property
    def time(self) -> float:
        """Seconds of (16 kHz) audio received so far."""
        return self._live.ring.end / SAMPLE_RATE

    def feed(self, chunk: Any) -> list[StreamEvent]:
        """Take one chunk (float or int16 array, or PCM16 little-endian bytes)."""
        return list(self.iter_feed(chunk))

    def close(self) -> list[StreamEvent]:
        """End of the stream: flush the resampler and close an open speech region."""
        return list(self.iter_close())

    def iter_feed(self, chunk: Any) -> Iterator[StreamEvent]:
        pcm = as_pcm(chunk)
        yield from self._live.feed(pcm if self._resampler is None else self._resampler.resample_chunk(pcm))

    def iter_close(self) -> Iterator[StreamEvent]:
        if self._resampler is not None:
            yield from self._live.feed(self._resampler.resample_chunk(np.zeros(0, np.float32), last=True))
            self._resampler = None
        yield from self._live.close()
        self.stop()

    @property
    def adapted(self) -> dict | None:
        """What the session's results are now scored relative to (None: not adapted)."""
        return self._live.recognizer.info.extra.get("adapted") if self._live.recognizer is not None else None

    def stop(self) -> None:
        """Give up an unfinished warm-up (its thread ends); ``close`` does it, call it when a stream is
        abandoned without one."""
        if self._live.warmup is not None:
            self._live.warmup.stop()


class _Live:
    """The state of one stream: audio ring, VAD, the open region and the next hop."""

    def __init__(self, recognizer, window_s: float, hop_s: float, detector: VoiceActivityDetector,
                 warmup: _SessionAdapter | None = None):
        self.recognizer = recognizer
        self.warmup = warmup
        self.window_s, self.hop_s = window_s, hop_s
        self.vad = detector
        self.ring = AudioRing()
        self.ticks = 1  # index of the next hop boundary
        self.region_start: float | None = None
        self.reported = False  # the open region has had a speech result

    def feed(self, pcm: np.ndarray) -> Iterator[StreamEvent]:
        while pcm.size:
            tick = int(round(self.ticks * self.hop_s * SAMPLE_RATE))
            piece, pcm = pcm[: tick - self.ring.end], pcm[tick - self.ring.end :]
            self.ring.append(piece)
            for event in self.vad.feed(piece):
                yield from self._edge(event)
            if self.ring.end >= tick:
                yield self._result(self.ticks * self.hop_s)
                self.ticks += 1
            keep = self.vad.time - self.window_s - self.vad.lookback_s
            self.ring.drop_before(int(max(0.0, keep) * SAMPLE_RATE))

    def close(self) -> Iterator[StreamEvent]:
        for event in self.vad.close():
            yield from self._edge(event)

    def _edge(self, event: VadEvent) -> Iterator[StreamEvent]:
        if event.kind == "start":
            self.region_start, self.reported = event.time, False
            yield SpeechStart(event.time)
            return
        start = self.region_start if self.region_start is not None else 0.0
        if not self.reported:  # a region shorter than a hop still gets its result
            yield self._classify(max(start, event.time - self.window_s), event.time)
        self.region_start = None
        yield SpeechEnd(start, event.time)

    def _result(self, now: float) -> StreamResult:
        if not self.vad.in_speech or self.region_start is None:
            return StreamResult(max(0.0, now - self.hop_s), now, speech=False)
        self.reported = True
        return self._classify(max(self.region_start, now - self.window_s), now)

    def _classify(self, a: float, b: float) -> StreamResult:
        audio = self.ring.get(int(round(a * SAMPLE_RATE)), int(round(b * SAMPLE_RATE)))
        if self.recognizer is None or audio.size == 0:
            return StreamResult(a, b, speech=True)
        if self.warmup is not None and self.warmup.full:
            self.recognizer = self.warmup.result(self.recognizer)
            self.warmup = None
        p = self.recognizer.predict_signals([audio])[0]
        if self.warmup is not None and not p.silent:
            self.warmup.add(audio)
        return StreamResult(a, b, True, p.emotion, p.confidence, dict(p.scores), p.adapted)


def can_adapt(recognizer: Recognizer | None) -> bool:
    """Whether ``recognizer`` can be adapted (its model has an adapted head); costs no audio."""
    if recognizer is None:
        return False
    try:
        recognizer.reference([])
    except ModelError:
        return False
    except EmovoxError:  # too few clips: what an adaptable model says about none
        return True
    return True


class _SessionAdapter:
    """The warm-up of one stream: ``ADAPT_AFTER`` speech windows go, as they are scored, to
    ``Recognizer.reference`` running in a background thread; ``result`` is the adapted recognizer."""

    def __init__(self, recognizer: Recognizer, clips: int = ADAPT_AFTER) -> None:
        self.recognizer, self.clips = recognizer, clips
        self.sent = 0
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._answer: Recognizer | None = None

    @property
    def full(self) -> bool:
        return self.sent >= self.clips

    def add(self, audio: np.ndarray) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="emovox-live-adapt", daemon=True)
            self._thread.start()
        self._queue.put(np.array(audio, dtype=np.float32))
        self.sent += 1
        if self.full:
            self._queue.put(None)

    def stop(self) -> None:
        self._queue.put(None)

    def result(self, current: Recognizer) -> Recognizer:
        """The adapted recognizer once the thread is done (waiting for it), else ``current``."""
        if self._thread is not None:
            self._thread.join()
        return self._answer if self._answer is not None else current

    def _clips(self) -> Iterator[tuple[np.ndarray, int]]:
        for _ in range(self.clips):
            try:
                audio = self._queue.get(timeout=ADAPT_IDLE_S)
            except queue.Empty:
                return
            if audio is None:
                return
            yield audio, SAMPLE_RATE

    def _run(self) -> None:
        try:
            reference = self.recognizer.reference(self._clips(), errors="skip")
            self._answer = self.recognizer.adapt(reference, to="session")
        except ModelError:
            pass  # a model without an adapted head: the stream stays un-adapted
        except EmovoxError as exc:  # too few non-silent windows (the stream ended early)
            log.debug("live: not adapted: %s", exc)
