"""The API docs pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served without a CDN.

FastAPI's own pages load their JavaScript and CSS from a CDN, so offline they stay blank. Here
the files come from the installed ``fastapi-offline`` package (Swagger UI 5 and ReDoc 2, which
read the OpenAPI 3.1 schema FastAPI writes), mounted at ``/docs-assets``. When that package is
missing, both pages answer 503 with a short note naming the pip command instead of a blank page.
"""

from __future__ import annotations

import html
import importlib.util
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSET_PACKAGE = "fastapi_offline"
ASSET_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
ASSETS_URL = "/docs-assets"  # not under /static, which holds the web page
INSTALL = 'pip install "emovox[server]"'
# Images from this server only: ReDoc's "API docs by Redocly" credit loads its logo from the
# vendor's CDN (and hides it when that fails); this keeps the pages from calling out at all.
IMAGES_FROM_SELF = {"content-security-policy": "img-src 'self' data:"}


def asset_dir() -> Path | None:
    """The folder holding the Swagger UI / ReDoc files, or None when the package is not installed."""
    try:
        spec = importlib.util.find_spec(ASSET_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "static"
        if all((folder / name).is_file() for name in ASSET_FILES):
            return folder
    return None


def add_docs(app: FastAPI, assets: Path | None) -> None:
    """Add ``/docs`` and ``/redoc`` to an app built with ``docs_url=None, redoc_url=None``."""
    if assets is None:
        _add_missing_note(app)
        return
    app.mount(ASSETS_URL, StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )
        page.headers.update(IMAGES_FROM_SELF)
        return page

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API reference",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
        page.headers.update(IMAGES_FROM_SELF)
        return page


def _add_missing_note(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` say what to install (503), since without the files they would be blank."""
    note = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>API docs unavailable</title></head>"
        "<body><h1>API docs unavailable</h1>"
        "<p>The docs pages need the Swagger UI and ReDoc files from the <code>fastapi-offline</code> "
        f"package, which is not installed. Install it with <code>{html.escape(INSTALL)}</code> "
        "(or <code>pip install fastapi-offline</code>) and restart the server.</p>"
        f"<p>The OpenAPI schema itself is at <a href='{app.openapi_url}'>{app.openapi_url}</a>.</p>"
        "</body></html>"
    )

    async def missing(request: Request) -> HTMLResponse:
        return HTMLResponse(note, status_code=503)

    for path in ("/docs", "/redoc"):
        app.add_api_route(path, missing, methods=["GET"], include_in_schema=False)
