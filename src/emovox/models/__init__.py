"""Model registry and backends (native ONNX in ``native``, transformers in ``hf``)."""

from .registry import REGISTRY, ModelSpec, default_spec, load_backend

__all__ = ["REGISTRY", "ModelSpec", "default_spec", "load_backend"]
