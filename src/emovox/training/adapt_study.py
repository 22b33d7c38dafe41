"""LOCO with adaptation to sources of every kind: mixed, one emotion, skewed (``evaluate --loco --adapt N``).

For each held-out corpus the recipe's head (un-adapted) and its adapted head (trained on features
centred per training corpus, with the statistics of ``models.adapt_estimate``) are fitted on the
other corpora. Then the held-out corpus is adapted to sources of ``n`` of its unlabelled clips:
- **mixed**: drawn at random (what ``emovox batch --adapt N`` does on a fair sample); UA over every
  clip of the four emotions;
- **one emotion**: ``n`` clips of only that emotion (each of the four); the recall of that emotion
  over all its clips;
- **skewed**: 70 % of one emotion, 10 % of each other (each of the four dominant); UA over all clips.
Each adaptation method (``VARIANTS``) scores every source; the un-adapted head scores the same clips.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import EmovoxError
from ..models.adapt_estimate import centre_for, mix_offset, soft_combine, source_centre
from .metrics import FOUR, HARMONISE, restricted_metrics

VARIANTS: dict[str, tuple[str, dict]] = {
    "none": ("none", {}),
    "centre": ("centre", {}),
    "gate": ("gate", {}),
    "em (no offset prior)": ("safe", {"spread_scale": 1e6, "one_sided": 1.01}),
    "map-em": ("safe", {"one_sided": 1.01}),
    "map-em, prior x0.25": ("safe", {"spread_scale": 0.25, "one_sided": 1.01}),
    "safe": ("safe", {}),
    "safe, prior x0.25": ("safe", {"spread_scale": 0.25}),
    "soft 0.3, centre": ("soft-centre", {"weight": 0.3}),
    "soft 0.3, main-head mix": ("soft-mix", {"weight": 0.3, "sharpen": 1.0}),
    "soft 0.4, main-head mix ^2": ("soft-mix", {"weight": 0.4, "sharpen": 2.0}),
    "soft": ("soft", {}),
}
"""Name -> (``source_centre`` method, options): the candidates measured. ``map-em``: the MAP-EM offset
always applied; ``safe`` (ships): the same, but the un-adapted model is kept when the estimated mix
is one-sided (``adapt_estimate.ONE_SIDED``). ``soft-*`` (study only, issue 25 round 2): the
probabilities ``(1 - weight) * main + weight * adapted`` (``adapt_estimate.soft_combine``), the adapted
head at plain centring (``soft-centre``) or at ``adapt_estimate.mix_offset`` of the main head's
probabilities of the source's clips, raised to ``sharpen`` (``soft-mix``). ``soft`` (round 4) keeps
the un-adapted model where ``safe`` would (a one-sided estimated mix) and elsewhere is ``soft-mix``
with ``SOFT_WEIGHT`` and ``SOFT_SHARPEN`` (0.4, ^2): ``source_centre(..., "soft")``, as
``Recognizer.adapt`` runs it."""

SKEW = 0.7


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def four_predictions(probs: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """The argmax among the four emotions (other outputs masked) for each clip."""
    cols = [list(labels).index(k) for k in FOUR]
    return np.array(FOUR)[np.asarray(probs)[:, cols].argmax(axis=1)]


def draw_sources(truth: Sequence[str], n: int, seed: int) -> dict[str, np.ndarray]:
    """Indices of each source: ``mixed``, ``one:<emotion>`` and ``skew:<emotion>`` (seeded)."""
    truth = np.array([HARMONISE.get(t, t) for t in truth])
    rng = np.random.default_rng(seed)
    out = {"mixed": np.random.default_rng(seed).permutation(len(truth))[:n]}  # as loco.recipe_fit draws
    pools = {e: rng.permutation(np.flatnonzero(truth == e)) for e in FOUR}
    for e in FOUR:
        if len(pools[e]):
            out[f"one:{e}"] = pools[e][:n]
    major, minor = round(SKEW * n), round((1 - SKEW) / 3 * n)
    for e in FOUR:
        if len(pools[e]):
            out[f"skew:{e}"] = np.concatenate([pools[e][:major]] + [pools[o][:minor] for o in FOUR if o != e])
    return out


def source_scores(truth: Sequence[str], probs: np.ndarray, labels: Sequence[str], source: str) -> float:
    """What a source is scored on: UA (4 emotions) for mixed and skewed, that emotion's recall for one."""
    if source.startswith("one:"):
        emotion = source[4:]
        t = np.array([HARMONISE.get(x, x) for x in truth])
        sel = t == emotion
        return float((four_predictions(probs[sel], labels) == emotion).mean())
    return float(restricted_metrics(truth, probs, labels, list(FOUR), HARMONISE)["ua"])


