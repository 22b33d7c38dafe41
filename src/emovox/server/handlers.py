"""Errors become one JSON answer with a 4xx/503 status; a 500 is a bug.

Library errors map to their status (``audio_error_status``); request validation errors keep
FastAPI's list shape, but the ``input`` they echo is made safe: raw body bytes (which need not be
UTF-8) are described, not decoded, and long values are cut.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ..errors import AudioError, EmovoxError, ModelError
from .seed import printable
from .state import audio_error_status

log = logging.getLogger("emovox.server")
ECHO_CHARS = 200  # longest string a validation error echoes back
ECHO_ITEMS = 20  # most items of a list or mapping it echoes back


def add_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(AudioError)
    async def audio_error(request: Request, exc: AudioError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=audio_error_status(exc))

    @app.exception_handler(ModelError)
    async def model_error(request: Request, exc: ModelError) -> JSONResponse:
        log.error("model error on %s: %s", request.url.path, exc)
        return JSONResponse({"detail": f"the model could not run: {exc}"}, status_code=503)

    @app.exception_handler(EmovoxError)
    async def emovox_error(request: Request, exc: EmovoxError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": safe_errors(exc.errors())}, status_code=422)


def safe_errors(errors: Any) -> Any:
    """Validation errors with every echoed ``input`` made short and JSON-safe."""
    cleaned = [{**e, "input": echo(e["input"])} if "input" in e else e for e in errors]
    return jsonable_encoder(cleaned, custom_encoder={bytes: echo, bytearray: echo})


def echo(value: Any, depth: int = 0) -> Any:
    """A short, JSON-safe stand-in for what the client sent: bytes are described by their length.

    >>> echo(b"RIFF\\xff\\xfe"), echo("x" * 300)[-16:], echo({"a": [1, b"\\x00"]})
    ('<6 bytes>', '(300 characters)', {'a': [1, '<1 bytes>']})
    """
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value):,} bytes>"
    if isinstance(value, str):  # a lone surrogate (valid JSON) cannot be written as UTF-8: U+FFFD
        value = printable(value)
        return value if len(value) <= ECHO_CHARS else f"{value[:ECHO_CHARS]}... ({len(value):,} characters)"
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if depth >= 3:
        return "..."
    if isinstance(value, dict):
        return {echo(str(k)): echo(v, depth + 1) for k, v in list(value.items())[:ECHO_ITEMS]}
    if isinstance(value, (list, tuple)):
        return [echo(v, depth + 1) for v in value[:ECHO_ITEMS]]
    return f"<{type(value).__name__}>"  # an UploadFile, a FormData...
