"""TESS, the Toronto emotional speech set (Dupuis & Pichora-Fuller 2010).

Files ``<OAF|YAF>_<word>_<emotion>.wav`` (usually in folders like ``OAF_angry/``): two female
speakers saying "Say the word <word>" in 7 emotions; ``ps`` is pleasant surprise.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ._common import Skip, audio_duration, collect, lookup
from .manifest import ManifestRow

EMOTIONS = {
    "angry": "angry", "disgust": "disgust", "fear": "fearful", "happy": "happy",
    "neutral": "neutral", "ps": "surprised", "sad": "sad",
}
SPEAKERS = ("OAF", "YAF")  # older (64) and younger (26) adult female
EXPECTED = "OAF_angry/OAF_back_angry.wav or YAF_.../YAF_<word>_<emotion>.wav"
_NAME = re.compile(r"^([A-Za-z]{3})_(.+)_([A-Za-z]+)$")


def prepare_tess(root: str | os.PathLike) -> list[ManifestRow]:
    """Manifest rows for the TESS clips under `root`."""
    return collect("TESS", root, EXPECTED, _parse)


def _parse(path: Path) -> ManifestRow:
    match = _NAME.match(path.stem)
    if match is None:
        raise Skip("not named <speaker>_<word>_<emotion>")
    speaker, word, code = match.group(1).upper(), match.group(2), match.group(3).lower()
    if speaker not in SPEAKERS:
        raise Skip(f"speaker {speaker!r} not in {', '.join(SPEAKERS)}")
    return ManifestRow(
        path=path,
        corpus="tess",
        speaker=f"tess_{speaker}",
        gender="female",
        language="en",
        emotion=lookup(EMOTIONS, code, "emotion"),
        original_label=code,
        sentence=f"Say the word {word}",
        duration_s=audio_duration(path),
    )
