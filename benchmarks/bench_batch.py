"""Batch throughput: emovox local (1 and 2 workers) and Ray local, against a transformers loop.

    python benchmarks/bench_batch.py                       # built-in model (or a tiny one, see below)
    python benchmarks/bench_batch.py --model peer          # emovox running the peer's own model
    python benchmarks/bench_batch.py --clips 200 --long 10 --json bench.json

Two folders are built in a temp dir: ``--clips`` clips of exactly 3 s and ``--long`` files of
1 minute, cut from and concatenated out of RAVDESS clips in ../shared/corpora (EMOVOX_CORPORA), or
synthetic speech-like audio when the corpora are absent. Each runner analyses both folders; the peer
is a straightforward loop over ``transformers.pipeline("audio-classification")`` with a
wav2vec2-base-sized classifier (random weights: same compute), soundfile decoding included.

Every runner uses one math thread per worker, so "1 worker" is a per-core figure. ``wall`` counts
everything a user waits for (process/Ray start, model loads); a second table gives that start-up
alone: the wall time of the same runner on a single 3 s clip. Without ``--model`` and without the
built-in model installed, a tiny random wav2vec2 is used and the printed ratio says nothing about
the default model: re-run when it lands.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SR = 16_000
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    args = parse()
    os.nice(args.nice)
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="emovox-bench-batch-") as tmp:
        tmp = Path(tmp)
        peer_dir = build_peer_model(tmp / "peer")
        model, model_note = pick_model(args.model, tmp, peer_dir)
        data = {"3 s clips": build_folder(tmp / "short", args.clips, 3.0),
                "1-min files": build_folder(tmp / "long", args.long, 60.0)}
        print(f"model: {model_note}; peer: transformers pipeline, wav2vec2-base random weights")
        print(f"audio: {corpus_note()}; cores: {os.cpu_count()}, 1 math thread per worker\n")
        rows, startup = [], {}
        runners = [r for r in RUNNERS if r[0] != "ray local, 2 actors" or not args.no_ray]
        for name, kwargs in runners:
            startup[f"emovox {name}"] = emovox_wall(data["3 s clips"][:1], model, tmp / "o", kwargs)
            for dataset, files in data.items():
                rows.append(row(dataset, f"emovox {name}", files, emovox_wall(files, model, tmp / "o", kwargs)))
        startup["transformers pipeline loop"] = peer_wall(data["3 s clips"][:1], peer_dir)
        for dataset, files in data.items():
            rows.append(row(dataset, "transformers pipeline loop", files, peer_wall(files, peer_dir)))
        print_table(rows)
        print("\nstart-up: wall time for one 3 s clip (imports, process/Ray start, model load, 1 clip)")
        for name, wall in startup.items():
            print(f"  {name:<32} {wall:6.1f} s")
        if args.json:
            Path(args.json).write_text(json.dumps({"model": model_note, "rows": rows, "startup_s": startup}, indent=2))


RUNNERS = [
    ("local, 1 worker", {"workers": 1, "threads": 1}),
    ("local, 2 workers", {"workers": 2, "threads": 1}),
    ("ray local, 2 actors", {"workers": 2, "threads": 1, "engine": "ray"}),
]


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=None,
                   help="emovox model (name/folder/hub id); 'peer' = the peer's wav2vec2-base; "
                   "default: built-in if installed, else a tiny random wav2vec2")
    p.add_argument("--clips", type=int, default=24, help="number of 3 s clips (default 24)")
    p.add_argument("--long", type=int, default=2, help="number of 1-minute files (default 2)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--no-ray", action="store_true", help="skip the Ray runner")
    p.add_argument("--nice", type=int, default=10, help="niceness (the machine is shared)")
    p.add_argument("--json", default=None, help="also write the rows to this JSON file")
    return p.parse_args()


def emovox_wall(files: list[str], model: str, out: Path, kwargs: dict) -> float:
    from emovox.batch import run_batch

    target = out if kwargs.get("engine") == "ray" else out.with_suffix(".parquet")
    start = time.perf_counter()
    summary = run_batch(files, target, model=model, features=_features(), overwrite=True, **kwargs)
    wall = time.perf_counter() - start
    if summary.failed:
        raise SystemExit(f"benchmark files failed: {summary.failures}")
    return wall


def peer_wall(files: list[str], peer_dir: Path) -> float:
    """The peer: decode with soundfile, then pipeline(...) one file at a time."""
    import soundfile as sf
    from transformers import pipeline

    start = time.perf_counter()
    pipe = pipeline("audio-classification", model=str(peer_dir), device="cpu")
    for f in files:
        audio, rate = sf.read(f, dtype="float32")
        pipe({"raw": audio, "sampling_rate": rate}, top_k=None)
    return time.perf_counter() - start


def row(dataset: str, runner: str, files: list[str], wall: float) -> dict:
    import soundfile as sf

    audio_s = sum(sf.info(f).duration for f in files)
    return {"dataset": dataset, "runner": runner, "files": len(files), "audio_min": audio_s / 60,
            "wall_s": wall, "files_per_s": len(files) / wall, "audio_h_per_h": audio_s / wall}


def print_table(rows: list[dict]) -> None:
    peer = {r["dataset"]: r for r in rows if r["runner"].startswith("transformers")}
    head = ("dataset", "runner", "files", "audio min", "wall s", "files/s", "audio h/h",
            "x peer (files/s)")
    lines = [head]
    for r in sorted(rows, key=lambda r: r["dataset"], reverse=True):
        ratio = r["files_per_s"] / peer[r["dataset"]]["files_per_s"]
        lines.append((r["dataset"], r["runner"], str(r["files"]), f"{r['audio_min']:.1f}",
                      f"{r['wall_s']:.1f}", f"{r['files_per_s']:.2f}", f"{r['audio_h_per_h']:.1f}",
                      f"{ratio:.2f}x"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for i, line in enumerate(lines):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def _features() -> bool:
    import importlib.util

    return importlib.util.find_spec("emovox.signal.features") is not None


# --- models and audio ------------------------------------------------------------------------
def build_peer_model(folder: Path) -> Path:
    """wav2vec2-base-sized classifier with random weights (4 emotion labels), saved like a checkpoint."""
    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForSequenceClassification,
    )

    torch.manual_seed(0)
    labels = {0: "ang", 1: "hap", 2: "neu", 3: "sad"}
    config = Wav2Vec2Config(id2label=labels, label2id={v: k for k, v in labels.items()})
    Wav2Vec2ForSequenceClassification(config).eval().save_pretrained(folder)
    Wav2Vec2FeatureExtractor(sampling_rate=SR, return_attention_mask=False).save_pretrained(folder)
    return folder


def build_tiny_model(folder: Path) -> Path:
    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForSequenceClassification,
    )

    torch.manual_seed(0)
    config = Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        conv_dim=(32, 32, 32), conv_stride=(5, 4, 4), conv_kernel=(10, 8, 8),
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2, classifier_proj_size=16,
        id2label={0: "ang", 1: "hap", 2: "neu", 3: "sad"},
        label2id={"ang": 0, "hap": 1, "neu": 2, "sad": 3},
    )
    Wav2Vec2ForSequenceClassification(config).eval().save_pretrained(folder)
    Wav2Vec2FeatureExtractor(sampling_rate=SR, return_attention_mask=False).save_pretrained(folder)
    return folder


def pick_model(name: str | None, tmp: Path, peer_dir: Path) -> tuple[str, str]:
    from emovox.models.registry import default_spec, is_installed

    if name == "peer":
        return str(peer_dir), "the peer's wav2vec2-base (random weights) through emovox"
    if name:
        return name, name
    spec = default_spec()
    if is_installed(spec):
        return spec.name, f"built-in {spec.name}"
    folder = build_tiny_model(tmp / "tiny")
    return str(folder), "TINY random wav2vec2 (built-in model not installed: ratios are not meaningful)"


def corpora_root() -> Path:
    from emovox.corpora.location import corpora_root as find

    return find(ROOT)


def corpus_note() -> str:
    root = corpora_root() / "ravdess"
    return f"RAVDESS clips from {root}" if (root / "manifest.csv").is_file() else "synthetic speech-like"


def source_signals():
    """Endless 16 kHz signals: RAVDESS clips in manifest order, or synthetic speech-like audio."""
    import csv

    from emovox.io.audio import load_audio

    manifest = corpora_root() / "ravdess" / "manifest.csv"
    if manifest.is_file():
        with open(manifest, newline="") as f:
            paths = [manifest.parent / r["path"] for r in csv.DictReader(f)]
        while True:
            for p in paths:
                yield load_audio(p)
    seed = 0
    while True:
        yield synthetic(3.5, seed)
        seed += 1


def build_folder(folder: Path, count: int, seconds: float) -> list[str]:
    """``count`` FLAC files of exactly ``seconds``: clips cut/padded, or concatenated with 0.3 s gaps."""
    import soundfile as sf

    folder.mkdir(parents=True)
    signals = source_signals()
    n = int(seconds * SR)
    out = []
    for i in range(count):
        parts, total = [], 0
        while total < n:
            clip = next(signals)
            parts += [clip, np.zeros(int(0.3 * SR), np.float32)]
            total += clip.size + int(0.3 * SR)
        path = folder / f"{i:05d}.flac"
        sf.write(path, np.concatenate(parts)[:n], SR, subtype="PCM_16")
        out.append(str(path))
    return out


def synthetic(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = rng.uniform(100, 250) * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 20)) * (0.5 * (1 - np.cos(2 * np.pi * 4 * t))) ** 2
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


if __name__ == "__main__":
    main()
