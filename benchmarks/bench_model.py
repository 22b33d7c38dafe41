"""Speed and memory of the default model on 3 s clips, with the transformers pipeline as the peer.

Times per clip (median and p95 ms): decode (``emovox.io.audio.load_audio``), descriptors
(``emovox.signal.features.describe``; n/a when that module is missing), model forward, and the total through
the public API ``model.predict(path)``. Peak RSS comes from a fresh subprocess that only loads the model
and predicts. The peer, in the same run and on the same clips: ``transformers.pipeline(
"audio-classification")`` with a wav2vec2-base-sized classifier (random weights: same compute).
Both use the same number of threads (default 2).

    python benchmarks/bench_model.py [--model NAME_OR_DIR] [--clips 20] [--rounds 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SR = 16_000
SRC = Path(__file__).resolve().parents[1] / "src"
TARGETS = {"total": 25.0, "rss": 400.0, "ratio": 8.0}


def corpora_root() -> Path:
    from emovox.corpora.location import corpora_root as find

    return find(Path(__file__).parent)


def write_clips(folder: Path, n: int) -> str:
    """n clips of exactly 3 s as 16 kHz FLAC: RAVDESS cuts when the corpora exist, else synthetic."""
    import soundfile as sf

    from emovox.io.audio import load_audio

    manifest = corpora_root() / "ravdess" / "manifest.csv"
    if manifest.is_file():
        rows = list(csv.DictReader(manifest.read_text().splitlines()))[:: max(1, 1440 // n)][:n]
        signals = [load_audio(manifest.parent / r["path"]) for r in rows]
        source = f"{len(rows)} RAVDESS clips cut/padded to 3.0 s"
    else:
        rng = np.random.default_rng(0)
        t = np.arange(3 * SR) / SR
        signals = [(0.3 * np.sin(2 * np.pi * (120 + 10 * i) * t) * (1 + np.sin(2 * np.pi * 4 * t))
                    + 0.01 * rng.standard_normal(t.size)).astype(np.float32) for i in range(n)]
        source = f"{n} synthetic 3 s clips (corpora not found)"
    for i, x in enumerate(signals):
        x = np.pad(x[: 3 * SR], (0, max(0, 3 * SR - x.size)))
        sf.write(folder / f"clip{i:03d}.flac", x, SR, subtype="PCM_16")
    return source


_FALLBACK = """
import sys, torch
from emovox.training.encoder import WhisperEncoder
from emovox.training.export import write_model_folder

