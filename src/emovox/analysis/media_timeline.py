"""Voice, face and fused emotion over the time of a video: one span per voice-timeline segment.

The voice lane is the ordinary timeline (``emovox.analysis.timeline``) of the video's audio track; the face
lane pools every face sighting sampled inside a span (``emovox.analysis.media``); the fused lane is
``emovox.analysis.fusion.fuse`` of the two, the face weighted by how many frames it was seen in and the voice
by how long the span is. A span without speech has no voice, one without a sighting no face; fused is
whichever is there (None when neither is).

>>> # mt = build_media_timeline("talk.mp4"); [(s.start, s.fused.emotion) for s in mt.spans]
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..defaults import TIMELINE_HOP_S, TIMELINE_WINDOW_S
from ..errors import MediaError
from ..io.audio import SAMPLE_RATE
from ..io.vision import DEFAULT_FPS, MediaSource, load_video, media_name
from ..results.result import ranked
from ..results.result_media import FacePrediction, FaceSummary, FaceTrack
from .timeline import Segment, Timeline, build_timeline

if TYPE_CHECKING:
    from ..models.face import FaceModel
    from ..recognizers.voice import Recognizer
    from .fusion import FusedPrediction


@dataclass(frozen=True)
class VoiceSpan:
    """The voice lane in one span: the timeline segment's emotion, as fusion takes it."""

    emotion: str
    confidence: float
    scores: dict[str, float]
    duration_s: float

    def top(self, k: int | None = None) -> list[tuple[str, float]]:
        return ranked(self.scores, k)


@dataclass(frozen=True)
class MediaSpan:
    """[start, end) of the video with the voice, the pooled faces and the fused answer in it."""

    start: float
    end: float
    speech: bool
    voice: VoiceSpan | None
    face: FaceSummary | None
    fused: FusedPrediction | None

    def to_dict(self) -> dict[str, Any]:
        def lane(p) -> dict[str, Any] | None:
            if p is None:
                return None
            return {"emotion": p.emotion, "confidence": round(p.confidence, 4),
                    "scores": {k: round(v, 4) for k, v in p.top()}}

        face = lane(self.face)
        if face is not None:
            face["frames"] = self.face.frames
        fused = lane(self.fused)
        if fused is not None:
            fused["weights"] = {k: round(v, 4) for k, v in self.fused.weights.items()}
            fused["conflict"] = self.fused.conflict
        return {"start": round(self.start, 3), "end": round(self.end, 3), "speech": self.speech,
                "voice": lane(self.voice), "face": face, "fused": fused}


@dataclass(frozen=True)
class MediaTimeline:
    """A video's spans in order, covering [0, duration_s], with the voice timeline and face tracks."""

    spans: tuple[MediaSpan, ...]
    voice: Timeline | None  # None when the video has no audio track
    tracks: tuple[FaceTrack, ...]
    duration_s: float
    fps: float
    frames_analyzed: int
    face_model: str
    face_labels: tuple[str, ...]
    file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> tuple[str, ...]:
        """The voice model's labels, then the face model's others (the fused lane's vocabulary)."""
        voice = self.voice.labels if self.voice is not None else ()
        return tuple(dict.fromkeys((*voice, *self.face_labels)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "kind": "video", "duration_s": round(self.duration_s, 3),
            "voice_model": self.voice.model if self.voice is not None else None,
            "face_model": self.face_model, "fps": self.fps, "frames_analyzed": self.frames_analyzed,
            "faces_detected": len(self.tracks), "has_audio": self.voice is not None,
            "window_s": self.voice.window_s if self.voice is not None else None,
            "hop_s": self.voice.hop_s if self.voice is not None else None,
            "labels": list(self.labels), "spans": [s.to_dict() for s in self.spans],
        }

    def to_csv(self) -> str:
        """One row per span: times, each lane's emotion and confidence, then the fused scores."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["start", "end", "speech", "voice", "voice_confidence", "face", "face_confidence",
                    "face_frames", "fused", "fused_confidence", *self.labels])

        def cells(p) -> list[str]:
            return ["", ""] if p is None else [p.emotion, f"{p.confidence:.4f}"]

        for s in self.spans:
            scores = s.fused.scores if s.fused is not None else {}
            w.writerow([f"{s.start:.3f}", f"{s.end:.3f}", int(s.speech), *cells(s.voice), *cells(s.face),
                        s.face.frames if s.face is not None else 0, *cells(s.fused)]
                       + [f"{scores[k]:.4f}" if k in scores else "" for k in self.labels])
        return buf.getvalue()

    def plot(self, path, **options):
        """Write a PNG with three lanes (voice, face, fused) over time; returns the matplotlib Figure."""
        from .plot_media import plot_media_timeline

        return plot_media_timeline(self, path, **options)


def build_media_timeline(
    source: MediaSource,
    *,
    face_model: FaceModel | None = None,
    voice_model: Recognizer | None = None,
    fps: float = DEFAULT_FPS,
    window_s: float = TIMELINE_WINDOW_S,
    hop_s: float = TIMELINE_HOP_S,
    name: str | None = None,
    **timeline_options,
) -> MediaTimeline:
    """Decode the video once: faces tracked over its sampled frames, the voice timeline of its audio
    track, and one span per voice segment. Raises MediaError (e.g. an image: it has no time)."""
    from .media import _default_face_model, _default_voice_model, track_faces

    face_model = face_model or _default_face_model()
    label = name or (media_name(source) if not isinstance(source, (bytes, bytearray, memoryview)) else None)
    video = load_video(source, fps=fps, audio=True)
    tracks, frames, dropped = track_faces(video, face_model)
    duration = video.duration_s or frames / fps
    voice = None
    if video.audio is not None and video.audio.size:
        model = voice_model or _default_voice_model()
        voice = build_timeline(model, (video.audio, SAMPLE_RATE), window_s=window_s, hop_s=hop_s, **timeline_options)
        voice = _named(voice, label)
        duration = voice.duration_s
    if duration <= 0:
        raise MediaError(f"{label or 'the video'}: no frames and no audio; nothing to analyse")
    segments = voice.segments if voice is not None else (Segment(0.0, duration, None, 0.0, {}, False),)
    sightings = sorted((o for t in tracks for o in t.observations), key=lambda o: o.t or 0.0)
    spans = tuple(
        span(seg, sightings, face_model.labels, last=i == len(segments) - 1) for i, seg in enumerate(segments)
    )
    return MediaTimeline(spans, voice, tracks, duration, fps, frames, face_model.info.id, face_model.labels,
                         label, {"codec": video.codec, "tracks_dropped": dropped})


def span(seg: Segment, sightings: list[FacePrediction], face_labels: tuple[str, ...], *,
         last: bool = False) -> MediaSpan:
    """The span of one voice segment: the faces sampled in [start, end) (the last span keeps its end)."""
    from .fusion import fuse
    from .media import pool

    inside = [o for o in sightings
              if seg.start <= (o.t or 0.0) < seg.end or (last and (o.t or 0.0) >= seg.end)]
    face = pool(inside, face_labels)
    voice = None
    if seg.speech and seg.emotion is not None:
        voice = VoiceSpan(seg.emotion, seg.confidence, dict(seg.scores), seg.duration)
    fused = fuse(audio=voice, face=face) if voice is not None or face is not None else None
    return MediaSpan(seg.start, seg.end, seg.speech, voice, face, fused)


def _named(tl: Timeline, name: str | None) -> Timeline:
    import dataclasses

    return dataclasses.replace(tl, file=name)
