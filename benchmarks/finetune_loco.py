"""Fine-tuning the Whisper tiny.en encoder under leave-one-corpus-out (LOCO): does it generalise better
than the frozen encoder with a trained head?

Two steps, so the heavy one can run on a lent GPU machine that has PyTorch but not ../shared:

    # here: trim silence, re-encode every clip as 16 kbit/s Opus, save the encoder weights
    python benchmarks/finetune_loco.py prepare --out .gpu/loco
    # anywhere with torch (GPU or CPU): the study; prints a table and writes a JSON report
    python benchmarks/finetune_loco.py run --data .gpu/loco --out loco-finetune.json

The study trains on the four emotions every corpus has (angry, happy, neutral, sad; TurEV-DB's and
RAVDESS' calm count as neutral) and, for each corpus, trains on the others and tests on it.
Configurations: ``frozen`` (encoder fixed, learned layer weights + mean/std pooling + linear head),
``top2`` (also the last two encoder layers), ``all`` (the whole encoder). Class x corpus cells
weigh the same in training. Metrics: 4-class UA and ECE (15 bins) on the held-out corpus.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CORPORA = ("ravdess", "emodb_2s", "turev_db", "ased")
CLASSES = ("angry", "happy", "neutral", "sad")
FOLD_MAP = {"calm": "neutral"}
OPUS_RATE = 48_000
SR = 16_000


# --- prepare (here, with ../shared and PyAV) -------------------------------------------------------
def trim(signal: np.ndarray, floor_db: float = 40.0, pad_s: float = 0.1) -> np.ndarray:
    """Cut leading/trailing stretches more than ``floor_db`` below the loudest 20 ms frame."""
    hop = SR // 50
    n = signal.size // hop
    if n < 2:
        return signal
    frames = signal[: n * hop].reshape(n, hop)
    db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(db > db.max() - floor_db)
    pad = int(pad_s * SR)
    start, end = max(0, loud[0] * hop - pad), min(signal.size, (loud[-1] + 1) * hop + pad)
    return signal[start:end]


def encode_opus(signal: np.ndarray, path: Path, bitrate: int) -> None:
    import av
    import soxr

    x = soxr.resample(signal, SR, OPUS_RATE).astype(np.float32)
    with av.open(str(path), "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=OPUS_RATE, layout="mono")
        stream.bit_rate = bitrate
        frame = av.AudioFrame.from_ndarray(x[None, :], format="flt", layout="mono")
        frame.sample_rate = OPUS_RATE
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    if not _sf_readable(path):  # libsndfile rejects some of FFmpeg's one-page files: let it write them
        import soundfile as sf

        sf.write(path, x, OPUS_RATE, format="OGG", subtype="OPUS", compression_level=0.9)


def _sf_readable(path: Path) -> bool:
    import soundfile as sf

    try:
        sf.info(path)
        sf.read(path, frames=1)
        return True
    except Exception:
        return False


def prepare(args) -> None:
    import torch

    from emovox.corpora.location import corpora_root
    from emovox.io.audio import load_audio
    from emovox.training.encoder import WhisperEncoder

    out = Path(args.out)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    root = Path(args.corpora) if args.corpora else corpora_root()
    rows = []
    for corpus in args.corpus:
        with open(root / corpus / "manifest.csv", newline="") as f:
            for row in csv.DictReader(f):
                emotion = FOLD_MAP.get(row["emotion"], row["emotion"])
                if emotion not in CLASSES:
                    continue
                name = f"{corpus}__{Path(row['path']).stem}.ogg"
                target = out / "audio" / name
                if not (target.exists() and _sf_readable(target)):
                    signal = trim(load_audio(root / corpus / row["path"]))
                    encode_opus(signal, target, args.bitrate)
                rows.append({"file": name, "corpus": corpus, "speaker": row["speaker"], "emotion": emotion})
        print(f"{corpus}: {sum(r['corpus'] == corpus for r in rows)} clips", flush=True)
    with open(out / "clips.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    encoder = WhisperEncoder.from_ct2()
    torch.save({k: v.half() for k, v in encoder.state_dict().items()}, out / "encoder.pt")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{len(rows)} clips, {size / 2**20:.1f} MiB in {out}")


# --- run (anywhere with torch; soundfile + scipy to decode) ----------------------------------------
def load_clips(data: Path, max_per_corpus: int | None):
    with open(data / "clips.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    if max_per_corpus:
        rng = np.random.default_rng(0)
        keep = []
        for corpus in CORPORA:
            idx = [i for i, r in enumerate(rows) if r["corpus"] == corpus]
            keep += sorted(rng.permutation(idx)[:max_per_corpus].tolist())
        rows = [rows[i] for i in keep]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor() as pool:
        mels = list(pool.map(_mel, [data / "audio" / r["file"] for r in rows], chunksize=32))
    return rows, mels


def _mel(path: Path) -> np.ndarray:
    import soundfile as sf
    from scipy.signal import resample_poly

    from emovox.models.whisper import log_mel

    x, rate = sf.read(path, dtype="float32", always_2d=True)
    return log_mel(resample_poly(x.mean(axis=1), SR, rate).astype(np.float32))


def build_model(torch, state: dict, mode: str):
    from emovox.training.encoder import WhisperEncoder

    nn = torch.nn
    encoder = WhisperEncoder(positions=state["positions"].shape[0])
    encoder.load_state_dict({k: v.float() for k, v in state.items()})

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder
            self.layer_weights = nn.Parameter(torch.zeros(encoder.num_states))
            self.norm = nn.LayerNorm(2 * 384)
            self.drop = nn.Dropout(0.2)
            self.head = nn.Linear(2 * 384, len(CLASSES))

        def forward(self, mel):
            states = torch.stack(self.encoder(mel), 0)  # (S, B, T, D)
            w = torch.softmax(self.layer_weights, 0)[:, None, None, None]
            h = (w * states).sum(0)
            pooled = torch.cat([h.mean(1), h.std(1)], -1)
            return self.head(self.drop(self.norm(pooled)))

    net = Net()
    for p in net.encoder.parameters():
        p.requires_grad = mode == "all"
    if mode == "top2":
        for module in (*net.encoder.layers[-2:], net.encoder.norm):
            for p in module.parameters():
                p.requires_grad = True
    return net


def crop(mel: np.ndarray, frames: int, rng) -> np.ndarray:
    """A random ``frames``-long window; short clips are tiled to fill it."""
    if mel.shape[1] < frames:
        mel = np.tile(mel, (1, frames // mel.shape[1] + 1))
    start = rng.integers(0, mel.shape[1] - frames + 1)
    return mel[:, start : start + frames]


def metrics(probs: np.ndarray, y: np.ndarray) -> dict:
    pred = probs.argmax(1)
    recalls = [float((pred[y == k] == k).mean()) for k in range(len(CLASSES)) if (y == k).any()]
    conf = probs.max(1)
    bins = np.minimum((conf * 15).astype(int), 14)
    ece = sum(
        abs(float((pred[bins == b] == y[bins == b]).mean()) - float(conf[bins == b].mean())) * (bins == b).mean()
        for b in range(15) if (bins == b).any()
    )
    confusion = np.zeros((len(CLASSES), len(CLASSES)), int)
    np.add.at(confusion, (y, pred), 1)
    return {"ua": float(np.mean(recalls)), "wa": float((pred == y).mean()), "ece": float(ece),
            "confusion": confusion.tolist()}


def train_fold(torch, state, mels, y, corpus, train_idx, test_idx, mode, args, seed):
    device = args.device
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    net = build_model(torch, state, mode).to(device)
    head_params = [p for n, p in net.named_parameters() if not n.startswith("encoder.")]
    enc_params = [p for n, p in net.named_parameters() if n.startswith("encoder.") and p.requires_grad]
    groups = [{"params": head_params, "lr": args.lr_head}]
    if enc_params:
        groups.append({"params": enc_params, "lr": args.lr_encoder})
    opt = torch.optim.AdamW(groups, weight_decay=0.01)
    cells = {}
    for i in train_idx:
        cells.setdefault((corpus[i], y[i]), []).append(i)
    weights = np.zeros(len(y))
    for members in cells.values():
        weights[members] = 1.0 / (len(cells) * len(members))
    w = weights[train_idx] / weights[train_idx].sum()
    steps = args.epochs * max(1, len(train_idx) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=[g["lr"] for g in groups], total_steps=steps, pct_start=0.1
    )
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.startswith("cuda") else torch.autocast("cpu", enabled=False)
    net.train()
    for _ in range(steps):
        batch = rng.choice(train_idx, size=args.batch, p=w)
        x = np.stack([crop(mels[i], args.frames, rng) for i in batch])
        gain = rng.uniform(-0.5, 0.5, size=(len(batch), 1, 1)).astype(np.float32)  # +-2 dB-ish in log10 units/4
        xb = torch.from_numpy(x + gain).to(device)
        yb = torch.from_numpy(y[batch]).to(device)
        with amp:
            loss = torch.nn.functional.cross_entropy(net(xb).float(), yb, label_smoothing=0.1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        sched.step()
    net.eval()
    probs = []
    with torch.no_grad(), amp:
        for i in test_idx:
            mel = mels[i][:, : 2 * 1500]
            probs.append(torch.softmax(net(torch.from_numpy(mel[None]).to(device)).float(), -1).cpu().numpy()[0])
    return np.array(probs)


def run(args) -> None:
    import torch

    if args.threads:  # on a shared CPU, torch's default thread count crawls (see training.loco)
        torch.set_num_threads(args.threads)

    data = Path(args.data)
    t0 = time.time()
    rows, mels = load_clips(data, args.max_per_corpus)
    print(f"decoded {len(rows)} clips in {time.time() - t0:.0f} s", flush=True)
    state = torch.load(data / "encoder.pt", map_location="cpu")
    y = np.array([CLASSES.index(r["emotion"]) for r in rows])
    corpus = np.array([r["corpus"] for r in rows])
    report = {"args": vars(args), "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
              "clips": {c: int((corpus == c).sum()) for c in CORPORA}, "results": []}
    for seed in range(args.seeds):  # seed-major: a run cut short still has whole seeds
        for mode, held in ((m, h) for m in args.configs for h in CORPORA):
            test_idx = np.flatnonzero(corpus == held)
            train_idx = np.flatnonzero(corpus != held)
            if len(test_idx):
                t = time.time()
                probs = train_fold(torch, state, mels, y, corpus, train_idx, test_idx, mode, args, seed)
                m = metrics(probs, y[test_idx])
                m.update(config=mode, test=held, seed=seed, seconds=round(time.time() - t, 1))
                report["results"].append(m)
                print(f"{mode:7s} {held:9s} seed {seed}: UA {100 * m['ua']:.1f} %  ECE {100 * m['ece']:.1f} %"
                      f"  ({m['seconds']} s)", flush=True)
                Path(args.out).write_text(json.dumps(report, indent=1))  # after every run
    print_table(report)


def print_table(report: dict) -> None:
    res = report["results"]
    configs = list(dict.fromkeys(r["config"] for r in res))
    held = [c for c in CORPORA if any(r["test"] == c for r in res)]
    print("\n| config | " + " | ".join(f"{c} UA %" for c in held) + " | mean UA % | worst UA % | mean ECE % |")
    print("|---|" + "---:|" * (len(held) + 3))
    for cfg in configs:
        ua = [np.mean([r["ua"] for r in res if r["config"] == cfg and r["test"] == c]) for c in held]
        ece = [np.mean([r["ece"] for r in res if r["config"] == cfg and r["test"] == c]) for c in held]
        cells = " | ".join(f"{100 * u:.1f}" for u in ua)
        print(f"| {cfg} | {cells} | {100 * np.mean(ua):.1f} | {100 * min(ua):.1f} | {100 * np.mean(ece):.1f} |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="re-encode the corpora as Opus + save the encoder weights")
    p.add_argument("--out", required=True)
    p.add_argument("--corpora", help="corpora root (default: EMOVOX_CORPORA or ../shared/corpora)")
    p.add_argument("--corpus", nargs="+", default=list(CORPORA))
    p.add_argument("--bitrate", type=int, default=16_000)
    r = sub.add_parser("run", help="the LOCO fine-tuning study")
    r.add_argument("--data", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--device", default="cuda")
    r.add_argument("--configs", nargs="+", default=["frozen", "top2", "all"])
    r.add_argument("--epochs", type=int, default=8)
    r.add_argument("--batch", type=int, default=32)
    r.add_argument("--frames", type=int, default=300, help="training crop, mel frames (100 per second)")
    r.add_argument("--lr-head", type=float, default=1e-3)
    r.add_argument("--lr-encoder", type=float, default=5e-5)
    r.add_argument("--seeds", type=int, default=2)
    r.add_argument("--max-per-corpus", type=int, default=0, help="subsample (0: every clip)")
    r.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.cmd == "prepare":
        prepare(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
