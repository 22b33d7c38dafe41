"""Typed results for faces and media: per face in an image, per face track in a video, per file.

Every score dict is over emovox's canonical labels (angry, disgust, fearful, happy, sad, surprised,
neutral for the face model) and sums to 1. A file where no face was found has ``faces_detected == 0``
and no facial emotion: nothing is invented, as silence gets no vocal emotion.
Each result has ``emotion``, ``confidence``, ``scores`` and ``top()`` like ``Prediction``, so fusion
can take a face result beside a voice or text one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .result import Prediction, ranked


def _round(scores: dict[str, float]) -> dict[str, float]:
    return {k: round(float(v), 4) for k, v in scores.items()}


@dataclass(frozen=True)
class FacePrediction:
    """One face in one image or frame: its box (x, y, width, height in pixels) and expression."""

    box: tuple[int, int, int, int]
    emotion: str
    confidence: float
    scores: dict[str, float]
    t: float | None = None  # seconds into the video; None for an image
    track: int | None = None

    def top(self, k: int | None = None) -> list[tuple[str, float]]:
        return ranked(self.scores, k)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"box": dict(zip(("x", "y", "width", "height"), self.box)),
                               "emotion": self.emotion, "confidence": round(self.confidence, 4),
                               "scores": _round(self.scores)}
        if self.t is not None:
            out["t"] = round(self.t, 3)
        if self.track is not None:
            out["track"] = self.track
        return out


@dataclass(frozen=True)
class ImageFaces:
    """The faces found in one image (possibly none)."""

    faces: tuple[FacePrediction, ...]
    width: int
    height: int
    model: str
    file: str | None = None

    @property
    def faces_detected(self) -> int:
        return len(self.faces)

    def __len__(self) -> int:
        return len(self.faces)

    def __iter__(self):
        return iter(self.faces)

    def __getitem__(self, i: int) -> FacePrediction:
        return self.faces[i]


@dataclass(frozen=True)
class FaceTrack:
    """One face followed across sampled frames: its emotion at each sighting and overall."""

    id: int
    observations: tuple[FacePrediction, ...]
    emotion: str
    confidence: float
    scores: dict[str, float]

    @property
    def start_s(self) -> float:
        return self.observations[0].t or 0.0

    @property
    def end_s(self) -> float:
        return self.observations[-1].t or 0.0

    @property
    def frames(self) -> int:
        return len(self.observations)

    def top(self, k: int | None = None) -> list[tuple[str, float]]:
        return ranked(self.scores, k)

    def to_dict(self, timeline: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "emotion": self.emotion, "confidence": round(self.confidence, 4),
            "scores": _round(self.scores), "frames": self.frames,
            "start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3),
            "box": self.observations[len(self.observations) // 2].to_dict()["box"],
        }
        if timeline:
            out["timeline"] = [
                {"t": round(o.t or 0.0, 3), "emotion": o.emotion, "confidence": round(o.confidence, 4),
                 "box": o.to_dict()["box"]} for o in self.observations
            ]
        return out


@dataclass(frozen=True)
class FaceSummary:
    """All face tracks of a file pooled (each sighting counts once): the face modality's answer."""

    emotion: str
    confidence: float
    scores: dict[str, float]
    frames: int

    def top(self, k: int | None = None) -> list[tuple[str, float]]:
        return ranked(self.scores, k)


@dataclass(frozen=True)
class MediaPrediction:
    """One image or video: faces (tracks), the voice from the audio track, and the per-file answer.

    ``face`` is the faces pooled (None when no face was seen); ``voice`` is the speech model's
    Prediction (None for an image or a video without an audio track; ``voice.silent`` when the
    track holds no speech). ``fused`` is left for ``emovox.analysis.fusion`` to fill. ``note`` says why a part
    is missing (a video analysed without the vision extra: its voice only, ``frames_analyzed`` 0).
    """

    kind: str  # "image" or "video"
    file: str | None
    width: int
    height: int
    duration_s: float
    frames_analyzed: int
    fps: float | None
    tracks: tuple[FaceTrack, ...]
    face: FaceSummary | None
    voice: Prediction | None
    face_model: str | None  # None when the faces were not analysed (see ``note``)
    fused: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    note: str | None = None  # why part of the answer is missing (e.g. the vision extra for faces)

    @property
    def faces_detected(self) -> int:
        """Distinct faces: tracks in a video, faces in an image."""
        return len(self.tracks)

    @property
    def faces(self) -> tuple[FacePrediction, ...]:
        """Every face sighting (per frame for a video), each with its track id."""
        return tuple(o for tr in self.tracks for o in tr.observations)

    @property
    def has_speech(self) -> bool:
        return self.voice is not None and not self.voice.silent and self.voice.emotion is not None

    def to_dict(self, timeline: bool = True) -> dict[str, Any]:
        face = None
        if self.face is not None:
            face = {"emotion": self.face.emotion, "confidence": round(self.face.confidence, 4),
                    "scores": _round(self.face.scores), "frames": self.face.frames}
        out = {
            "file": self.file, "kind": self.kind, "width": self.width, "height": self.height,
            "duration_s": round(self.duration_s, 3), "frames_analyzed": self.frames_analyzed,
            "fps": self.fps, "faces_detected": self.faces_detected, "face": face,
            "tracks": [t.to_dict(timeline) for t in self.tracks],
            "voice": None if self.voice is None else self.voice.to_dict(),
            "fused": None if self.fused is None else self.fused.to_dict(),
            "face_model": self.face_model,
        }
        if self.note:
            out["note"] = self.note
        return out
