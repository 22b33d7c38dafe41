"""The earlier emotion backends whose clients the compatible routes serve: their labels and metadata.

Each backend answered a fixed set of emotions under its own names. A compatible route restricts the
loaded model to that set (``Recognizer.restrict``: the other outputs are masked and the scores
renormalise over the kept ones) and renames the answer the way that backend did.

>>> SER_WAV2VEC.own_name("fearful")
'fear'
>>> MUSIC_PLAYER.moods["sad"]
'uplifting'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import HTTPException

from ..recognizers.voice import Recognizer
from ..results.result import Prediction


@dataclass(frozen=True)
class EarlierBackend:
    """One earlier backend: emovox label -> that backend's own name, in the order it listed them."""

    title: str
    names: dict[str, str]
    moods: dict[str, str] = field(default_factory=dict)

    def labels(self, model: Recognizer) -> tuple[str, ...]:
        """The emovox labels of this backend's set that ``model`` predicts, in the backend's order."""
        return tuple(label for label in self.names if label in model.labels)

    def restrict(self, model: Recognizer) -> Recognizer:
        """``model`` answering only this backend's emotions (503 when it shares fewer than two)."""
        kept = self.labels(model)
        if len(kept) < 2:
            raise HTTPException(
                503,
                f"the loaded model ({model.info.id}, labels {', '.join(model.labels)}) predicts fewer "
                f"than two of the emotions {self.title}'s clients expect ({', '.join(self.names.values())})",
            )
        return model if kept == model.labels else model.restrict(kept)

    def own_name(self, label: str) -> str:
        return self.names.get(label, label)

    def scores(self, prediction: Prediction) -> list[tuple[str, float]]:
        """(own name, score) high to low."""
        return [(self.own_name(label), score) for label, score in prediction.top()]


SER_WAV2VEC = EarlierBackend(
    "SER_wav2vec",
    {"angry": "angry", "calm": "calm", "disgust": "disgust", "fearful": "fear", "happy": "happy",
     "neutral": "neutral", "sad": "sad", "surprised": "surprise"},
)
"""``POST /predict``: its page keys the results by exactly these eight names."""

MEL_CNN = EarlierBackend(
    "the mel-CNN backend",
    {"happy": "happy", "sad": "sad", "angry": "angry", "surprised": "surprised", "neutral": "neutral"},
)
"""``/api/classify-emotion(-upload)``: its app's ``Emotion`` type allows only these five."""

MUSIC_PLAYER = EarlierBackend(
    "the music-player backend",
    {name: name for name in
     ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")},
    moods={"neutral": "chill", "calm": "relaxing", "happy": "upbeat", "sad": "uplifting",
           "angry": "energetic", "fearful": "calming", "disgust": "neutral", "surprised": "exciting"},
)
"""``/predict-emotion/``, ``/predict-realtime/``, ``/emotions/``, ``/music-moods/``: its eight classes
and the music moods of its player (``EMOTION_TO_MUSIC_MOOD`` in its shared constants)."""

WAV2VEC2_GUIDE = EarlierBackend(
    "the Wav2Vec2 guide's backend",
    {"happy": "happy", "sad": "sad", "angry": "angry", "neutral": "neutral", "fearful": "fearful",
     "surprised": "surprised", "disgust": "disgusted"},
)
"""``POST /api/analyze``: its seven emotions, ``disgust`` spelled ``disgusted``."""

GUIDE_EMOTIONS: dict[str, dict[str, str]] = {
    "happy": {"label": "Happy", "color": "#22c55e", "emoji": "😊"},
    "sad": {"label": "Sad", "color": "#3b82f6", "emoji": "😢"},
    "angry": {"label": "Angry", "color": "#ef4444", "emoji": "😠"},
    "neutral": {"label": "Neutral", "color": "#6b7280", "emoji": "😐"},
    "fearful": {"label": "Fearful", "color": "#a855f7", "emoji": "😨"},
    "surprised": {"label": "Surprised", "color": "#f59e0b", "emoji": "😮"},
    "disgusted": {"label": "Disgusted", "color": "#84cc16", "emoji": "🤢"},
}
"""The guide's ``EMOTIONS`` table (label, colour, emoji per emotion), as its backend wrote it."""
