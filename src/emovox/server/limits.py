"""An ASGI middleware that bounds request bodies: size, total bytes in flight, and read time.

- A declared ``Content-Length`` over the upload limit is answered 413 before a byte of the body
  is read; bodies without one (chunked uploads) are counted as they stream in. Routes that take
  images and videos (``path_limits``) allow bodies up to their own, larger limit unless the body is
  declared audio (``Content-Type: audio/*``); the route then holds audio to the upload limit.
- Every body's bytes are reserved against a budget shared by all requests (its declared length up
  front, else as it arrives) and released when its request ends, however it ends (answer, error,
  disconnect). A request that would pass the budget is answered 503 with ``Retry-After``, so that
  many large uploads at once cannot take the server's memory.
- The time spent waiting for body bytes is bounded: a client that trickles its body gets a 408.

Once a limit is hit, the app's read fails, whatever response it tries to send is replaced by the
limit's JSON answer (with ``Connection: close``), and the rest of the body is never read.
"""

from __future__ import annotations

import functools
import gc
import json
import time
from typing import Any

import anyio

Scope = dict[str, Any]
MIB = 1024 * 1024
RETRY_AFTER_S = 2  # what a 503 for a full body budget asks clients to wait
TRIM_AFTER_BYTES = 8 * MIB
"""After a request with a body this large (answered or refused), its memory is released at once: an
error's traceback keeps the body (and what was decoded from it) alive in a reference cycle until a
late garbage collection, and glibc keeps freed heap pages in the process' RSS; without this, RSS
grew by about the decoded size with each large refused body (benchmarks/bench_server_memory.py)."""


