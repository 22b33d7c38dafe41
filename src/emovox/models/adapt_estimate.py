"""Where a source of recordings sits, without assuming its emotion mix (numpy only).

``Recognizer.adapt`` scores clips with a head trained on features centred per training corpus, so it
needs the source's offset: where the source's features would be centred if it held the training mix
of emotions. Plain centring takes the source's mean, which is right only for such a mix: a source of
one emotion ("this week's complaint calls") is pulled to the middle and its emotion is lost.

A linear head sees an offset ``o`` only through ``o @ P`` (``P``: the head's projection), so the
estimate works in the head's output space: ``u = x @ P`` (D dims, the logits before bias). There each
clip is modelled as ``u = beta + m_k + e``: the source's offset ``beta``, the centroid ``m_k`` of its
emotion ``k`` (drawn with the source's mix ``pi``), and within-class noise ``e ~ N(0, S_w)``. Training
gives ``m_k`` and ``S_w`` (features centred per corpus) and a prior on offsets,
``beta ~ N(beta0, S_o)``: ``beta0`` is the training corpora's mean (no adaptation) and ``S_o`` the
spread of the speakers' class-balanced means around it (``AdaptStats``).

``estimate`` is MAP-EM over (``beta``, ``pi``) with a Dirichlet prior on ``pi`` (Saerens et al. 2002
for the mix, a Gaussian mean shift for the offset), started from no adaptation, from plain centring
and from every one-class explanation, keeping the highest posterior. A mixed source is spread over
several centroids, which fixes ``beta``; a one-emotion source is one cluster, which every one-class
explanation fits equally well, so the offset prior picks the one nearest to no adaptation, and the
clips keep their emotion. With few clips the prior also shrinks the offset toward no adaptation.
``source_centre(..., "safe")`` goes one step further: when the estimated mix is one-sided
(``ONE_SIDED``) it keeps the un-adapted model (LOCO: the one-class explanation was still wrong for
some one-emotion sources; ``benchmarks/results/loco/README.md``, "Safe adaptation").

>>> rng = np.random.default_rng(0)
>>> m = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0], [0.0, -3.0]])
>>> stats = AdaptStats(m, np.eye(2), np.zeros(2), 4 * np.eye(2), np.full(4, 0.25))
>>> offset = np.array([2.0, -1.0])
>>> mixed = offset + m[rng.integers(0, 4, 200)] + rng.normal(size=(200, 2))
>>> np.round(estimate(mixed, stats).offset, 0).tolist()
[2.0, -1.0]
>>> one = m[0] + rng.normal(size=(60, 2))  # all class 0, no offset
>>> int(np.argmax(estimate(one, stats).mix))
0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DEFAULT_METHOD", "METHODS", "SOFT_SHARPEN", "SOFT_WEIGHT", "AdaptStats", "Estimate", "adapt_stats",
           "centre_for", "estimate", "gate_weight", "mix_offset", "soft_combine", "source_centre"]

METHODS = ("safe", "soft", "centre", "gate", "none")
"""``safe``: MAP-EM over offset and mix (default); ``soft``: as ``safe`` where the mix is one-sided,
elsewhere the main and the adapted head's probabilities mixed (``SOFT_WEIGHT``), the adapted head at
the offset the main head's answers imply (``mix_offset``; needs the main head's probabilities of the
source's clips); ``centre``: the source's mean (the training mix assumed); ``gate``: centring shrunk
toward none as the un-adapted answers get one-sided; ``none``."""

DEFAULT_METHOD = "safe"
"""What ``Recognizer.adapt`` and every default adaptation (batch, timeline, conversation, stream,
profiles) use."""

SOFT_WEIGHT = 0.4
"""``soft``: the adapted head's share of the probabilities (its errors on a source are bounded by it)."""

SOFT_SHARPEN = 2.0
"""``soft``: the main head's probabilities are raised to this power (and renormalised) in ``mix_offset``."""

ONE_SIDED = 0.7
"""``safe`` keeps the un-adapted model when the estimated mix gives one emotion more than this share:
the offset of a one-sided source is not identifiable (every one-class explanation fits it), and its
clips are best left as the un-adapted model scores them."""

