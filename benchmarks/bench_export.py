"""Which weight storage to ship: fp32 vs fp16-storage vs int8 for Whisper tiny.en + a pooled linear head.

The head is a logistic regression fitted on mean-pooled last-layer features of some RAVDESS clips (so
its decision margins are realistic, unlike a random head); parity is measured on other clips.
Prints: file size, ORT median/p95 ms on a 3 s clip, max/mean |logit diff| vs PyTorch, argmax
agreement, and accuracy of each (PyTorch vs ORT) on the held-out clips.

    python benchmarks/bench_export.py [--fit 160] [--test 96] [--threads 2]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def corpora_root() -> Path:
    from emovox.corpora.location import corpora_root as find

    return find(Path(__file__).parent)


def corpus_clips(root: Path, n_fit: int, n_test: int, seed: int = 0):
    rows = list(csv.DictReader((root / "ravdess" / "manifest.csv").read_text().splitlines()))
    rng = np.random.default_rng(seed)
    rng.shuffle(rows)
    actor = lambda r: int(r["speaker"].rsplit("_", 1)[-1])  # noqa: E731
    fit = [r for r in rows if actor(r) % 6 != 0][:n_fit]  # actors 6, 12, 18, 24 held out
    test = [r for r in rows if actor(r) % 6 == 0][:n_test]
    return fit, test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", type=int, default=160)
    parser.add_argument("--test", type=int, default=96)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sklearn.linear_model import LogisticRegression

    from emovox.io.audio import load_audio
    from emovox.models.native import session_options
    from emovox.models.whisper import log_mel
    from emovox.training.encoder import WhisperEncoder
    from emovox.training.export import export_onnx

    torch.set_num_threads(args.threads)
    root = corpora_root()
    fit, test = corpus_clips(root, args.fit, args.test)
    labels = sorted({r["emotion"] for r in fit + test})

    def mel(row):
        return log_mel(load_audio(root / "ravdess" / row["path"]))[None]

    encoder = WhisperEncoder.from_ct2()

    class EncoderHead(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.head = encoder, torch.nn.Linear(384, len(labels))

        def forward(self, m):
            return self.head(self.encoder(m)[-1].mean(dim=1))

    model = EncoderHead().eval()
    with torch.no_grad():
        feats = np.stack([encoder(torch.from_numpy(mel(r)))[-1].mean(dim=1)[0].numpy() for r in fit])
    clf = LogisticRegression(max_iter=2000, C=1.0).fit(feats, [labels.index(r["emotion"]) for r in fit])
    with torch.no_grad():
        model.head.weight.copy_(torch.from_numpy(clf.coef_.astype(np.float32)))
        model.head.bias.copy_(torch.from_numpy(clf.intercept_.astype(np.float32)))

    test_mels = [mel(r) for r in test]
    truth = np.array([labels.index(r["emotion"]) for r in test])
    with torch.no_grad():
        ref = np.concatenate([model(torch.from_numpy(m)).numpy() for m in test_mels])
    torch_pred = ref.argmax(axis=1)
    three_s = log_mel(np.random.default_rng(0).standard_normal(48_000).astype(np.float32) * 0.1)[None]

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = export_onnx(model, Path(tmp) / "fp32.onnx", weights="fp32")
        variants = {
            "fp32": fp32,
            "fp16": export_onnx(model, Path(tmp) / "fp16.onnx", weights="fp16"),
            "int8 (export: MatMul only, per-channel)": export_onnx(model, Path(tmp) / "int8.onnx", weights="int8"),
        }
        for name, options in (("int8 all ops (ORT defaults)", {}),
                              ("int8 all ops, per-channel", {"per_channel": True}),
                              ("int8 MatMul only, per-tensor", {"op_types_to_quantize": ["MatMul"]})):
            variants[name] = Path(tmp) / f"{name.replace(' ', '_').replace(',', '')}.onnx"
            quantize_dynamic(str(fp32), str(variants[name]), weight_type=QuantType.QInt8, **options)
        for name, path in variants.items():
            session = ort.InferenceSession(str(path), sess_options=session_options(args.threads),
                                           providers=["CPUExecutionProvider"])
            single = ort.InferenceSession(str(path), sess_options=session_options(1),
                                          providers=["CPUExecutionProvider"])
            wall, cpu = [], []
            for i in range(args.runs + 3):
                t = time.perf_counter()
                session.run(None, {"mel": three_s})
                wall.append((time.perf_counter() - t) * 1000)
                c1 = time.process_time()
                single.run(None, {"mel": three_s})
                if i >= 3:
                    cpu.append((time.process_time() - c1) * 1000)
            wall = sorted(wall[3:])
            got = np.concatenate([session.run(None, {"mel": m})[0] for m in test_mels])
            diff = np.abs(got - ref)
            rows.append((name, path.stat().st_size / 1e6, statistics.median(wall),
                         wall[int(0.95 * (len(wall) - 1))], statistics.median(cpu), diff.max(), diff.mean(),
                         (got.argmax(axis=1) == torch_pred).mean(), (got.argmax(axis=1) == truth).mean()))
    print(f"\nWhisper tiny.en + linear head ({len(labels)} classes), {len(fit)} fit clips, "
          f"{len(test)} held-out clips (RAVDESS, unseen actors), ORT threads={args.threads}")
    print(f"PyTorch accuracy on held-out clips: {(torch_pred == truth).mean():.3f}")
    print(f"{load_avg()}; CPU ms = 1-thread process CPU time per 3 s forward (steadier than wall under load)")
    print("| weights | size MB | ORT 3 s median ms | p95 ms | 1-thread CPU ms | max abs logit diff "
          "| mean abs diff | argmax agree | ORT accuracy |")
    print("|---|---|---|---|---|---|---|---|---|")
    for w, size, med, p95, cpu, mx, mean, agree, acc in rows:
        print(f"| {w} | {size:.1f} | {med:.1f} | {p95:.1f} | {cpu:.1f} | {mx:.2e} | {mean:.2e} | {agree:.3f} | {acc:.3f} |")


def load_avg() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


if __name__ == "__main__":
    main()
