"""Routes to fewer speaker errors (issue 26), each chosen on DEV and scored on the TEST sets.

    python benchmarks/diarization_routes.py      # ~5 min on 2 cores; bench_diarization.py's sets (40)

Prints one table (also written to results/diarization/diarization_routes.txt): per route its DEV
choice, DEV score, and DER (confusion) / share of recordings with the right number of speakers on
every TEST set. The routes, all on the shipped VAD, windows, one-voice test and Viterbi pass:
1. default (shipped); 2. clustering threshold, best on DEV; 3. nuisance attribute projection (NAP):
the top k directions of within-speaker scatter removed (fitted as diarization_variants.py fits its
LDA: DEV-half speakers of RAVDESS, ASED, EmoDB and all of TurEV-DB; on DEV cross-fitted without the
conversation's own speakers; TEST speakers never); 4. agglomerative count + spherical k-means
refinement; 5. spectral clustering with an eigengap count (NME-SC: pruned binarised cosine
affinity, p chosen by the normalised maximum eigengap); 6. 1.5 s and 3 s embeddings averaged or
concatenated; 7. overlap marking: a window whose second-best centroid similarity is within x of its
best one marks the middle of the window as both speakers (or as a separate "overlap" label); 8. the
emotion model's own Whisper tiny.en encoder as the speaker embedding (diarization_whisper.py: pooled
features, standardised, PCA to d components, LDA fitted on the NAP fit speakers, cross-fitted on DEV
alike), (a) alone, (b) concatenated with the GE2E embedding (each centred and L2-normed); the
one-voice test stays on GE2E. Below the routes, the oracle count also for the 8a/8b embeddings at
their DEV choice.
The DEV pick is bench_diarization.py's: min (mean DER of dev and dev_calm) - 0.5 x (mean count over
the four DEV sets); overlap marking adds dev_overlap (DEV speakers, 10-20 % overlap) to the DER mean.
Below the table: the d-prime of same-speaker-different-emotion vs different-speaker-same-emotion
cosine similarities of TEST-half speakers' window embeddings (raw, corpus-centred, after NAP), and
the same for the Whisper features (standardised, after PCA + LDA, with GE2E).
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_diarization as b  # noqa: E402
import diarization_whisper as W  # noqa: E402
from diarization_whisper import norm  # noqa: E402

from emovox.analysis import diarization as D  # noqa: E402
from emovox.io.audio import SAMPLE_RATE  # noqa: E402

DEV = ("dev", "dev_calm", "dev_single", "dev_calm_single")
TEST = ("test", "test_overlap", "test_calm", "test_single", "test_calm_single")
OUT = Path(__file__).resolve().parent / "results" / "diarization" / "diarization_routes.txt"
THRESHOLDS = (0.9, 0.95, 1.0)
NAP_K = (3, 5, 8, 10)
PRUNE = (0.1, 0.2, 0.3, 0.5)
MAX_SPEAKERS = 8
WIDE_S = 3.0
OVERLAP_X = (0.1, 0.2, 0.3, 0.4, 0.5)
W_THRESHOLDS = (0.8, 0.9, 0.95, 1.0, 1.1)


@dataclass
class Conv:
    """What the routes need of one conversation: its reference, 1.5 s windows and 3 s context."""

    utts: list
    n_speakers: int
    speakers: frozenset
    e: D.Embedded
    wide: np.ndarray  # per 1.5 s window, the embedding of the 3 s window nearest its centre
    whisper: np.ndarray | None = None  # per 1.5 s window, the emotion model's pooled Whisper features
    pcs: np.ndarray | None = None  # those standardised, in the fit speakers' PCA coordinates


def wide_embeddings(signal: np.ndarray, e: D.Embedded, encoder) -> np.ndarray:
    windows = [w for a, z in e.regions for w in D.plan_windows(a, z, WIDE_S, WIDE_S / 2)]
    if not windows:
        return e.embeddings
    emb = encoder.embed_windows(signal, windows)
    centre = np.array([(a + z) / 2 for a, z in windows])
    return emb[[int(np.argmin(np.abs(centre - (a + z) / 2))) for a, z in e.windows]]


def build_sets(encoder, n: int, n1: int, seed: int, whisper=None) -> dict[str, list[Conv]]:
    """bench_diarization.py's DEV and TEST sets (same seeds), plus dev_overlap for overlap marking."""
    corpora = {name: b.Corpus(name) for name in b.CORPORA}
    spec = {  # name: (half, overlap, conversations, seed offset, speakers, calm)
        "dev": ("dev", False, n, 0, None, False), "dev_overlap": ("dev", True, n, 3, None, False),
        "dev_single": ("dev", False, n1, 10, 1, False), "dev_calm": ("dev", False, n1, 20, None, True),
        "dev_calm_single": ("dev", False, n1, 30, 1, True), "test": ("test", False, n, 1, None, False),
        "test_overlap": ("test", True, n, 2, None, False), "test_single": ("test", False, n1, 11, 1, False),
        "test_calm": ("test", False, n1, 21, None, True), "test_calm_single": ("test", False, n1, 31, 1, True),
    }
    sets = {}
    for name, (half, overlap, k, offset, n_spk, calm) in spec.items():
        sets[name] = []
        for c in b.conversation_set(corpora, half, overlap, k, seed + offset, n_speakers=n_spk, calm=calm):
            e = D.embed(c["signal"], encoder=encoder)
            sets[name].append(Conv(c["utts"], c["n_speakers"], frozenset(u[2] for u in c["utts"]), e,
                                   wide_embeddings(c["signal"], e, encoder),
                                   None if whisper is None else
                                   W.whisper_windows(whisper, c["signal"], e.windows, SAMPLE_RATE)))
    return sets