STATS_KEYS = ("adapt_centroids", "adapt_within", "adapt_origin", "adapt_spread", "adapt_prior")


@dataclass(frozen=True)
class AdaptStats:
    """Training statistics in the head's output space (D dims) for K classes."""

    centroids: np.ndarray  # (K, D) class means of the corpus-centred training features
    within: np.ndarray  # (D, D) within-class covariance
    origin: np.ndarray  # (D,) the offset of no adaptation: the mean of the training corpora's means
    spread: np.ndarray  # (D, D) covariance of source offsets around origin (per speaker, class-balanced)
    prior: np.ndarray  # (K,) the training mix of the classes

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays under the names ``adapted.npz`` stores them with."""
        return dict(zip(STATS_KEYS, (self.centroids, self.within, self.origin, self.spread, self.prior)))

    @classmethod
    def from_arrays(cls, z) -> AdaptStats | None:
        """From an ``adapted.npz`` (None when it holds no statistics: an older file)."""
        if not all(k in z for k in STATS_KEYS):
            return None
        return cls(*(np.asarray(z[k], dtype=np.float64) for k in STATS_KEYS))


@dataclass(frozen=True)
class Estimate:
    """A source's offset in the head's output space, its estimated mix and how it was found."""

    offset: np.ndarray  # (D,)
    mix: np.ndarray  # (K,) estimated share of each class (empty for centre / none)
    method: str
    weight: float  # how far from no adaptation toward plain centring, along that line (1 = centring)


def _ridge(cov: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    cov = np.asarray(cov, dtype=np.float64)
    return cov + eps * (np.trace(cov) / len(cov) + 1e-12) * np.eye(len(cov))


def adapt_stats(U: np.ndarray, y: np.ndarray, corpus, speaker, classes: int) -> AdaptStats:
    """Statistics from training clips already projected to the head's output space: ``U`` (N, D) =
    raw pooled features @ projection, ``y`` their class indices (< classes), ``corpus`` and ``speaker``
    their names. Centroids and within-class covariance from the features centred on each corpus' mean
    (what the adapted head is trained on); the offset spread from each speaker's class-balanced mean."""
    U = np.asarray(U, dtype=np.float64)
    y, corpus, speaker = np.asarray(y), np.asarray(corpus), np.asarray(speaker)
    names = np.unique(corpus)
    means = {c: U[corpus == c].mean(axis=0) for c in names}
    centred = U - np.stack([means[c] for c in corpus])
    D = U.shape[1]
    centroids = np.zeros((classes, D))
    prior = np.zeros(classes)
    for k in range(classes):
        if (y == k).any():
            centroids[k] = centred[y == k].mean(axis=0)
            prior[k] = (y == k).mean()
    resid = centred - centroids[y]
    within = _ridge(resid.T @ resid / max(len(U) - classes, 1))
    origin = np.mean([means[c] for c in names], axis=0)
    offsets = []
    for s in np.unique(speaker):
        sel = speaker == s
        offsets.append(np.mean([(U[sel & (y == k)] - centroids[k]).mean(axis=0) for k in np.unique(y[sel])], axis=0))
    dev = np.asarray(offsets) - origin
    spread = _ridge(dev.T @ dev / max(len(dev) - 1, 1) if len(dev) > 1 else within)
    return AdaptStats(centroids, within, origin, spread, prior / max(prior.sum(), 1e-12))


