"""emovox: speech emotion recognition from any voice recording.

>>> import emovox
>>> model = emovox.load_model()            # doctest: +SKIP
>>> model.predict("clip.wav").emotion      # doctest: +SKIP
'happy'

Importing emovox is light: torch, transformers, fastapi and ray load only where they are needed.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from .defaults import MAX_DURATION_S
from .errors import AudioError, EmovoxError, MissingExtraError, ModelError
from .results.result import ModelInfo, Prediction, TextPrediction

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .analysis.analyze import Analyzer
    from .io.audio import AudioSource
    from .recognizers.words import TextRecognizer

__version__ = "0.1.0"
__all__ = [
    "AudioError",
    "EmovoxError",
    "MissingExtraError",
    "ModelError",
    "ModelInfo",
    "Prediction",
    "Segment",
    "TextPrediction",
    "Timeline",
    "__version__",
    "analyze",
    "analyze_media",
    "load_face_model",
    "load_model",
    "load_text_model",
]


def load_model(
    name_or_path: str | None = None,
    *,
    features: bool = True,
    max_duration_s: float | None = MAX_DURATION_S,
    labels: str | Sequence[str] | None = None,
    **backend_options,
) -> Analyzer:
    """Load a model: None for the built-in default, a registry name, a folder, or a hub id.

    ``labels``: answer only these of the model's labels (``"angry,happy,neutral,sad"``), the
    others masked and the scores renormalised (see ``Recognizer.restrict``).
    """
    from .analysis.analyze import Analyzer
    from .models.registry import load_backend

    backend = load_backend(name_or_path, **backend_options)
    model = Analyzer(backend, features=features, max_duration_s=max_duration_s)
    return model if labels is None else model.restrict(labels)


def load_text_model(path: str | None = None, *, max_length: int | None = None) -> TextRecognizer:
    """The built-in text emotion model (offline, ONNX, no torch), or a folder from ``emovox train-text``.

    ``emovox.load_text_model().predict("I'm so happy for you").emotion`` -> ``'happy'``.
    """
    from .recognizers.words import load_text_model as load

    return load(path, max_length=max_length)


@lru_cache(maxsize=4)
def _cached(name_or_path: str | None) -> Analyzer:
    """``load_model(name_or_path)`` once per process; its backend is shared with the default voice
    of ``analyze_media``."""
    from .analysis.analyze import Analyzer
    from .recognizers.voice import shared_backend

    return Analyzer(shared_backend(name_or_path))


def analyze(source: AudioSource, model: str | None = None):
    """One-call analysis with a cached model: ``emovox.analyze("clip.wav").emotion``; an image or a
    video answers a MediaPrediction (faces, voice, fused) as ``Recognizer.predict`` does."""
    return _cached(model).predict(source)


def load_face_model(folder: str | None = None):
    """The face detector (OpenCV, the ``face`` extra) and expression model (shipped ONNX):
    ``emovox.load_face_model().predict("photo.jpg")`` -> faces with a box and an emotion each."""
    from .models.face import load_face_model as load

    return load(folder)


def analyze_media(source, **options):
    """Faces (tracked over sampled frames) and the voice of an image or a video -> MediaPrediction.
    See ``emovox.analysis.media.analyze_media``."""
    from .analysis.media import analyze_media as run

    return run(source, **options)


def __getattr__(name: str):
    """``emovox.Timeline`` / ``emovox.Segment``, imported on first use."""
    if name in ("Timeline", "Segment"):
        from .analysis import timeline

        return getattr(timeline, name)
    raise AttributeError(f"module 'emovox' has no attribute {name!r}")
