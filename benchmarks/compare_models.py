"""Two model folders on the same clips: do they answer the same? (reproducing the shipped model)

    python benchmarks/compare_models.py /tmp/retrained \
        --manifest ../shared/corpora/ravdess/manifest.csv --manifest ../shared/corpora/emodb_2s/manifest.csv \
        --manifest ../shared/corpora/turev_db/manifest.csv [--against DIR] [--out table.md]

``--against`` defaults to the shipped emovox-base. Both models score every clip of the manifests
through ``emovox.load_model(...).predict_many`` (the public path, ONNX); the table gives the share of
clips with the same top emotion, the largest and mean absolute score difference, each model's
validation UA from its emovox.json (out-of-fold, what ``emovox train`` printed) and, per corpus, UA
against the labels. The shipped model was trained on these corpora, so that UA is a training-set
figure: it shows that both models learnt the same, not how well either generalises.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import emovox  # noqa: E402
from emovox.corpora.manifest import read_manifest  # noqa: E402


def scores(model_dir: str | None, paths: list[str]) -> tuple[str, np.ndarray, list[str]]:
    model = emovox.load_model(model_dir, features=False)
    out = np.full((len(paths), len(model.labels)), np.nan)
    for i, p in enumerate(model.predict_many(paths, batch_size=16, errors="return")):
        if isinstance(p, emovox.EmovoxError) or p.silent:
            continue
        out[i] = [p.scores[label] for label in model.labels]
    return model.info.id, out, list(model.labels)


def validation_ua(model_dir: str | None) -> float | None:
    folder = Path(model_dir) if model_dir else Path(emovox.load_model(features=False).info.source)
    extra = json.loads((folder / "emovox.json").read_text()).get("extra", {})
    return extra.get("validation", {}).get("ua")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="the model folder to compare (e.g. a fresh `emovox train` of the recipe)")
    ap.add_argument("--against", default=None, help="the other model folder (default: the built-in model)")
    ap.add_argument("--manifest", action="append", required=True, help="clips to score (repeatable)")
    ap.add_argument("--out", default=None, help="also write the table here (Markdown)")
    args = ap.parse_args(argv)

    rows = [r for m in args.manifest for r in read_manifest(m)]
    paths = [r.path for r in rows]
    t0 = time.perf_counter()
    id_a, a, labels = scores(args.against, paths)
    id_b, b, labels_b = scores(args.model, paths)
    if labels != labels_b:
        raise SystemExit(f"the models have different labels: {labels} vs {labels_b}")
    ok = ~np.isnan(a).any(axis=1) & ~np.isnan(b).any(axis=1)
    diff = np.abs(a[ok] - b[ok])
    same = (a[ok].argmax(axis=1) == b[ok].argmax(axis=1)).mean()
    lines = [
        f"{id_a} ({args.against or 'built-in'}) vs {id_b} ({args.model}): {ok.sum()} clips scored by both "
        f"({len(paths) - ok.sum()} silent or unreadable), {time.perf_counter() - t0:.0f} s",
        "",
        "| | clips | same top emotion % | max abs score diff | mean abs score diff |",
        "|---|---:|---:|---:|---:|",
        f"| all | {ok.sum()} | {100 * same:.1f} | {diff.max():.4f} | {diff.mean():.5f} |",
        "",
        "| model | validation UA % (emovox.json) | " + " | ".join(
            f"{c} UA % (training clips)" for c in sorted({r.corpus for r in rows})) + " |",
        "|---|---:|" + "---:|" * len({r.corpus for r in rows}),
    ]
    from sklearn.metrics import balanced_accuracy_score

    for name, folder, s in ((id_a, args.against, a), (id_b, args.model, b)):
        cells = []
        for corpus in sorted({r.corpus for r in rows}):
            idx = [i for i, r in enumerate(rows) if r.corpus == corpus and ok[i]]
            own = sorted({rows[i].emotion for i in idx})  # scored on the corpus' own labels
            cols = [labels.index(e) for e in own]
            pred = [own[j] for j in s[idx][:, cols].argmax(axis=1)]
            cells.append(f"{100 * balanced_accuracy_score([rows[i].emotion for i in idx], pred):.1f}")
        ua = validation_ua(folder)
        lines.append(f"| {name} ({folder or 'built-in'}) | {'-' if ua is None else f'{100 * ua:.2f}'} | "
                     + " | ".join(cells) + " |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
