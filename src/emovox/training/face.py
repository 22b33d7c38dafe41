"""Train, export and evaluate the facial-expression model on FER-2013 (the ``train`` extra: torch).

    python -m emovox.training.face train [--epochs 6] [--width 24] [--out src/emovox/assets/emovox-face]
    python -m emovox.training.face compare --model A --model B      # PublicTest only: nets x shifts
    python -m emovox.training.face pack --model A --model B --tta cross2 --out FOLDER
    python -m emovox.training.face evaluate [--model FOLDER]

Training uses the official split: fit on Training, choose the epoch on PublicTest, and report
PrivateTest once (``evaluate`` runs the exported ONNX through ``emovox.load_face_model()``).
``compare`` chooses the test-time augmentation and the nets to average on PublicTest alone;
``pack`` writes the chosen ones as one model folder.
FER-2013 is research-use only: the images never enter the repository; only the weights do.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# FER-2013 names -> emovox's canonical vocabulary.
CANONICAL = ("angry", "disgust", "fearful", "happy", "sad", "surprised", "neutral")
SIZE = 48
CROP = 44
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "assets" / "emovox-face"


def fer_path() -> Path:
    """``$EMOVOX_FER2013``, else ``faces/fer2013/fer2013.parquet`` next to the shared corpora."""
    if os.environ.get("EMOVOX_FER2013"):
        return Path(os.environ["EMOVOX_FER2013"])
    from ..corpora.location import corpora_root

    return corpora_root().parent / "faces" / "fer2013" / "fer2013.parquet"


def load_fer(path: Path | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{usage: (uint8 [N,48,48], int64 labels [N])} from the FER-2013 Parquet file."""
    import pyarrow.parquet as pq
    from PIL import Image

    from ..errors import EmovoxError

    path = Path(path or fer_path())
    if not path.is_file():
        raise EmovoxError(f"FER-2013 not found at {path} (set EMOVOX_FER2013)")
    table = pq.read_table(path, columns=["usage", "label", "png"]).to_pydict()
    out: dict[str, tuple[list, list]] = {}
    for usage, label, png in zip(table["usage"], table["label"], table["png"]):
        img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.uint8)
        xs, ys = out.setdefault(usage, ([], []))
        xs.append(img)
        ys.append(label)
    return {u: (np.stack(xs), np.asarray(ys, dtype=np.int64)) for u, (xs, ys) in out.items()}


def build_net(width: int = 24):
    """A compact VGG-style CNN: 4 stages (w, 2w, 4w, 8w), global average pool, linear head."""
    import torch.nn as nn

    def block(i: int, o: int) -> list:
        return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

    w = width
    return nn.Sequential(
        *block(1, w), *block(w, w), nn.MaxPool2d(2),
        *block(w, 2 * w), *block(2 * w, 2 * w), nn.MaxPool2d(2),
        *block(2 * w, 4 * w), *block(4 * w, 4 * w), nn.MaxPool2d(2),
        *block(4 * w, 8 * w), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3),
        nn.Linear(8 * w, len(FER_LABELS)),
    )


MEAN, STD = 0.5, 0.25


def _augment(x, gen):
    """Random 44x44 crop and horizontal flip of a uint8 batch [B,48,48] -> float [B,1,44,44]."""
    import torch

    b = x.shape[0]
    oy, ox = torch.randint(0, SIZE - CROP + 1, (2,), generator=gen).tolist()
    x = x[:, oy:oy + CROP, ox:ox + CROP].float() / 255.0
    flip = torch.rand(b, generator=gen) < 0.5
    x[flip] = x[flip].flip(-1)
    return _jitter(x, gen, 0.2).unsqueeze(1)


def _jitter(x, gen, amount: float):
    """Per face brightness/contrast jitter (a gain of 1 +- amount/2 about mid-grey), then the
    normalisation the net expects."""
    import torch

    gain = 1 + amount * (torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), generator=gen) - 0.5)
    return (((x - 0.5) * gain + 0.5).clamp(0, 1) - MEAN) / STD


