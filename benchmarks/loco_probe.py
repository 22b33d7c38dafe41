"""The plain probe of ``../shared/notes/whisper-base.md`` on every clip, under the same LOCO split as
``emovox evaluate --loco``: pooled encoder features (the head's input, from the feature cache), each
standardised on the training corpora, a logistic regression (balanced classes), UA on the four emotions
of the held-out corpus (other outputs masked). Trained on the four emotions only, or on every label.

    python benchmarks/loco_probe.py [--backbone whisper-tiny.en] [--c 0.001 0.01]

The note's probe drew up to 700 clips per corpus; this one uses all of them, so the two differ by the
draw. It tells whether a head of the simplest kind gets more out of the encoder than the recipe's head.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

CORPORA = ("ravdess", "emodb_2s", "turev_db", "ased")
FOUR = ["angry", "happy", "neutral", "sad"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpora", default="../shared/corpora", help="folder with one <corpus>/manifest.csv each")
    ap.add_argument("--backbone", default="whisper-tiny.en", help="training backbone (whisper-base needs its extra)")
    ap.add_argument("--c", type=float, nargs="+", default=[0.001, 0.01], help="inverse L2 strengths")
    args = ap.parse_args()

    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.preprocessing import StandardScaler
    from tqdm.auto import tqdm

    from emovox.training.features import FeatureCache, load_backbone
    from emovox.training.metrics import HARMONISE
    from emovox.training.train import read_rows

    rows = read_rows([f"{args.corpora}/{c}/manifest.csv" for c in CORPORA])
    cache = FeatureCache(load_backbone(args.backbone).with_preprocess("normalise"))
    X = np.stack([cache.pooled(r.path, "clean", "speech") for r in tqdm(rows, desc="features", mininterval=5)])
    y = np.array([HARMONISE.get(r.emotion, r.emotion) for r in rows])
    corpus = np.array([r.corpus for r in rows])
    print(f"{args.backbone}, {len(rows)} clips, {X.shape[1]} features\n")
    print("| probe | C | LOCO UA 4-emo mean % | worst % | " + " | ".join(CORPORA) + " | seconds |")
    print("|---|---:|---:|---:|" + "---:|" * len(CORPORA) + "---:|")
    for labels in ("four", "all"):
        for c in args.c:
            t0, ua = time.time(), {}
            for held in CORPORA:
                train = corpus != held
                if labels == "four":
                    train &= np.isin(y, FOUR)
                test = (corpus == held) & np.isin(y, FOUR)
                scale = StandardScaler().fit(X[train])
                clf = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
                clf.fit(scale.transform(X[train]), y[train])
                probs = clf.predict_proba(scale.transform(X[test]))[:, [list(clf.classes_).index(k) for k in FOUR]]
                ua[held] = balanced_accuracy_score(y[test], np.array(FOUR)[probs.argmax(axis=1)])
            v = list(ua.values())
            print(f"| trained on {labels} labels | {c:g} | {100 * np.mean(v):.1f} | {100 * min(v):.1f} | "
                  + " | ".join(f"{100 * ua[k]:.1f}" for k in CORPORA) + f" | {time.time() - t0:.0f} |", flush=True)


if __name__ == "__main__":
    main()
