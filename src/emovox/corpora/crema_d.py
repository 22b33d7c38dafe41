"""CREMA-D (Cao et al. 2014): ``AudioWAV/<actor>_<sentence>_<emotion>_<level>.wav``.

Gender comes from ``VideoDemographics.csv`` (ActorID, Sex) when it is anywhere under the root;
without it `gender` stays empty.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from ._common import Skip, audio_duration, check_root, collect, lookup
from .manifest import ManifestRow

EMOTIONS = {
    "ANG": "angry", "DIS": "disgust", "FEA": "fearful", "HAP": "happy", "NEU": "neutral", "SAD": "sad",
}
INTENSITIES = {"LO": "low", "MD": "medium", "HI": "high", "XX": ""}  # XX: unspecified
SENTENCES = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
EXPECTED = "AudioWAV/<actor>_<sentence>_<emotion>_<level>.wav such as AudioWAV/1001_DFA_ANG_XX.wav"
_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")


def prepare_crema_d(root: str | os.PathLike) -> list[ManifestRow]:
    """Manifest rows for the CREMA-D clips under `root` (the repository root or AudioWAV)."""
    genders = read_demographics(check_root(root, "CREMA-D"))
    return collect("CREMA-D", root, EXPECTED, lambda path: _parse(path, genders))


def read_demographics(root: Path) -> dict[str, str]:
    """ActorID -> 'male'/'female' from the first VideoDemographics.csv under `root` ({} if none)."""
    found = next(iter(sorted(root.rglob("VideoDemographics.csv"))), None)
    if found is None:
        return {}
    with found.open(newline="", encoding="utf-8-sig") as f:
        return {
            (r.get("ActorID") or "").strip(): (r.get("Sex") or "").strip().lower()
            for r in csv.DictReader(f)
        }


def _parse(path: Path, genders: dict[str, str]) -> ManifestRow:
    match = _NAME.match(path.stem)
    if match is None:
        raise Skip("not named <actor>_<sentence>_<emotion>_<level>")
    actor, sentence, emotion, level = match.groups()
    return ManifestRow(
        path=path,
        corpus="crema_d",
        speaker=f"cremad_{actor}",
        gender=genders.get(actor, ""),
        language="en",
        emotion=lookup(EMOTIONS, emotion, "emotion"),
        original_label=emotion,
        sentence=f"{sentence}: {lookup(SENTENCES, sentence, 'sentence')}",
        intensity=lookup(INTENSITIES, level, "level"),
        duration_s=audio_duration(path),
    )
