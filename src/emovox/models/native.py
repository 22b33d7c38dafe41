"""The native backend: an ONNX model plus its ``emovox.json``, run by onnxruntime and numpy (no torch).

A model folder holds ``model.onnx`` and ``emovox.json`` (format ``emovox/1``): name, version, the
canonical labels in logit order, the frontend the ONNX graph expects, a temperature that divides
the logits (calibration), the sample rate (16 kHz), the shortest and longest input in samples, and
the sha256 of the ONNX file. Frontends:

- ``whisper-logmel``: Whisper's 80-bin log-mel of the clip, input ``(1, 80, frames)``;
- ``waveform``: the raw 16 kHz samples, input ``(1, samples)``; zero-mean / unit-variance first
  when the json says ``"normalize": true`` (what wav2vec2-style extractors do).

``"preprocess": "normalise"`` (optional): before either frontend, leading/trailing silence is cut and
the clip brought to a fixed loudness (``emovox.signal.preprocess.normalise``), as in the model's training.

>>> # backend = load("path/to/model"); backend.forward([signal]).shape == (1, len(backend.info.labels))
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..io.audio import SAMPLE_RATE
from ..labels import canonical
from ..results.result import ModelInfo
from .adapted import load_adapted_head
from .base import sha256_file  # noqa: F401 (also imported from here by training and tests)
from .whisper import HOP, MAX_FRAMES, N_MELS, log_mel

FORMAT = "emovox/1"
CONFIG_FILE = "emovox.json"
ONNX_FILE = "model.onnx"
FRONTENDS = ("whisper-logmel", "waveform")
PREPROCESS = ("", "normalise")
WHISPER_MAX_SAMPLES = MAX_FRAMES * HOP  # 480,000 = 30 s: the length of Whisper's position table
_REQUIRED = ("format", "name", "version", "labels", "frontend", "onnx", "temperature",
             "sample_rate", "min_samples", "max_samples", "sha256")


@dataclass(frozen=True)
class NativeConfig:
    """The validated contents of ``emovox.json``."""

    name: str
    version: str
    labels: tuple[str, ...]
    frontend: str
    onnx: str
    temperature: float
    min_samples: int
    max_samples: int
    sha256: str
    sample_rate: int = SAMPLE_RATE
    normalize: bool = False
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    preprocess: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**({"preprocess": self.preprocess} if self.preprocess else {}),
            "format": FORMAT, "name": self.name, "version": self.version,
            "labels": list(self.labels), "frontend": self.frontend, "onnx": self.onnx,
            "temperature": self.temperature, "sample_rate": self.sample_rate,
            "min_samples": self.min_samples, "max_samples": self.max_samples,
            "normalize": self.normalize, "sha256": self.sha256,
            "description": self.description, "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = CONFIG_FILE) -> NativeConfig:
        """Validate a parsed ``emovox.json``; every problem is a ModelError naming the field."""
        if not isinstance(data, dict):
            raise ModelError(f"{where}: expected a JSON object, got {type(data).__name__}")
        missing = [k for k in _REQUIRED if k not in data]
        if missing:
            raise ModelError(f"{where}: missing field(s) {', '.join(missing)}; required: {', '.join(_REQUIRED)}")
        if data["format"] != FORMAT:
            raise ModelError(f"{where}: format {data['format']!r} is not supported; expected {FORMAT!r}")
        return cls(
            name=_text(data, "name", where),
            version=str(data["version"]),
            labels=_labels(data["labels"], where),
            frontend=_frontend(data["frontend"], where),
            onnx=_onnx_name(data["onnx"], where),
            temperature=_temperature(data["temperature"], where),
            sample_rate=_sample_rate(data["sample_rate"], where),
            min_samples=_count(data, "min_samples", where),
            max_samples=_max_samples(data, where),
            sha256=_sha(data["sha256"], where),
            normalize=_flag(data.get("normalize", False), "normalize", where),
            description=str(data.get("description", "")),
            extra=_extra(data.get("extra", {}), where),
            preprocess=_preprocess(data.get("preprocess", ""), where),
        )


# --- field validators: each says what it received and what it accepts ---------------------------
def _text(data: dict, key: str, where: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise ModelError(f"{where}: {key} must be a non-empty string, got {value!r}")
    return value


def _labels(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ModelError(f"{where}: labels must be a non-empty list of label names, got {value!r}")
    names = tuple(canonical(v) for v in value)
    if len(set(names)) != len(names):
        raise ModelError(f"{where}: labels {value!r} name the same emotion twice ({list(names)})")
    return names


def _frontend(value: Any, where: str) -> str:
    if value not in FRONTENDS:
        raise ModelError(f"{where}: unknown frontend {value!r}; accepted: {', '.join(FRONTENDS)}")
    return value


def _onnx_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.endswith(".onnx") or Path(value).name != value:
        raise ModelError(f"{where}: onnx must be a file name inside the model folder ending in .onnx, got {value!r}")
    return value


def _temperature(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ModelError(f"{where}: temperature must be a positive number, got {value!r}")
    return float(value)


def _sample_rate(value: Any, where: str) -> int:
    if value != SAMPLE_RATE or isinstance(value, bool):
        raise ModelError(f"{where}: sample_rate must be {SAMPLE_RATE} (emovox works at 16 kHz), got {value!r}")
    return SAMPLE_RATE


def _count(data: dict, key: str, where: str) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModelError(f"{where}: {key} must be a positive integer (samples at 16 kHz), got {value!r}")
    return value


def _max_samples(data: dict, where: str) -> int:
    value = _count(data, "max_samples", where)
    if value < data["min_samples"]:
        raise ModelError(f"{where}: max_samples ({value}) is below min_samples ({data['min_samples']})")
    if data["frontend"] == "whisper-logmel" and value > WHISPER_MAX_SAMPLES:
        raise ModelError(
            f"{where}: max_samples {value} is longer than the Whisper encoder's 30 s "
            f"({WHISPER_MAX_SAMPLES} samples)"
        )
    return value


def _sha(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ModelError(f"{where}: sha256 must be 64 lowercase hex digits, got {value!r}")
    return value


def _preprocess(value: Any, where: str) -> str:
    if value not in PREPROCESS:
        raise ModelError(f"{where}: preprocess must be one of {', '.join(map(repr, PREPROCESS))}, got {value!r}")
    return value


def _flag(value: Any, key: str, where: str) -> bool:
    if not isinstance(value, bool):
        raise ModelError(f"{where}: {key} must be true or false, got {value!r}")
    return value


def _extra(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelError(f"{where}: extra must be a JSON object, got {type(value).__name__}")
    return value


# --- reading and writing model folders ------------------------------------------------------------
def read_config(folder: str | os.PathLike, *, check_sha: bool = True) -> NativeConfig:
    """Read and validate ``folder/emovox.json``; with check_sha, verify the ONNX file's sha256."""
    folder = Path(folder)
    path = folder / CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"{folder} is not an emovox model folder (no {CONFIG_FILE})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from exc
    config = NativeConfig.from_dict(data, str(path))
    onnx_path = folder / config.onnx
    if not onnx_path.is_file():
        raise ModelError(f"{path} names {config.onnx!r}, but {onnx_path} does not exist")
    if check_sha and (actual := sha256_file(onnx_path)) != config.sha256:
        raise ModelError(
            f"{onnx_path} does not match its {CONFIG_FILE} (sha256 {actual[:12]}..., expected "
            f"{config.sha256[:12]}...): the file is corrupt or was replaced"
        )
    return config


