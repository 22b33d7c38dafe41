"""How the shipped recipe holds up on degraded test audio: white noise and a telephone channel.

Speaker-independent, as `emovox evaluate`: for each fold of a corpus the shipped recipe is retrained
on the other speakers (plus, by default, all of the other corpora, as the shipped model is), on
the cached training copies; the held-out speakers' clips are then degraded, encoded and
scored. Every condition is scored by the same heads, so the rows differ only in the test audio.

Conditions (seeded): clean; white Gaussian noise at 20, 10 and 5 dB SNR (relative to the clip's
RMS); telephone: 300-3400 Hz band-pass, 8 kHz sampling, G.711 mu-law and back; cellular: the AMR-NB
speech codec at 12.2 kbit/s (8 kHz). A recipe with ``telephone_copies`` trains on a telephone copy of
every clip (random band edges, mu-law or A-law: training.channel.random_telephone), so there the
telephone row tests a channel of the kind it trained on; no AMR-NB (nor any other speech codec) is in
any training copy, so the cellular row is a channel it never heard.

Usage: python benchmarks/robustness.py [--corpus ravdess|emodb_2s|turev_db] [--single-corpus] [--variant JSON]
Prints a Markdown table; --out writes it and the per-condition reports (JSON) to a folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace

import numpy as np
from heldout import (  # also puts the repository's src on sys.path
    CORPORA,
    ROOT,
    held_out,
    write_results,
)

CONDITIONS = ("clean", "noise 20 dB", "noise 10 dB", "noise 5 dB", "telephone", "cellular AMR-NB")


def degrade(signal: np.ndarray, condition: str, seed: int) -> np.ndarray:
    """One test clip (16 kHz float32) through a condition."""
    if condition == "clean":
        return signal
    if condition.startswith("noise"):
        snr_db = float(condition.split()[1])
        rms = float(np.sqrt(np.mean(signal.astype(np.float64) ** 2))) or 1e-4
        noise = np.random.default_rng(seed).standard_normal(signal.size) * rms / 10 ** (snr_db / 20)
        return np.clip(signal + noise, -1, 1).astype(np.float32)
    if condition == "telephone":
        from emovox.training.channel import telephone

        return telephone(signal, low=300, high=3400, order=4, law="mulaw")
    if condition == "cellular AMR-NB":
        from emovox.training.channel import codec_roundtrip

        return codec_roundtrip(signal, "libopencore_amrnb", 8000, bit_rate=12200, container="amr")
    raise ValueError(f"unknown condition {condition!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", choices=CORPORA, default="ravdess")
    ap.add_argument("--single-corpus", action="store_true", help="train on the test corpus only")
    ap.add_argument("--corpora", default=str(ROOT.parent / "shared" / "corpora"))
    ap.add_argument("--config", default=str(ROOT / "src/emovox/assets/emovox-base/recipe.json"))
    ap.add_argument("--variant", default="{}", help="JSON object of recipe settings to change, e.g. "
                    "'{\"telephone_copies\": 0}' for the recipe without its telephone copy")
    ap.add_argument("--out", default=None, help="folder for table.md and report-<condition>.json")
    args = ap.parse_args()

    from emovox.io.audio import SAMPLE_RATE, load_audio
    from emovox.recognizers.voice import softmax
    from emovox.training.evaluate import prediction_from_probs, scored
    from emovox.training.features import MAX_SECONDS, pad_min, pooled_vector
    from emovox.training.recipe import Recipe
    from emovox.training.report import build_report
    from emovox.training.train import fit_rows

    t0 = time.time()
    recipe = replace(Recipe.load(args.config), **json.loads(args.variant))
    h = held_out(args.corpus, args.corpora, recipe, args.single_corpus)
    rows = h.rows

    def encode(signal: np.ndarray) -> np.ndarray:  # as FeatureCache encodes a clip, without the cache
        return pooled_vector(*h.backbone.states(pad_min(signal[: int(MAX_SECONDS * SAMPLE_RATE)])), recipe.pooling)

    print(f"encoding {len(rows)} test clips x {len(CONDITIONS)} conditions", file=sys.stderr)
    test_X = {c: [] for c in CONDITIONS}
    for i, r in enumerate(rows):
        signal = load_audio(r.path)
        for c in CONDITIONS:
            test_X[c].append(encode(degrade(signal, c, seed=i)))
    test_X = {c: np.stack(v) for c, v in test_X.items()}

    records = {c: [] for c in CONDITIONS}
    for fold in h.folds:
        train, test = h.split(fold)
        trained = fit_rows([h.all_rows[i] for i in train], h.X[:, train], h.labels, recipe, 0, h.backbone)
        for c in CONDITIONS:
            for i, p in zip(test, softmax(trained.logits(test_X[c][test]))):
                records[c].append(scored(rows[i], prediction_from_probs(trained.labels, p, rows[i]), fold,
                                         h.test_labels))
        print(f"fold {fold} done ({time.time() - t0:.0f} s)", file=sys.stderr)

    trained_on = args.corpus if args.single_corpus else (
        f"all {len({r.corpus for r in h.all_rows})} corpora (test speakers held out)")
    if json.loads(args.variant):
        trained_on += f", recipe variant {args.variant}"
    lines = [f"{args.corpus}: {len(h.folds)} speaker-independent folds, trained on {trained_on}, "
             f"{len(h.test_labels)} classes scored ({time.time() - t0:.0f} s)", "",
             "| test audio | UA % (mean of folds) | UA % (pooled) | WA % | ECE % (pooled) | mean confidence % |",
             "|---|---:|---:|---:|---:|---:|"]
    reports = {}
    for c in CONDITIONS:
        rep = build_report(records[c], h.test_labels, {"condition": c, "corpus": args.corpus})
        reports[c] = rep
        m, p = rep["mean_over_folds"], rep["pooled"]
        lines.append(f"| {c} | {100 * m['ua']:.1f} | {100 * p['ua']:.1f} | {100 * p['wa']:.1f} "
                     f"| {100 * p['ece']:.1f} | {100 * p['mean_confidence']:.1f} |")
    write_results(args.out, "\n".join(lines), reports)

if __name__ == "__main__":
    main()
