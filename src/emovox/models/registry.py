"""Model registry as data: name -> backend + location, with the default marked.

>>> default_spec().name
'emovox-base'
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from ..errors import ModelError
from .base import Backend

NATIVE_CONFIG = "emovox.json"
"""A folder with this file is an emovox model (ONNX + numpy, no torch needed)."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    backend: str  # "emovox" (native ONNX) or "hf" (transformers)
    location: str  # "package:<folder>" for shipped assets, a hub id, or a path
    description: str
    default: bool = False
    licence: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


REGISTRY: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        ModelSpec(
            "emovox-base",
            "emovox",
            "package:emovox-base",
            "Built-in default: Whisper tiny.en encoder + emotion head, trained on RAVDESS, "
            "EmoDB and TurEV-DB; runs on onnxruntime, no torch",
            default=True,
            licence="CC BY-NC-SA 4.0 (inherits the non-commercial terms of its training data)",
        ),
        ModelSpec(
            "superb-er",
            "hf",
            "superb/wav2vec2-base-superb-er",
            "SUPERB emotion recognition (IEMOCAP 4 classes), wav2vec2-base; downloads from the "
            "Hugging Face hub on first use",
        ),
    )
}


def default_spec() -> ModelSpec:
    return next(s for s in REGISTRY.values() if s.default)


def package_asset(folder: str) -> Path:
    """Where a shipped model folder lives inside the installed package."""
    return Path(str(resources.files("emovox") / "assets" / folder))


def spec_path(spec: ModelSpec) -> str:
    if spec.location.startswith("package:"):
        return str(package_asset(spec.location.split(":", 1)[1]))
    return spec.location


def is_installed(spec: ModelSpec) -> bool:
    """True when the model can be loaded without a network."""
    path = Path(spec_path(spec))
    if spec.backend == "emovox":
        return (path / NATIVE_CONFIG).is_file()
    return path.is_dir()


def load_backend(name_or_path: str | None = None, **options) -> Backend:
    """Load a backend from a registry name, a local folder, or a Hugging Face hub id."""
    spec = _resolve(name_or_path)
    location = spec_path(spec)
    if spec.backend == "emovox":
        folder = Path(location)
        if not (folder / NATIVE_CONFIG).is_file():
            if spec.location.startswith("package:"):
                raise ModelError(
                    f"the built-in model '{spec.name}' is not installed in this build of emovox "
                    f"(missing {folder / NATIVE_CONFIG}); reinstall emovox or pass a model folder"
                )
            raise ModelError(f"{folder} is not an emovox model folder (no {NATIVE_CONFIG})")
        from .native import load as load_native

        return load_native(folder, name=spec.name, **options)
    if spec.backend == "hf":
        from .hf import load as load_hf

        return load_hf(location, name=spec.name, **options)
    raise ModelError(f"unknown backend {spec.backend!r} for model {spec.name!r}")


def _resolve(name_or_path: str | None) -> ModelSpec:
    if name_or_path is None:
        return default_spec()
    key = str(name_or_path)
    if key in REGISTRY:
        return REGISTRY[key]
    path = Path(key).expanduser()
    if path.is_dir():
        if (path / NATIVE_CONFIG).is_file():
            try:
                name = str(json.loads((path / NATIVE_CONFIG).read_text()).get("name", path.name))
            except (ValueError, AttributeError):  # bad json: native.load reports it as a ModelError
                name = path.name
            return ModelSpec(name, "emovox", str(path), f"local emovox model {path}")
        if (path / "config.json").is_file():
            return ModelSpec(path.name, "hf", str(path), f"local Hugging Face model {path}")
        raise ModelError(
            f"{path} is neither an emovox model folder ({NATIVE_CONFIG}) nor a Hugging Face "
            f"model folder (config.json)"
        )
    if path.exists() or key.startswith((".", "/", "~")) or key.count("/") > 1:
        raise ModelError(f"model not found: {key}")
    if "/" in key:  # looks like a hub id: owner/name
        return ModelSpec(key, "hf", key, f"Hugging Face hub model {key}")
    names = ", ".join(REGISTRY)
    raise ModelError(f"unknown model {key!r}; available: {names}, a model folder, or a hub id (owner/name)")