def write_folder(
    folder: str | os.PathLike,
    onnx_path: str | os.PathLike,
    *,
    labels: tuple[str, ...] | list[str],
    name: str,
    version: str,
    frontend: str,
    temperature: float = 1.0,
    min_samples: int = SAMPLE_RATE,
    max_samples: int = WHISPER_MAX_SAMPLES,
    normalize: bool = False,
    description: str = "",
    extra: dict[str, Any] | None = None,
    preprocess: str = "",
) -> Path:
    """Write a native model folder: copy the ONNX file in as ``model.onnx``, then ``emovox.json``.

    The json is validated with the same rules :func:`load` applies, so a folder this writes loads.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / ONNX_FILE
    if Path(onnx_path).resolve() != target.resolve():
        shutil.copyfile(onnx_path, target)
    data = NativeConfig(
        name=name, version=str(version), labels=tuple(labels), frontend=frontend, onnx=ONNX_FILE,
        temperature=temperature, min_samples=min_samples, max_samples=max_samples,
        sha256=sha256_file(target), normalize=normalize, description=description, extra=dict(extra or {}),
        preprocess=preprocess,
    ).to_dict()
    config = NativeConfig.from_dict(json.loads(json.dumps(data)), f"{folder / CONFIG_FILE} (being written)")
    (folder / CONFIG_FILE).write_text(json.dumps(config.to_dict(), indent=2, ensure_ascii=False) + "\n")
    return folder


# --- the backend ---------------------------------------------------------------------------------
class NativeBackend:
    """An onnxruntime session with the frontend its json names. ``forward`` is thread-safe."""

    def __init__(self, session, config: NativeConfig, info: ModelInfo, adapted_head=None) -> None:
        self.session = session
        self.config = config
        self.info = info
        self.min_samples = config.min_samples
        self.max_samples: int | None = config.max_samples
        self.adapted_head = adapted_head  # models.adapted.AdaptedHead, for Recognizer.adapt
        self._input = session.get_inputs()[0].name
        self._output = session.get_outputs()[0].name
        self._pooled = next((o.name for o in session.get_outputs() if o.name == "pooled"), None)
        self._batched = not isinstance(session.get_inputs()[0].shape[0], int)  # dynamic batch axis

    def frontend(self, signal: np.ndarray) -> np.ndarray:
        """The model input for one 16 kHz clip, with its batch axis of 1."""
        x = np.asarray(signal, dtype=np.float32)
        if x.ndim != 1 or x.size == 0:
            raise ModelError(f"expected a non-empty 1-D 16 kHz signal, got shape {x.shape}")
        if x.size > self.config.max_samples:
            raise ModelError(
                f"a {x.size}-sample input is longer than this model's max_samples "
                f"({self.config.max_samples}); the recognizer cuts longer audio into windows"
            )
        if self.config.preprocess == "normalise":
            from ..signal.preprocess import normalise

            x = normalise(x)
        if self.config.frontend == "whisper-logmel":
            return log_mel(x)[None]
        if self.config.normalize:
            x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
        return x[None].astype(np.float32, copy=False)

    def _chunks(self, groups, batch: list[np.ndarray]):
        """Split each equal-shape group so one call holds at most max_samples of audio."""
        for rows in groups:
            size = max(1, self.config.max_samples // max(1, len(batch[rows[0]])))
            for start in range(0, len(rows), size):
                yield rows[start : start + size]

    def forward(self, batch: list[np.ndarray]) -> np.ndarray:
        """Logits (len(batch), len(labels)) divided by the temperature.

        Clips of equal length share one onnxruntime call when the graph's batch axis is dynamic
        (no padding, so no attention mask is needed), at most ``max_samples`` of audio per call
        (bounds the attention memory); otherwise clips run one at a time.
        """
        return self._outputs(batch, self._output, len(self.info.labels)) / np.float32(self.config.temperature)

    def pooled(self, batch: list[np.ndarray]) -> np.ndarray:
        """The pooled features (len(batch), F) the adapted head scores (models with an adapted head)."""
        if self._pooled is None or self.adapted_head is None:
            raise ModelError(
                f"{self.info.name} has no adapted head to adapt to your recordings "
                "(train it with the recipe setting \"adapt_head\": true)"
            )
        return self._outputs(batch, self._pooled, self.adapted_head.dims)

    def forward_pooled(self, batch: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``forward`` and ``pooled`` of the same clips from one encoding (a timeline that may adapt
        to its own windows keeps their pooled features instead of encoding them twice)."""
        self.pooled([])  # the ModelError for a model without an adapted head
        logits, pooled = self._outputs(batch, (self._output, self._pooled),
                                       (len(self.info.labels), self.adapted_head.dims))
        return logits / np.float32(self.config.temperature), pooled

    def _outputs(self, batch: list[np.ndarray], output, width):
        """(len(batch), width) of the output named ``output``; with tuples of names and widths, a tuple
        of arrays from the same session runs."""
        if isinstance(output, tuple):
            return self._run_outputs(batch, output, width)
        return self._run_outputs(batch, (output,), (width,))[0]

    def _run_outputs(self, batch: list[np.ndarray], names: tuple, widths: tuple) -> tuple:
        outs = tuple(np.empty((len(batch), w), dtype=np.float32) for w in widths)
        if not batch:
            return outs
        inputs = [self.frontend(signal) for signal in batch]
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, x in enumerate(inputs):
            groups.setdefault(x.shape if self._batched else (i,), []).append(i)
        for rows in self._chunks(groups.values(), batch):
            x = np.concatenate([inputs[i] for i in rows]) if len(rows) > 1 else inputs[rows[0]]
            results = self.session.run(list(names), {self._input: x})
            for out, output, width, result in zip(outs, names, widths, results, strict=True):
                values = np.asarray(result, dtype=np.float32)
                if values.size != len(rows) * width:
                    raise ModelError(
                        f"{self.info.name}: the ONNX model returned {output} of shape {values.shape} "
                        f"for {len(rows)} clip(s), expected width {width}"
                    )
                out[rows] = values.reshape(len(rows), width)
        for out, output in zip(outs, names, strict=True):
            if not np.isfinite(out).all():
                raise ModelError(f"{self.info.name}: the ONNX model returned non-finite {output}")
        return outs


