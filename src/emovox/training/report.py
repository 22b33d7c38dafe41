"""Turn scored test clips into a report: metrics per fold and pooled, plots, report.json + report.md."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .evaluate import SILENT, Scored, _natural
from .metrics import (
    classification_metrics,
    expected_calibration_error,
    plot_confusion,
    plot_reliability,
    reliability,
)

BINS = 15


def summarise(records: Sequence[Scored], labels: Sequence[str]) -> dict:
    """Metrics + ECE for one set of scored clips."""
    truth = [r.truth for r in records]
    pred = [r.emotion for r in records]
    out = classification_metrics(truth, pred, labels)
    conf = [r.confidence for r in records]
    hit = [t == p for t, p in zip(truth, pred)]
    out["ece"] = expected_calibration_error(conf, hit, BINS)
    out["mean_confidence"] = float(np.mean(conf)) if conf else 0.0
    out["speakers"] = sorted({r.speaker for r in records})
    out["silent"] = sum(r.emotion == SILENT for r in records)  # no prediction: counted as misses
    return out


def build_report(records: Sequence[Scored], labels: Sequence[str], meta: dict | None = None) -> dict:
    """Per fold, pooled over all folds, the mean over folds, per speaker, and reliability bins."""
    folds = sorted({r.fold for r in records}, key=_natural)
    per_fold = {f: summarise([r for r in records if r.fold == f], labels) for f in folds}
    pooled = summarise(records, labels)
    mean = {k: float(np.mean([m[k] for m in per_fold.values()])) for k in ("ua", "wa", "macro_f1", "ece")}
    speakers = {}
    for s in sorted({r.speaker for r in records}):
        mine = [r for r in records if r.speaker == s]
        speakers[s] = {"n": len(mine), "accuracy": float(np.mean([r.truth == r.emotion for r in mine]))}
    conf = [r.confidence for r in records]
    hit = [r.truth == r.emotion for r in records]
    return {
        "meta": meta or {}, "labels": list(labels), "folds": per_fold, "pooled": pooled,
        "mean_over_folds": mean, "per_speaker": speakers, "reliability": reliability(conf, hit, BINS),
    }


def write_report(report: dict, records: Sequence[Scored], folder: str | os.PathLike) -> Path:
    """report.json, predictions.jsonl, report.md, confusion.png/json and reliability.png in folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    with (folder / "predictions.jsonl").open("w") as f:
        for r in records:
            f.write(json.dumps(r.to_dict()) + "\n")
    (folder / "confusion.json").write_text(json.dumps(report["pooled"]["confusion"], indent=2) + "\n")
    plot_confusion(report["pooled"]["confusion"], folder / "confusion.png", "pooled over folds")
    plot_reliability(report["reliability"], report["pooled"]["ece"], folder / "reliability.png", "pooled")
    (folder / "report.md").write_text(markdown(report))
    return folder


def report_summary(folder: str | os.PathLike) -> dict:
    """The headline numbers of a written report: protocol, command, pooled and mean-of-folds metrics."""
    from ..errors import EmovoxError

    file = Path(folder) / "report.json"
    if not file.is_file():
        raise EmovoxError(f"{folder} holds no report.json (write one with `emovox evaluate --report`)")
    report = json.loads(file.read_text())
    if report["meta"].get("protocol") == "leave-one-corpus-out":
        return {"protocol": "leave-one-corpus-out", "command": report["meta"].get("command"),
                "summary": report["summary"],
                "per_corpus": {c: {part: {k: r[part][k] for k in ("ua", "wa", "ece", "n")} for part in ("four", "shared")}
                               for c, r in report["corpora"].items()}}
    keys = ("ua", "wa", "macro_f1", "ece")
    return {
        "protocol": report["meta"].get("protocol"), "command": report["meta"].get("command"),
        "labels": report["labels"], "folds": len(report["folds"]),
        "pooled": {k: report["pooled"][k] for k in keys}, "mean_over_folds": report["mean_over_folds"],
    }


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def fold_table(report: dict) -> str:
    """The per-fold table (UA, WA, macro-F1, ECE in %) with the mean over folds and the pooled row."""
    lines = ["| fold | test speakers | clips | UA % | WA % | macro-F1 % | ECE % |", "|---|---|---:|---:|---:|---:|---:|"]
    for name, m in report["folds"].items():
        lines.append(f"| {name} | {' '.join(m['speakers'])} | {m['n']} | {_pct(m['ua'])} | {_pct(m['wa'])} "
                     f"| {_pct(m['macro_f1'])} | {_pct(m['ece'])} |")
    mean, pooled = report["mean_over_folds"], report["pooled"]
    lines.append(f"| **mean of folds** | | | **{_pct(mean['ua'])}** | {_pct(mean['wa'])} | {_pct(mean['macro_f1'])} | {_pct(mean['ece'])} |")
    lines.append(f"| **pooled** | | {pooled['n']} | **{_pct(pooled['ua'])}** | {_pct(pooled['wa'])} "
                 f"| {_pct(pooled['macro_f1'])} | {_pct(pooled['ece'])} |")
    return "\n".join(lines)


def markdown(report: dict) -> str:
    """The human-readable report."""
    pooled = report["pooled"]
    meta = report.get("meta", {})
    out = ["# Evaluation report", ""]
    if meta.get("command"):
        out += ["Command:", "", "```", meta["command"], "```", ""]
    silent = f"; {pooled['silent']} clip(s) found silent by the recognizer count as misses" if pooled["silent"] else ""
    dropped = meta.get("dropped")
    if dropped:
        kept = ", ".join(f"{k} {v}" for k, v in dropped.items())
        silent += f"; clips not tested (emotion outside the scored labels, --drop-other): {kept}"
    out += [f"Scored labels: {', '.join(report['labels'])}{silent}", "", "## Per fold", "", fold_table(report), ""]
    out += ["## Per class (pooled)", "", "| class | precision % | recall % | F1 % | support |", "|---|---:|---:|---:|---:|"]
    for c, m in pooled["per_class"].items():
        out.append(f"| {c} | {_pct(m['precision'])} | {_pct(m['recall'])} | {_pct(m['f1'])} | {m['support']} |")
    labels = pooled["confusion"]["labels"]
    out += ["", "## Confusion (pooled; rows true, columns predicted)", "",
            "| true \\ pred | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for lab, row in zip(labels, pooled["confusion"]["matrix"]):
        out.append(f"| {lab} | " + " | ".join(str(v) for v in row) + " |")
    out += ["", f"## Calibration: ECE ({BINS} bins) {_pct(pooled['ece'])} %, mean confidence "
            f"{_pct(pooled['mean_confidence'])} %, accuracy {_pct(pooled['wa'])} %", "",
            "| confidence bin | clips | mean confidence | accuracy |", "|---|---:|---:|---:|"]
    for b in report["reliability"]:
        if b["count"]:
            out.append(f"| {b['low']:.2f}-{b['high']:.2f} | {b['count']} | {b['confidence']:.3f} | {b['accuracy']:.3f} |")
    out += ["", "## Per speaker", "", "| speaker | clips | accuracy % |", "|---|---:|---:|"]
    for s, m in report["per_speaker"].items():
        out.append(f"| {s} | {m['n']} | {_pct(m['accuracy'])} |")
    return "\n".join(out) + "\n"
