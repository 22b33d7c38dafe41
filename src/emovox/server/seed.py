"""The answer shape of the EmoSense seed's routes (``/api/v1/emotion/analyze/*`` and its stream)."""

from __future__ import annotations

import re
import time
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def seed_answer(pred, metadata: dict[str, Any], start: float) -> dict[str, Any]:
    """The EmoSense seed's answer shape for any result with ``emotion``, ``confidence``, ``top()``;
    ``metadata`` gains ``processing_time_ms`` (since ``start``, a ``time.perf_counter()``)."""
    metadata["processing_time_ms"] = round((time.perf_counter() - start) * 1000, 1)
    return {"dominant_emotion": pred.emotion, "confidence": pred.confidence,
            "emotions": dict(pred.top()), "metadata": metadata}


def printable(value: str | None) -> str | None:
    """A client's string fit to echo in JSON: each lone UTF-16 surrogate (valid JSON, but not
    encodable as UTF-8) becomes U+FFFD.

    >>> printable("ok\\ud800") == "ok\\ufffd", printable(None)
    (True, None)
    """
    return None if value is None else _SURROGATE.sub("\ufffd", value)