def _augment_affine(x, gen):
    """Per face: rotation +-10 degrees, scale 0.9-1.1, shift +-2 px, mirror, brightness/contrast, then
    the 44x44 centre crop -> float [B,1,44,44] (``--augment affine``)."""
    import math

    import torch
    import torch.nn.functional as F

    b = x.shape[0]
    x = x.float().unsqueeze(1) / 255.0
    angle = (torch.rand(b, generator=gen) - 0.5) * 2 * math.radians(10)
    scale = 1 + (torch.rand(b, generator=gen) - 0.5) * 0.2
    shift = (torch.rand(b, 2, generator=gen) - 0.5) * 2 * (2 * 2 / SIZE)  # +-2 px in [-1, 1] units
    mirror = torch.where(torch.rand(b, generator=gen) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * mirror, -sin, shift[:, 0]], 1),
                         torch.stack([sin * mirror, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    m = (SIZE - CROP) // 2
    return _jitter(x[:, :, m:m + CROP, m:m + CROP], gen, 0.3)


AUGMENT = {"basic": _augment, "affine": _augment_affine}


def _center(x):
    m = (SIZE - CROP) // 2
    return ((x[:, m:m + CROP, m:m + CROP].float() / 255.0 - MEAN) / STD).unsqueeze(1)


class Exported:
    """Wraps the net for export: float [N,1,48,48] grey 0..255 -> probabilities (flip-averaged)."""

    @staticmethod
    def module(net):
        import torch

        class Wrapped(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.net = net

            def forward(self, x):
                m = (SIZE - CROP) // 2
                x = (x[:, :, m:m + CROP, m:m + CROP] / 255.0 - MEAN) / STD
                logits = (self.net(x) + self.net(torch.flip(x, dims=[3]))) / 2
                return torch.softmax(logits, dim=1)

        return Wrapped().eval()


def train(args) -> None:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    data = load_fer(args.data)
    xtr, ytr = (torch.from_numpy(a[: args.limit]) for a in data["Training"])
    xva, yva = (torch.from_numpy(a) for a in data["PublicTest"])
    print(f"loaded FER-2013: {len(ytr)} Training, {len(yva)} PublicTest ({time.time() - t0:.0f} s)", flush=True)
    net = build_net(args.width)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=5e-4)
    steps = args.epochs * ((len(ytr) + args.batch - 1) // args.batch)
    # at least two warm-up steps: OneCycleLR divides by zero on a run of a few steps (--limit)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps, pct_start=max(0.2, 2 / steps))
    best, best_state, history = -1.0, None, []
    cpu0 = time.process_time()
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(ytr), generator=gen)
        total = 0.0
        for i in range(0, len(order), args.batch):
            idx = order[i:i + args.batch]
            loss = F.cross_entropy(net(AUGMENT[args.augment](xtr[idx], gen)), ytr[idx], label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        net.eval()
        with torch.no_grad():
            pred = torch.cat([net(_center(xva[i:i + 512])).argmax(1) for i in range(0, len(yva), 512)])
        acc = float((pred == yva).float().mean())
        history.append({"epoch": epoch + 1, "loss": total / len(ytr), "public_acc": acc})
        print(f"epoch {epoch + 1}/{args.epochs}  loss {total / len(ytr):.3f}  PublicTest acc {acc:.4f}"
              f"  ({(time.time() - t0) / 60:.1f} min, {(time.process_time() - cpu0) / 60:.1f} CPU min)", flush=True)
        if acc > best:
            best, best_state = acc, {k: v.clone() for k, v in net.state_dict().items()}
        if time.process_time() - cpu0 > args.max_cpu_minutes * 60:
            print(f"stopping: --max-cpu-minutes {args.max_cpu_minutes} reached", flush=True)
            break
    net.load_state_dict(best_state)
    export(net, Path(args.out), {
        "width": args.width, "epochs_run": len(history), "epochs_planned": args.epochs, "lr": args.lr,
        "batch": args.batch, "seed": args.seed, "augment": args.augment, "best_public_acc": best, "history": history,
        "train_minutes": round((time.time() - t0) / 60, 1),
        "train_cpu_minutes": round((time.process_time() - cpu0) / 60, 1), "torch": torch.__version__,
    })


def export(net, out: Path, recipe: dict) -> None:
    """Write model.onnx + emovox-face.json into ``out`` (atomically per file)."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    wrapped = Exported.module(net.eval())
    with tempfile.TemporaryDirectory() as tmp:
        onnx_tmp = Path(tmp) / "model.onnx"
        torch.onnx.export(
            wrapped, torch.zeros(1, 1, SIZE, SIZE), str(onnx_tmp), input_names=["faces"],
            output_names=["probs"], dynamic_axes={"faces": {0: "n"}, "probs": {0: "n"}},
            opset_version=17, dynamo=False,
        )
        data = onnx_tmp.read_bytes()
    (out / "model.onnx").write_bytes(data)
    meta = {
        "format": "emovox-face/1", "name": "emovox-face", "version": "1",
        "labels": list(CANONICAL), "source_labels": list(FER_LABELS), "input": [1, SIZE, SIZE],
        "input_range": "grey 0..255, face crop resized to 48x48", "onnx": "model.onnx",
        "sha256": hashlib.sha256(data).hexdigest(), "trained_on": "FER-2013 Training (research use only)",
        "recipe": recipe,
    }
    (out / "emovox-face.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {out / 'model.onnx'} ({len(data) / 1e6:.2f} MB)", flush=True)


def evaluate(args) -> None:
    """PublicTest and PrivateTest accuracy / UA of the exported model through the public API."""
    from ..models.face import load_face_model

    model = load_face_model(args.model)
    data = load_fer(args.data)
    rows = []
    for usage in ("PublicTest", "PrivateTest"):
        x, y = data[usage]
        t = time.time()
        probs = model.classify_crops(x)
        ms = (time.time() - t) * 1000 / len(y)
        pred = probs.argmax(1)
        recalls = [float((pred[y == k] == k).mean()) for k in range(len(FER_LABELS))]
        rows.append((usage, float((pred == y).mean()), float(np.mean(recalls)), recalls, ms))
    print(f"model {model.info.id} ({model.path})")
    print("| split | faces | accuracy | UA (mean recall) | " + " | ".join(CANONICAL) + " | ms/face |")
    print("|---|--:|--:|--:|" + "--:|" * len(CANONICAL) + "--:|")
    for usage, acc, ua, recalls, ms in rows:
        n = len(data[usage][1])
        print(f"| {usage} | {n} | {acc:.3f} | {ua:.3f} | " + " | ".join(f"{r:.2f}" for r in recalls)
              + f" | {ms:.2f} |")


TTA = {
    "none": [],
    "cross2": [(-2, 0), (2, 0), (0, -2), (0, 2)],
}
"""Shifts (pixels) averaged with each crop; each net's graph also averages the mirror image."""


def _scores(probs: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    pred = probs.argmax(1)
    return float((pred == y).mean()), float(np.mean([(pred[y == k] == k).mean() for k in range(len(FER_LABELS))]))


def compare(args) -> None:
    """PublicTest accuracy / UA of every net alone and of every group averaged, under each TTA (no PrivateTest)."""
    from ..models.face import FaceClassifier

    nets = [FaceClassifier.load(folder) for folder in args.model]
    x, y = load_fer(args.data)["PublicTest"]
    probs = {(i, t): net.net_probs(0, x, TTA[t]) for i, net in enumerate(nets) for t in TTA}
    print("| nets | tta | views per net | PublicTest accuracy | UA |")
    print("|---|---|--:|--:|--:|")
    groups = [list(g) for size in range(1, len(nets) + 1) for g in itertools.combinations(range(len(nets)), size)]
    for group in groups:
        for t in TTA:
            acc, ua = _scores(np.mean([probs[i, t] for i in group], axis=0), y)
            names = " + ".join(Path(args.model[i]).name for i in group)
            print(f"| {names} | {t} | {2 * (len(TTA[t]) + 1)} | {acc:.4f} | {ua:.4f} |", flush=True)


def pack(args) -> None:
    """One model folder from the nets of ``--model`` (their ONNX files, averaged) and ``--tta``."""
    out = Path(args.out)
    metas = [json.loads((Path(m) / "emovox-face.json").read_text()) for m in args.model]
    nets = [(Path(folder) / f).read_bytes() for folder, meta in zip(args.model, metas)
            for f in (meta["onnx"] if isinstance(meta["onnx"], list) else [meta["onnx"]])]
    recipes = [r for meta in metas for r in (meta.get("recipes") or [meta.get("recipe")])]
    files = ["model.onnx" if i == 0 else f"model-{i + 1}.onnx" for i in range(len(nets))]
    out.mkdir(parents=True, exist_ok=True)
    for name, data in zip(files, nets):
        (out / (name + ".tmp")).write_bytes(data)
    for stale in out.glob("model*.onnx"):
        if stale.name not in files:
            stale.unlink()
    for name in files:
        (out / (name + ".tmp")).replace(out / name)
    hashes = [hashlib.sha256(data).hexdigest() for data in nets]
    meta = {k: v for k, v in metas[0].items() if k not in ("recipe", "recipes")}
    meta.update(onnx=files if len(files) > 1 else files[0], sha256=hashes if len(files) > 1 else hashes[0],
                tta={"shifts": [list(s) for s in TTA[args.tta]], "name": args.tta},
                version=args.version or metas[0].get("version", "1"), recipes=recipes)
    (out / "emovox-face.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {out}: {', '.join(files)}, tta {args.tta}", flush=True)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m emovox.training.face", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="fit on Training, choose the epoch on PublicTest, export ONNX")
    t.add_argument("--data", type=Path, default=None, help="fer2013.parquet (default: $EMOVOX_FER2013 or ../shared)")
    t.add_argument("--out", type=Path, default=DEFAULT_OUT)
    t.add_argument("--epochs", type=int, default=6)
    t.add_argument("--width", type=int, default=24)
    t.add_argument("--batch", type=int, default=128)
    t.add_argument("--lr", type=float, default=3e-3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--augment", choices=sorted(AUGMENT), default="basic",
                   help="basic: one crop offset per batch, mirror, brightness; affine: also per-face rotation, "
                        "scale and shift")
    t.add_argument("--limit", type=int, default=None, help="use only the first N Training faces (smoke runs)")
    t.add_argument("--max-cpu-minutes", type=float, default=16.0,
                   help="stop after the epoch that passes this much CPU time")
    e = sub.add_parser("evaluate", help="accuracy and UA on PublicTest and PrivateTest (printed table)")
    e.add_argument("--data", type=Path, default=None)
    e.add_argument("--model", default=None, help="model folder (default: the shipped emovox-face)")
    c = sub.add_parser("compare", help="PublicTest only: each net and each group averaged, under each TTA")
    c.add_argument("--data", type=Path, default=None)
    c.add_argument("--model", action="append", required=True, help="a model folder (repeat for more)")
    k = sub.add_parser("pack", help="write nets (averaged) and a TTA as one model folder")
    k.add_argument("--model", action="append", required=True, help="a model folder (repeat for more)")
    k.add_argument("--tta", choices=sorted(TTA), default="none")
    k.add_argument("--out", type=Path, default=DEFAULT_OUT)
    k.add_argument("--version", default=None, help="the folder's model version (default: the first net's)")
    args = p.parse_args(argv)
    {"train": train, "evaluate": evaluate, "compare": compare, "pack": pack}[args.cmd](args)


if __name__ == "__main__":
    main()