def _log_gauss(U: np.ndarray, means: np.ndarray, prec: np.ndarray) -> np.ndarray:
    """(N, K) log N(u_i; means_k, prec^-1) up to the constant shared by every k."""
    d = U[:, None, :] - means[None]
    return -0.5 * np.einsum("nkd,de,nke->nk", d, prec, d)


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    m = a.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def estimate(U: np.ndarray, stats: AdaptStats, *, alpha: float = 1.0, spread_scale: float = 1.0,
             iters: int = 100) -> Estimate:
    """MAP-EM estimate of a source's offset and mix from its clips ``U`` (N, D) in the head's output
    space. ``alpha``: the Dirichlet concentration on the mix (1: flat; below 1 favours few classes);
    ``spread_scale`` multiplies the offset prior's covariance (larger: trusts the source more)."""
    U = np.asarray(U, dtype=np.float64)
    m, K = stats.centroids, len(stats.centroids)
    present = stats.prior > 0
    W = np.linalg.inv(stats.within)
    Op = np.linalg.inv(_ridge(stats.spread * spread_scale))
    n = len(U)
    A = np.linalg.inv(n * W + Op)
    log_prior_pi = np.where(present, 0.0, -np.inf)
    mean = U.mean(axis=0)

    def objective(beta, pi):
        with np.errstate(divide="ignore"):
            lp = np.log(pi) + log_prior_pi
        ll = _logsumexp(lp[None] + _log_gauss(U - beta, m, W), axis=1).sum()
        d = beta - stats.origin
        dirichlet = (alpha - 1) * np.log(np.clip(pi[present], 1e-12, None)).sum()
        return ll - 0.5 * d @ Op @ d + dirichlet

    def run(beta, pi):
        best = (-np.inf, beta, pi)
        for _ in range(iters):
            with np.errstate(divide="ignore"):
                lp = np.log(pi) + log_prior_pi
            logr = lp[None] + _log_gauss(U - beta, m, W)
            r = np.exp(logr - logr.max(axis=1, keepdims=True))
            r /= r.sum(axis=1, keepdims=True)
            counts = r.sum(axis=0) + (alpha - 1) * present
            pi = np.clip(counts, 0, None)
            pi = pi / pi.sum() if pi.sum() > 0 else stats.prior.copy()
            beta = A @ (W @ (U - r @ m).sum(axis=0) + Op @ stats.origin)
            value = objective(beta, pi)
            if value <= best[0] + 1e-9:
                break
            best = (value, beta, pi)
        return best

    starts = [(stats.origin, stats.prior), (mean, stats.prior)]
    for k in np.flatnonzero(present):
        one = np.full(K, 0.02 / K) * present
        one[k] = 1.0
        starts.append((mean - m[k], one / one.sum()))
    value, beta, pi = max((run(b.copy(), p.copy()) for b, p in starts), key=lambda t: t[0])
    return Estimate(beta, pi, "safe", _weight(beta, mean, stats.origin))


def _weight(beta: np.ndarray, mean: np.ndarray, origin: np.ndarray) -> float:
    d = mean - origin
    return float(np.clip((beta - origin) @ d / max(d @ d, 1e-12), -1.0, 2.0))


def gate_weight(probs: np.ndarray) -> float:
    """The probe's entropy gate: ``clip((H - 0.5) / 0.5, 0, 1)`` with H the entropy of the mean
    un-adapted probabilities (N, K) over log K: 1 for a balanced source, 0 for a one-sided one."""
    p = np.clip(np.asarray(probs, dtype=np.float64).mean(axis=0), 1e-12, None)
    p = p / p.sum()
    h = float(-(p * np.log(p)).sum() / np.log(len(p)))
    return float(np.clip((h - 0.5) / 0.5, 0.0, 1.0))


def mix_offset(U: np.ndarray, responsibilities: np.ndarray, stats: AdaptStats, sharpen: float = 1.0) -> np.ndarray:
    """The offset of a source's clips ``U`` (N, D, head output space) given each clip's class
    probabilities (N, K, the adapted head's classes) from a model that does not need the offset (the
    main head): ``mean_i(u_i - sum_k q_ik m_k)``, with ``q`` the probabilities raised to ``sharpen`` and
    renormalised. A one-emotion source the main head recognises keeps its class (the offset removes
    only the domain); a mixed one gets about plain centring."""
    q = np.clip(np.asarray(responsibilities, dtype=np.float64), 0.0, None) ** sharpen
    q = q / np.clip(q.sum(axis=1, keepdims=True), 1e-12, None)
    return (np.asarray(U, dtype=np.float64) - q @ stats.centroids).mean(axis=0)


