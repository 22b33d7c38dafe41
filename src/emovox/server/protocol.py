"""uvicorn's h11 protocol with a request-header deadline (``emovox serve --header-timeout``).

uvicorn bounds only the idle time between requests (``timeout_keep_alive``), and any received byte
stops that clock, so a client sending its headers a byte at a time held a connection forever
(slowloris). Here the request line and headers must arrive within ``header_timeout_s`` of the
connection being opened or of the previous response; otherwise the server answers 408 (when part
of a request came) and closes the connection. The body has its own bound (``limits.BodyLimits``).
"""

from __future__ import annotations

import asyncio
import json
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("emovox.server")


def header_timeout_protocol(header_timeout_s: float) -> type[H11Protocol]:
    """The protocol class to give ``uvicorn.run(..., http=...)``."""
    return type("HeaderTimeoutH11Protocol", (HeaderTimeoutH11Protocol,), {"header_timeout_s": header_timeout_s})


class HeaderTimeoutH11Protocol(H11Protocol):
    """H11Protocol that closes a connection whose next request's headers are late."""

    header_timeout_s: float = 10.0
    linger_s: float = 2.0  # after a 408: read and drop what the client still sends, then close
    _header_timer: asyncio.TimerHandle | None = None
    _lingering: bool = False

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # the 408 is sent: what still comes is dropped
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the headers are in (or the connection failed)
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm_header_timer()  # the next request's headers are due from now

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_late)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.trailing_data[0]:  # part of a request came: say why it is cut off
            log.info("closing a connection whose request headers took over %g s", self.header_timeout_s)
            body = json.dumps({"detail": f"request headers not received within {self.header_timeout_s:g} s"})
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
                + f"content-length: {len(body)}\r\n\r\n{body}".encode()
            )
            if self.transport.can_write_eof():
                # a lingering close: closing at once while the client is still sending makes the
                # kernel answer with a reset, which can destroy the 408 before the client reads it
                self.transport.write_eof()
                self._lingering = True
                self.loop.call_later(self.linger_s, self.transport.close)
                return
        self.transport.close()