class EncoderHead(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.encoder, self.head = WhisperEncoder.from_ct2(), torch.nn.Linear(384, 8)

    def forward(self, mel):
        return self.head(self.encoder(mel)[-1].mean(dim=1))

labels = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
write_model_folder(sys.argv[1], EncoderHead().eval(), labels, name="whisper-random-head", version="bench",
                   weights="fp16", description="RANDOM head, benchmark only")
"""


def resolve_model(arg: str | None, tmp: Path) -> tuple[str, str]:
    """(location, label): the built-in emovox-base if installed, else the encoder + a random head.

    The fallback is exported in a child process so that this process never imports torch before
    the RSS measurements (a child's ru_maxrss starts from its parent's RSS at spawn).
    """
    from emovox.models.registry import default_spec, is_installed

    if arg:
        return arg, arg
    spec = default_spec()
    if is_installed(spec):
        return spec.name, f"{spec.name} (built-in)"
    folder = tmp / "random-head"
    subprocess.run([sys.executable, "-c", _FALLBACK, str(folder)], check=True, env=child_env(),
                   stdout=subprocess.DEVNULL)
    return str(folder), "Whisper tiny.en encoder + RANDOM linear head, fp16 storage (emovox-base not installed)"


def child_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))


def measure(res: dict, key: str, fn):
    """Run fn once; append its wall ms to res[key] and its process CPU ms (all threads) to res["cpu_" + key]."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    res.setdefault(key, []).append((time.perf_counter() - wall) * 1000)
    res.setdefault("cpu_" + key, []).append((time.process_time() - cpu) * 1000)
    return out


def stats(times: list[float] | None) -> tuple[str, str]:
    if not times:
        return "n/a", "n/a"
    s = sorted(times)
    return f"{statistics.median(s):.1f}", f"{s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]:.1f}"


def bench_emovox(location: str, clips: list[Path], rounds: int, threads: int, spinning: bool) -> dict:
    import emovox
    from emovox.io.audio import load_audio

    try:
        from emovox.signal.features import describe
    except ImportError:
        describe = None
    model = emovox.load_model(location, threads=threads, spinning=spinning, features=describe is not None)
    for p in clips[:3]:
        model.predict(p)  # warm-up
    res: dict = {}
    for _ in range(rounds):
        for p in clips:
            x = measure(res, "decode", lambda p=p: load_audio(p))
            if describe is not None:
                measure(res, "descriptors", lambda x=x: describe(x, SR))
            measure(res, "forward", lambda x=x: model.backend.forward([x]))
            measure(res, "total", lambda p=p: model.predict(p))
    res["features_included"] = describe is not None
    return res


def bench_peer(clips: list[Path], rounds: int, threads: int, tmp: Path) -> dict:
    """transformers audio-classification pipeline, wav2vec2-base-sized classifier, random weights."""
    import torch
    import transformers

    from emovox.io.audio import load_audio

    torch.set_num_threads(threads)
    folder = save_peer(tmp)
    pipe = transformers.pipeline("audio-classification", model=str(folder), device=-1)
    # The pipeline decodes paths with a system ffmpeg, which this machine lacks: decode with the
    # same decoder as emovox and time decode + pipeline together.
    run = lambda p: pipe({"raw": load_audio(p), "sampling_rate": SR})  # noqa: E731
    for p in clips[:3]:
        run(p)
    res: dict = {}
    for _ in range(rounds):
        for p in clips:
            x = measure(res, "decode", lambda p=p: load_audio(p))
            measure(res, "forward", lambda x=x: pipe({"raw": x, "sampling_rate": SR}))
            measure(res, "total", lambda p=p: run(p))
    return res


PEER_DIR = "wav2vec2-base-random"


def save_peer(tmp: Path | str) -> Path:
    import torch
    import transformers

    folder = Path(tmp) / PEER_DIR
    if not folder.is_dir():
        torch.manual_seed(0)
        transformers.Wav2Vec2ForSequenceClassification(transformers.Wav2Vec2Config(num_labels=8)).save_pretrained(folder)
        transformers.Wav2Vec2FeatureExtractor(return_attention_mask=False).save_pretrained(folder)
    return folder


_HWM = """
def _hwm():  # Linux: this process's own peak resident set (VmHWM), a cross-check of ru_maxrss
    try:
        line = next(x for x in open("/proc/self/status") if x.startswith("VmHWM"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration):
        return None
"""
_RSS_OURS = _HWM + """
import json, resource, sys, emovox
try:
    import emovox.signal.features
    feats = True
except ImportError:
    feats = False
m = emovox.load_model(sys.argv[1], threads=int(sys.argv[2]), features=feats)
for p in sys.argv[3:]:
    m.predict(p)
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "hwm_mb": _hwm(), "torch_loaded": "torch" in sys.modules}))
"""
_RSS_PEER = _HWM + """
import json, resource, sys, torch, transformers
from emovox.io.audio import load_audio
torch.set_num_threads(int(sys.argv[2]))
pipe = transformers.pipeline("audio-classification", model=sys.argv[1], device=-1)
for p in sys.argv[3:]:
    pipe({"raw": load_audio(p), "sampling_rate": 16000})
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "hwm_mb": _hwm(), "torch_loaded": True}))
"""


def peak_rss(code: str, location: str, clips: list[Path], threads: int) -> dict:
    out = subprocess.run([sys.executable, "-c", code, location, str(threads), *map(str, clips)],
                         capture_output=True, text=True, env=child_env(), timeout=600)
    if out.returncode != 0:
        return {"rss_mb": float("nan"), "error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def load_avg() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="registry name or model folder (default: emovox-base)")
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-peer", action="store_true", help="skip the transformers pipeline")
    parser.add_argument("--spin", action="store_true",
                        help="let idle onnxruntime threads spin (onnxruntime's default; emovox's is off)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        (tmp / "clips").mkdir()
        source = write_clips(tmp / "clips", args.clips)
        clips = sorted((tmp / "clips").glob("*.flac"))
        location, label = resolve_model(args.model, tmp)
        before = load_avg()
        # RSS first, while this process is still light (no torch): see resolve_model.
        ours_rss = peak_rss(_RSS_OURS, location, clips, args.threads)
        peer = peer_rss = None
        if not args.no_peer:
            subprocess.run([sys.executable, "-c", f"import bench_model; bench_model.save_peer({str(tmp)!r})"],
                           check=True, env=dict(child_env(), PYTHONPATH=os.pathsep.join(
                               [str(SRC), str(Path(__file__).parent)])), capture_output=True)
            peer_rss = peak_rss(_RSS_PEER, str(tmp / PEER_DIR), clips, args.threads)
        ours = bench_emovox(location, clips, args.rounds, args.threads, args.spin)
        if not args.no_peer:
            peer = bench_peer(clips, args.rounds, args.threads, tmp)
        report(label, source, args, ours, ours_rss, peer, peer_rss, before, load_avg())


def report(label, source, args, ours, ours_rss, peer, peer_rss, before, after) -> None:
    spin = "on (--spin)" if args.spin else "off (emovox default)"
    print(f"\nmodel: {label}\nclips: {source}, {args.rounds} rounds, {args.threads} threads, spinning {spin}")
    print(f"peer: transformers audio-classification pipeline, Wav2Vec2ForSequenceClassification("
          f"Wav2Vec2Config(num_labels=8)) random weights, torch threads={args.threads}")
    print(f"{before} (start), {after} (end)\n")
    print("CPU ms = process CPU time of the call summed over threads (less sensitive to other load than wall time)\n")
    feats = "" if ours["features_included"] else " (emovox.signal.features missing: no descriptors)"
    print("| stage | emovox median ms | emovox p95 ms | emovox CPU ms | peer median ms | peer p95 ms | peer CPU ms | target |")
    print("|---|---|---|---|---|---|---|---|")
    for key, name, target in (("decode", "decode", ""), ("descriptors", "descriptors", ""),
                              ("forward", "model forward", ""),
                              ("total", "total predict(path)" + feats, f"<= {TARGETS['total']:.0f} ms")):
        o, oc = stats(ours.get(key)), stats(ours.get("cpu_" + key))[0]
        p, pc = (stats(peer.get(key)), stats(peer.get("cpu_" + key))[0]) if peer else (("n/a", "n/a"), "n/a")
        print(f"| {name} | {o[0]} | {o[1]} | {oc} | {p[0]} | {p[1]} | {pc} | {target} |")
    for key, name in (("rss_mb", "peak RSS MB, ru_maxrss (fresh process)"), ("hwm_mb", "peak RSS MB, VmHWM")):
        o = f"{ours_rss[key]:.0f}" if ours_rss.get(key) is not None else "n/a"
        p = f"{peer_rss[key]:.0f}" if peer_rss and peer_rss.get(key) is not None else "n/a"
        print(f"| {name} | {o} | | | {p} | | | <= {TARGETS['rss']:.0f} MB |")
    if peer:
        ratio = statistics.median(peer["total"]) / statistics.median(ours["total"])
        fwd = statistics.median(peer["forward"]) / statistics.median(ours["forward"])
        cpu = statistics.median(peer["cpu_total"]) / statistics.median(ours["cpu_total"])
        print(f"| speed ratio peer/emovox, total (wall) | {ratio:.1f}x | | | | | | >= {TARGETS['ratio']:.0f}x |")
        print(f"| speed ratio peer/emovox, model only (wall) | {fwd:.1f}x | | | | | | |")
        print(f"| speed ratio peer/emovox, total (CPU) | {cpu:.1f}x | | | | | | |")
    for who, res in (("emovox", ours_rss), ("peer", peer_rss)):
        if res and res.get("error"):
            print(f"\nRSS child of {who} failed: {res['error']}")
    if ours_rss.get("torch_loaded"):
        print("\nWARNING: the emovox process imported torch")


if __name__ == "__main__":
    main()