def adaptation_study(rows, X: np.ndarray, recipe, n: int, seed: int = 0,
                     variants: dict[str, tuple[str, dict]] | None = None, progress: bool = True) -> dict:
    """Per held-out corpus: un-adapted and adapted scores of every source and variant, and the
    predictions of every variant on the mixed source (for the usual LOCO report)."""
    from tqdm.auto import tqdm

    from .train import adaptation_statistics, centre_by_corpus, fit_rows, label_order

    if n < 1:
        raise EmovoxError(f"--adapt must be a number of clips >= 1 for the source study, got {n}")
    variants = variants or VARIANTS
    corpus = np.array([r.corpus for r in rows])
    names = sorted(set(corpus))
    if len(names) < 2:
        raise EmovoxError(f"leave-one-corpus-out needs at least two corpora; got {', '.join(names) or 'none'}")
    out: dict = {"clips": n, "variants": {k: [m, o] for k, (m, o) in variants.items()}, "corpora": {}}
    for name in tqdm(names, desc="held-out corpora", disable=not progress):
        train, test = np.flatnonzero(corpus != name), np.flatnonzero(corpus == name)
        train_rows = [rows[i] for i in train]
        labels = label_order(r.emotion for r in train_rows)
        Z = X[0, test]
        truth = [rows[i].emotion for i in test]
        main = fit_rows(train_rows, X[:, train], labels, recipe, seed, backbone=None)
        adapted = fit_rows(train_rows, centre_by_corpus(X[:, train], corpus[train]), labels, recipe, seed,
                           backbone=None)

        def probs_of(trained, feats, labels=labels):
            cols = [labels.index(lab) for lab in trained.labels]
            p = np.zeros((len(feats), len(labels)))
            p[:, cols] = _softmax(trained.logits(feats))
            return p

        head = adapted.fit.head.compact()
        P = head.projection.detach().numpy().astype(np.float64)
        stats = adaptation_statistics(P, X[0, train], train_rows, adapted.labels, recipe.relabel)
        sources = draw_sources(truth, n, seed)
        unadapted = probs_of(main, Z)
        result = {"labels": labels, "train_clips": int(len(train)), "sources": {}, "mixed_probs": {},
                  "truth": truth, "paths": [str(rows[i].path) for i in test]}
        for src, idx in sources.items():
            entry = {"clips": int(len(idx)), "unadapted": source_scores(truth, unadapted, labels, src)}
            for vname, (method, options) in variants.items():
                S = Z[idx]
                if method.startswith("soft-"):
                    if method == "soft-centre":
                        centre = S.mean(axis=0)
                    else:
                        cols = [labels.index(lab) for lab in adapted.labels]
                        offset = mix_offset(S @ P, unadapted[idx][:, cols], stats, options.get("sharpen", 1.0))
                        centre = centre_for(S, P, offset)
                    probs = soft_combine(unadapted, probs_of(adapted, Z - centre), options["weight"])
                    entry[vname] = source_scores(truth, probs, labels, src)
                    entry[vname + " info"] = {"method": method, "weight": options["weight"]}
                    if src == "mixed":
                        result["mixed_probs"][vname] = probs
                    continue
                cols = [labels.index(lab) for lab in adapted.labels]
                centre, info = source_centre(S, P, stats, method, probs_at=lambda c, S=S, a=adapted: probs_of(a, S - c),
                                             main_probs=unadapted[idx][:, cols], **options)
                probs = probs_of(adapted, Z - centre) if info.get("applied", True) else unadapted
                if info.get("applied", True) and "share" in info:  # soft: the two heads' probabilities mixed
                    probs = soft_combine(unadapted, probs, info["share"])
                entry[vname] = source_scores(truth, probs, labels, src)
                entry[vname + " info"] = info
                if src == "mixed":
                    result["mixed_probs"][vname] = probs
            result["sources"][src] = entry
        result["mixed_probs"]["unadapted"] = unadapted
        out["corpora"][name] = result
    out["summary"] = study_summary(out)
    return out


