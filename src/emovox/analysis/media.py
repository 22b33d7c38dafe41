"""Images and videos end to end: faces (tracked across sampled frames) and the voice of the audio track.

>>> # p = emovox.analyze_media("talk.mp4"); p.faces_detected, p.face.emotion, p.voice.emotion
"""

from __future__ import annotations

import dataclasses
import io
import os
import warnings
from typing import TYPE_CHECKING

import numpy as np

from ..errors import (
    MediaError,
    MissingExtraError,
    MissingExtraWarning,
    OptionError,
    UndecodableMediaError,
)
from ..io.vision import DEFAULT_FPS, MediaSource, kind_of, load_image, load_video, media_name
from ..results.result_media import FacePrediction, FaceSummary, FaceTrack, MediaPrediction

if TYPE_CHECKING:
    from ..models.face import FaceModel
    from ..recognizers.voice import Recognizer

TRACK_IOU = 0.3
"""A face in one sampled frame continues a track when its box overlaps the track's last box this much."""
TRACK_GAP = 3
"""A track survives this many sampled frames without a sighting (a blink of the detector)."""
MIN_TRACK_FRACTION = 0.1
"""In a video of 3 or more sampled frames a face must be seen in 2 frames and this fraction of them:
a box found once is a detector false alarm far more often than a face."""


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x, y, w, h) boxes.

    >>> iou((0, 0, 10, 10), (5, 0, 10, 10))
    0.3333333333333333
    """
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


class Tracker:
    """Greedy IoU tracking: each frame's faces join the best-overlapping live track or start one."""

    def __init__(self, min_iou: float = TRACK_IOU, max_gap: int = TRACK_GAP,
                 min_fraction: float = MIN_TRACK_FRACTION) -> None:
        self.min_iou, self.max_gap, self.min_fraction = min_iou, max_gap, min_fraction
        self._tracks: list[list[FacePrediction]] = []
        self._last_seen: list[int] = []
        self._frame = 0

    def update(self, faces: list[FacePrediction]) -> None:
        live = [i for i, seen in enumerate(self._last_seen) if self._frame - seen <= self.max_gap]
        pairs = sorted(
            ((iou(self._tracks[i][-1].box, f.box), i, j) for i in live for j, f in enumerate(faces)),
            reverse=True,
        )
        used_t: set[int] = set()
        used_f: set[int] = set()
        for score, i, j in pairs:
            if score < self.min_iou:
                break
            if i in used_t or j in used_f:
                continue
            used_t.add(i)
            used_f.add(j)
            self._add(i, faces[j])
        for j, f in enumerate(faces):
            if j not in used_f:
                self._tracks.append([])
                self._last_seen.append(self._frame)
                self._add(len(self._tracks) - 1, f)
        self._frame += 1

    def _add(self, i: int, face: FacePrediction) -> None:
        self._tracks[i].append(FacePrediction(face.box, face.emotion, face.confidence, face.scores, face.t, i))
        self._last_seen[i] = self._frame

    def tracks(self, labels: tuple[str, ...]) -> tuple[FaceTrack, ...]:
        """The tracks seen often enough (see MIN_TRACK_FRACTION), renumbered from 0 in order of appearance."""
        kept = [obs for obs in self._tracks if len(obs) >= self._need()]
        return tuple(_track(i, [_with_track(o, i) for o in obs], labels) for i, obs in enumerate(kept))

    @property
    def dropped(self) -> int:
        """Tracks left out as detector false alarms."""
        return sum(len(obs) < self._need() for obs in self._tracks)

    def _need(self) -> int:
        n = self._frame
        return 1 if n < 3 else max(2, int(np.ceil(self.min_fraction * n)))


def _with_track(o: FacePrediction, i: int) -> FacePrediction:
    return FacePrediction(o.box, o.emotion, o.confidence, o.scores, o.t, i)


def _mean_scores(observations, labels: tuple[str, ...]) -> np.ndarray:
    return np.mean([[o.scores[k] for k in labels] for o in observations], axis=0)


def _track(i: int, obs: list[FacePrediction], labels: tuple[str, ...]) -> FaceTrack:
    mean = _mean_scores(obs, labels)
    k = int(np.argmax(mean))
    return FaceTrack(i, tuple(obs), labels[k], float(mean[k]), dict(zip(labels, map(float, mean))))


