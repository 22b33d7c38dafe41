"""Tried to cut speaker confusion: an LDA projection of the speaker embeddings (fitted on other
speakers: directions that move with the speaker over directions that move with emotion and words)
and clustering of ~3 s chunks of speech instead of 1.5 s windows. DEV picks, TEST reports.

    python benchmarks/diarization_variants.py      # ~3 min on 2 cores; the sets of bench_diarization.py

The LDA is fitted on window embeddings of the DEV-half speakers of RAVDESS, ASED and EmoDB plus all
TurEV-DB speakers (within-speaker scatter, regularised, vs the scatter of speaker means). On DEV it
is cross-fitted: each conversation is scored with a projection fitted without its own speakers, so
DEV is out-of-sample too. TEST speakers are never in the fit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_diarization as b  # noqa: E402

from emovox.analysis import diarization as D  # noqa: E402

DEV = ("dev", "dev_calm", "dev_single", "dev_calm_single")
TEST = ("test", "test_overlap", "test_calm", "test_single", "test_calm_single")
GRID = [(lam, dims, chunk, t) for lam in (1.0, 3.0) for dims in (64,) for chunk in (None, 2.0, 3.0)
        for t in (0.9, 0.95, 1.0)]


def norm(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


class Scatter:
    """Per-speaker mean and within-speaker scatter of window embeddings; LDA without some speakers."""

    def __init__(self, encoder) -> None:
        self.mean, self.scatter, self.n = {}, {}, {}
        for name in (*b.CORPORA, "turev_db"):
            c = b.Corpus(name)
            for spk in (c.halves["dev"] if name != "turev_db" else sorted(c.by_speaker)):
                rows = [e for r in c.by_speaker[spk] if (x := c.speech(r)) is not None
                        for e in encoder.embed_windows(x, D.plan_windows(0.0, x.size / 16000, 1.5, 0.75))]
                x = np.stack(rows)
                m = x.mean(0)
                self.mean[spk], self.scatter[spk], self.n[spk] = m, (x - m).T @ (x - m), len(x)

    def lda(self, lam: float, dims: int, exclude=()) -> np.ndarray:
        from scipy.linalg import eigh

        keys = [k for k in sorted(self.mean) if k not in exclude]
        sw = sum(self.scatter[k] for k in keys) / sum(self.n[k] for k in keys)
        m = np.stack([self.mean[k] for k in keys])
        m -= m.mean(0)
        _, v = eigh(m.T @ m / len(m), sw + lam * np.trace(sw) / len(sw) * np.eye(len(sw)))
        return v[:, ::-1][:, :dims]


def chunks(e, chunk_s: float) -> np.ndarray:
    """The chunk (a VAD region cut into pieces of about ``chunk_s``) of each window's centre."""
    out, k, wi = np.zeros(len(e.windows), np.int64), 0, 0
    for a, z in e.regions:
        n = max(1, int(round((z - a) / chunk_s)))
        edges = np.linspace(a, z, n + 1)
        while wi < len(e.windows) and e.windows[wi][0] < z - 1e-6:
            c = 0.5 * sum(e.windows[wi])
            out[wi] = k + min(n - 1, int(np.searchsorted(edges, c, side="right") - 1))
            wi += 1
        k += n
    return out


def assign(e, proj, threshold: float, chunk_s: float | None):
    if not e.windows:
        return []
    raw = e.embeddings
    emb = D.center(raw) if proj is None else norm(D.center(raw) @ proj)
    ns = 1 if D.is_one_voice(raw, D.ONE_SPEAKER) else None
    if chunk_s is None:
        labels = D.cluster(emb, num_speakers=ns, threshold=threshold)
    else:
        ch = chunks(e, chunk_s)
        ids = np.unique(ch)
        lab = D.cluster(norm(np.stack([emb[ch == i].mean(0) for i in ids])), num_speakers=ns, threshold=threshold)
        labels = lab[np.searchsorted(ids, ch)]
    if ns is None:
        labels = D.merge_small(emb, labels, np.array([z - a for a, z in e.windows]), D.MIN_SPEAKER_S)
    return D.turns_from_windows(e.regions, e.windows, emb, labels)


