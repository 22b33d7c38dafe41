"""Voice activity: where the speech is, with WebRTC's VAD (``webrtcvad``; no torch).

The detector classifies 30 ms frames (frames quieter than ``min_dbfs``, -70 dBFS by default, are
non-speech without asking WebRTC, which otherwise fires on breaths and clicks far below speech), then turns the frame decisions into speech regions with a
hysteresis: a region starts once ``min_speech_s`` of audio is mostly voiced, ends after
``hangover_s`` without a voiced frame (shorter pauses are bridged), and is widened by ``pad_s`` on
both sides. It is streaming: feed it chunks, get events back as soon as they are certain.

>>> import numpy as np
>>> speech_regions(np.zeros(16000, np.float32))
[]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..errors import OptionError
from ..io.audio import SAMPLE_RATE

FRAME_S = 0.03
VAD_RATES = (8000, 16000, 32000, 48000)


@dataclass(frozen=True)
class VadEvent:
    """``kind`` is "start" or "end"; ``time`` the region's edge in seconds (padding included)."""

    kind: str
    time: float


class VoiceActivityDetector:
    """Streaming speech-region detector over float32 (or int16) mono chunks.

    >>> import numpy as np
    >>> vad = VoiceActivityDetector()
    >>> vad.feed(np.zeros(8000, np.float32)) + vad.close()
    []
    """

    def __init__(
        self,
        *,
        sample_rate: int = SAMPLE_RATE,
        aggressiveness: int = 2,
        min_speech_s: float = 0.15,
        hangover_s: float = 0.3,
        pad_s: float = 0.1,
        voiced_ratio: float = 0.6,
        min_dbfs: float = -70.0,
    ) -> None:
        import webrtcvad

        if sample_rate not in VAD_RATES:
            raise OptionError(f"VAD sample_rate must be one of {VAD_RATES}, got {sample_rate}")
        if aggressiveness not in (0, 1, 2, 3):
            raise OptionError(f"VAD aggressiveness must be 0, 1, 2 or 3, got {aggressiveness!r}")
        if min(min_speech_s, hangover_s, pad_s) < 0 or not 0 < voiced_ratio <= 1:
            raise OptionError("VAD durations must be >= 0 and voiced_ratio in (0, 1]")
        self._vad = webrtcvad.Vad(aggressiveness)
        self.sample_rate = sample_rate
        self.frame = int(round(FRAME_S * sample_rate))
        # mean square of int16 samples below which a frame is too quiet to be speech
        self._floor = (32768.0 * 10 ** (min_dbfs / 20)) ** 2
        self.hangover_s, self.pad_s = hangover_s, pad_s
        self._onset = deque(maxlen=max(1, int(round(min_speech_s / FRAME_S))))
        self._needed = max(1, int(np.ceil(voiced_ratio * self._onset.maxlen)))
        self._rest = np.zeros(0, np.int16)
        self.frames = 0  # frames classified so far
        self.in_speech = False
        self._last_voiced_end = 0.0
        self._last_end = 0.0  # end of the previous region: padding never overlaps it

    @property
    def time(self) -> float:
        """Seconds of audio classified so far."""
        return self.frames * self.frame / self.sample_rate

    @property
    def speech_until(self) -> float:
        """Inside a region: the time up to which speech is certain (the region ends no earlier)."""
        return self._last_voiced_end + self.pad_s

    @property
    def lookback_s(self) -> float:
        """How far before ``time`` a region edge reported now can lie."""
        return self.hangover_s + self.pad_s + (self._onset.maxlen + 1) * FRAME_S

    def feed(self, chunk: np.ndarray) -> list[VadEvent]:
        """Classify a chunk (any length); return the region edges it made certain."""
        pcm = np.concatenate([self._rest, to_int16(chunk)])
        n = pcm.size // self.frame
        self._rest = pcm[n * self.frame :]
        frames = pcm[: n * self.frame].reshape(n, self.frame)
        loud = np.mean(np.square(frames, dtype=np.float64), axis=1) >= self._floor
        events: list[VadEvent] = []
        for i in range(n):
            voiced = bool(loud[i]) and self._vad.is_speech(frames[i].tobytes(), self.sample_rate)
            self.frames += 1
            event = self._step(voiced)
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[VadEvent]:
        """End of audio: close an open region (the partial last frame counts as audio)."""
        total = self.time + self._rest.size / self.sample_rate
        self._rest = np.zeros(0, np.int16)
        if not self.in_speech:
            return []
        self.in_speech = False
        end = min(total, self._last_voiced_end + self.pad_s)
        self._last_end = end
        return [VadEvent("end", end)]

    def _step(self, voiced: bool) -> VadEvent | None:
        now = self.time  # end of the frame just classified
        if voiced:
            self._last_voiced_end = now
        if self.in_speech:
            if now - self._last_voiced_end >= self.hangover_s:
                self.in_speech = False
                self._onset.clear()
                self._last_end = self._last_voiced_end + self.pad_s
                return VadEvent("end", self._last_end)
            return None
        self._onset.append((voiced, now - FRAME_S))
        if sum(v for v, _ in self._onset) >= self._needed:
            self.in_speech = True
            first = next(t for v, t in self._onset if v)
            self._onset.clear()
            return VadEvent("start", max(self._last_end, first - self.pad_s, 0.0))
        return None


def to_int16(chunk: np.ndarray) -> np.ndarray:
    """float audio in [-1, 1] (clipped) or int16 -> int16 PCM."""
    chunk = np.asarray(chunk)
    if chunk.dtype == np.int16:
        return chunk.ravel()
    return (np.clip(chunk.ravel(), -1.0, 1.0) * 32767.0).astype(np.int16)


def regions_from_events(events: Iterable[VadEvent]) -> list[tuple[float, float]]:
    """Pair start/end events into [(start_s, end_s)] regions."""
    regions, start = [], None
    for e in events:
        if e.kind == "start":
            start = e.time
        elif start is not None:
            regions.append((start, e.time))
            start = None
    return regions


def speech_regions(
    signal: np.ndarray, sample_rate: int = SAMPLE_RATE, **options
) -> list[tuple[float, float]]:
    """Speech regions [(start_s, end_s)] of a whole signal (options as VoiceActivityDetector)."""
    vad = VoiceActivityDetector(sample_rate=sample_rate, **options)
    return regions_from_events(vad.feed(signal) + vad.close())
