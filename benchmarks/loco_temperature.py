"""What one temperature could do for a LOCO run's calibration, in hindsight (a diagnostic, not a recipe).

Reads the held-out predictions a LOCO report saved (``emovox evaluate --loco --report DIR`` writes
DIR/predictions.jsonl), divides every clip's log-probabilities by each temperature T, and prints the
four-emotion ECE per held-out corpus and their mean, scored exactly as the LOCO report scores them.
A temperature read off this table uses the held-out labels, so it bounds what any single temperature
fitted without them can reach; it is not a way to choose one.

Usage: python benchmarks/loco_temperature.py benchmarks/results/loco/normalise-size-crop3 [DIR ...]
           [--temperatures 0.8,1,1.2,1.4,1.6,1.8,2,2.5]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def scaled(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of log(probs) / T: the same ranking, sharper (T < 1) or flatter (T > 1)."""
    from emovox.recognizer import softmax

    return softmax(np.log(np.clip(probs, 1e-12, 1.0)) / temperature)


def sweep(folder: Path, temperatures: list[float]) -> list[tuple[float, dict[str, float]]]:
    """[(T, {corpus: four-emotion ECE})] for one LOCO report folder."""
    from emovox.training.loco import FOUR, HARMONISE, restricted_metrics

    rows = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines() if line.strip()]
    by_corpus: dict[str, list[dict]] = {}
    for r in rows:
        by_corpus.setdefault(r["corpus"], []).append(r)
    out = []
    for t in temperatures:
        eces = {}
        for corpus, rs in sorted(by_corpus.items()):
            labels = list(rs[0]["scores"])  # each held-out corpus has its own training labels
            probs = np.array([[r["scores"][k] for k in labels] for r in rs])
            m = restricted_metrics([r["truth"] for r in rs], scaled(probs, t), labels, list(FOUR), HARMONISE)
            eces[corpus] = m["ece"]
        out.append((t, eces))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reports", nargs="+", type=Path, help="LOCO report folders (with predictions.jsonl)")
    ap.add_argument("--temperatures", default="0.8,1,1.2,1.4,1.6,1.8,2,2.5")
    args = ap.parse_args(argv)
    temps = [float(t) for t in args.temperatures.split(",")]
    for folder in args.reports:
        table = sweep(folder, temps)
        corpora = list(table[0][1])
        print(f"\n{folder}")
        print("| T | " + " | ".join(f"{c} ECE %" for c in corpora) + " | mean ECE % |")
        print("|---:|" + "---:|" * (len(corpora) + 1))
        for t, eces in table:
            print(f"| {t:g} | " + " | ".join(f"{100 * eces[c]:.1f}" for c in corpora)
                  + f" | {100 * np.mean(list(eces.values())):.1f} |")


if __name__ == "__main__":
    main()