def score(convs, embedded, projs, threshold, chunk_s) -> dict:
    tot = dict.fromkeys(("speech", "missed", "false_alarm", "confusion"), 0.0)
    right = 0
    for conv, e, p in zip(convs, embedded, projs, strict=True):
        hyp = assign(e, p, threshold, chunk_s)
        d = D.diarization_error_rate(conv["utts"], [(h.start, h.end, h.speaker) for h in hyp], collar=0.25)
        for k in tot:
            tot[k] += d[k]
        right += len({h.speaker for h in hyp}) == conv["n_speakers"]
    return {"der": (tot["missed"] + tot["false_alarm"] + tot["confusion"]) / tot["speech"],
            "conf": tot["confusion"] / tot["speech"], "count": right / len(convs)}


def main() -> None:
    from emovox.models.speaker import load_speaker_encoder

    encoder = load_speaker_encoder(threads=2)
    corpora = {name: b.Corpus(name) for name in b.CORPORA}
    n, n1, seed = 40, 10, 0  # the sets of bench_diarization.py --conversations 40
    sets = {
        "dev": b.conversation_set(corpora, "dev", False, n, seed),
        "dev_single": b.conversation_set(corpora, "dev", False, n1, seed + 10, n_speakers=1),
        "dev_calm": b.conversation_set(corpora, "dev", False, n1, seed + 20, calm=True),
        "dev_calm_single": b.conversation_set(corpora, "dev", False, n1, seed + 30, n_speakers=1, calm=True),
        "test": b.conversation_set(corpora, "test", False, n, seed + 1),
        "test_overlap": b.conversation_set(corpora, "test", True, n, seed + 2),
        "test_single": b.conversation_set(corpora, "test", False, n1, seed + 11, n_speakers=1),
        "test_calm": b.conversation_set(corpora, "test", False, n1, seed + 21, calm=True),
        "test_calm_single": b.conversation_set(corpora, "test", False, n1, seed + 31, n_speakers=1, calm=True),
    }
    embedded = {k: [D.embed(c["signal"], encoder=encoder) for c in v] for k, v in sets.items()}
    fit = Scatter(encoder)

    def dev_row(proj_of, threshold, chunk_s):
        r = {k: score(sets[k], embedded[k], [proj_of(c) for c in sets[k]], threshold, chunk_s) for k in DEV}
        der = (r["dev"]["der"] + r["dev_calm"]["der"]) / 2
        count = float(np.mean([r[k]["count"] for k in DEV]))
        return der, count

    print("DEV (cross-fitted LDA): mean DER of dev and dev_calm / speaker count right over the 4 DEV sets")
    print("| variant | DER | count |\n|---|---|---|")
    rows = {("none", None, D.THRESHOLD): dev_row(lambda c: None, D.THRESHOLD, None)}
    for lam, dims, chunk_s, t in GRID:
        cache: dict = {}

        def proj_of(c, lam=lam, dims=dims, cache=cache):
            key = frozenset(u[2] for u in c["utts"])
            if key not in cache:
                cache[key] = fit.lda(lam, dims, exclude=key)
            return cache[key]

        rows[(f"lda {lam:g}/{dims}", chunk_s, t)] = dev_row(proj_of, t, chunk_s)
    for (p, chunk_s, t), (der, count) in rows.items():
        print(f"| {p}, chunks {chunk_s or 'no'}, threshold {t:g} | {der:.1%} | {count:.0%} |")
    best = min(rows, key=lambda k: rows[k][0] - 0.5 * rows[k][1])  # bench_diarization.py's criterion
    print(f"chosen on DEV: {best}\n")
    p, chunk_s, t = best
    proj = None if p == "none" else fit.lda(float(p.split()[1].split("/")[0]), int(p.split("/")[1]))
    print(f"TEST: shipped default vs the DEV choice {best} (LDA fitted on all the DEV speakers + TurEV-DB)")
    print("| set | default DER (conf.) / count | chosen DER (conf.) / count |\n|---|---|---|")
    for k in TEST:
        a = score(sets[k], embedded[k], [None] * len(sets[k]), D.THRESHOLD, None)
        z = score(sets[k], embedded[k], [proj] * len(sets[k]), t, chunk_s)
        print(f"| {k} ({len(sets[k])}) | {a['der']:.1%} ({a['conf']:.1%}) / {a['count']:.0%} | "
              f"{z['der']:.1%} ({z['conf']:.1%}) / {z['count']:.0%} |")


if __name__ == "__main__":
    main()
