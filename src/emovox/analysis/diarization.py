"""Who spoke when: speech regions, speaker embeddings on short windows, clustering, turns.

The data path: ``load_audio`` -> the project's VAD (``vad.speech_regions``) -> windows of
``window_s`` every ``hop_s`` inside each region -> GE2E embeddings (``models.speaker``, ONNX) ->
one voice if the raw embeddings are close together and split badly (``one_speaker``), else the recording's mean
embedding is removed and average-linkage agglomerative clustering on cosine distance is cut at
``threshold`` (or at ``num_speakers`` clusters when the caller knows it) -> each region's 0.1 s steps labelled by a
Viterbi pass over the window-to-speaker similarities (a speaker change costs ``switch_penalty``),
so turn boundaries fall at speaker changes inside a region as well as at pauses -> turns.

Overlapping speech is not detected: each step gets one speaker (see benchmarks/README.md for what
that costs on conversations with 10-20 % overlap).

>>> import numpy as np
>>> diarize((np.zeros(16000, np.float32), 16000))
[]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import OptionError
from ..io.audio import SAMPLE_RATE, AudioSource, load_audio
from ..signal.vad import speech_regions

WINDOW_S = 1.5
"""Seconds of audio per speaker embedding: shorter windows place changes finer but tell voices apart worse."""
HOP_S = 0.75
"""Seconds between embedding windows (50 % overlap)."""
THRESHOLD = 0.95
"""Average-linkage cosine distance (of centred embeddings) at which clusters stop merging (tuned on
the DEV conversations of benchmarks/bench_diarization.py, speakers disjoint from TEST)."""
ONE_SPEAKER = (0.2, 0.33, 1.2)
"""(sure, spread, separation): a recording is one voice when its windows' raw embeddings are on
average nearer than ``sure`` in cosine distance (``spread``), or nearer than ``spread`` while its
best split in two is not clean (``separation`` below the third value). In one voice the differences
that centring leaves are noise. DEV-tuned (benchmarks/bench_diarization.py)."""
STEP_S = 0.1
"""Resolution of the turn boundaries inside a speech region."""
SWITCH_PENALTY = 2.0
"""Cost of a speaker change inside a region, in units of one step's similarity."""
MAX_PAUSE_S = 1.5
"""``join_pauses``: one speaker's speech across a pause up to this long is one turn."""
MIN_SPEAKER_S = 1.0
"""A cluster with less speech than this is merged into the nearest other one (stray windows)."""


@dataclass(frozen=True)
class Turn:
    """One stretch of one speaker's speech: [start, end) seconds; speakers are "S1", "S2"... in order
    of first appearance."""

    start: float
    end: float
    speaker: str

    def to_dict(self) -> dict:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "speaker": self.speaker}


def diarize(
    source: AudioSource,
    num_speakers: int | None = None,
    *,
    threshold: float = THRESHOLD,
    one_speaker: tuple[float, float, float] = ONE_SPEAKER,
    window_s: float = WINDOW_S,
    hop_s: float = HOP_S,
    encoder=None,
) -> list[Turn]:
    """Turns of ``source`` (any audio source ``load_audio`` accepts), in time order.

    ``num_speakers``: the number of voices when known; otherwise it is estimated (``threshold``).
    ``encoder``: a ``models.speaker.SpeakerEncoder`` (the shipped one by default).
    """
    if num_speakers is not None and (isinstance(num_speakers, bool) or not isinstance(num_speakers, int)
                                     or num_speakers < 1):
        raise OptionError(f"num_speakers must be a whole number >= 1 or None, got {num_speakers!r}")
    if not (0 < hop_s <= window_s):
        raise OptionError(f"need 0 < hop_s <= window_s, got window_s={window_s!r}, hop_s={hop_s!r}")
    embedded = embed(load_audio(source), encoder=encoder, window_s=window_s, hop_s=hop_s)
    return assign(embedded, num_speakers=num_speakers, threshold=threshold, one_speaker=one_speaker)


@dataclass(frozen=True)
class Embedded:
    """A recording's speech regions, its embedding windows and their (windows, 256) embeddings."""

    regions: list[tuple[float, float]]
    windows: list[tuple[float, float]]
    embeddings: np.ndarray


