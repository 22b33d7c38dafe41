"""Berlin EmoDB (Burkhardt et al. 2005): ``wav/SSTTTEV.wav`` = speaker, text, emotion, version."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ._common import Skip, audio_duration, collect, lookup
from .manifest import ManifestRow

# letter -> (canonical emotion, German word as documented)
EMOTIONS = {
    "W": ("angry", "Ärger"), "L": ("boredom", "Langeweile"), "E": ("disgust", "Ekel"),
    "A": ("fearful", "Angst"), "F": ("happy", "Freude"), "T": ("sad", "Trauer"),
    "N": ("neutral", "neutral"),
}
GENDERS = {
    "03": "male", "08": "female", "09": "female", "10": "male", "11": "male",
    "12": "male", "13": "female", "14": "female", "15": "male", "16": "female",
}
TEXTS = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}
EXPECTED = "wav/SSTTTEV.wav such as wav/03a01Fa.wav"
_NAME = re.compile(r"^(\d{2})([ab]\d{2})([A-Z])([a-z])$")


def prepare_emodb(root: str | os.PathLike) -> list[ManifestRow]:
    """Manifest rows for the EmoDB clips under `root` (its wav/ folder or any flat folder)."""
    return collect("EmoDB", root, EXPECTED, _parse)


def _parse(path: Path) -> ManifestRow:
    match = _NAME.match(path.stem)
    if match is None:
        raise Skip("not named SSTTTEV")
    speaker, text, letter, _version = match.groups()
    emotion, word = lookup(EMOTIONS, letter, "emotion")
    return ManifestRow(
        path=path,
        corpus="emodb",
        speaker=f"emodb_{speaker}",
        gender=lookup(GENDERS, speaker, "speaker"),
        language="de",
        emotion=emotion,
        original_label=f"{letter} ({word})",
        sentence=f"{text}: {lookup(TEXTS, text, 'text')}",
        duration_s=audio_duration(path),
    )
