"""The application factory: ``create_app(settings)``; nothing is built at import time.

>>> from emovox.server import Settings, create_app
>>> app = create_app(Settings(model="path/to/model"))   # the model loads when the app starts
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import numpy as np
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .. import __version__, load_model
from ..analysis.analyze import Analyzer
from ..recognizers.voice import Recognizer
from . import answers, routes_compat, routes_face, routes_profiles, routes_text, routes_v1, stream
from .docs import add_docs, asset_dir
from .handlers import add_error_handlers
from .hosts import TrustedHosts
from .limits import BodyLimits
from .metrics import Metrics, MetricsMiddleware
from .profiles import ProfileStore
from .settings import Settings
from .state import ServerState

log = logging.getLogger("emovox.server")
DESCRIPTION = """Speech emotion recognition over HTTP.

`POST /v1/analyze` takes a recording (multipart field `file`, or the raw file as the body) and
answers the dominant emotion, per-emotion scores, acoustic descriptors and display metadata.
The other routes keep the exact shapes of earlier emotion backends so their clients work unchanged.
Errors answer one JSON `detail`: 400 untrusted Host header, 408 body too slow, 413 too large or
too long, 415 not decodable audio, 422 missing field or unusable audio, 503 too many uploads in
flight (with Retry-After).
"""


def create_app(settings: Settings | None = None, *, model: Recognizer | None = None) -> FastAPI:
    """Build the app; the model is loaded once (and warmed up) when the app starts.

    ``model``: an already loaded Recognizer to serve instead of loading ``settings.model``
    (`emovox serve` loads it first so that a bad model name fails with one clear line).
    """
    settings = settings or Settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logging.getLogger("emovox").setLevel(settings.log_level.upper().replace("TRACE", "DEBUG"))
        state = await anyio.to_thread.run_sync(_load_state, settings, metrics, model)
        app.state.emovox = state
        log.info("emovox server ready: model %s, labels %s", state.model.info.id, list(state.model.labels))
        yield
        app.state.emovox = None

    app = FastAPI(
        title="emovox",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load from a CDN; add_docs serves installed files instead
        redoc_url=None,
    )
    app.include_router(routes_v1.router)
    app.include_router(routes_profiles.router)
    app.include_router(routes_text.router)
    app.include_router(routes_compat.router)
    app.include_router(stream.router)
    app.include_router(routes_face.router)
    app.mount("/static", StaticFiles(directory=routes_compat.STATIC), name="static")
    add_docs(app, asset_dir())
    add_error_handlers(app)
    app.add_middleware(
        BodyLimits,
        max_bytes=settings.max_upload_bytes,
        max_inflight_bytes=settings.max_inflight_bytes,
        read_timeout_s=settings.body_timeout_s,
        gauge=metrics.body_bytes,
        error_field_paths=frozenset(r.path for r in routes_compat.error_field_router.routes),
        path_limits=answers.body_limits(settings),  # images and videos: MAX_VIDEO_FILE_SIZE
    )
    app.add_middleware(TrustedHosts, allowed_hosts=settings.trusted_hosts)  # before a byte is reserved
    app.add_middleware(MetricsMiddleware, metrics=metrics, router=app.router)
    _add_cors(app, settings)  # keep last: outermost, so every answer below it carries CORS headers
    return app


def _add_cors(app: FastAPI, settings: Settings) -> None:
    """CORS for front ends on another origin (closed unless origins are configured).

    Added after every other middleware so that it wraps them all: preflight requests are answered
    here, and error answers (4xx from the routes, 413 from the size limit) carry the headers too.
    """
    if not settings.cors_origins:
        return
    from fastapi.middleware.cors import CORSMiddleware

    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "HEAD", "OPTIONS"],
        allow_headers=["*"],
        max_age=600,
    )


def load_server_model(settings: Settings) -> Analyzer:
    """The Recognizer the settings ask for (ModelError when it cannot be found or loaded)."""
    options = {"threads": settings.threads} if settings.threads else {}
    model = load_model(settings.model, max_duration_s=settings.max_duration_s, **options)
    if settings.adapt_to:
        from ..batch.reference import adapt_to

        model = adapt_to(model, settings.adapt_to, settings.adapt_clips)
    return model


def _load_state(settings: Settings, metrics: Metrics, model: Recognizer | None) -> ServerState:
    """Load the model and run one short synthetic clip through it (blocking; runs in a thread)."""
    model = model or load_server_model(settings)
    if not isinstance(model, Analyzer):  # a bare voice Recognizer: the server also answers media and timelines
        model = Analyzer(model.backend, features=model.features, max_duration_s=model.max_duration_s)
    t = np.arange(16_000) / 16_000
    warm = (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    model.predict((warm, 16_000))  # also warms the descriptors (Praat, soxr)
    return ServerState(
        settings=settings,
        model=model,
        metrics=metrics,
        limiter=anyio.CapacityLimiter(settings.concurrency),
        profiles=ProfileStore(settings.max_profiles),
    )