def embed(signal: np.ndarray, *, encoder=None, window_s: float = WINDOW_S, hop_s: float = HOP_S) -> Embedded:
    """The costly half of ``diarize`` (VAD and embeddings) on a 16 kHz float32 signal."""
    regions = speech_regions(signal, SAMPLE_RATE)
    windows = [w for a, b in regions for w in plan_windows(a, b, window_s, hop_s)]
    if not windows:
        return Embedded(regions, [], np.zeros((0, 256), np.float32))
    if encoder is None:
        from ..models.speaker import load_speaker_encoder

        encoder = load_speaker_encoder()
    return Embedded(regions, windows, encoder.embed_windows(signal, windows))


def assign(
    embedded: Embedded,
    *,
    num_speakers: int | None = None,
    threshold: float = THRESHOLD,
    one_speaker: tuple[float, float, float] = ONE_SPEAKER,
) -> list[Turn]:
    """The cheap half of ``diarize``: clustering and turns (re-run it to try other thresholds)."""
    if not embedded.windows:
        return []
    raw, windows = embedded.embeddings, embedded.windows
    emb = center(raw)
    if num_speakers is None and is_one_voice(raw, one_speaker):
        num_speakers = 1  # centring would magnify the small differences inside one voice
    labels = cluster(emb, num_speakers=num_speakers, threshold=threshold)
    if num_speakers is None:
        labels = merge_small(emb, labels, np.array([b - a for a, b in windows]), MIN_SPEAKER_S)
    return turns_from_windows(embedded.regions, windows, emb, labels)


def center(emb: np.ndarray) -> np.ndarray:
    """Rows minus the recording's mean embedding, L2-normed again.

    GE2E embeddings are non-negative (ReLU) and share a large common part; removing the recording's
    mean leaves what tells its voices apart (benchmarks/bench_diarization.py prints DER with and
    without it on the DEV conversations, clustered to the true number of speakers).
    """
    if len(emb) < 2:
        return emb
    x = emb - emb.mean(axis=0)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def spread(raw: np.ndarray) -> float:
    """Mean cosine distance between the raw (uncentred) embeddings of a recording's windows."""
    if len(raw) < 2:
        return 0.0
    d = 1.0 - raw @ raw.T
    return float(d[np.triu_indices(len(raw), 1)].mean())


def is_one_voice(raw: np.ndarray, gate: tuple[float, float, float] = ONE_SPEAKER) -> bool:
    """The one-voice test of ``assign`` (see ``ONE_SPEAKER``)."""
    sure, most, split = gate
    s = spread(raw)
    return s < sure or (s < most and separation(raw) < split)


def separation(raw: np.ndarray) -> float:
    """How clean the best split in two is: the raw cosine distance between the two halves' mean
    embeddings over the mean distance inside a half (large for two voices in calm speech, about 1
    or less for one voice whose emotion varies)."""
    if len(raw) < 4:
        return 0.0
    labels = cluster(center(raw), num_speakers=2)
    halves = [raw[labels == k] for k in (0, 1)]
    a, b = (h.mean(axis=0) for h in halves)
    between = 1.0 - float(a @ b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12)
    within = sum(spread(h) * len(h) for h in halves) / len(raw)
    return between / max(within, 1e-9)


def plan_windows(start: float, end: float, window_s: float, hop_s: float) -> list[tuple[float, float]]:
    """Windows covering [start, end]: every ``hop_s``, the last aligned to the end.

    >>> plan_windows(0.0, 3.0, 1.5, 0.75)
    [(0.0, 1.5), (0.75, 2.25), (1.5, 3.0)]
    """
    if end - start <= window_s + 1e-6:
        return [(start, end)]
    n = int(np.ceil((end - start - window_s) / hop_s - 1e-6)) + 1
    starts = np.minimum(start + hop_s * np.arange(n), end - window_s)
    return [(float(a), float(a + window_s)) for a in starts]


