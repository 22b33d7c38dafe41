"""An ASGI middleware that refuses request bodies over the upload limit without reading them.

A declared ``Content-Length`` over the limit is answered 413 before a byte of the body is read.
Bodies without one (chunked uploads) are counted as they stream in; once the count passes the
limit the app's read fails, whatever response it tries to send is replaced by the 413, and the
rest of the body is never read.
"""

from __future__ import annotations

import json
from typing import Any

Scope = dict[str, Any]


class BodyTooLarge(Exception):
    """Raised inside the app's ``receive`` when the streamed body passes the limit."""


class BodySizeLimit:
    """Wrap an ASGI app so that HTTP bodies larger than ``max_bytes`` get a 413 JSON answer."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _detail(self, size: int | None) -> str:
        limit_mb = self.max_bytes / (1024 * 1024)
        got = f"{size:,} bytes" if size is not None else f"more than {self.max_bytes:,} bytes"
        return f"request body too large: {got}; the limit is {limit_mb:g} MB ({self.max_bytes:,} bytes)"

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _send_json(send, 413, self._detail(declared))
            return
        state = {"seen": 0, "exceeded": False, "started": False}

        async def limited_receive():
            message = await receive()
            if message["type"] == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > self.max_bytes:
                    state["exceeded"] = True
                    raise BodyTooLarge(self._detail(None))
            return message

        async def guarded_send(message):
            if state["exceeded"]:
                return  # the app's own answer (e.g. a 400 for the broken form) is dropped
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not state["exceeded"]:
                raise
        if state["exceeded"] and not state["started"]:
            await _send_json(send, 413, self._detail(None))


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_json(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
