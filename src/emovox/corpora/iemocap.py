"""IEMOCAP (Busso et al. 2008): labels from ``Session*/dialog/EmoEvaluation/<dialog>.txt``.

Each evaluation line ``[start - end]\\tTURN\\tEMO\\t[V, A, D]`` names a turn whose audio is
``Session*/sentences/wav/<dialog>/<turn>.wav``. The speaker is the session plus the gender letter
at the start of the turn's last part (Ses01F_impro01_M003 -> iemocap_01M, male).

Label choices: ``exc`` (excited) is merged into happy, the usual 4-class merge; ``fru`` is kept as
its own label ``frustrated`` (outside the core vocabulary, like EmoDB's boredom) so that a
training recipe can keep or drop it; ``xxx`` (no majority) and ``oth`` (other) are dropped.
Transcripts from ``dialog/transcriptions/<dialog>.txt`` fill `sentence` when present.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ._common import Collector, Skip, audio_duration, check_root, lookup
from .manifest import ManifestRow

EMOTIONS = {
    "neu": "neutral", "hap": "happy", "exc": "happy", "sad": "sad", "ang": "angry",
    "fru": "frustrated", "sur": "surprised", "fea": "fearful", "dis": "disgust",
}
DROPPED = ("xxx", "oth")
EXPECTED = (
    "Session1..5/dialog/EmoEvaluation/<dialog>.txt with audio in "
    "Session*/sentences/wav/<dialog>/<turn>.wav"
)
_LINE = re.compile(r"^\[\s*[\d.]+\s*-\s*[\d.]+\s*\]\t(\S+)\t(\S+)\t\[")
_TURN = re.compile(r"^Ses(\d{2})[FM]_.+_([FM])[^_]*$")
_TRANSCRIPT = re.compile(r"^(\S+) \[[\d.]+-[\d.]+\]: ?(.*)$")


def prepare_iemocap(root: str | os.PathLike) -> list[ManifestRow]:
    """Manifest rows for the labelled IEMOCAP turns under `root` (the folder holding Session1..5)."""
    folder = check_root(root, "IEMOCAP")
    collector = Collector("IEMOCAP", folder, EXPECTED)
    for evaluation in sorted(folder.glob("Session*/dialog/EmoEvaluation/*.txt")):
        session = evaluation.parents[2]
        texts = read_transcripts(session / "dialog" / "transcriptions" / evaluation.name)
        for turn, code in read_evaluation(evaluation):
            wav = session / "sentences" / "wav" / evaluation.stem / f"{turn}.wav"
            try:
                row = _row(turn, code, wav, texts.get(turn, ""))
            except Skip as exc:
                collector.skip(turn, str(exc))
                continue
            if row is not None:
                collector.rows.append(row)
    return collector.finish()


def read_evaluation(path: Path) -> list[tuple[str, str]]:
    """(turn, emotion code) for every turn line of one EmoEvaluation file."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [m.groups() for m in map(_LINE.match, lines) if m is not None]


def read_transcripts(path: Path) -> dict[str, str]:
    """turn -> transcript text from one transcriptions file ({} when it is absent)."""
    if not path.is_file():
        return {}
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return {m.group(1): m.group(2).strip() for m in map(_TRANSCRIPT.match, lines) if m is not None}


def _row(turn: str, code: str, wav: Path, text: str) -> ManifestRow | None:
    if code in DROPPED:
        return None
    match = _TURN.match(turn)
    if match is None:
        raise Skip("turn name not like Ses01F_impro01_F000")
    emotion = lookup(EMOTIONS, code, "emotion")
    if not wav.is_file():
        raise Skip(f"audio {wav.name} missing")
    session, gender = match.groups()
    return ManifestRow(
        path=wav,
        corpus="iemocap",
        speaker=f"iemocap_{session}{gender}",
        gender="female" if gender == "F" else "male",
        language="en",
        emotion=emotion,
        original_label=code,
        sentence=text,
        duration_s=audio_duration(wav),
    )
