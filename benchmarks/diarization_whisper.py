"""The emotion model's Whisper tiny.en encoder as a speaker embedding (issue 26, routes 8a/8b of
diarization_routes.py).

Per 1.5 s window, the built-in model's pooled encoder features (``NativeBackend.pooled``, the
statistics its adapted head scores), standardised and reduced by PCA to 512 dimensions (both fitted
once on the pool's "fit" speakers, no speaker labels used), then projected by LDA onto the
speaker-discriminant directions of the first ``d`` principal components. The LDA is fitted on the fit
speakers only (DEV halves of RAVDESS, ASED, EmoDB and all of TurEV-DB); for a DEV conversation it is
refitted without the conversation's own speakers, as the NAP route is; TEST speakers are never used.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh

PCA_DIMS = 512
LDA_PCA = (64, 128, 256, 512)  # the d principal components the LDA sees
SHRINK = 1e-3  # within-speaker scatter + SHRINK x its mean eigenvalue, for a stable inverse


def norm(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def load_whisper(threads: int = 2):
    """The built-in emotion model's native backend (what exposes ``pooled``)."""
    import emovox

    return emovox.load_model(threads=threads).backend


def whisper_windows(backend, signal: np.ndarray, windows: list[tuple[float, float]], rate: int) -> np.ndarray:
    """Pooled Whisper encoder features (windows, F) of ``signal``'s (start, end) windows in seconds."""
    if not windows:
        return np.zeros((0, backend.adapted_head.dims), np.float32)
    return backend.pooled([signal[int(round(a * rate)) : int(round(z * rate))] for a, z in windows])


class WhisperLDA:
    """Standardise + PCA (fitted once on the fit rows), then a cross-fitted LDA per excluded set."""

    def __init__(self, feats: np.ndarray, speaker: np.ndarray, fit: set) -> None:
        from sklearn.decomposition import PCA

        rows = np.isin(speaker, sorted(fit))
        x = feats[rows].astype(np.float64)
        self.mean, self.std = x.mean(0), x.std(0) + 1e-6
        self.pca = PCA(PCA_DIMS, svd_solver="randomized", random_state=0).fit((x - self.mean) / self.std)
        z = self.pca.transform((x - self.mean) / self.std)
        self.fit = set(fit)
        self.stats = {}  # speaker -> (n, sum, scatter about its mean) in PCA space
        for spk in sorted(set(speaker[rows])):
            s = z[speaker[rows] == spk]
            c = s - s.mean(0)
            self.stats[spk] = (len(s), s.sum(0), c.T @ c)
        self._w: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def pcs(self, feats: np.ndarray) -> np.ndarray:
        """Standardised features in PCA coordinates (rows, PCA_DIMS)."""
        if not len(feats):
            return np.zeros((0, PCA_DIMS))
        return self.pca.transform((np.asarray(feats, np.float64) - self.mean) / self.std)

    def lda(self, d: int, exclude: frozenset = frozenset()) -> tuple[np.ndarray, np.ndarray]:
        """(centre, W): LDA on the first ``d`` components from the fit speakers other than ``exclude``;
        W's columns are within-speaker whitened (generalised eigenvectors, best first)."""
        key = (d, frozenset(exclude) & self.fit)
        if key not in self._w:
            keep = [s for s in sorted(self.stats) if s not in key[1]]
            n = sum(self.stats[s][0] for s in keep)
            mu = sum(self.stats[s][1] for s in keep)[:d] / n
            sw = sum(self.stats[s][2][:d, :d] for s in keep) / n
            sb = sum(self.stats[s][0] * np.outer(m := self.stats[s][1][:d] / self.stats[s][0] - mu, m)
                     for s in keep) / n
            sw += SHRINK * np.trace(sw) / d * np.eye(d)
            lam, vec = eigh(sb, sw)
            self._w[key] = (mu, vec[:, ::-1][:, : len(keep) - 1])
        return self._w[key]

    def project(self, pcs: np.ndarray, d: int, exclude: frozenset = frozenset()) -> np.ndarray:
        mu, w = self.lda(d, exclude)
        return (pcs[:, :d] - mu) @ w


def corpus_centred(x: np.ndarray, corpus: np.ndarray) -> np.ndarray:
    out = np.array(x, np.float64)
    for name in np.unique(corpus):
        m = corpus == name
        out[m] = norm(x[m] - x[m].mean(0))
    return out


def dprime_line(pool, proj: WhisperLDA) -> str:
    """d' of the Whisper routes on the same TEST-half windows as the GE2E d' line."""
    rows = np.flatnonzero(~np.isin(pool.speaker, sorted(pool.fit)))
    corpus = pool.corpus[rows]
    std = (pool.wemb[rows] - proj.mean) / proj.std
    pcs = proj.pcs(pool.wemb[rows])
    ge2e = corpus_centred(pool.emb[rows], corpus)
    parts = [f"standardised raw {pool.dprime(std, rows):.2f}",
             f"corpus-centred {pool.dprime(corpus_centred(std, corpus), rows):.2f}"]
    for d in LDA_PCA:
        lda = corpus_centred(proj.project(pcs, d), corpus)
        parts.append(f"PCA {d} + LDA {pool.dprime(lda, rows):.2f} (+ GE2E {pool.dprime(np.hstack([lda, ge2e]), rows):.2f})")
    return (f"d' of Whisper tiny.en pooled-feature window cosines, same pairs ({len(rows)} windows; LDA "
            f"corpus-centred, + GE2E: concatenated with corpus-centred GE2E, each L2-normed): " + ", ".join(parts))