def summarize(tracks: tuple[FaceTrack, ...], labels: tuple[str, ...]) -> FaceSummary | None:
    """Every sighting of every track pooled; None when no face was seen."""
    return pool([o for t in tracks for o in t.observations], labels)


def pool(obs: list[FacePrediction], labels: tuple[str, ...]) -> FaceSummary | None:
    """These sightings pooled (each counts once); None when there are none."""
    if not obs:
        return None
    mean = _mean_scores(obs, labels)
    k = int(np.argmax(mean))
    return FaceSummary(labels[k], float(mean[k]), dict(zip(labels, map(float, mean))), len(obs))


def analyze_media(
    source: MediaSource,
    *,
    face_model: FaceModel | None = None,
    voice_model: Recognizer | None = None,
    fps: float = DEFAULT_FPS,
    voice: bool = True,
    name: str | None = None,
    kind: str | None = None,
    faces: bool = True,
    features: bool | None = None,
    transcribe: bool = False,
) -> MediaPrediction:
    """Faces and voice of an image or a video (path, bytes, file object, or image array).

    ``name`` helps tell an image from a video when the bytes alone do not; ``kind`` ("image" or
    "video") says it outright. ``faces=False`` (a video only) skips the faces and keeps the voice.
    ``features`` and ``transcribe`` go to the voice (``Recognizer.predict``). Raises MediaError.
    """

    face_model = face_model or (_default_face_model() if faces else None)
    label = name or (media_name(source) if not isinstance(source, (bytes, bytearray, memoryview)) else None)
    kind = kind or kind_of(source, name)
    if isinstance(source, (bytes, bytearray, memoryview)) and name:  # errors then name the upload
        source = io.BytesIO(bytes(source))
        source.name = name
    if kind == "image":
        if face_model is None:
            raise OptionError("faces=False leaves nothing to analyse in an image")
        faces = face_model.predict(source)
        tracker = Tracker()
        tracker.update(list(faces.faces))
        tracks = tracker.tracks(face_model.labels)
        return with_fused(MediaPrediction(
            "image", label, faces.width, faces.height, 0.0, 1, None, tracks,
            summarize(tracks, face_model.labels), None, face_model.info.id,
        ))
    if kind != "video":
        raise UndecodableMediaError(
            f"{label or 'input'} is neither an image (jpg, png, webp) nor a video (mp4, mov, webm, mkv, avi, flv)"
        )
    video = load_video(source, fps=fps, audio=voice)
    tracks, frames, dropped = track_faces(video, face_model) if face_model is not None else ((), 0, 0)
    voice_pred = None
    if voice and video.audio is not None and video.audio.size:
        model = voice_model or _default_voice_model()
        voice_pred = model.predict_signal(video.audio, name=label, features=features)
        if transcribe:
            from .transcript import add_words

            voice_pred = add_words(voice_pred, video.audio)
    return with_fused(MediaPrediction(
        "video", label, video.width, video.height, video.duration_s or frames / fps, frames, fps, tracks,
        summarize(tracks, face_model.labels) if face_model is not None else None, voice_pred,
        face_model.info.id if face_model is not None else None,
        extra={"codec": video.codec, "has_audio": video.audio is not None, "tracks_dropped": dropped},
    ))


def track_faces(video, face_model: FaceModel) -> tuple[tuple[FaceTrack, ...], int, int]:
    """Faces of each sampled frame of ``video`` tracked: (tracks, frames sampled, tracks dropped)."""
    tracker = Tracker()
    frames = 0
    for frame in video.frames():
        tracker.update(face_model.predict_frame(frame.rgb, t=frame.t))
        frames += 1
    return tracker.tracks(face_model.labels), frames, tracker.dropped


def with_fused(p: MediaPrediction) -> MediaPrediction:
    """``p`` with ``fused`` filled by ``emovox.analysis.fusion`` from its face and its voice (when it has speech)."""
    from .fusion import fuse

    if p.face is None and not p.has_speech:
        return dataclasses.replace(p, fused=None)
    words = getattr(p.voice, "text", None) if p.has_speech else None  # with transcribe: the words too
    return dataclasses.replace(p, fused=fuse(audio=p.voice if p.has_speech else None, text=words, face=p.face))


