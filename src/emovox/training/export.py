"""Export a trained torch module to ONNX and write a native model folder (needs the ``train`` extra).

The module maps the frontend's output to logits: log-mel ``(1, 80, frames)`` for
``frontend="whisper-logmel"`` or samples ``(1, n)`` for ``"waveform"``, to ``(1, n_labels)``; the
time axis is dynamic. Weight storage, to keep the shipped file small:

- ``"fp16"``: large float initializers are stored as float16 with a Cast to float32 in the graph;
  onnxruntime folds the Cast when it loads the model, so it still computes in float32.
  (The Whisper tiny.en weights come from a float16 CTranslate2 file, so for them this is lossless.)
- ``"int8"``: ``onnxruntime.quantization.quantize_dynamic`` of the MatMul weights, per channel
  (int8 weights, int8 matmuls at run time; about half the CPU time, but not exact).
- ``"fp32"``: as exported.

>>> # write_model_folder("models/my-model", head_and_encoder, ["angry", "happy"], name="my-model",
>>> #                    version="1", frontend="whisper-logmel", weights="fp16")
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import require
from ..models.native import FRONTENDS, WHISPER_MAX_SAMPLES, session_options, write_folder
from ..models.whisper import N_MELS

torch = require("torch", "train", "exporting a model to ONNX")
onnx = require("onnx", "train", "exporting a model to ONNX")

WEIGHTS = ("fp16", "int8", "fp32")
FP16_MIN_ELEMENTS = 1024
"""Float initializers with at least this many elements are stored as float16 by ``weights="fp16"``."""
FP16_MAX = 65504.0
_DUMMY = {  # frontend -> (example input shape, input name, dynamic axis index, axis name)
    "whisper-logmel": ((1, N_MELS, 300), "mel", 2, "frames"),
    "waveform": ((1, 48_000), "waveform", 1, "samples"),
}


def export_onnx(
    module,
    path: str | os.PathLike,
    *,
    frontend: str = "whisper-logmel",
    weights: str = "fp16",
    opset: int = 17,
) -> Path:
    """Export ``module`` (frontend output -> logits (1, C), or a tuple (logits, pooled (1, F))) to
    ``path`` with a dynamic time axis; the outputs are named ``logits`` and ``pooled``.

    The batch axis is dynamic too: the native backend runs equal-length clips in one call (a module
    that pools over time per clip gives the same logits batched or not).
    """
    if frontend not in FRONTENDS:
        raise ValueError(f"frontend must be one of {FRONTENDS}, got {frontend!r}")
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {WEIGHTS}, got {weights!r}")
    shape, name, axis, axis_name = _DUMMY[frontend]
    module = module.eval()
    example = torch.randn(*shape) if frontend == "waveform" else torch.rand(*shape) * 2 - 1
    with torch.no_grad():
        outs = module(example)
    outs = outs if isinstance(outs, tuple) else (outs,)
    out = outs[0]
    output_names = ["logits", "pooled"][: len(outs)]
    if len(outs) > 2 or not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != 1:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"the module must return logits of shape (1, n_labels), or (logits, pooled), got {got}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "fp32.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(
                module, (example,), str(raw), input_names=[name], output_names=output_names,
                dynamic_axes={name: {0: "batch", axis: axis_name}, **{o: {0: "batch"} for o in output_names}},
                opset_version=opset, dynamo=False,
                do_constant_folding=True,
            )
        if weights == "fp32":
            shutil.copyfile(raw, path)
        elif weights == "fp16":
            model = onnx.load(str(raw))
            store_fp16(model)
            onnx.save(model, str(path))
        else:
            _quantize_int8(raw, path)
    return path


def store_fp16(model, min_elements: int = FP16_MIN_ELEMENTS) -> int:
    """Store large float32 initializers as float16 behind a Cast to float32; returns how many.

    Initializers with values beyond float16's range stay float32.
    """
    graph = model.graph
    inputs = {i.name for i in graph.input}
    casts, kept = [], []
    for init in graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT or init.name in inputs:
            kept.append(init)
            continue
        value = onnx.numpy_helper.to_array(init)
        if value.size < min_elements or np.abs(value).max(initial=0.0) > FP16_MAX:
            kept.append(init)
            continue
        kept.append(onnx.numpy_helper.from_array(value.astype(np.float16), init.name + "__fp16"))
        casts.append(onnx.helper.make_node(
            "Cast", [init.name + "__fp16"], [init.name], to=onnx.TensorProto.FLOAT, name=init.name + "__cast"
        ))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    return len(casts)


INT8_OPS = ("MatMul",)
"""Ops ``weights="int8"`` quantizes. Conv stays float: on Whisper tiny.en + a linear head (RAVDESS,
benchmarks/bench_export.py) quantizing the convolutions too was slower (ConvInteger) and less exact."""


def _matrix_free_matmuls(model) -> list[str]:
    """MatMul nodes whose weight is not a 2-D initializer (a vector such as the per-corpus log
    temperatures, or an activation): per-channel int8 has no output channels to scale there, and
    onnxruntime rejects such a node at run time ("b zero point is not valid")."""
    ranks = {i.name: len(i.dims) for i in model.graph.initializer}
    return [n.name for n in model.graph.node
            if n.op_type == "MatMul" and ranks.get(n.input[1]) != 2]


def _quantize_int8(src: Path, dst: Path) -> None:
    """Dynamic int8 quantization of the 2-D MatMul weights, one scale per output channel."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic logs a "consider pre-processing" warning
    try:
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=list(INT8_OPS),
                         nodes_to_exclude=_matrix_free_matmuls(onnx.load(str(src))))
    finally:
        root.setLevel(level)


