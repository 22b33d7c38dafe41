"""ASED, the Amharic Speech Emotion Dataset v1 (github.com/wgwangang/ASED_V1):
``<NN><Emotion>/xN-yy-aa-gg-bb.wav`` = emotion letter and number, sentence, repetition, gender, speaker.

Sentences 01 and 02 are the same text in all five emotions; 03-07 are emotion-specific (code 03 in
angry is not the text of 03 in sad). The texts are not published, so ``sentence`` names the code and
its kind. A few files carry a gender code that contradicts the speaker's other files: each speaker
gets the majority gender of their files. No licence is stated by the authors.

The original WAVs are zero-padded to lengths that depend on the emotion (every happy clip 2.90 s):
cut leading and trailing runs of exact zeros before training on them, as ``shared/corpora/ased``
did, or clip length gives the label away.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

from ._common import Skip, audio_duration, collect, lookup
from .manifest import ManifestRow

EMOTIONS = {"n1": "neutral", "f2": "fearful", "h3": "happy", "s4": "sad", "a5": "angry"}
GENDERS = {"01": "female", "02": "male"}
EXPECTED = "01Neutral/n1-01-01-01-01.wav (emotion-sentence-repetition-gender-speaker)"
_NAME = re.compile(r"^([a-z]\d)-(\d{2})-(\d{2})-(\d{2})-(\d{2})$")


def prepare_ased(root: str | os.PathLike) -> list[ManifestRow]:
    """Manifest rows for the ASED clips under ``root`` (the repository root or any folder of its clips)."""
    rows = collect("ASED", root, EXPECTED, _parse)
    votes: dict[str, Counter] = {}
    for r in rows:
        votes.setdefault(r.speaker, Counter())[r.gender] += 1
    majority = {s: max(sorted(c), key=c.get) for s, c in votes.items()}
    return [r if r.gender == majority[r.speaker] else replace(r, gender=majority[r.speaker]) for r in rows]


def _parse(path: Path) -> ManifestRow:
    match = _NAME.match(path.stem.lower())
    if match is None:
        raise Skip("not named xN-yy-aa-gg-bb")
    code, sentence, _take, gender, speaker = match.groups()
    emotion = lookup(EMOTIONS, code, "emotion")
    if not 1 <= int(sentence) <= 7:
        raise Skip(f"sentence code {sentence!r} not in 01-07")
    kind = ("common sentence (same text for all five emotions)" if int(sentence) <= 2
            else f"{emotion}-specific sentence (text differs per emotion)")
    return ManifestRow(
        path=path,
        corpus="ased",
        speaker=f"ased_{speaker}",
        gender=lookup(GENDERS, gender, "gender"),
        language="am",
        emotion=emotion,
        original_label=f"{code[0]} ({emotion})",
        sentence=f"{sentence}: {kind}",
        duration_s=audio_duration(path),
    )
