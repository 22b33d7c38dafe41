"""/docs and /redoc work offline: every asset they load is served by this server.

The TestClient tests need no model (the lifespan is not run). The browser test blocks every
request to another host and checks that Swagger UI and ReDoc really draw the API.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from conftest import CHROMIUM  # noqa: E402
from emovox.server import Settings, create_app  # noqa: E402
from emovox.server.docs import asset_dir  # noqa: E402

CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png", ".json": "application/json"}
ARTIFACTS = Path(__file__).resolve().parents[1] / "build" / "artifacts"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update"]
needs_assets = pytest.mark.skipif(asset_dir() is None, reason="fastapi-offline is not installed")


def referenced_urls(page: str) -> list[str]:
    """Every URL the page loads: src/href attributes, Swagger UI's `url:` and ReDoc's spec-url."""
    attrs = re.findall(r'(?:src|href|spec-url)="([^"]+)"', page)
    return attrs + re.findall(r"\burl: '([^']+)'", page)


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(Settings(model="unused-no-lifespan")))


@needs_assets
@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets(client, path):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "http://" not in r.text and "https://" not in r.text and "//cdn" not in r.text
    assert r.headers["content-security-policy"] == "img-src 'self' data:"  # no third-party images
    urls = referenced_urls(r.text)
    assert "/openapi.json" in urls and any(u.endswith(".js") for u in urls), urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        kind = CONTENT_TYPES[url[url.rfind("."):]]
        assert kind in asset.headers["content-type"], (url, asset.headers["content-type"])
        assert len(asset.content) > 100, url


@needs_assets
def test_docs_assets_do_not_shadow_the_page_assets(client):
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/docs-assets/app.js").status_code == 404
    spec = client.get("/openapi.json").json()
    assert not {"/docs", "/redoc"} & set(spec["paths"])


def test_docs_without_asset_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "fastapi_offline", None)  # find_spec then reports it missing
    assert asset_dir() is None
    client = TestClient(create_app(Settings(model="unused-no-lifespan")))
    for path in ("/docs", "/redoc"):
        r = client.get(path)
        assert r.status_code == 503 and r.headers["content-type"].startswith("text/html")
        assert 'pip install "emovox[server]"' in r.text.replace("&quot;", '"')
        assert "fastapi-offline" in r.text
    assert client.get("/openapi.json").status_code == 200


@needs_assets
@pytest.mark.browser
@pytest.mark.parametrize(
    ("path", "drawn"),
    [
        ("/docs", '.opblock-summary-path[data-path="/v1/analyze"]'),
        ("/redoc", '[data-section-id="tag/v1/operation/analyze_v1_analyze_post"]'),
    ],
)
def test_docs_render_with_other_hosts_blocked(browser_server, playwright, path, drawn):
    # reached by a name, not as localhost, the way users on a LAN see it
    port = urlsplit(browser_server.url).port
    own = f"docs.example:{port}"
    blocked: list[str] = []

    def only_own_host(route):
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    rules = "--host-resolver-rules=MAP docs.example 127.0.0.1"
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[*BROWSER_ARGS, rules])
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.route("**/*", only_own_host)
        page.goto(f"http://{own}{path}")
        page.wait_for_selector(drawn, timeout=30_000)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"docs{path.replace('/', '-')}.png"))
    finally:
        browser.close()
    assert blocked == []