def runtime_casts(path: str | os.PathLike) -> int:
    """How many Cast nodes fed by an initializer remain in the graph onnxruntime actually runs.

    0 for an fp16-storage model means ORT folded every weight Cast at load (computes in float32).
    """
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        options = session_options(1)
        options.log_severity_level = 3  # no "hardware specific optimizations" notice
        options.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        graph = onnx.load(options.optimized_model_filepath).graph
    initializers = {i.name for i in graph.initializer}
    return sum(1 for n in graph.node if n.op_type == "Cast" and n.input[0] in initializers)


@dataclass(frozen=True)
class Parity:
    """PyTorch vs onnxruntime logits on the same inputs."""

    n: int
    max_abs_diff: float
    argmax_agreement: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def parity(module, path: str | os.PathLike, inputs: list[np.ndarray], threads: int = 1) -> Parity:
    """Compare ``module`` with the ONNX file at ``path`` on frontend outputs (each with batch axis 1)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), sess_options=session_options(threads), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    diffs, agree = [], 0
    module = module.eval()
    for x in inputs:
        x = np.asarray(x, dtype=np.float32)
        with torch.no_grad():
            ref = module(torch.from_numpy(x)).numpy()
        got = session.run(None, {name: x})[0]
        diffs.append(float(np.abs(ref - got).max()))
        agree += int(ref.argmax() == got.argmax())
    return Parity(len(inputs), max(diffs, default=0.0), agree / max(len(inputs), 1))


def write_model_folder(
    folder: str | os.PathLike,
    module,
    labels: tuple[str, ...] | list[str],
    *,
    name: str,
    version: str,
    frontend: str = "whisper-logmel",
    temperature: float = 1.0,
    min_samples: int = 16_000,
    max_samples: int = WHISPER_MAX_SAMPLES,
    weights: str = "fp16",
    normalize: bool = False,
    description: str = "",
    extra: dict[str, Any] | None = None,
    opset: int = 17,
    preprocess: str = "",
) -> Path:
    """Export ``module`` and write ``model.onnx`` + ``emovox.json`` into ``folder``.

    ``labels`` are canonical names in logit order; ``extra`` (training recipe, metrics...) is
    stored in the json under ``"extra"``, with the export settings added under ``"export"``.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = export_onnx(module, Path(tmp) / "model.onnx", frontend=frontend, weights=weights, opset=opset)
        n_out = _n_outputs(path)
        if n_out is not None and n_out != len(labels):
            raise ValueError(f"the module returns {n_out} logits but {len(labels)} labels were given: {list(labels)}")
        info = {"weights": weights, "opset": opset, "torch": torch.__version__, "onnx": onnx.__version__}
        return write_folder(
            folder, path, labels=labels, name=name, version=version, frontend=frontend,
            temperature=temperature, min_samples=min_samples, max_samples=max_samples,
            normalize=normalize, description=description, extra={**(extra or {}), "export": info},
            preprocess=preprocess,
        )


def _n_outputs(path: Path) -> int | None:
    dims = onnx.load(str(path), load_external_data=False).graph.output[0].type.tensor_type.shape.dim
    return dims[-1].dim_value if dims and dims[-1].HasField("dim_value") else None