class Pool:
    """1.5 s window embeddings of every clip of RAVDESS, ASED, EmoDB and TurEV-DB with speaker,
    emotion and corpus (and the same windows' pooled Whisper features); NAP is fitted on the "fit"
    speakers only (DEV halves + TurEV-DB)."""

    def __init__(self, encoder, whisper=None) -> None:
        emb, wemb, self.speaker, self.emotion, self.corpus, self.fit = [], [], [], [], [], set()
        for name in (*b.CORPORA, "turev_db"):
            c = b.Corpus(name)
            self.fit |= set(c.halves["dev"] if name != "turev_db" else c.by_speaker)
            for spk, rows in sorted(c.by_speaker.items()):
                for r in rows:
                    if (x := c.speech(r)) is None:
                        continue
                    windows = D.plan_windows(0.0, x.size / SAMPLE_RATE, D.WINDOW_S, D.HOP_S)
                    e = encoder.embed_windows(x, windows)
                    emb.append(e)
                    if whisper is not None:
                        wemb.append(W.whisper_windows(whisper, x, windows, SAMPLE_RATE))
                    self.speaker += [spk] * len(e)
                    self.emotion += [r["emotion"]] * len(e)
                    self.corpus += [name] * len(e)
        self.emb = np.concatenate(emb)
        self.wemb = np.concatenate(wemb) if wemb else None
        self.speaker, self.emotion, self.corpus = map(np.array, (self.speaker, self.emotion, self.corpus))
        self.scatter = {}
        for spk in self.fit:
            x = self.emb[self.speaker == spk]
            x = x - x.mean(0)
            self.scatter[spk] = (x.T @ x, len(x))
        self._eig: dict[frozenset, np.ndarray] = {}

    def nap(self, k: int, exclude: frozenset = frozenset()) -> np.ndarray:
        """I - V V^T, V the top ``k`` eigenvectors of the within-speaker scatter of the fit speakers
        other than ``exclude``."""
        key = frozenset(exclude) & self.fit
        if key not in self._eig:
            keep = [s for s in sorted(self.fit) if s not in key]
            sw = sum(self.scatter[s][0] for s in keep) / sum(self.scatter[s][1] for s in keep)
            self._eig[key] = np.linalg.eigh(sw)[1][:, ::-1]
        v = self._eig[key][:, :k]
        return np.eye(len(v)) - v @ v.T

    def dprime(self, x: np.ndarray, rows: np.ndarray) -> float:
        """d' of same-speaker-different-emotion vs different-speaker-same-emotion cosines of ``x``
        (one row per pool row in ``rows``), pairs taken inside each corpus."""
        same, diff = [], []
        for name in np.unique(self.corpus[rows]):
            m = self.corpus[rows] == name
            r, v = rows[m], norm(x[m])
            sim = v @ v.T
            spk, emo = self.speaker[r], self.emotion[r]
            upper = np.triu(np.ones_like(sim, bool), 1)
            ss, se = spk[:, None] == spk[None], emo[:, None] == emo[None]
            same.append(sim[upper & ss & ~se])
            diff.append(sim[upper & ~ss & se])
        a, z = np.concatenate(same), np.concatenate(diff)
        return float((a.mean() - z.mean()) / np.sqrt((a.var() + z.var()) / 2))


