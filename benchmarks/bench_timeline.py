"""Emotion timelines on long recordings: speed (real-time factor, peak RSS) and segmentation accuracy.

    python benchmarks/bench_timeline.py                       # built-in model, 30 min speed + accuracy
    python benchmarks/bench_timeline.py --model DIR --minutes 5 --accuracy-files 2

Long files are made here, in a temporary folder that is deleted afterwards, by concatenating
labelled corpus clips (RAVDESS by default; EMOVOX_CORPORA or ../shared/corpora) with pauses.

Speed: ``model.timeline(file)`` runs in a fresh child process on a ``--minutes`` file (default 30),
so the peak RSS printed is the timeline's own (targets: RTF <= 0.01, peak RSS <= 500 MB). Two
layouts: "pauses" (clips with 0.5-3 s pauses; a -60 dBFS noise floor under all) and "continuous" (each clip cut to
its speech and joined back to back: the worst case, every second is speech).

Accuracy: the truth of each clip is its label over its speech span (10 ms frames above -50 dBFS,
found from the clip's energy, independent of the VAD); everything else is "no emotion".
* frame accuracy: share of the truth's speech frames whose timeline emotion equals the clip label.
* EDER-like error: (missed emotion + false alarm + confusion) / speech time, on 10 ms frames.
  SpeechBrain's ZED recipe scores emotion diarization with the EDER of Wang et al. 2023
  (speechbrain/utils/EDER.py: missed emotion + false alarm + confusion over the utterance),
  29.7 % on the ZED test set with WavLM-large. ZED is spontaneous speech with one emotional event
  inside neutral speech, ours is acted clips, so the numbers are of the same kind, not comparable.
* boundary error: for every true edge (clip speech start/end), the distance to the nearest
  predicted edge (any change of speech/emotion); and the reverse, which counts spurious edges.
* peer in the same run: the same model on each clip alone (``predict``; oracle segmentation).
The built-in model is trained on all of RAVDESS, EmoDB and TurEV-DB, so its accuracy here is
in-sample; pass a fold model (``emovox train`` without --fold N's speakers) and ``--fold N``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from emovox.corpora.location import corpora_root  # noqa: E402
from emovox.io.audio import SAMPLE_RATE, load_audio  # noqa: E402

FRAME = 0.01
TARGET_RTF, TARGET_RSS_MB = 0.01, 500.0


def corpus_rows(corpus: str, fold: int | None) -> tuple[Path, list[dict]]:
    folder = corpora_root(ROOT) / corpus
    if not (folder / "manifest.csv").is_file():
        sys.exit(f"corpus not found: {folder} (set EMOVOX_CORPORA)")
    rows = read_csv(folder / "manifest.csv")
    if fold is not None:
        folds = {r["speaker"]: int(r["fold"]) for r in read_csv(folder / "folds.csv")}
        rows = [r for r in rows if folds.get(r["speaker"]) == fold]
    return folder, rows


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def speech_span(x: np.ndarray) -> tuple[float, float]:
    """First and last 10 ms frame above -50 dBFS (the clip's speech, from energy alone)."""
    n = int(FRAME * SAMPLE_RATE)
    frames = x[: x.size // n * n].reshape(-1, n)
    loud = np.flatnonzero(20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-12) > -50)
    return (0.0, x.size / SAMPLE_RATE) if loud.size == 0 else (loud[0] * FRAME, (loud[-1] + 1) * FRAME)


def build_file(path: Path, folder: Path, rows: list[dict], seconds: float, layout: str, seed: int) -> list[dict]:
    """Write a long FLAC clip by clip (never whole in memory); return the truth per clip."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    truth, t = [], 0.0
    with sf.SoundFile(path, "w", SAMPLE_RATE, 1, format="FLAC", subtype="PCM_16") as out:
        while t < seconds:
            row = rows[rng.integers(len(rows))]
            x = load_audio(folder / row["path"])
            a, b = speech_span(x)
            if layout == "continuous":
                x = x[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)]
                a, b = 0.0, x.size / SAMPLE_RATE
                gap = np.zeros(int(0.05 * SAMPLE_RATE), np.float32)
            else:
                gap = np.zeros(int(rng.uniform(0.5, 3.0) * SAMPLE_RATE), np.float32)
            out.write(x + _noise(rng, x.size))
            gap += _noise(rng, gap.size)
            truth.append({"path": row["path"], "emotion": row["emotion"], "start": t + a, "end": t + b,
                          "clip_start": t, "clip_end": t + x.size / SAMPLE_RATE})
            t += x.size / SAMPLE_RATE
            out.write(gap)
            t += gap.size / SAMPLE_RATE
    return truth


def _noise(rng, n: int) -> np.ndarray:
    """A steady noise floor at -60 dBFS under the whole file, clips and pauses alike."""
    return (1e-3 * rng.standard_normal(n)).astype(np.float32)


# --- speed, in a child process ----------------------------------------------------------------


def child_speed(args) -> None:
    """Runs in a fresh process: decode+VAD pass, then the full timeline; prints one JSON line."""
    import emovox
    from emovox.io.audio import iter_audio
    from emovox.signal.vad import VoiceActivityDetector

    t0 = time.perf_counter()
    vad = VoiceActivityDetector()
    n = 0
    for chunk in iter_audio(args.child_speed):
        vad.feed(chunk)
        n += chunk.size
    decode_vad_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = emovox.load_model(args.model, features=False, **({"threads": args.threads} if args.threads else {}))
    model.predict_signals([np.zeros(int(args.window * SAMPLE_RATE), np.float32) + 1e-3])  # warm up
    load_s = time.perf_counter() - t0
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    calls = {"windows": 0, "seconds": 0.0}
    name = "score_windows" if hasattr(model, "score_windows") else "predict_signals"  # what the timeline calls
    inner = getattr(model, name)

    def timed(signals, **kw):
        t = time.perf_counter()
        out = inner(signals, **kw)
        calls["seconds"] += time.perf_counter() - t
        calls["windows"] += len(signals)
        return out

    setattr(model, name, timed)
    cpu0 = _cpu_s()
    t0 = time.perf_counter()
    tl = model.timeline(args.child_speed, window_s=args.window, hop_s=args.hop, batch_size=args.batch_size,
                        **_adapt_option(args))
    total = time.perf_counter() - t0
    adapted = getattr(tl, "adapted", None) or {}
    print(json.dumps({
        "adapted": ("yes" if adapted.get("applied", True) else "no") if adapted else "-",
        "cpu_s": _cpu_s() - cpu0,
        "duration_s": n / SAMPLE_RATE, "timeline_s": total, "decode_vad_s": decode_vad_s,
        "model_s": calls["seconds"], "windows": calls["windows"], "load_s": load_s,
        "rss_loaded_mb": rss_loaded, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "segments": len(tl.segments), "model": tl.model,
    }))


def _adapt_option(args) -> dict:
    """The timeline's adapt option when not the default (so the script also runs on older versions)."""
    return {} if args.adapt_value == "auto" else {"adapt": args.adapt_value}


def _cpu_s() -> float:
    """CPU seconds this process has used (user + system, all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_speed(args, tmp: Path, folder: Path, rows: list[dict]) -> list[dict]:
    out = []
    for layout in ("pauses", "continuous"):
        path = tmp / f"speed-{layout}.flac"
        build_file(path, folder, rows, args.minutes * 60, layout, seed=1)
        cmd = [sys.executable, __file__, "--child-speed", str(path), "--window", str(args.window),
               "--hop", str(args.hop), "--batch-size", str(args.batch_size), "--adapt", args.adapt]
        cmd += ["--model", args.model] if args.model else []
        cmd += ["--threads", str(args.threads)] if args.threads else []
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"speed child failed:\n{done.stderr[-3000:]}")
        out.append({"layout": layout, **json.loads(done.stdout.strip().splitlines()[-1])})
        path.unlink()
    return out


# --- accuracy ---------------------------------------------------------------------------------


def frame_labels(items, duration: float, key) -> np.ndarray:
    labels = np.full(int(np.ceil(duration / FRAME)), None, dtype=object)
    for item in items:
        a, b, value = key(item)
        labels[int(round(a / FRAME)) : int(round(b / FRAME))] = value
    return labels


def edges_of(labels: np.ndarray) -> np.ndarray:
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    return change * FRAME


def nearest(points: np.ndarray, to: np.ndarray) -> np.ndarray:
    if points.size == 0 or to.size == 0:
        return np.full(points.size, np.nan)
    return np.min(np.abs(points[:, None] - to[None, :]), axis=1)


def score(tl, truth: list[dict]) -> dict:
    ref = frame_labels(truth, tl.duration_s, lambda c: (c["start"], c["end"], c["emotion"]))
    hyp = frame_labels([s for s in tl.segments if s.emotion], tl.duration_s, lambda s: (s.start, s.end, s.emotion))
    n = min(ref.size, hyp.size)
    ref, hyp = ref[:n], hyp[:n]
    speech = ref != None  # noqa: E711 (element-wise on an object array)
    said = hyp != None  # noqa: E711
    missed = (speech & ~said).sum()
    false_alarm = (~speech & said).sum()
    confusion = (speech & said & (ref != hyp)).sum()
    true_edges = np.array([x for c in truth for x in (c["start"], c["end"])])
    pred_edges = edges_of(hyp)
    return {
        "speech_frames": int(speech.sum()), "correct": int((speech & (ref == hyp)).sum()),
        "missed": int(missed), "false_alarm": int(false_alarm), "confusion": int(confusion),
        "true_to_pred": nearest(true_edges, pred_edges), "pred_to_true": nearest(pred_edges, true_edges),
    }


def run_accuracy(args, tmp: Path, folder: Path, rows: list[dict]) -> list[dict]:
    import emovox

    model = emovox.load_model(args.model, features=False, **({"threads": args.threads} if args.threads else {}))
    results = []
    for layout in ("pauses", "continuous"):
        scores, clip_hits, clips = [], 0, 0
        for i in range(args.accuracy_files):
            path = tmp / f"acc-{layout}-{i}.flac"
            truth = build_file(path, folder, rows, args.accuracy_minutes * 60, layout, seed=100 + i)
            tl = model.timeline(path, window_s=args.window, hop_s=args.hop, batch_size=args.batch_size,
                                **_adapt_option(args))
            scores.append(score(tl, truth))
            preds = model.predict_many([folder / c["path"] for c in truth], batch_size=16, features=False)
            clip_hits += sum(p.emotion == c["emotion"] for p, c in zip(preds, truth, strict=True))
            clips += len(truth)
            path.unlink()
        total = {k: sum(s[k] for s in scores) for k in ("speech_frames", "correct", "missed", "false_alarm", "confusion")}
        t2p = np.concatenate([s["true_to_pred"] for s in scores])
        p2t = np.concatenate([s["pred_to_true"] for s in scores])
        results.append({
            "layout": layout, "clips": clips, "clip_accuracy": clip_hits / clips,
            "frame_accuracy": total["correct"] / total["speech_frames"],
            "eder": (total["missed"] + total["false_alarm"] + total["confusion"]) / total["speech_frames"],
            "missed": total["missed"] / total["speech_frames"], "false_alarm": total["false_alarm"] / total["speech_frames"],
            "confusion": total["confusion"] / total["speech_frames"],
            "b_mean": float(np.nanmean(t2p)), "b_median": float(np.nanmedian(t2p)),
            "b_within": float(np.mean(t2p <= 0.25)), "spurious_mean": float(np.nanmean(p2t)) if p2t.size else float("nan"),
            "edges": (t2p.size, p2t.size),
        })
    return results


def print_tables(args, speed: list[dict], accuracy: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    if speed:
        t = Table(title=f"timeline speed: {args.minutes:g} min file, window {args.window:g} s, hop {args.hop:g} s, "
                  f"batch {args.batch_size} ({speed[0]['model']})")
        for col in ("layout", "adapted", "windows", "decode+VAD s", "model s", "ms/window", "timeline s", "RTF",
                    "RTF target", "CPU s", "CPU RTF", "peak RSS MB", "RSS after load MB", "RSS target"):
            t.add_column(col, justify="right")
        for s in speed:
            rtf = s["timeline_s"] / s["duration_s"]
            t.add_row(s["layout"], s.get("adapted", "-"), str(s["windows"]), f"{s['decode_vad_s']:.2f}", f"{s['model_s']:.2f}",
                      f"{1000 * s['model_s'] / max(1, s['windows']):.1f}", f"{s['timeline_s']:.2f}", f"{rtf:.4f}",
                      ("met" if rtf <= TARGET_RTF else "missed") + f" (<= {TARGET_RTF})",
                      f"{s['cpu_s']:.2f}", f"{s['cpu_s'] / s['duration_s']:.4f}", f"{s['peak_rss_mb']:.0f}", f"{s['rss_loaded_mb']:.0f}",
                      ("met" if s["peak_rss_mb"] <= TARGET_RSS_MB else "missed") + f" (<= {TARGET_RSS_MB:.0f})")
        console.print(t)
        console.print("  CPU s: CPU time of the timeline call (all threads); on a busy shared machine it is "
                      "closer than wall time to what an idle one would take (with --threads 1, about equal)")
        for s in speed:
            other = s["timeline_s"] - s["model_s"]
            est = (other + s["windows"] * 0.010) / s["duration_s"]
            console.print(f"  {s['layout']}: everything but the model took {other:.2f} s; with a model at "
                          f"10 ms/window the same run would be RTF ~{est:.4f} (estimate, not measured)")
    if accuracy:
        t = Table(title=f"segmentation accuracy: {args.accuracy_files} x {args.accuracy_minutes:g} min per layout, "
                  f"10 ms frames ({args.corpus}{'' if args.fold is None else f' fold {args.fold}'})")
        for col in ("layout", "clips", "clip acc. (predict, peer)", "frame acc.", "EDER-like", "missed", "false al.",
                    "confusion", "boundary mean s", "median s", "<= 0.25 s", "spurious mean s"):
            t.add_column(col, justify="right")
        for a in accuracy:
            t.add_row(a["layout"], str(a["clips"]), f"{a['clip_accuracy']:.1%}", f"{a['frame_accuracy']:.1%}",
                      f"{a['eder']:.1%}", f"{a['missed']:.1%}", f"{a['false_alarm']:.1%}", f"{a['confusion']:.1%}",
                      f"{a['b_mean']:.3f}", f"{a['b_median']:.3f}", f"{a['b_within']:.0%}", f"{a['spurious_mean']:.3f}")
        console.print(t)
        console.print("  reference: SpeechBrain ZED recipe (WavLM-large) EDER 29.7 % on the ZED test set "
                      "(different data: spontaneous speech, one emotional event per utterance)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=None, help="model name or folder (default: built-in)")
    p.add_argument("--minutes", type=float, default=30.0, help="length of the speed file")
    p.add_argument("--window", type=float, default=3.0)
    p.add_argument("--hop", type=float, default=1.5, help="seconds between windows (library default 1.5)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--corpus", default="ravdess")
    p.add_argument("--fold", type=int, default=None, help="only clips of this fold's speakers (folds.csv)")
    p.add_argument("--accuracy-files", type=int, default=4)
    p.add_argument("--accuracy-minutes", type=float, default=3.0)
    p.add_argument("--adapt", choices=("auto", "on", "off"), default="auto",
                   help="the timeline's adapt option (default auto: adapt to the recording when it has enough speech)")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--skip-accuracy", action="store_true")
    p.add_argument("--child-speed", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    args.adapt_value = {"auto": "auto", "on": True, "off": False}[args.adapt]
    if args.child_speed:
        return child_speed(args)
    folder, rows = corpus_rows(args.corpus, args.fold)
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="emovox-bench-timeline-") as tmp:
        speed = [] if args.skip_speed else run_speed(args, Path(tmp), folder, rows)
        accuracy = [] if args.skip_accuracy else run_accuracy(args, Path(tmp), folder, rows)
    print_tables(args, speed, accuracy)
    print(f"load average (1 min) before/after: {before:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(timings are only comparable on an otherwise idle machine)")


if __name__ == "__main__":
    main()
