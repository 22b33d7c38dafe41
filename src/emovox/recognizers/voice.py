"""The voice recognizer: decode -> preprocess -> forward -> postprocess, for one clip or many.

It knows audio only. Images, videos, transcripts, timelines and live streams are the analysis layer's
(``emovox.analysis.analyze.Analyzer``, what ``emovox.load_model()`` answers), built on this class.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from ..defaults import MAX_DURATION_S, MIN_REFERENCE_CLIPS, check_batch_size, check_max_duration
from ..errors import AudioError, EmovoxError, OptionError
from ..io.audio import SAMPLE_RATE, AudioSource, is_silent, load_audio, source_name
from ..models.adapt_estimate import DEFAULT_METHOD, soft_combine
from ..models.base import Backend, Front, LabelSubset, softmax
from ..results.result import Prediction, Reference

__all__ = ["Recognizer", "shared_backend", "softmax"]


@dataclass(frozen=True)
class _Prepared:
    """A decoded clip cut into model-sized windows."""

    name: str | None
    signal: np.ndarray
    windows: list[np.ndarray]
    weights: np.ndarray  # seconds of real audio per window
    silent: bool


class Recognizer(Front):
    """A loaded voice model with the four-hop data path around it (audio in, ``Prediction`` out).

    >>> # model = emovox.load_model(); model.predict("clip.wav").emotion
    """

    def __init__(
        self,
        backend: Backend,
        *,
        features: bool = True,
        max_duration_s: float | None = MAX_DURATION_S,
    ) -> None:
        self.backend = backend
        self.features = features
        self.max_duration_s = check_max_duration(max_duration_s)

    def restrict(self, labels: str | Sequence[str]) -> Recognizer:
        """The same model answering only ``labels`` (``"angry,happy,neutral,sad"`` or a list):
        the other outputs are masked and the scores renormalise over the kept ones. Shares the
        loaded model; raises ModelError for an unknown, repeated or single label."""
        backend = LabelSubset(self.backend, labels)
        return type(self)(backend, features=self.features, max_duration_s=self.max_duration_s)

    def adapt(self, sources: Iterable[AudioSource] | Reference, *, method: str = DEFAULT_METHOD,
              to: str = "reference") -> Recognizer:
        """The same model scoring every clip relative to ``sources``: a fair sample of the recordings
        you analyse (at least 20 non-silent clips; more, from several speakers and moods, is better),
        or a ``Reference`` that ``reference(...)`` computed earlier.

        Models trained with the recipe setting ``adapt_head`` (the built-in one is) carry a second head,
        fitted on features centred per training corpus; this subtracts your recordings' offset instead.
        It helps on audio unlike the training corpora (another language, channel or set-up).
        ``method="safe"`` estimates the offset together with the recordings' emotion mix and keeps
        the un-adapted model when that mix is one-sided (all angry, say); ``"soft"`` keeps that gate and
        otherwise mixes the plain and the adapted scores (0.6 / 0.4); ``"centre"`` subtracts their
        plain mean (right only for a balanced mix). ``info.extra["adapted"]`` records what was done,
        and every prediction carries it as ``adapted``; ``to`` names the source there ("batch",
        "recording", "session", "profile", ...).
        Raises ModelError for a model without that head, EmovoxError for too few clips; bad files
        raise as in ``predict``.
        """
        from ..models.adapted import Adapted

        base, labels = self._adaptable()
        reference = sources if isinstance(sources, Reference) else self.reference(sources, method=method)
        backend: Backend = Adapted(base, reference, to=to)
        if labels is not None:
            backend = LabelSubset(backend, labels)
        return type(self)(backend, features=self.features, max_duration_s=self.max_duration_s)

    def reference(self, sources: Iterable[AudioSource], *,
                  errors: Literal["raise", "skip"] = "raise", method: str = DEFAULT_METHOD) -> Reference:
        """The centre of ``sources``' pooled features (silent clips left out) that ``adapt`` subtracts:
        ``method`` "safe" (offset and emotion mix estimated together), "soft" (as safe, with the plain
        model's answers on ``sources`` too) or "centre" (their mean).

        ``errors="skip"`` leaves out files that cannot be read (listed in ``Reference.skipped``)
        instead of raising. Raises EmovoxError when fewer than 20 non-silent clips remain.
        """
        if errors not in ("raise", "skip"):
            raise OptionError(f"errors must be 'raise' or 'skip', got {errors!r}")
        _check_method(method)
        base, _ = self._adaptable()
        from ..models.adapted import forward_pooled

        means, probs, skipped = [], [], []
        for source in sources:
            try:
                p = self._prepare(source)
            except EmovoxError:
                if errors == "raise":
                    raise
                skipped.append(source_name(source))
                continue
            if p.silent:
                skipped.append(source_name(source))
                continue
            if method == "soft":  # the main head's answers too, from the same encoding
                logits, pooled = forward_pooled(base, p.windows)
                probs.append(np.average(softmax(logits), axis=0, weights=p.weights))
            else:
                pooled = base.pooled(p.windows)
            means.append(np.average(pooled, axis=0, weights=p.weights))
        return _reference(base, means, method, tuple(skipped), probs or None)

    def adaptable(self) -> bool:
        """Whether ``adapt`` can work on this model (it has an adapted head); an adapted recognizer is
        adaptable again (``adapt`` starts from the plain model)."""
        try:
            self._adaptable()
        except EmovoxError:
            return False
        return True

    @property
    def adapted(self) -> dict | None:
        """What this recognizer was adapted to (``adapt``'s record, as every prediction carries it), or None."""
        return self.info.extra.get("adapted")

    def score_windows(self, signals: Sequence[np.ndarray], *, pooled: bool = False
                      ) -> tuple[list[np.ndarray | None], list[np.ndarray | None]]:
        """Each float32 16 kHz window's probabilities over ``labels`` (None when silent) and, with
        ``pooled`` on an adaptable, not yet adapted model, its pooled features (else None) from the same
        encoding: what a timeline keeps to adapt to its own windows afterwards (``adapt_pooled``)
        without encoding them twice."""
        prepared = [self._prepare_signal(np.asarray(s, np.float32), None) for s in signals]
        windows = [w for p in prepared if not p.silent for w in p.windows]
        features = None
        if not windows:
            logits = np.zeros((0, len(self.labels)))
        elif pooled and self.adapted is None and self.adaptable():
            from ..models.adapted import forward_pooled

            base, _ = self._adaptable()
            logits, features = forward_pooled(base, windows)  # one encoding for both (models.native)
            logits = logits[:, self._columns(base)]
        else:
            logits = self.backend.forward(windows)
        probs = softmax(logits) if windows else logits
        out_probs: list[np.ndarray | None] = []
        out_pooled: list[np.ndarray | None] = []
        row = 0
        for p in prepared:
            if p.silent:
                out_probs.append(None)
                out_pooled.append(None)
                continue
            n = len(p.windows)
            clip = np.average(probs[row : row + n], axis=0, weights=p.weights)
            out_probs.append(clip / clip.sum())
            out_pooled.append(None if features is None else  # float32: a timeline holds one per speech window
                              np.average(features[row : row + n], axis=0, weights=p.weights).astype(np.float32))
            row += n
        return out_probs, out_pooled

    def adapt_pooled(self, pooled: np.ndarray, *, to: str, method: str = DEFAULT_METHOD, probs: np.ndarray | None = None
                     ) -> tuple[Recognizer, np.ndarray | None]:
        """This recognizer adapted to clips given by their pooled features (N, F) as ``score_windows``
        returned them, and those clips' probabilities under it (None when the safe estimate kept the
        un-adapted model). ``method="soft"`` also needs ``probs``: the same clips' probabilities over
        ``labels`` as ``score_windows`` returned them. Raises as ``adapt`` (ModelError: no adapted head;
        EmovoxError: fewer than 20)."""
        _check_method(method)
        base, _ = self._adaptable()
        pooled = np.asarray(pooled, dtype=np.float32).reshape(len(pooled), -1)
        main = None
        if method == "soft":
            if probs is None or len(probs) != len(pooled):
                raise OptionError("method 'soft' needs the clips' probabilities (probs) beside their pooled features")
            probs = np.asarray(probs, dtype=np.float64).reshape(len(pooled), -1)
            main = np.zeros((len(pooled), len(base.info.labels)))  # labels this recognizer masks: no share
            main[:, self._columns(base)] = probs
        reference = _reference(base, list(pooled), method, probs=None if main is None else list(main))
        centre = reference.mean
        adapted = self.adapt(reference, to=to)
        if not adapted.adapted.get("applied", True):  # the safe estimate kept the un-adapted model
            return adapted, None
        logits = base.adapted_head(pooled - np.asarray(centre, np.float32))[:, self._columns(base)]
        if method == "soft":  # as Adapted.forward mixes them (over this recognizer's labels)
            return adapted, soft_combine(probs / probs.sum(axis=1, keepdims=True), softmax(logits),
                                         reference.adaptation["share"])
        return adapted, softmax(logits)

    def _columns(self, base: Backend) -> np.ndarray:
        """Where this recognizer's labels sit among ``base``'s outputs (a label subset keeps some)."""
        return np.array([base.info.labels.index(label) for label in self.labels])

    def _adaptable(self) -> tuple[Backend, tuple[str, ...] | None]:
        """The backend adapt works on (below any label subset or earlier adaptation) and the kept labels."""
        from ..errors import ModelError
        from ..models.adapted import Adapted

        base, labels = self.backend, None
        if isinstance(base, LabelSubset):
            base, labels = base.inner, base.info.labels
        if isinstance(base, Adapted):
            base = base.inner
        if not callable(getattr(base, "pooled", None)) or getattr(base, "adapted_head", None) is None:
            raise ModelError(f"{self.info.id} ({type(base).__name__}) cannot be adapted: it has no adapted head "
                             "(train it with the recipe setting \"adapt_head\": true)")
        return base, labels

    # --- public API -------------------------------------------------------------------------
    def predict(self, source: AudioSource, *, features: bool | None = None) -> Prediction:
        """Analyze one recording (path, bytes, file object or (array, sample_rate)) -> ``Prediction``."""
        return self._run([self._prepare(source)], features)[0]

    def predict_many(
        self,
        sources: Iterable[AudioSource],
        *,
        batch_size: int = 16,
        features: bool | None = None,
        errors: Literal["raise", "return"] = "raise",
        **options,
    ) -> list:
        """Analyze many recordings, ``batch_size`` at a time; ``options`` go to ``iter_predict``
        (``faces`` on the model ``emovox.load_model`` answers: images and videos as in ``predict``).

        With ``errors="return"`` a bad input yields its error in its place instead of raising.
        """
        return list(self.iter_predict(sources, batch_size=batch_size, features=features, errors=errors, **options))

    def iter_predict(
        self,
        sources: Iterable[AudioSource],
        *,
        batch_size: int = 16,
        features: bool | None = None,
        errors: Literal["raise", "return"] = "raise",
    ) -> Iterator[Prediction | EmovoxError]:
        """Like predict_many, yielding results in input order as batches finish."""
        return self._iter(sources, batch_size=batch_size, features=features, errors=errors)

    def predict_signal(self, signal: np.ndarray, *, name: str | None = None, features: bool | None = None) -> Prediction:
        """Analyze float32 mono audio already at 16 kHz (used by timelines and streams)."""
        return self._run([self._prepare_signal(np.asarray(signal, np.float32), name)], features)[0]

    def predict_signals(self, signals: Iterable[np.ndarray], *, features: bool = False) -> list[Prediction]:
        """Analyze a batch of float32 mono 16 kHz arrays in one model call (timeline windows)."""
        return self._run([self._prepare_signal(np.asarray(s, np.float32), None) for s in signals], features)

    # --- the hops -----------------------------------------------------------------------------
    def _iter(self, sources: Iterable[AudioSource], *, batch_size: int = 16, features: bool | None = None,
              errors: Literal["raise", "return"] = "raise", early: dict | None = None) -> Iterator:
        """Results in input order, prepared audio run ``batch_size`` at a time; ``early``: the options
        of ``_early``."""
        check_batch_size(batch_size)
        if errors not in ("raise", "return"):
            raise OptionError("errors must be 'raise' or 'return'")
        pending: list = []
        for source in sources:
            try:
                answer, source = self._early(source, **(early or {}))
                pending.append(answer if answer is not None else self._prepare(source))
            except EmovoxError as exc:
                if errors == "raise":
                    raise
                pending.append(exc)
            if len(pending) >= batch_size:
                yield from self._run_mixed(pending, features)
                pending = []
        if pending:
            yield from self._run_mixed(pending, features)

    def _early(self, source: AudioSource, **options) -> tuple[object | None, AudioSource]:
        """(an answer, source) for an input answered before decoding it as audio, else (None, source).
        Audio has none; the analysis layer answers images and videos here."""
        return None, source

    def _prepare(self, source: AudioSource) -> _Prepared:
        signal = load_audio(source, max_duration_s=self.max_duration_s)
        name = source_name(source) if not isinstance(source, tuple) else None
        return self._prepare_signal(signal, name)

    def _prepare_signal(self, signal: np.ndarray, name: str | None) -> _Prepared:
        if signal.size == 0:
            raise AudioError("no audio samples")
        windows, weights = self._windows(signal)
        return _Prepared(name, signal, windows, weights, is_silent(signal))

    def _windows(self, signal: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """Cut to the backend's maximum, pad each piece to its minimum."""
        size = self.backend.max_samples or signal.size
        pieces = [signal[i : i + size] for i in range(0, signal.size, size)]
        if len(pieces) > 1 and pieces[-1].size < self.backend.min_samples:
            pieces[-2] = np.concatenate([pieces[-2], pieces.pop()])  # fold a short tail back in
        weights = np.array([p.size for p in pieces], dtype=np.float64) / SAMPLE_RATE
        padded = [
            np.pad(p, (0, self.backend.min_samples - p.size)) if p.size < self.backend.min_samples else p
            for p in pieces
        ]
        return padded, weights

    def _run_mixed(self, items: list, features: bool | None) -> Iterator:
        """Results in input order: prepared audio run in one batch, errors and media answers as they are."""
        good = [x for x in items if isinstance(x, _Prepared)]
        results = iter(self._run(good, features)) if good else iter(())
        for item in items:
            yield next(results) if isinstance(item, _Prepared) else item

    def _run(self, prepared: list[_Prepared], features: bool | None) -> list[Prediction]:
        want_features = self.features if features is None else features
        active = [p for p in prepared if not p.silent]
        windows = [w for p in active for w in p.windows]
        probs = softmax(self.backend.forward(windows)) if windows else np.zeros((0, len(self.labels)))
        out, row = [], 0
        for p in prepared:
            feats = _describe(p.signal) if want_features else None
            if p.silent:
                out.append(self._silent(p, feats))
                continue
            clip = probs[row : row + len(p.windows)]
            row += len(p.windows)
            out.append(self._postprocess(p, np.average(clip, axis=0, weights=p.weights), feats))
        return out

    def _postprocess(self, p: _Prepared, probs: np.ndarray, feats: dict | None) -> Prediction:
        probs = probs / probs.sum()
        best = int(np.argmax(probs))
        return Prediction(
            emotion=self.labels[best],
            confidence=float(probs[best]),
            scores={label: float(v) for label, v in zip(self.labels, probs)},
            duration_s=p.signal.size / SAMPLE_RATE,
            model=self.info.id,
            features=feats,
            file=p.name,
            adapted=self.info.extra.get("adapted"),
        )

    def _silent(self, p: _Prepared, feats: dict | None) -> Prediction:
        return Prediction(
            emotion=None,
            confidence=0.0,
            scores={},
            duration_s=p.signal.size / SAMPLE_RATE,
            model=self.info.id,
            features=feats,
            file=p.name,
            adapted=self.info.extra.get("adapted"),
            silent=True,
        )


def _check_method(method: str) -> None:
    from ..models.adapt_estimate import METHODS

    if method not in METHODS:
        raise OptionError(f"method must be one of {', '.join(METHODS)}, got {method!r}")


def _reference(base: Backend, pooled: list[np.ndarray], method: str, skipped: tuple[str, ...] = (),
               probs: list[np.ndarray] | None = None) -> Reference:
    """The ``Reference`` of clips given by their pooled features (and, for ``soft``, the main head's
    probabilities over the model's labels): what ``reference`` and ``adapt_pooled`` both build
    (EmovoxError for fewer than ``MIN_REFERENCE_CLIPS`` clips)."""
    if len(pooled) < MIN_REFERENCE_CLIPS:
        return Reference(np.zeros(0, np.float32), len(pooled), skipped)  # raises: too few clips
    centre, adaptation = base.adapted_head.centre(np.stack(pooled), method,
                                                  None if probs is None else np.stack(probs))
    return Reference(centre, len(pooled), skipped, adaptation)


@lru_cache(maxsize=4)
def shared_backend(name_or_path: str | None) -> Backend:
    """The backend of ``name_or_path`` (None: the built-in model) loaded once per process and shared
    by the default models (``emovox.analyze`` and the voice of ``emovox.analyze_media``)."""
    from ..models.registry import load_backend

    return load_backend(name_or_path)


def _describe(signal: np.ndarray) -> dict[str, float]:
    from ..signal.features import describe

    return describe(signal, SAMPLE_RATE)
