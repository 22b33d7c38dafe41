"""Error bodies with an ``error`` field, for the routes whose earlier clients read ``data.error``.

SER_wav2vec's page shows ``data.error`` and the mel-CNN backend answered ``{"error": ...}``; every
other emovox answer says ``detail``. Routes built with ``ErrorFieldRoute`` answer both: the app's
own exception handlers decide status and ``detail`` as everywhere else, then ``error`` repeats the
reason as one line of text.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

Handler = Callable[[Request], Awaitable[Response]]


class ErrorFieldResponse(BaseModel):
    detail: str = Field(description="what was wrong with the request, and what is accepted")
    error: str = Field(description="the same reason, for clients that read `error`")


class ErrorFieldRoute(APIRoute):
    """An APIRoute whose error answers carry ``error`` (one line of text) beside ``detail``."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                answer = await _handle(request, exc)
                if answer is None:
                    raise
                return with_error_field(answer)

        return route


async def _handle(request: Request, exc: Exception) -> Response | None:
    """The answer the app's own exception handler gives ``exc``, or None when it has none."""
    handlers = request.app.exception_handlers
    handler = next((handlers[cls] for cls in type(exc).__mro__ if cls in handlers), None)
    if handler is None:
        return None
    answer = handler(request, exc)
    return await answer if inspect.isawaitable(answer) else answer


def with_error_field(response: Response) -> Response:
    """The same JSON error answer with ``error`` added (other answers are returned unchanged)."""
    if not response.media_type or "json" not in response.media_type:
        return response
    try:
        body = json.loads(bytes(response.body))
    except ValueError:
        return response
    if not isinstance(body, dict) or "detail" not in body:
        return response
    body.setdefault("error", _one_line(body["detail"]))
    headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
    return JSONResponse(body, status_code=response.status_code, headers=headers)


def _one_line(detail: Any) -> str:
    """``detail`` as text: validation errors (a list) become 'field: message; ...'."""
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(x) for x in item.get("loc", ()) if x != "body")
                parts.append(f"{where}: {item.get('msg', '')}" if where else str(item.get("msg", "")))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)