# ---- the routes: each maps (conversation, parameter) to turns


def labels_of(c: Conv, emb: np.ndarray, threshold: float, refine: bool = False,
              spectral: float | None = None) -> np.ndarray:
    """The shipped one-voice test on the raw embeddings, then clustering of ``emb`` (agglomerative,
    with a k-means refinement, or spectral), then small clusters merged, as ``assign`` does."""
    ns = 1 if D.is_one_voice(c.e.embeddings, D.ONE_SPEAKER) else None
    if ns is None and spectral is not None:
        labels = nme_sc(emb, spectral)
    else:
        labels = D.cluster(emb, num_speakers=ns, threshold=threshold)
    if refine and ns is None:
        labels = kmeans_refine(emb, labels)
    if ns is None:
        labels = D.merge_small(emb, labels, np.array([z - a for a, z in c.e.windows]), D.MIN_SPEAKER_S)
    return labels


def turns(c: Conv, emb: np.ndarray, threshold: float = D.THRESHOLD, **how) -> list:
    if not c.e.windows:
        return []
    return D.turns_from_windows(c.e.regions, c.e.windows, emb, labels_of(c, emb, threshold, **how))


def kmeans_refine(emb: np.ndarray, labels: np.ndarray, iterations: int = 20) -> np.ndarray:
    """Spherical k-means started from the agglomerative clusters (their number kept at most)."""
    for _ in range(iterations):
        ids = np.unique(labels)
        cent = norm(np.stack([emb[labels == k].mean(0) for k in ids]))
        new = ids[np.argmax(emb @ cent.T, axis=1)]
        if np.array_equal(new, labels):
            break
        labels = new
    return np.unique(labels, return_inverse=True)[1]


def nme_sc(emb: np.ndarray, prune_max: float) -> np.ndarray:
    """Spectral clustering, NME-SC style: for each p up to ``prune_max`` x rows, keep each row's p
    largest cosine similarities (binarised, symmetrised), take the unnormalised Laplacian's
    eigengaps; the p with the smallest p / (max gap / largest eigenvalue) gives the count."""
    from scipy.linalg import eigh
    from sklearn.cluster import KMeans

    n = len(emb)
    if n < 4:
        return np.zeros(n, np.int64)
    sim = emb @ emb.T
    np.fill_diagonal(sim, -np.inf)
    order = np.argsort(-sim, axis=1)
    best = None
    for p in range(2, max(3, int(prune_max * n)) + 1):
        a = np.zeros_like(sim)
        np.put_along_axis(a, order[:, :p], 1.0, axis=1)
        a = (a + a.T) / 2
        lam, vec = eigh(np.diag(a.sum(1)) - a)
        gaps = np.diff(lam[: MAX_SPEAKERS + 1])
        ratio = p / (gaps.max() / max(lam[-1], 1e-10) + 1e-10)
        if best is None or ratio < best[0]:
            best = (ratio, int(np.argmax(gaps)) + 1, vec)
    _, k, vec = best
    if k == 1:
        return np.zeros(n, np.int64)
    return KMeans(k, n_init=10, random_state=0).fit_predict(vec[:, :k]).astype(np.int64)