def session_options(threads: int | None = None, spinning: bool = False):
    """ORT options: ``threads`` (or min(2, cpus)) intra-op threads, sequential, all graph optimisations.

    ``spinning=False`` (the emovox default; onnxruntime's own default is to spin) makes idle
    intra-op threads sleep instead of busy-waiting. Spinning threads keep burning CPU after a run
    returns, which slowed the descriptors computed right after the model (8 -> 34 ms) and the model
    itself under load on the 2-core machine (benchmarks/bench_model.py --spin).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    options.intra_op_num_threads = int(threads) if threads else min(2, os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


def load(
    folder: str | os.PathLike,
    name: str | None = None,
    threads: int | None = None,
    spinning: bool = False,
    **_: object,
) -> NativeBackend:
    """Load a native model folder (validated json, checked sha256) into an onnxruntime session.

    ``threads``: intra-op threads (default min(2, cpus)); ``spinning``: see :func:`session_options`.
    """
    import onnxruntime as ort

    folder = Path(folder)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ModelError(f"threads must be a positive integer or None, got {threads!r}")
    config = read_config(folder)
    try:
        session = ort.InferenceSession(
            str(folder / config.onnx), sess_options=session_options(threads, spinning),
            providers=["CPUExecutionProvider"],
        )
    except Exception as exc:  # onnxruntime raises its own exception types for bad graphs
        raise ModelError(f"onnxruntime could not load {folder / config.onnx}: {exc}") from exc
    _check_signature(session, config, folder)
    info = ModelInfo(
        name=name or config.name,
        version=config.version,
        labels=config.labels,
        backend="emovox",
        source=str(folder),
        extra={"frontend": config.frontend, "temperature": config.temperature,
               "description": config.description, **config.extra},
    )
    return NativeBackend(session, config, info, load_adapted_head(folder, config.extra, len(config.labels)))


def _check_signature(session, config: NativeConfig, folder: Path) -> None:
    """The graph takes one input of the frontend's rank and returns one logit per label."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or not outputs:
        raise ModelError(f"{folder}: expected an ONNX graph with one input, got {len(inputs)}")
    shape = inputs[0].shape
    want = 3 if config.frontend == "whisper-logmel" else 2
    if len(shape) != want or (want == 3 and shape[1] not in (N_MELS, None) and not isinstance(shape[1], str)):
        expected = "(1, 80, frames)" if want == 3 else "(1, samples)"
        raise ModelError(f"{folder}: frontend {config.frontend} needs an input {expected}, the graph takes {shape}")
    last = outputs[0].shape[-1] if outputs[0].shape else None
    if isinstance(last, int) and last != len(config.labels):
        raise ModelError(f"{folder}: the graph returns {last} logits but {CONFIG_FILE} lists {len(config.labels)} labels")