def require_content(p: MediaPrediction) -> MediaPrediction:
    """The prediction, or MediaError when it holds neither a face nor speech (nothing to report)."""
    if p.faces_detected == 0 and not p.has_speech:
        what = "no face" if p.kind == "image" else "no face and no speech"
        raise MediaError(f"{p.file or 'the input'}: {what} found; nothing to analyse")
    return p


def probe(source) -> tuple[str | None, object]:
    """('image' or 'video', source) when ``source`` holds a picture, else (None, source): audio, a
    sound-only mp4/webm (a voice memo), or bytes that are neither (the audio loader then says why).

    Cheap for audio: the first 16 bytes decide, and a container's header is read only when those
    bytes say video. A file object comes back where it was; one that cannot seek comes back read
    into memory (a BytesIO with its name).
    """
    if isinstance(source, (str, os.PathLike)):
        if not os.path.isfile(source):
            return None, source
        kind = kind_of(source)
        if kind == "video":
            try:
                with open(source, "rb") as f:
                    kind = "video" if _holds_video(f) else None
            except OSError:  # unreadable: the audio loader says why
                kind = None
        return (kind if kind in ("image", "video") else None), source
    if isinstance(source, (bytes, bytearray, memoryview)):
        kind = kind_of(source)
        if kind == "video":
            kind = "video" if _holds_video(io.BytesIO(bytes(source))) else None
        return (kind if kind in ("image", "video") else None), source
    if not hasattr(source, "read") or isinstance(source, (tuple, np.ndarray)):
        return None, source
    name = getattr(source, "name", None)
    name = name if isinstance(name, str) else None
    try:
        if not (hasattr(source, "seekable") and source.seekable()):
            data = source.read()
            source = io.BytesIO(data if isinstance(data, bytes) else b"")
            source.name = name or "<file object>"
        start = source.tell()
        head = source.read(16)
        source.seek(start)
        kind = kind_of(head if isinstance(head, bytes) else b"", name)
        if kind == "video":
            kind = "video" if _holds_video(source) else None
            source.seek(start)
    except (OSError, ValueError, TypeError):  # closed, text mode...: the audio loader says why
        return None, source
    return (kind if kind in ("image", "video") else None), source


def _holds_video(f) -> bool:
    """Whether the container in the open binary file ``f`` has a video stream (its header only)."""
    from ..io.vision import open_container

    try:
        with open_container(f) as c:
            return bool(c.streams.video)
    except Exception:  # noqa: BLE001 - not openable as a video: the audio path will say why
        return False


def predict_media(voice_model: Recognizer, source, kind: str, **options) -> MediaPrediction:
    """What ``Recognizer.predict`` answers for an image or a video: its faces, voice and fused.

    Without the vision extra a video keeps its voice (a MissingExtraWarning, and ``note`` in the
    result, name the pip command for the faces); an image raises MissingExtraError.
    """
    try:
        face_model = _default_face_model()
    except MissingExtraError as exc:
        if kind == "image":
            raise
        note = f"faces were not analysed: {exc}"
        warnings.warn(note + "; the answer holds the voice only", MissingExtraWarning, stacklevel=4)
        p = analyze_media(source, voice_model=voice_model, kind=kind, faces=False, **options)
        return dataclasses.replace(p, note=note)
    return analyze_media(source, face_model=face_model, voice_model=voice_model, kind=kind, **options)


_FACE_MODEL = None


def _default_face_model() -> FaceModel:
    global _FACE_MODEL
    if _FACE_MODEL is None:
        from ..models.face import load_face_model

        _FACE_MODEL = load_face_model()
    return _FACE_MODEL


def _default_voice_model() -> Recognizer:
    """The built-in voice model, its backend loaded once per process (shared with ``emovox.analyze``)."""
    from ..recognizers.voice import Recognizer, shared_backend

    return Recognizer(shared_backend(None))


__all__ = ["MediaPrediction", "Tracker", "analyze_media", "iou", "load_image", "predict_media", "probe",
           "require_content", "summarize"]