def study_summary(study: dict) -> dict:
    """Per variant (and ``unadapted``): mixed mean / worst UA; one-emotion mean recall, mean and worst
    change against un-adapted; skewed mean / worst UA."""
    summary = {}
    for vname in ["unadapted", *study["variants"]]:
        mixed = {c: r["sources"]["mixed"][vname] for c, r in study["corpora"].items()}
        ones = [(r["sources"][s][vname], r["sources"][s]["unadapted"]) for r in study["corpora"].values()
                for s in r["sources"] if s.startswith("one:")]
        skews = [r["sources"][s][vname] for r in study["corpora"].values() for s in r["sources"] if s.startswith("skew:")]
        diffs = [a - u for a, u in ones]
        summary[vname] = {
            "mixed_mean": float(np.mean(list(mixed.values()))), "mixed_worst": float(min(mixed.values())),
            "mixed_worst_corpus": min(mixed, key=mixed.get),
            "one_mean": float(np.mean([a for a, _ in ones])), "one_change_mean": float(np.mean(diffs)),
            "one_change_worst": float(min(diffs)), "skew_mean": float(np.mean(skews)), "skew_worst": float(min(skews)),
        }
    return summary


def study_tables(study: dict) -> str:
    """Markdown: the summary per variant, then every source's un-adapted and adapted scores."""
    s = study["summary"]
    lines = [f"Adapted to {study['clips']} clips per source. Mixed and skewed: UA 4-emo %; one emotion: that "
             "emotion's recall %; change: adapted minus un-adapted (points).", "",
             "| adaptation | mixed mean / worst | one-emotion recall | change mean | change worst "
             "| skewed 70/10/10/10 mean / worst |", "|---|---:|---:|---:|---:|---:|"]
    for vname, v in s.items():
        lines.append(f"| {vname} | {100 * v['mixed_mean']:.1f} / {100 * v['mixed_worst']:.1f} | "
                     f"{100 * v['one_mean']:.1f} | {100 * v['one_change_mean']:+.1f} | "
                     f"{100 * v['one_change_worst']:+.1f} | {100 * v['skew_mean']:.1f} / {100 * v['skew_worst']:.1f} |")
    names = list(study["variants"])
    lines += ["", "| held-out corpus | source | clips | un-adapted | " + " | ".join(names) + " |",
              "|---|---|---:|---:|" + "---:|" * len(names)]
    for corpus, r in study["corpora"].items():
        for src, e in r["sources"].items():
            lines.append(f"| {corpus} | {src} | {e['clips']} | {100 * e['unadapted']:.1f} | "
                         + " | ".join(f"{100 * e[v]:.1f}" for v in names) + " |")
    return "\n".join(lines)


def study_json(study: dict) -> dict:
    """The study without its per-clip arrays (for report.json)."""
    corpora = {name: {k: v for k, v in r.items() if k not in ("mixed_probs", "truth", "paths")}
               for name, r in study["corpora"].items()}
    return {**study, "corpora": corpora}