def cluster(emb: np.ndarray, *, num_speakers: int | None = None, threshold: float = THRESHOLD) -> np.ndarray:
    """Average-linkage agglomerative clustering of L2-normed rows on cosine distance.

    Merges while the closest pair is nearer than ``threshold`` (or until ``num_speakers`` clusters).
    Returns a cluster index per row, numbered by first appearance.

    >>> e = np.array([[1, 0], [0.99, 0.14], [0, 1], [0.1, 0.99]], float)
    >>> cluster(e / np.linalg.norm(e, axis=1, keepdims=True), threshold=0.5).tolist()
    [0, 0, 1, 1]
    >>> cluster(e / np.linalg.norm(e, axis=1, keepdims=True), num_speakers=1).tolist()
    [0, 0, 0, 0]
    """
    n = len(emb)
    if n == 0:
        return np.zeros(0, np.int64)
    dist = 1.0 - np.clip(emb @ emb.T, -1.0, 1.0)
    np.fill_diagonal(dist, np.inf)
    size = np.ones(n)
    alive = np.ones(n, bool)
    members = [[i] for i in range(n)]
    target = num_speakers if num_speakers is not None else 1
    for _ in range(n - 1):
        if alive.sum() <= target:
            break
        flat = int(np.argmin(dist))
        i, j = divmod(flat, n)
        if num_speakers is None and dist[i, j] >= threshold:
            break
        # average linkage (Lance-Williams): d(i+j, k) = (|i| d(i,k) + |j| d(j,k)) / (|i| + |j|)
        merged = (size[i] * dist[i] + size[j] * dist[j]) / (size[i] + size[j])
        dist[i], dist[:, i] = merged, merged
        dist[i, i] = np.inf
        dist[j], dist[:, j] = np.inf, np.inf
        size[i] += size[j]
        alive[j] = False
        members[i].extend(members[j])
        members[j] = []
    labels = np.empty(n, np.int64)
    for k, i in enumerate(sorted((i for i in range(n) if alive[i]), key=lambda i: min(members[i]))):
        labels[members[i]] = k
    return labels


def merge_small(emb: np.ndarray, labels: np.ndarray, durations: np.ndarray, min_s: float) -> np.ndarray:
    """Give the windows of clusters with less than ``min_s`` of speech to the nearest large cluster."""
    ids = np.unique(labels)
    total = np.array([durations[labels == k].sum() for k in ids])
    big = ids[total >= min_s]
    if big.size == 0 or big.size == ids.size:
        return labels
    cent = _centroids(emb, labels, big)
    out = labels.copy()
    small = ~np.isin(labels, big)
    out[small] = big[np.argmax(emb[small] @ cent.T, axis=1)]
    return _renumber(out)


def turns_from_windows(
    regions: list[tuple[float, float]],
    windows: list[tuple[float, float]],
    emb: np.ndarray,
    labels: np.ndarray,
    step_s: float = STEP_S,
    switch_penalty: float = SWITCH_PENALTY,
) -> list[Turn]:
    """Label each region's steps with a speaker (Viterbi over window-to-centroid similarity) and join
    consecutive steps of one speaker into turns. A pause between regions ends a turn, so turns hold
    speech only (``join_pauses`` joins one speaker's turns across short pauses, for whole-turn
    emotion)."""
    ids = np.unique(labels)
    cent = _centroids(emb, labels, ids)
    sim = emb @ cent.T  # (windows, speakers)
    starts = np.array([a for a, _ in windows])
    ends = np.array([b for _, b in windows])
    turns: list[Turn] = []
    for a, b in regions:
        edges = np.linspace(a, b, max(1, int(round((b - a) / step_s))) + 1)
        lo, hi = edges[:-1], edges[1:]
        overlap = np.clip(np.minimum(hi[:, None], ends) - np.maximum(lo[:, None], starts), 0, None)
        weight = overlap.sum(axis=1, keepdims=True)
        scores = (overlap @ sim) / np.maximum(weight, 1e-9)
        path = _viterbi(scores, switch_penalty)
        k0 = 0
        for k in range(1, path.size + 1):
            if k == path.size or path[k] != path[k0]:
                turns.append(Turn(float(edges[k0]), float(edges[k]), str(int(ids[path[k0]]))))
                k0 = k
    first: dict[str, str] = {}
    for t in turns:
        first.setdefault(t.speaker, f"S{len(first) + 1}")
    return [Turn(t.start, t.end, first[t.speaker]) for t in turns]


def join_pauses(turns: list[Turn], max_pause_s: float = MAX_PAUSE_S) -> list[Turn]:
    """Consecutive turns of one speaker with at most ``max_pause_s`` between them become one.

    >>> join_pauses([Turn(0, 1, "a"), Turn(1.5, 2, "a"), Turn(2, 3, "b"), Turn(6, 7, "b")], 1.0)
    [Turn(start=0, end=2, speaker='a'), Turn(start=2, end=3, speaker='b'), Turn(start=6, end=7, speaker='b')]
    """
    out: list[Turn] = []
    for t in turns:
        if out and out[-1].speaker == t.speaker and t.start - out[-1].end <= max_pause_s:
            out[-1] = Turn(out[-1].start, t.end, t.speaker)
        else:
            out.append(t)
    return out


