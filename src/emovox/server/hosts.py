"""Answer only requests whose ``Host`` header is trusted (``Settings.trusted_hosts``).

Starlette's ``TrustedHostMiddleware`` decides; a refused request gets a 400 JSON ``detail`` like
every other error here (Starlette answers plain text). WebSocket handshakes are checked too.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from starlette.middleware.trustedhost import TrustedHostMiddleware

ACCEPTED = "emovox.trusted_host"  # scope key set when the check let the request through


class TrustedHosts:
    """ASGI middleware: the app sees only requests for ``allowed_hosts`` (``["*"]``: any host)."""

    def __init__(self, app, allowed_hosts: list[str]) -> None:
        self.app = app
        self.check = TrustedHostMiddleware(_accept, allowed_hosts=allowed_hosts, www_redirect=False)

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if self.check.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        await self.check(scope, receive, _discard)  # calls _accept only for a trusted host
        if scope.pop(ACCEPTED, False):
            await self.app(scope, receive, send)
            return
        detail = "invalid or untrusted Host header: this server answers only for its configured host names"
        await JSONResponse({"detail": detail}, status_code=400)(scope, receive, send)


async def _accept(scope, receive, send) -> None:
    scope[ACCEPTED] = True


async def _discard(message) -> None:
    """Where Starlette's own plain-text refusal goes."""
