"""TurEV-DB (Canpolat et al. 2020): ``Sound Source/<Emotion>/<speaker>_<code>_<word>.wav``.

The 2-letter code (kz angry, sk calm, mt happy, hl sad) gives the emotion; when the parent folder
is one of the emotion folders it must agree. Gender is not documented, so it stays empty.
Only `Sound Source/` is read when present (the repository also holds filtered test copies).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ._common import Skip, audio_duration, collect, lookup
from .manifest import ManifestRow

EMOTIONS = {"kz": "angry", "sk": "calm", "mt": "happy", "hl": "sad"}
EXPECTED = "Sound Source/{Angry,Calm,Happy,Sad}/<speaker>_<code>_<word>.wav such as 1157_hl_acik.wav"
_NAME = re.compile(r"^(\d+)_([a-z]{2})_(.+)$")


def prepare_turev(root: str | os.PathLike) -> list[ManifestRow]:
    """Manifest rows for TurEV-DB under `root` (the repository root or its Sound Source folder)."""
    source = Path(root).expanduser() / "Sound Source"
    return collect("TurEV-DB", source if source.is_dir() else root, EXPECTED, _parse)


def _parse(path: Path) -> ManifestRow:
    match = _NAME.match(path.stem)
    if match is None:
        raise Skip("not named <speaker>_<code>_<word>")
    speaker, code, word = match.groups()
    emotion = lookup(EMOTIONS, code, "emotion")
    folder = path.parent.name.lower()
    if folder in EMOTIONS.values() and folder != emotion:
        raise Skip(f"folder {path.parent.name} disagrees with code {code!r}")
    return ManifestRow(
        path=path,
        corpus="turev_db",
        speaker=f"turev_{speaker}",
        language="tr",
        emotion=emotion,
        original_label=f"{emotion.title()} ({code})",
        sentence=word,
        duration_s=audio_duration(path),
    )
