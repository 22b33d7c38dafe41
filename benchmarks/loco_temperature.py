"""What one temperature could do for a LOCO run's calibration, in hindsight (a diagnostic, not a recipe).

Reads the held-out predictions a LOCO report saved (``emovox evaluate --loco --report DIR`` writes
DIR/predictions.jsonl), divides every clip's log-probabilities by each temperature T, and prints the
four-emotion ECE per held-out corpus and their mean, scored exactly as the LOCO report scores them.
A temperature read off this table uses the held-out labels, so it bounds what any single temperature
fitted without them can reach; it is not a way to choose one.

``--nested`` chooses one without them: for each held-out corpus, the temperature (on a grid) that gives
the lowest mean ECE on the *other* corpora's held-out predictions, then scores the held-out corpus at
it -- out-of-corpus calibration, validated out of corpus. It also prints the temperature fitted on all
the corpora together: the one a model trained on all of them would carry (recipe ``"temperature"``).

Usage: python benchmarks/loco_temperature.py benchmarks/results/loco/normalise-size-crop3 [DIR ...]
           [--temperatures 0.8,1,1.2,1.4,1.6,1.8,2,2.5] [--nested]
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
    from emovox.recognizers.voice import softmax

    return softmax(np.log(np.clip(probs, 1e-12, 1.0)) / temperature)


def held_out(source) -> dict[str, tuple[list[str], np.ndarray, list[str]]]:
    """{corpus: (truth, probs, labels)} from a LOCO report folder (its predictions.jsonl) or from
    in-memory LOCO predictions (``training.loco.loco_predict``'s answer)."""
    if isinstance(source, dict):
        return {c: (list(p["truth"]), np.asarray(p["probs"]), list(p["labels"])) for c, p in sorted(source.items())}
    rows = [json.loads(line) for line in (Path(source) / "predictions.jsonl").read_text().splitlines() if line.strip()]
    by_corpus: dict[str, list[dict]] = {}
    for r in rows:
        by_corpus.setdefault(r["corpus"], []).append(r)
    out = {}
    for corpus, rs in sorted(by_corpus.items()):
        labels = list(rs[0]["scores"])  # each held-out corpus has its own training labels
        out[corpus] = ([r["truth"] for r in rs], np.array([[r["scores"][k] for k in labels] for r in rs]), labels)
    return out


def sweep(source, temperatures: list[float]) -> list[tuple[float, dict[str, float]]]:
    """[(T, {corpus: four-emotion ECE})] for one LOCO run (a report folder or predictions, see held_out)."""
    from emovox.training.loco import FOUR, HARMONISE, restricted_metrics

    corpora = held_out(source)
    return [(t, {c: restricted_metrics(truth, scaled(probs, t), labels, list(FOUR), HARMONISE)["ece"]
                 for c, (truth, probs, labels) in corpora.items()}) for t in temperatures]


GRID = [round(0.5 + 0.05 * k, 2) for k in range(71)]  # 0.5 .. 4.0


def nested(source, grid: list[float] = GRID) -> tuple[dict[str, tuple[float, float]], float]:
    """({held-out corpus: (T chosen on the other corpora, its ECE at T)}, T chosen on all corpora) for a
    report folder or in-memory predictions (see held_out)."""
    table = sweep(source, grid)
    corpora = list(table[0][1])

    def best(over: list[str]) -> tuple[float, dict[str, float]]:  # lowest mean ECE over ``over``; ties: T nearest 1
        return min(table, key=lambda row: (round(float(np.mean([row[1][c] for c in over])), 6), abs(row[0] - 1)))

    out = {}
    for held in corpora:
        t, eces = best([c for c in corpora if c != held])
        out[held] = (t, eces[held])
    return out, best(corpora)[0]


def nested_table(folder: Path) -> tuple[str, dict[str, tuple[float, float]], float, float]:
    """``nested`` as a Markdown table (per held-out corpus: its T, the ECE at it and at T = 1; then the
    means), with ``nested``'s per-corpus answer, the mean ECE at the nested T and the T chosen on all."""
    per, overall = nested(folder)
    (plain,) = [eces for _, eces in sweep(folder, [1.0])]
    mean = float(np.mean([e for _, e in per.values()]))
    rows = ["| held-out corpus | T chosen on the other corpora | ECE 4-emo % at that T | ECE 4-emo % at T = 1 |",
            "|---|---:|---:|---:|"]
    rows += [f"| {c} | {t:g} | {100 * e:.1f} | {100 * plain[c]:.1f} |" for c, (t, e) in per.items()]
    rows.append(f"| **mean** | | **{100 * mean:.1f}** | {100 * np.mean(list(plain.values())):.1f} |")
    return "\n".join(rows), per, mean, overall


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reports", nargs="+", type=Path, help="LOCO report folders (with predictions.jsonl)")
    ap.add_argument("--temperatures", default="0.8,1,1.2,1.4,1.6,1.8,2,2.5")
    ap.add_argument("--nested", action="store_true",
                    help="choose each held-out corpus' temperature on the other corpora (no held-out labels)")
    args = ap.parse_args(argv)
    temps = [float(t) for t in args.temperatures.split(",")]
    for folder in args.reports:
        if args.nested:
            table, _, _, overall = nested_table(folder)
            print(f"\n{folder}\n{table}\ntemperature chosen on all the corpora: {overall:g}")
            continue
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