def soft_combine(main: np.ndarray, adapted: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) * main + weight * adapted``: probabilities (N, K) of the main head and of the
    adapted head, mixed (the adapted head's errors on a one-emotion source are bounded by ``weight``)."""
    return (1.0 - weight) * np.asarray(main, dtype=np.float64) + weight * np.asarray(adapted, dtype=np.float64)


def centre_for(X: np.ndarray, projection: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """A feature-space centre ``c`` with ``c @ projection == offset``, the closest to the mean of ``X``
    (N, F): what ``Adapted`` subtracts so that the head sees the estimated offset."""
    P = np.asarray(projection, dtype=np.float64)
    mean = np.asarray(X, dtype=np.float64).mean(axis=0)
    gap = np.asarray(offset, dtype=np.float64) - mean @ P
    return (mean + P @ np.linalg.lstsq(P.T @ P, gap, rcond=None)[0]).astype(np.float32)


def source_centre(X: np.ndarray, projection: np.ndarray, stats: AdaptStats | None, method: str = "safe",
                  probs_at=None, main_probs=None, **options) -> tuple[np.ndarray, dict]:
    """The feature-space centre to subtract from a source's clips ``X`` (N, F raw pooled features), and
    what was done (``{"method", "weight", "mix", "applied"}``; ``applied`` False: keep the un-adapted
    model, as ``safe`` does for a source whose estimated mix is one-sided, see ``ONE_SIDED``). ``probs_at(centre) -> (N, K)`` probabilities of the
    source's clips (needed by ``gate``); ``main_probs`` (N, K) the main head's probabilities of the
    source's clips (needed by ``soft``, whose record also carries ``"share": SOFT_WEIGHT``, the adapted
    head's share of the probabilities); ``options`` go to ``estimate``. Without statistics (an ``adapted.npz`` from before
    they were stored) ``safe``, ``soft`` and ``gate`` fall back to plain centring, and say so under
    ``"fallback"``."""
    if method not in METHODS:
        raise ValueError(f"unknown adaptation method {method!r}; known: {', '.join(METHODS)}")
    X = np.asarray(X, dtype=np.float64)
    P = np.asarray(projection, dtype=np.float64)
    if method == "centre" or (stats is None and method != "none"):
        info = {"method": "centre", "weight": 1.0}
        if method != "centre":
            info["fallback"] = f"{method} needs adaptation statistics, which this model's adapted head lacks"
        return X.mean(axis=0).astype(np.float32), info
    if stats is None:
        raise ValueError("method 'none' needs adaptation statistics, which this model's adapted head lacks")
    mean = X.mean(axis=0) @ P
    if method == "none":
        return centre_for(X, P, stats.origin), {"method": "none", "weight": 0.0}
    if method == "gate":
        if probs_at is None:
            raise ValueError("method 'gate' needs probs_at (the un-adapted probabilities)")
        w = gate_weight(probs_at(centre_for(X, P, stats.origin)))
        return centre_for(X, P, stats.origin + w * (mean - stats.origin)), {"method": "gate", "weight": w}
    if method == "soft" and (main_probs is None or np.shape(main_probs) != (len(X), len(stats.centroids))):
        raise ValueError("method 'soft' needs the main head's probabilities of the source's clips "
                         f"({len(X)} x {len(stats.centroids)})")
    one_sided = options.pop("one_sided", ONE_SIDED)
    est = estimate(X @ P, stats, **options)
    info = {"method": method, "weight": round(est.weight, 4), "mix": [round(float(p), 4) for p in est.mix]}
    if est.mix.max() > one_sided:
        return centre_for(X, P, stats.origin), {**info, "applied": False, "weight": 0.0,
                                                "reason": "one-sided mix: the un-adapted model is kept"}
    if method == "soft":
        offset = mix_offset(X @ P, main_probs, stats, SOFT_SHARPEN)
        return centre_for(X, P, offset), {**info, "applied": True, "weight": round(_weight(offset, mean, stats.origin), 4),
                                          "share": SOFT_WEIGHT}
    return centre_for(X, P, est.offset), {**info, "applied": True}
