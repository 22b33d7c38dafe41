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
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__, load_model
from ..errors import AudioError, EmovoxError, ModelError
from ..recognizer import Recognizer
from . import routes_compat, routes_face, routes_v1, stream
from .docs import add_docs, asset_dir
from .limits import BodySizeLimit
from .metrics import Metrics, MetricsMiddleware
from .settings import Settings
from .state import ServerState, audio_error_status

log = logging.getLogger("emovox.server")
DESCRIPTION = """Speech emotion recognition over HTTP.

`POST /v1/analyze` takes a recording (multipart field `file`, or the raw file as the body) and
answers the dominant emotion, per-emotion scores, acoustic descriptors and display metadata.
The other routes keep the exact shapes of earlier emotion backends so their clients work unchanged.
Errors answer one JSON `detail`: 413 too large or too long, 415 not decodable audio, 422 missing
field or unusable audio.
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
    app.include_router(routes_compat.router)
    app.include_router(stream.router)
    app.include_router(routes_face.router)
    app.mount("/static", StaticFiles(directory=routes_compat.STATIC), name="static")
    add_docs(app, asset_dir())
    _add_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics, router=app.router)
    if settings.cors_origins:  # outermost, so that 413s from the size limit carry CORS headers too
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "HEAD", "OPTIONS"],
            allow_headers=["*"],
        )
    return app


def load_server_model(settings: Settings) -> Recognizer:
    """The Recognizer the settings ask for (ModelError when it cannot be found or loaded)."""
    options = {"threads": settings.threads} if settings.threads else {}
    model = load_model(settings.model, max_duration_s=settings.max_duration_s, **options)
    if settings.adapt_to:
        from ..models.adapted import adapt_to

        model = adapt_to(model, settings.adapt_to, settings.adapt_clips)
    return model


def _load_state(settings: Settings, metrics: Metrics, model: Recognizer | None) -> ServerState:
    """Load the model and run one short synthetic clip through it (blocking; runs in a thread)."""
    model = model or load_server_model(settings)
    t = np.arange(16_000) / 16_000
    warm = (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    model.predict((warm, 16_000))  # also warms the descriptors (Praat, soxr)
    return ServerState(
        settings=settings,
        model=model,
        metrics=metrics,
        limiter=anyio.CapacityLimiter(settings.concurrency),
    )


def _add_error_handlers(app: FastAPI) -> None:
    """Library errors become one JSON `detail` with a 4xx/503 status; never a 500."""

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