def marks(c: Conv, x: float) -> tuple[list, list]:
    """Default turns, and the (start, end, speaker, other) middle hops of the windows whose
    second-best centroid similarity is within ``x`` of their best."""
    emb = D.center(c.e.embeddings)
    if not c.e.windows:
        return [], []
    labels = labels_of(c, emb, D.THRESHOLD)
    hyp = [(t.start, t.end, t.speaker) for t in D.turns_from_windows(c.e.regions, c.e.windows, emb, labels)]
    ids = np.unique(labels)
    if ids.size < 2:
        return hyp, []
    cent = norm(np.stack([emb[labels == k].mean(0) for k in ids]))
    sim = emb @ cent.T
    top = np.argsort(-sim, axis=1)[:, :2]
    name = {}  # cluster -> the hypothesis speaker whose turns cover its windows most
    for i, k in enumerate(ids):
        tally: dict[str, float] = {}
        for (a, z), lab in zip(c.e.windows, labels):
            if lab == k:
                for s, e, who in hyp:
                    tally[who] = tally.get(who, 0.0) + max(0.0, min(e, z) - max(s, a))
        name[i] = max(tally, key=tally.get)
    out = []
    for (a, z), (i, j), s in zip(c.e.windows, top, sim):
        if s[j] >= s[i] - x:
            mid, half = (a + z) / 2, min(D.HOP_S, z - a) / 2
            out.append((mid - half, mid + half, name[i], name[j]))
    return hyp, out


def marked(c: Conv, x: float, separate: bool = False) -> list:
    """Overlap marking: each mark as both of its speakers, or as a third label "overlap"."""
    hyp, out = marks(c, x)
    if separate:
        return hyp + [(a, z, "overlap") for a, z, _, _ in out]
    return hyp + [(a, z, who) for a, z, i, j in out for who in (i, j)]


def marking_sweep(convs: list[Conv]) -> str:
    """DER of both ways of scoring marks for every x, and how much of the marked time is overlap
    and of the overlap is marked (10 ms steps)."""
    parts = []
    for x in OVERLAP_X:
        hit = marked_s = overlap_s = 0.0
        for c in convs:
            n = int(max(e for _, e, _ in c.utts) * 100) + 2
            ref, mark = np.zeros(n), np.zeros(n, bool)
            for a, z, _ in c.utts:
                ref[int(a * 100) : int(z * 100)] += 1
            for a, z, _, _ in marks(c, x)[1]:
                mark[int(a * 100) : int(z * 100)] = True
            hit, marked_s = hit + (mark & (ref > 1)).sum(), marked_s + mark.sum()
            overlap_s += (ref > 1).sum()
        both, own = rate(convs, marked, x)["der"], rate(convs, lambda c, p: marked(c, p, True), x)["der"]
        parts.append(f"x={x:g}: DER {both:.1%} both / {own:.1%} own label, marks {marked_s / 100:.0f} s "
                     f"({hit / max(marked_s, 1):.0%} overlapped; "
                     f"{hit / max(overlap_s, 1):.0%} of the overlap marked)")
    return "; ".join(parts)


def whisper_emb(c: Conv, proj: W.WhisperLDA, d: int, ge2e: bool = False) -> np.ndarray:
    """Route 8's window embeddings: the conversation-centred LDA projection of its Whisper features
    (cross-fitted without its own speakers), alone or beside its centred GE2E embeddings."""
    x = norm(D.center(proj.project(c.pcs, d, c.speakers)))
    return norm(np.hstack([x, norm(D.center(c.e.embeddings))])) if ge2e else x


