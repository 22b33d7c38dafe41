"""An adaptable native model built with onnx alone (no torch): the debug model's mean log-mel is also
its ``pooled`` output, and an ``adapted.npz`` head scores centred features. Random weights, tests only."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

LABELS = ("angry", "happy", "neutral", "sad")


def write_adaptable_model(folder: Path, seed: int = 0) -> Path:
    """A model folder that ``Recognizer.adapt`` accepts (plain centring: no safe-estimate statistics)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from emovox.models.adapted import ADAPTED_FILE, save_adapted
    from emovox.models.native import sha256_file, write_folder
    from emovox.models.whisper import N_MELS

    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((N_MELS, len(LABELS))).astype(np.float32)
    bias = rng.standard_normal(len(LABELS)).astype(np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["mel"], ["pooled"], axes=[2], keepdims=0),
        helper.make_node("Gemm", ["pooled", "weight", "bias"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "emovox_adaptable",
        [helper.make_tensor_value_info("mel", TensorProto.FLOAT, ["batch", N_MELS, "frames"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(LABELS)]),
         helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", N_MELS])],
        initializer=[numpy_helper.from_array(weight, "weight"), numpy_helper.from_array(bias, "bias")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="emovox")
    model.ir_version = 8
    folder.mkdir(parents=True, exist_ok=True)
    projection = 4.0 * rng.standard_normal((N_MELS, len(LABELS))).astype(np.float32)
    save_adapted(folder / ADAPTED_FILE, np.zeros(N_MELS, np.float32), projection, bias, len(LABELS), None, 1.0)
    extra = {"adapted_head": {"file": ADAPTED_FILE, "sha256": sha256_file(folder / ADAPTED_FILE)}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.onnx"
        onnx.save(model, str(path))
        return write_folder(folder, path, labels=LABELS, name="emovox-adaptable", version="test",
                            frontend="whisper-logmel", extra=extra)
