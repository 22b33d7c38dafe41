"""RAVDESS (Livingstone & Russo 2018): speech, audio-only clips named ``MM-VV-EE-II-SS-RR-AA``.

Modality 03 = audio-only and vocal channel 01 = speech are kept; song (02) and the video
modalities (01, 02) are left out. Odd-numbered actors are male, even-numbered female.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ._common import Skip, audio_duration, collect, lookup
from .manifest import ManifestRow

EMOTIONS = {
    "01": "neutral", "02": "calm", "03": "happy", "04": "sad",
    "05": "angry", "06": "fearful", "07": "disgust", "08": "surprised",
}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
EXPECTED = "Actor_XX/03-01-EE-II-SS-RR-AA.wav (audio-only speech)"
_NAME = re.compile(r"^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$")


def prepare_ravdess(root: str | os.PathLike) -> list[ManifestRow]:
    """Manifest rows for the RAVDESS speech clips under `root` (Actor_XX folders or flat)."""
    return collect("RAVDESS", root, EXPECTED, _parse)


def _parse(path: Path) -> ManifestRow | None:
    match = _NAME.match(path.stem)
    if match is None:
        raise Skip("not named MM-VV-EE-II-SS-RR-AA")
    modality, channel, emotion, intensity, statement, _repetition, actor = match.groups()
    if modality not in ("01", "02", "03") or channel not in ("01", "02"):
        raise Skip(f"modality {modality!r} / vocal channel {channel!r} undefined")
    if modality != "03" or channel != "01":
        return None  # video or song: documented, but not audio-only speech
    if actor == "00":
        raise Skip("actor 00 undefined")
    return ManifestRow(
        path=path,
        corpus="ravdess",
        speaker=f"ravdess_{actor}",
        gender="male" if int(actor) % 2 else "female",
        language="en",
        emotion=lookup(EMOTIONS, emotion, "emotion"),
        original_label=emotion,
        sentence=f"{statement}: {lookup(STATEMENTS, statement, 'statement')}",
        intensity=lookup(INTENSITIES, intensity, "intensity"),
        duration_s=audio_duration(path),
    )
