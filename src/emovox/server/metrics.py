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
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


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
    """Counts every HTTP request under its route template (not its raw path)."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

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
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.latency.labels(route, method).observe(time.perf_counter() - start)
            self.metrics.requests.labels(route, method, str(status["code"])).inc()