def _viterbi(scores: np.ndarray, penalty: float) -> np.ndarray:
    n, k = scores.shape
    best = scores[0].copy()
    back = np.zeros((n, k), np.int64)
    for t in range(1, n):
        switch = best.max() - penalty
        back[t] = np.where(best >= switch, np.arange(k), int(best.argmax()))
        best = np.maximum(best, switch) + scores[t]
    path = np.empty(n, np.int64)
    path[-1] = int(best.argmax())
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def _centroids(emb: np.ndarray, labels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    cent = np.stack([emb[labels == k].mean(axis=0) for k in ids])
    return cent / np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-9)


def _renumber(labels: np.ndarray) -> np.ndarray:
    order = {}
    for v in labels.tolist():
        order.setdefault(v, len(order))
    return np.array([order[v] for v in labels.tolist()], np.int64)


def diarization_error_rate(
    reference: list[tuple[float, float, str]],
    hypothesis: list[tuple[float, float, str]],
    collar: float = 0.25,
    resolution: float = 0.01,
) -> dict[str, float]:
    """DER = (missed + false alarm + confusion) / reference speech, NIST style.

    Segments are (start, end, speaker); ``collar`` seconds either side of every reference boundary
    are not scored; speakers are mapped one-to-one to maximise the matched time. Returns seconds of
    ``speech`` (scored reference), ``missed``, ``false_alarm``, ``confusion`` and ``der``.

    >>> ref = [(0.0, 10.0, "a"), (10.0, 20.0, "b")]
    >>> diarization_error_rate(ref, [(0.0, 10.0, "x"), (10.0, 20.0, "y")], collar=0)["der"]
    0.0
    >>> round(diarization_error_rate(ref, [(0.0, 20.0, "x")], collar=0)["der"], 3)
    0.5
    """
    segs = list(reference) + list(hypothesis)
    if not segs:
        return {"speech": 0.0, "missed": 0.0, "false_alarm": 0.0, "confusion": 0.0, "der": 0.0}
    n = int(np.ceil(max(e for _, e, _ in segs) / resolution)) + 1
    ref, ref_names = _activity(reference, n, resolution)
    hyp, hyp_names = _activity(hypothesis, n, resolution)
    scored = np.ones(n, bool)
    for s, e, _ in reference:
        for edge in (s, e):
            scored[max(0, int(round((edge - collar) / resolution))):int(round((edge + collar) / resolution))] = False
    ref, hyp = ref[:, scored], hyp[:, scored]
    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    matched = (ref.astype(np.int64) @ hyp.T.astype(np.int64)) if ref.size and hyp.size else np.zeros((0, 0))
    correct = _best_mapping(matched)
    speech = float(n_ref.sum()) * resolution
    missed = float(np.clip(n_ref - n_hyp, 0, None).sum()) * resolution
    false_alarm = float(np.clip(n_hyp - n_ref, 0, None).sum()) * resolution
    confusion = (float(np.minimum(n_ref, n_hyp).sum()) - correct) * resolution
    der = (missed + false_alarm + confusion) / speech if speech else float(missed + false_alarm + confusion > 0)
    return {"speech": speech, "missed": missed, "false_alarm": false_alarm, "confusion": confusion, "der": der}


def _activity(segments, n: int, resolution: float) -> tuple[np.ndarray, list[str]]:
    names = sorted({s for _, _, s in segments})
    act = np.zeros((len(names), n), bool)
    for s, e, who in segments:
        act[names.index(who), int(round(s / resolution)):int(round(e / resolution))] = True
    return act, names


def _best_mapping(matched: np.ndarray) -> float:
    """Largest total of a one-to-one assignment of rows to columns (Hungarian via scipy when it is
    installed, else exhaustive search, fine for the handful of speakers of a conversation)."""
    if matched.size == 0:
        return 0.0
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError:
        import itertools

        r, c = matched.shape
        if r > c:
            matched, (r, c) = matched.T, (c, r)
        return float(max(sum(matched[i, p[i]] for i in range(r)) for p in itertools.permutations(range(c), r)))
    rows, cols = linear_sum_assignment(-matched)
    return float(matched[rows, cols].sum())
