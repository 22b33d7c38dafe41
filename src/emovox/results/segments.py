"""What a timeline and a conversation share about their segments (anything with ``start``, ``end``,
``duration``, ``emotion``, ``confidence`` and ``scores``): the summary's shares of speech time, and
the pieces of their CSV and WebVTT."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def emotion_shares(voiced: Sequence[Any], labels: Sequence[str]) -> tuple[float, dict[str, float], str | None, int]:
    """For segments that each have an emotion: their seconds in all, the share of those seconds per
    label, the dominant label (None without any seconds) and the changes between consecutive segments."""
    total = sum(s.duration for s in voiced)
    shares = {k: sum(s.duration for s in voiced if s.emotion == k) / total if total else 0.0 for k in labels}
    dominant = max(shares, key=shares.get) if total else None
    changes = sum(1 for a, b in zip(voiced, voiced[1:], strict=False) if a.emotion != b.emotion)
    return total, shares, dominant, changes


def score_cells(scores: dict[str, float], labels: Sequence[str]) -> list[str]:
    """A CSV row's score columns, one per label (empty where the segment has no score)."""
    return [f"{scores[k]:.4f}" if k in scores else "" for k in labels]


def vtt_cue(index: int, segment: Any, text: str) -> list[str]:
    """The lines of WebVTT cue number ``index`` (from 1) over ``segment``'s time, blank line included."""
    return [str(index), f"{vtt_time(segment.start)} --> {vtt_time(segment.end)}", text, ""]


def vtt_text(segment: Any) -> str:
    """A cue's words: ``Happy 82%``, or ``(no emotion)``."""
    from ..labels import emotion_info

    return "(no emotion)" if segment.emotion is None else f"{emotion_info(segment.emotion).label} {segment.confidence:.0%}"


def vtt_time(t: float) -> str:
    """``hh:mm:ss.mmm`` for a time in seconds.

    >>> vtt_time(3723.4567)
    '01:02:03.457'
    """
    ms = int(round(t * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"