def routes(pool: Pool, proj: W.WhisperLDA | None = None) -> list[tuple[str, list, object]]:
    """(name, DEV grid, hypothesis function (conv, parameter) -> turns) per route."""
    def nap(c, p):
        return turns(c, norm(D.center(c.e.embeddings) @ pool.nap(p[0], c.speakers)), p[1])

    def multiscale(c, p):
        a, w = D.center(c.e.embeddings), D.center(c.wide)
        return turns(c, norm(a + w if p[0] == "averaged" else np.hstack([a, w])), p[1])

    grid = [(d, t) for d in W.LDA_PCA for t in W_THRESHOLDS]

    return [
        ("1. default (shipped)", [D.THRESHOLD], lambda c, t: D.assign(c.e)),
        ("2. clustering threshold", list(THRESHOLDS), lambda c, t: D.assign(c.e, threshold=t)),
        ("3. NAP (k, threshold)", [(k, t) for k in NAP_K for t in THRESHOLDS], nap),
        ("4. AHC count + k-means", list(THRESHOLDS),
         lambda c, t: turns(c, D.center(c.e.embeddings), t, refine=True)),
        ("5. spectral, eigengap count (p max)", list(PRUNE),
         lambda c, p: turns(c, D.center(c.e.embeddings), spectral=p)),
        ("6. 1.5 + 3 s embeddings", [(m, t) for m in ("averaged", "concatenated") for t in THRESHOLDS],
         multiscale),
        ("7a. overlap marked as both (x)", list(OVERLAP_X), marked),
        ("7b. overlap as own label (x)", list(OVERLAP_X), lambda c, x: marked(c, x, True)),
    ] + ([] if proj is None else [
        ("8a. Whisper PCA + LDA (d, threshold)", grid, lambda c, p: turns(c, whisper_emb(c, proj, p[0]), p[1])),
        ("8b. Whisper LDA + GE2E (d, threshold)", grid,
         lambda c, p: turns(c, whisper_emb(c, proj, p[0], True), p[1])),
    ])


# ---- scoring


def rate(convs: list[Conv], hyp_of, param) -> dict:
    """Pooled DER (0.25 s collar), confusion, and share of recordings with the right speaker count."""
    tot = dict.fromkeys(("speech", "missed", "false_alarm", "confusion"), 0.0)
    right = 0
    for c in convs:
        hyp = [h if isinstance(h, tuple) else (h.start, h.end, h.speaker) for h in hyp_of(c, param)]
        d = D.diarization_error_rate(c.utts, hyp, collar=0.25)
        for k in tot:
            tot[k] += d[k]
        right += len({s for _, _, s in hyp} - {"overlap"}) == c.n_speakers
    return {"der": (tot["missed"] + tot["false_alarm"] + tot["confusion"]) / tot["speech"],
            "conf": tot["confusion"] / tot["speech"], "count": right / len(convs)}


def dev_score(sets, hyp_of, param, overlap: bool = False) -> dict:
    r = {k: rate(sets[k], hyp_of, param) for k in (*DEV, "dev_overlap")}
    two = ("dev", "dev_calm", "dev_overlap") if overlap else ("dev", "dev_calm")
    return {"der": float(np.mean([r[k]["der"] for k in ("dev", "dev_calm")])),
            "conf": float(np.mean([r[k]["conf"] for k in ("dev", "dev_calm")])),
            "count": float(np.mean([r[k]["count"] for k in DEV])), "dev_overlap": r["dev_overlap"],
            "pick": float(np.mean([r[k]["der"] for k in two]))
            - 0.5 * float(np.mean([r[k]["count"] for k in DEV]))}


def cell(r: dict) -> str:
    return f"{r['der']:.1%} ({r['conf']:.1%}) / {r['count']:.0%}"


