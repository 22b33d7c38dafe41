"""SAVEE, Surrey Audio-Visual Expressed Emotion (Haq & Jackson 2009).

``AudioData/<speaker>/<emotion><nn>.wav`` (e.g. ``AudioData/DC/sa01.wav``), or the flat
``<speaker>_<emotion><nn>.wav`` of common re-packagings. Four male English speakers.
The file names do not give the sentence text, so `sentence` stays empty.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ._common import Skip, audio_duration, collect, lookup
from .manifest import ManifestRow

EMOTIONS = {
    "a": "angry", "d": "disgust", "f": "fearful", "h": "happy",
    "n": "neutral", "sa": "sad", "su": "surprised",
}
SPEAKERS = ("DC", "JE", "JK", "KL")
EXPECTED = "AudioData/<DC|JE|JK|KL>/<a|d|f|h|n|sa|su><nn>.wav such as AudioData/DC/sa01.wav"
_NAME = re.compile(r"^(?:([A-Za-z]{2})_)?([a-z]+)(\d{2})$")


def prepare_savee(root: str | os.PathLike) -> list[ManifestRow]:
    """Manifest rows for the SAVEE clips under `root` (AudioData/<speaker>/ or flat)."""
    return collect("SAVEE", root, EXPECTED, _parse)


def _parse(path: Path) -> ManifestRow:
    match = _NAME.match(path.stem)
    if match is None:
        raise Skip("not named <emotion><nn>")
    prefix, code, _number = match.groups()
    speaker = (prefix or path.parent.name).upper()
    if speaker not in SPEAKERS:
        raise Skip(f"speaker {speaker!r} (from name or folder) not in {', '.join(SPEAKERS)}")
    return ManifestRow(
        path=path,
        corpus="savee",
        speaker=f"savee_{speaker}",
        gender="male",
        language="en",
        emotion=lookup(EMOTIONS, code, "emotion"),
        original_label=code,
        duration_s=audio_duration(path),
    )
