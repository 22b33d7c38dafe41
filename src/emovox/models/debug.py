"""A tiny debug model for fast tests without torch: RANDOM weights, it recognizes nothing.

The graph is built directly with ``onnx.helper``: log-mel ``(1, 80, frames)`` -> mean over time ->
Gemm with seeded random weights -> logits. It exercises the whole native path (json, sha256,
frontend, onnxruntime, temperature, labels) in milliseconds. Needs ``onnx`` (the ``train`` extra).

>>> # folder = write_debug_model(tmp_path); emovox.load_model(folder).predict("clip.wav")
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ..errors import require
from .native import write_folder
from .whisper import N_MELS

DEBUG_NAME = "emovox-debug"
DEBUG_LABELS = ("angry", "happy", "neutral", "sad")


def debug_graph(n_labels: int, seed: int = 0, opset: int = 17):
    """The ONNX ModelProto: ReduceMean over frames, then Gemm with N(0, 1) weights and bias."""
    onnx = require("onnx", "train", "building the emovox debug model")
    helper, TensorProto = onnx.helper, onnx.TensorProto
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((N_MELS, n_labels)).astype(np.float32)
    bias = rng.standard_normal(n_labels).astype(np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["mel"], ["pooled"], axes=[2], keepdims=0),
        helper.make_node("Gemm", ["pooled", "weight", "bias"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "emovox_debug",
        [helper.make_tensor_value_info("mel", TensorProto.FLOAT, ["batch", N_MELS, "frames"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", n_labels])],
        initializer=[
            onnx.numpy_helper.from_array(weight, "weight"),
            onnx.numpy_helper.from_array(bias, "bias"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="emovox")
    model.ir_version = 8  # readable by every onnxruntime >= 1.14
    onnx.checker.check_model(model)
    return model


def write_debug_model(
    folder: str | os.PathLike,
    labels: tuple[str, ...] = DEBUG_LABELS,
    seed: int = 0,
    temperature: float = 1.0,
) -> Path:
    """Write a valid native model folder named ``emovox-debug`` (random weights, tests only)."""
    onnx = require("onnx", "train", "building the emovox debug model")
    model = debug_graph(len(labels), seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "debug.onnx"
        onnx.save(model, str(path))
        return write_folder(
            folder,
            path,
            labels=labels,
            name=DEBUG_NAME,
            version=f"seed-{seed}",
            frontend="whisper-logmel",
            temperature=temperature,
            description=(
                "Debug model with RANDOM weights (mean log-mel -> random linear layer). "
                "It recognizes nothing; it exists to test the native backend quickly."
            ),
            extra={"random_weights": True, "for_tests_only": True, "seed": seed},
        )
