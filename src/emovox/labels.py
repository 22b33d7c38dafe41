"""The canonical emotion vocabulary, its display metadata, and maps from corpus/model labels.

>>> canonical("ang")
'angry'
>>> EMOTIONS["happy"].music_mood
'upbeat'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Emotion:
    name: str
    label: str
    color: str
    emoji: str
    music_mood: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


# Order is the display order; the core eight first, then extras that corpora bring.
EMOTIONS: dict[str, Emotion] = {
    e.name: e
    for e in (
        Emotion("neutral", "Neutral", "#6b7280", "😐", "chill"),
        Emotion("calm", "Calm", "#06b6d4", "😌", "relaxing"),
        Emotion("happy", "Happy", "#22c55e", "😄", "upbeat"),
        Emotion("sad", "Sad", "#3b82f6", "😢", "melancholic"),
        Emotion("angry", "Angry", "#ef4444", "😠", "intense"),
        Emotion("fearful", "Fearful", "#a855f7", "😨", "soothing"),
        Emotion("disgust", "Disgust", "#84cc16", "🤢", "dark"),
        Emotion("surprised", "Surprised", "#f59e0b", "😲", "energetic"),
        Emotion("boredom", "Boredom", "#94a3b8", "🥱", "lo-fi"),
    )
}
CORE_EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")

_ALIASES: dict[str, str] = {
    # IEMOCAP / MSP style short codes
    "neu": "neutral", "neutrality": "neutral",
    "cal": "calm", "relaxed": "calm",
    "hap": "happy", "joy": "happy", "happiness": "happy", "exc": "happy",
    "excited": "happy", "pleasant_surprise": "surprised", "ps": "surprised",
    "sadness": "sad",
    "ang": "angry", "anger": "angry", "mad": "angry",
    "fea": "fearful", "fear": "fearful", "afraid": "fearful", "scared": "fearful",
    "dis": "disgust", "disgusted": "disgust",
    "sur": "surprised", "surprise": "surprised",
    "bored": "boredom", "bor": "boredom", "boring": "boredom",
}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def canonical(name: str) -> str:
    """Map a corpus or model label onto the canonical vocabulary; unknown labels keep a clean slug."""
    slug = _slug(str(name))
    if slug in EMOTIONS:
        return slug
    return _ALIASES.get(slug, slug)


def canonical_list(labels: str | Iterable[str]) -> tuple[str, ...]:
    """``"Angry, happiness"`` or ``["ang", "hap"]`` -> canonical names, blanks dropped, order kept."""
    items = labels.split(",") if isinstance(labels, str) else labels
    return tuple(canonical(x) for x in items if str(x).strip())


def emotion_info(name: str) -> Emotion:
    """Display metadata for any label; labels outside the vocabulary get neutral-grey defaults."""
    key = canonical(name)
    if key in EMOTIONS:
        return EMOTIONS[key]
    return Emotion(key, key.replace("_", " ").title(), "#9ca3af", "🔹", "chill")
