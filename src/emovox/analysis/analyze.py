"""The orchestrator: tell the medium of an input, run the recognizers on it, fuse, build the result.

``emovox.load_model()`` answers an ``Analyzer``: the voice ``Recognizer`` (audio) with what the voice
alone does not know: images and videos (faces, voice and fused; ``analysis.media``), transcripts
(``analysis.transcript``), timelines (``analysis.timeline``) and live streams (``analysis.live``).

>>> # model = emovox.load_model(); model.predict("talk.mp4").fused.emotion
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from ..defaults import LIVE_HOP_S, LIVE_WINDOW_S, TIMELINE_HOP_S, TIMELINE_WINDOW_S
from ..errors import EmovoxError
from ..io.audio import AudioSource
from ..recognizers.voice import Recognizer
from ..results.result import Prediction

if TYPE_CHECKING:
    from ..results.result_media import MediaPrediction
    from .conversation import Conversation
    from .live import StreamEvent
    from .timeline import Timeline


class Analyzer(Recognizer):
    """A voice model that also answers images, videos, transcripts, timelines and live streams.

    >>> # model = emovox.load_model(); model.predict("clip.wav").emotion
    """

    def __repr__(self) -> str:  # what users always saw: the voice model it runs
        return f"Recognizer({self.info.id}, labels={list(self.labels)})"

    def predict(
        self, source: AudioSource, *, features: bool | None = None, transcribe: bool = False, faces: bool = True,
    ) -> Prediction | MediaPrediction:
        """Analyze one recording (path, bytes, file object or (array, sample_rate)) -> ``Prediction``.

        An image, or a video with a picture, answers a ``MediaPrediction`` instead: ``.voice`` (this
        model on its sound), ``.faces`` (each with box, scores and track id), ``.fused`` (both;
        ``emovox.fusion``). Without the vision extra a video keeps its voice (a MissingExtraWarning
        names the pip command) and an image raises MissingExtraError. ``faces=False``: always the
        voice ``Prediction``. Audio is told from the first bytes, so audio files cost no probe.

        ``transcribe=True`` (English; the ``transcribe`` extra) also fills ``.transcript``, ``.text``
        (the words' emotion) and ``.fused`` (voice and words together; ``emovox.fusion``).

        >>> # p = model.predict("talk.mp4"); p.voice.emotion, p.faces[0].box, p.fused.emotion
        """
        media, source = self._early(source, faces=faces, features=features, transcribe=transcribe)
        if media is not None:
            return media
        prepared = self._prepare(source)
        prediction = self._run([prepared], features)[0]
        if not transcribe:
            return prediction
        from .transcript import add_words

        return add_words(prediction, prepared.signal)

    def iter_predict(self, sources: Iterable[AudioSource], *, faces: bool = True,
                     **options) -> Iterator[Prediction | MediaPrediction | EmovoxError]:
        """Like ``predict_many``, yielding results in input order as batches finish; images and videos
        as in ``predict`` (``faces=False``: always the voice). ``options``: ``batch_size`` (16),
        ``features``, ``errors`` ("raise"; "return": a bad input yields its error in its place)."""
        return self._iter(sources, **options, early={"faces": faces, "features": options.get("features")})

    def timeline(
        self, source: AudioSource, *, window_s: float = TIMELINE_WINDOW_S, hop_s: float = TIMELINE_HOP_S,
        **options,
    ) -> Timeline:
        """Emotion over time for a recording of any length: speech segments with emotions, and
        non-speech segments with none. Options: batch_size, switch_penalty, vad, progress, adapt
        ("auto": adapt to the recording's own speech once it has 20 windows, about 30 s; True; False).
        See ``emovox.analysis.timeline.build_timeline``."""
        from .timeline import build_timeline

        return build_timeline(self, source, window_s=window_s, hop_s=hop_s, **options)

    def conversation(
        self, source: AudioSource, *, num_speakers: int | None = None, window_s: float = TIMELINE_WINDOW_S,
        **options,
    ) -> Conversation:
        """Who spoke when and what each of them felt: emotion segments per speaker turn, a summary per
        speaker and one for the whole. Options: adapt (True: each speaker with enough speech is the
        model's adaptation source), batch_size, max_duration_s. See
        ``emovox.analysis.conversation.build_conversation``."""
        from .conversation import build_conversation

        return build_conversation(self, source, num_speakers=num_speakers, window_s=window_s, **options)

    def stream(
        self, chunks: Iterable[np.ndarray], *, window_s: float = LIVE_WINDOW_S, hop_s: float = LIVE_HOP_S,
        **options,
    ) -> Iterator[StreamEvent]:
        """Live analysis of PCM chunks (float32 or int16, 16 kHz mono): yields speech_start,
        a result every hop, and speech_end events. See ``emovox.analysis.live.stream_events``."""
        from .live import stream_events

        return stream_events(self, chunks, window_s=window_s, hop_s=hop_s, **options)

    def _early(self, source: AudioSource, *, faces: bool = True,
               **options) -> tuple[MediaPrediction | None, AudioSource]:
        """(the MediaPrediction, source) for an image or a video with a picture, else (None, source):
        the source to decode as audio (a file object that cannot seek comes back read into memory)."""
        if not faces or isinstance(source, tuple):
            return None, source
        from .media import predict_media, probe

        kind, source = probe(source)
        return (predict_media(self, source, kind, **options) if kind else None), source
