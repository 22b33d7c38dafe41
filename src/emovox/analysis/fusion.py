"""Late fusion: one emotion distribution from the voice, the words and the face, each result kept beside it.

>>> from emovox.results.result import TextPrediction
>>> voice = TextPrediction("happy", 0.8, {"happy": 0.8, "sad": 0.2})
>>> words = TextPrediction("sad", 0.6, {"happy": 0.4, "sad": 0.6})
>>> f = fuse(audio=voice, text=words, adaptive=False)
>>> f.emotion, round(f.scores["happy"], 2)
('happy', 0.6)

How (defaults in ``DEFAULT_WEIGHTS``, all settable per call):

- weight of a modality = its base weight (``weights``), times its confidence when ``adaptive``
  (the more certain modality counts more: the seed's "adaptive weight adjustment"); weights are
  then scaled to sum to 1.
- ``labels="union"``: every label of either model; a label a model lacks gets 0 from it (the voice's
  ``calm`` has no text counterpart). ``"intersection"``: only labels both have, each modality's scores
  renormalised over them first.
- with ``evidence`` (default), a face seen in few frames (``frames`` < ``FULL_FACE_FRAMES``) or a short
  utterance (``duration_s`` < ``FULL_VOICE_S``) counts proportionally less.
- fused score = sum over modalities of weight x score; the answer sums to 1.
- ``conflict`` is True when two modalities' top emotions differ and each is held with at least
  ``conflict_confidence``: a calm voice saying "I just lost my job" is flagged, not averaged away.
  ``disagreement`` is the total-variation distance of the two distributions (0 same, 1 disjoint);
  with three modalities, of the pair that disagrees most.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..results.result import ranked

DEFAULT_WEIGHTS: dict[str, float] = {"audio": 0.5, "text": 0.5, "face": 0.5}
CONFLICT_CONFIDENCE = 0.5
FULL_FACE_FRAMES = 4
"""A face seen in fewer sampled frames than this counts proportionally less (``evidence``)."""
FULL_VOICE_S = 1.5
"""A voice shorter than this many seconds counts proportionally less (``evidence``)."""
MODALITIES = ("audio", "text", "face")


@dataclass(frozen=True)
class FusedPrediction:
    """The fused distribution, which modalities went in with what weight, and each one's own result."""

    emotion: str | None
    confidence: float
    scores: dict[str, float]
    modalities: tuple[str, ...]
    weights: dict[str, float]
    conflict: bool = False
    disagreement: float = 0.0
    parts: dict[str, Any] = field(default_factory=dict)  # modality -> Prediction / TextPrediction

    def top(self, k: int | None = None) -> list[tuple[str, float]]:
        return ranked(self.scores, k)

    def agreement(self) -> dict[str, Any]:
        """How the modalities were weighed and whether they agree, with each one's own answer."""
        detail = self.to_dict()
        return {"weights": detail["weights"], "conflict": self.conflict,
                "disagreement": round(self.disagreement, 4), "per_modality": detail["per_modality"]}

    def to_dict(self, top_k: int | None = None) -> dict[str, Any]:
        return {
            "emotion": self.emotion,
            "confidence": self.confidence,
            "scores": dict(self.top(top_k)),
            "modalities": list(self.modalities),
            "weights": self.weights,
            "conflict": self.conflict,
            "disagreement": self.disagreement,
            "per_modality": {
                m: {"emotion": p.emotion, "confidence": p.confidence, "scores": dict(p.top(top_k))}
                for m, p in self.parts.items()
            },
        }


def fuse(
    audio=None,
    text=None,
    face=None,
    *,
    weights: dict[str, float] | None = None,
    adaptive: bool = True,
    evidence: bool = True,
    labels: Literal["union", "intersection"] = "union",
    conflict_confidence: float = CONFLICT_CONFIDENCE,
) -> FusedPrediction:
    """Fuse a voice ``Prediction``, a ``TextPrediction`` and/or a pooled face result (``FaceSummary``);
    a silent voice is left out.

    Raises ValueError when nothing usable is given or the weights are not usable.
    """
    parts = {m: p for m, p in (("audio", audio), ("text", text), ("face", face))
             if p is not None and p.emotion is not None and p.scores}
    if not parts:
        raise ValueError("nothing to fuse: give a voice prediction with speech, a text prediction and/or a face")
    if labels not in ("union", "intersection"):
        raise ValueError(f"labels must be 'union' or 'intersection', got {labels!r}")
    base = {**DEFAULT_WEIGHTS, **(weights or {})}
    unknown = set(base) - set(MODALITIES)
    if unknown or any(not w >= 0 for w in base.values()):
        raise ValueError(f"weights: give non-negative numbers for {', '.join(MODALITIES)}, got {base}")
    dists = _distributions(parts, labels)
    raw = {m: base[m] * (parts[m].confidence if adaptive else 1.0) * (_evidence(parts[m]) if evidence else 1.0)
           for m in parts}
    total = sum(raw.values())
    if total <= 0:
        raise ValueError(f"weights: the modalities given ({', '.join(parts)}) all have weight 0")
    w = {m: raw[m] / total for m in parts}
    names = list(dict.fromkeys(name for d in dists.values() for name in d))
    scores = {name: sum(w[m] * dists[m].get(name, 0.0) for m in parts) for name in names}
    best = max(scores, key=scores.get)
    disagreement, conflict = 0.0, False
    found = list(parts)
    for i, a in enumerate(found):
        for b in found[i + 1 :]:
            da, db = dists[a], dists[b]
            disagreement = max(disagreement, 0.5 * sum(abs(da.get(n, 0.0) - db.get(n, 0.0)) for n in names))
            conflict = conflict or (parts[a].emotion != parts[b].emotion
                                    and min(parts[a].confidence, parts[b].confidence) >= conflict_confidence)
    return FusedPrediction(
        emotion=best, confidence=scores[best], scores=scores, modalities=tuple(parts), weights=w,
        conflict=conflict, disagreement=disagreement, parts=parts,
    )


def _evidence(part: Any) -> float:
    """How much of a full observation ``part`` is: sampled face frames or seconds of voice (0-1]."""
    frames = getattr(part, "frames", None)
    if isinstance(frames, int) and frames > 0:
        return min(1.0, frames / FULL_FACE_FRAMES)
    duration = getattr(part, "duration_s", None)
    if isinstance(duration, (int, float)) and duration > 0:
        return min(1.0, duration / FULL_VOICE_S)
    return 1.0


def _distributions(parts: dict[str, Any], labels: str) -> dict[str, dict[str, float]]:
    if labels == "union" or len(parts) < 2:
        return {m: dict(p.scores) for m, p in parts.items()}
    shared = set.intersection(*(set(p.scores) for p in parts.values()))
    if not shared:
        raise ValueError("labels='intersection': the modalities share no label")
    out = {}
    for m, p in parts.items():
        kept = {n: s for n, s in p.scores.items() if n in shared}
        total = sum(kept.values())
        n = len(kept)
        out[m] = {k: (v / total if total > 0 else 1.0 / n) for k, v in kept.items()}
    return out