def table(sets, pool: Pool, proj: W.WhisperLDA | None = None) -> list[str]:
    head = ["route", "DEV choice", "DEV: DER (conf.) / count", "dev_overlap", *TEST, "DER below default"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    base, chosen = None, {}
    for name, grid, hyp_of in routes(pool, proj):
        dev = {p: dev_score(sets, hyp_of, p, overlap=name.startswith("7")) for p in grid}
        p = chosen[name[:2]] = min(grid, key=lambda q: dev[q]["pick"])
        test = {k: rate(sets[k], hyp_of, p) for k in TEST}
        d = dev[p]
        if base is None:
            base, below = (d, test), "-"
        else:
            sets_below = [k for k in TEST if test[k]["der"] < base[1][k]["der"]]
            below = f"DEV {'yes' if d['der'] < base[0]['der'] else 'no'}, TEST {len(sets_below)}/5"
            below += f" ({', '.join(sets_below)})" if 0 < len(sets_below) < 5 else ""
        choice = "shipped" if base[0] is d else (", ".join(map(str, p)) if isinstance(p, tuple) else f"{p:g}")
        lines.append(f"| {name} | {choice} | {cell(d)} | {cell(d['dev_overlap'])} | "
                     + " | ".join(cell(test[k]) for k in TEST) + f" | {below} |")

    def oracle(c, _):
        return D.assign(c.e, num_speakers=c.n_speakers) if c.e.windows else []

    def oracle_whisper(c, p):
        if not c.e.windows:
            return []
        emb = whisper_emb(c, proj, p[0], p[1] == "8b")
        return D.turns_from_windows(c.e.regions, c.e.windows, emb, D.cluster(emb, num_speakers=c.n_speakers))

    rows = [("oracle speaker count (told num_speakers)", oracle, None)]
    if proj is not None:
        rows += [(f"oracle count, {k} embedding (d = {chosen[k][0]})", oracle_whisper, (chosen[k][0], k))
                 for k in ("8a", "8b")]
    for name, hyp_of, p in rows:
        d = dev_score(sets, hyp_of, p)
        lines.append(f"| {name} | - | {cell(d)} | {cell(d['dev_overlap'])} | "
                     + " | ".join(cell(rate(sets[k], hyp_of, p)) for k in TEST) + " | not a route |")
    return lines


def dprimes(pool: Pool) -> str:
    """d' on the TEST-half speakers of the three conversation corpora (never in the NAP fit)."""
    rows = np.flatnonzero(~np.isin(pool.speaker, sorted(pool.fit)))
    x = pool.emb[rows]
    centred = x.copy()
    for name in np.unique(pool.corpus[rows]):
        m = pool.corpus[rows] == name
        centred[m] = norm(x[m] - x[m].mean(0))
    parts = [f"raw {pool.dprime(x, rows):.2f}", f"corpus-centred {pool.dprime(centred, rows):.2f}"]
    parts += [f"NAP k={k} {pool.dprime(centred @ pool.nap(k), rows):.2f}" for k in NAP_K]
    return (f"d' of GE2E window cosines, same speaker + different emotion vs different speaker + same "
            f"emotion ({len(rows)} windows of TEST-half speakers): " + ", ".join(parts))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=40, help="per 2-4 speaker set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, help="pickle of the embedded sets and pool (development)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    from emovox.models.speaker import load_speaker_encoder

    start = time.perf_counter()
    n = args.conversations
    if args.cache and args.cache.is_file():
        sets, pool = pickle.loads(args.cache.read_bytes())
    else:
        encoder, whisper = load_speaker_encoder(threads=2), W.load_whisper(threads=2)
        sets, pool = build_sets(encoder, n, max(3, n // 4), args.seed, whisper), Pool(encoder, whisper)
        if args.cache:
            args.cache.write_bytes(pickle.dumps((sets, pool)))
    lines = [f"DEV: {n} conversations of 2-4 speakers, {n} with overlap, {max(3, n // 4)} each of one speaker, "
             "calm, calm one speaker; TEST: bench_diarization.py's sets. Cells: DER (confusion) / speakers "
             "right; DEV = mean DER of dev and dev_calm / count over the four DEV sets. DEV choice: min "
             "DER - 0.5 x count (overlap marking: dev_overlap in the DER mean).", ""]
    proj = W.WhisperLDA(pool.wemb, pool.speaker, pool.fit)
    for c in (c for convs in sets.values() for c in convs):
        c.pcs = proj.pcs(c.whisper)
    lines += table(sets, pool, proj)
    default = rate(sets["test_overlap"], lambda c, _: D.assign(c.e), None)["der"]
    lines += ["", f"Overlap marking on test_overlap, every x (default: {default:.1%}): "
              + marking_sweep(sets["test_overlap"]), dprimes(pool), W.dprime_line(pool, proj),
              f"run time {time.perf_counter() - start:.0f} s, load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"]
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