class Refused(Exception):
    """Raised inside the app's ``receive`` when a body limit is hit."""

    def __init__(self, status: int, detail: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


class BodyLimits:
    """Wrap an ASGI app with the upload limit, the in-flight budget and the body read timeout.

    ``max_inflight_bytes`` / ``read_timeout_s``: None for no budget / no timeout.
    ``gauge``: a Prometheus gauge set to the bytes in flight (optional).
    ``error_field_paths``: paths whose clients read ``error``: their refusals carry it beside ``detail``.
    ``path_limits``: path -> the largest body there (routes taking images and videos), else ``max_bytes``.
    """

    def __init__(self, app, max_bytes: int, max_inflight_bytes: int | None = None,
                 read_timeout_s: float | None = None, gauge: Any = None,
                 error_field_paths: frozenset[str] = frozenset(),
                 path_limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.error_field_paths = error_field_paths
        self.max_bytes = max_bytes
        self.path_limits = dict(path_limits or {})
        self.max_inflight_bytes = max_inflight_bytes
        self.read_timeout_s = read_timeout_s
        self.gauge = gauge
        self.inflight = 0

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        error_field = scope.get("path") in self.error_field_paths
        limit = self.limit_for(scope)
        if declared is not None and declared > limit:
            await _send_json(send, 413, self._too_large(declared, limit), error_field=error_field)
            return
        reading = _BodyRead(self, receive, limit)
        try:
            if declared:
                reading.reserve(declared)  # a 503 before the body is read when the budget is full
            await self._run(scope, reading, send)
        except Refused as refusal:  # before the app ran
            await _send_json(send, refusal.status, refusal.detail, refusal.headers, error_field)
        finally:
            self._add(-reading.reserved)
            if max(reading.seen, declared or 0) >= TRIM_AFTER_BYTES:
                await anyio.to_thread.run_sync(release_memory)

    async def _run(self, scope: Scope, reading: _BodyRead, send) -> None:
        started = False

        async def guarded_send(message):
            nonlocal started
            if reading.refusal is not None:
                return  # the app's own answer (e.g. a 400 for the broken form) is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, reading.receive, guarded_send)
        except Exception:
            if reading.refusal is None and not reading.disconnected:
                raise  # a client gone in the middle of its body is no server error: nobody to answer
        refusal = reading.refusal
        if refusal is not None and not started:
            error_field = scope.get("path") in self.error_field_paths
            await _send_json(send, refusal.status, refusal.detail, refusal.headers, error_field)

    def _add(self, n: int) -> None:
        self.inflight += n
        if self.gauge is not None and n:
            self.gauge.set(self.inflight)

    def limit_for(self, scope: Scope) -> int:
        """The largest body this request may send: its route's media limit unless it says it is audio."""
        limit = self.path_limits.get(scope.get("path", ""))
        if limit is None or _header(scope, b"content-type").lower().startswith("audio/"):
            return self.max_bytes
        return limit

    def _too_large(self, size: int | None, limit: int) -> str:
        got = f"{size:,} bytes" if size is not None else f"more than {limit:,} bytes"
        text = f"request body too large: {got}; the limit is {mib(limit)} MiB ({limit:,} bytes)"
        if limit != self.max_bytes:
            text += f" with an image or a video (MAX_VIDEO_FILE_SIZE), {mib(self.max_bytes)} MiB with audio"
        return text

    def _busy(self) -> Refused:
        budget = self.max_inflight_bytes or 0
        return Refused(
            503,
            f"the server is receiving too many uploads at once (over {budget / MIB:g} MiB in flight); "
            f"retry in {RETRY_AFTER_S} s",
            ((b"retry-after", str(RETRY_AFTER_S).encode()),),
        )

    def _timed_out(self) -> Refused:
        return Refused(408, f"the request body did not arrive within {self.read_timeout_s:g} s; "
                            "the server stops waiting for slow uploads")


class _BodyRead:
    """One request's body as the app reads it: counted, reserved and timed."""

    def __init__(self, limits: BodyLimits, receive, limit: int) -> None:
        self.limits, self._receive, self.limit = limits, receive, limit
        self.seen = self.reserved = 0
        self.waited = 0.0
        self.done = self.disconnected = False
        self.refusal: Refused | None = None

    def reserve(self, n: int) -> None:
        """Hold ``n`` more bytes against the shared budget, or raise the 503."""
        budget = self.limits.max_inflight_bytes
        if budget is not None and self.limits.inflight + n > budget:
            raise self.limits._busy()
        self.limits._add(n)
        self.reserved += n

    async def receive(self):
        if self.done or self.refusal is not None:
            return await self._receive()  # e.g. waiting for the disconnect: never timed
        try:
            message = await self._timed_receive()
            self.disconnected = message["type"] == "http.disconnect"
            if message["type"] == "http.request":
                self.seen += len(message.get("body", b""))
                self.done = not message.get("more_body", False)
                if self.seen > self.limit:
                    raise Refused(413, self.limits._too_large(None, self.limit))
                if self.seen > self.reserved:
                    self.reserve(self.seen - self.reserved)
        except Refused as refusal:
            self.refusal = refusal
            raise
        return message

    async def _timed_receive(self):
        timeout = self.limits.read_timeout_s
        if timeout is None:
            return await self._receive()
        start = time.monotonic()
        try:
            with anyio.fail_after(max(timeout - self.waited, 0)):
                message = await self._receive()
        except TimeoutError:
            raise self.limits._timed_out() from None
        finally:
            self.waited += time.monotonic() - start
        if self.waited > timeout and message.get("more_body", False):
            raise self.limits._timed_out()
        return message


def release_memory() -> None:
    """Free what a large request left: reference cycles (an error's traceback holds the frames that
    held the body) collected now rather than at some later collection, then free heap pages returned
    to the system (glibc ``malloc_trim``; skipped where it is missing)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return None


def mib(n: int) -> str:
    """Bytes as MiB for messages, to 3 significant digits.

    >>> mib(25 * MIB), mib(31_457), mib(100_000)
    ('25', '0.03', '0.0954')
    """
    return f"{n / MIB:.3g}"


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


def _content_length(scope: Scope) -> int | None:
    try:
        length = int(_header(scope, b"content-length") or "-1")
    except ValueError:
        return None
    return length if length >= 0 else None


async def _send_json(send, status: int, detail: str, headers: tuple[tuple[bytes, bytes], ...] = (),
                     error_field: bool = False) -> None:
    answer = {"detail": detail, "error": detail} if error_field else {"detail": detail}
    body = json.dumps(answer).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
