"""Prometheus metrics for one app: request counts, latency histogram, audio seconds processed.

Each app gets its own registry, so several apps (tests, workers) never share or clash.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.routing import Match

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# The request methods of RFC 9110 and PATCH; any other method name is counted as "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})


class Metrics:
    """The collectors the server updates; ``render()`` gives the text exposition format."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "emovox_http_requests", "HTTP requests by route, method and status code",
            ("route", "method", "status"), registry=self.registry,
        )
        self.latency = Histogram(
            "emovox_http_request_duration_seconds", "HTTP request latency by route",
            ("route", "method"), buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.body_bytes = Gauge(
            "emovox_http_request_body_bytes_in_flight",
            "Request body bytes held now, over all requests (limits.BodyLimits's budget)",
            registry=self.registry,
        )
        self.audio_seconds = Counter(
            "emovox_audio_seconds_processed", "Seconds of audio analyzed", registry=self.registry
        )
        self.predictions = Counter(
            "emovox_predictions", "Predictions by dominant emotion ('silent' for silent clips)",
            ("emotion",), registry=self.registry,
        )

    def observe_prediction(self, emotion: str | None, duration_s: float) -> None:
        self.audio_seconds.inc(duration_s)
        self.predictions.labels(emotion or "silent").inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts every HTTP request under its route template (not its raw path).

    Answers sent before routing (the 413 of the upload limit) carry no route in the scope; they
    are counted under the template of the route the path matches, or "unmatched" when none does,
    and methods outside ``METHODS`` are counted as "other", so that made-up URLs and method names
    cannot create new label values: the number of series stays bounded.
    """

    def __init__(self, app, metrics: Metrics, router: Any = None) -> None:
        self.app = app
        self.metrics = metrics
        self.router = router

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}
        start = time.perf_counter()

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = self._route_label(scope)
            method = scope.get("method", "")
            method = method if method in METHODS else "other"
            self.metrics.latency.labels(route, method).observe(time.perf_counter() - start)
            self.metrics.requests.labels(route, method, str(status["code"])).inc()

    def _route_label(self, scope: dict[str, Any]) -> str:
        """The matched route's path template (a mount's prefix), else "unmatched"."""
        route = scope.get("route")
        if route is None and self.router is not None:
            route = _match_route(self.router.routes, scope)
        return getattr(route, "path", None) or "unmatched"


def _match_route(routes: list[Any], scope: dict[str, Any]) -> Any:
    """The route the router would pick for ``scope`` (a method mismatch counts), or None."""
    partial = None
    for route in _flat_routes(routes):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial


def _flat_routes(routes: list[Any]) -> list[Any]:
    """Every route with its full path template, routers included with ``include_router`` opened."""
    try:  # newer FastAPI keeps included routers as one lazy entry of app.routes
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI copies their routes into app.routes
        return list(routes)
    return list(iter_route_contexts(routes))
