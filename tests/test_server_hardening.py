"""Server hardening (issue 14): bodies that are not UTF-8, bounded metrics, trusted hosts,
the in-flight body budget, body and header read timeouts. TestClient / ASGI calls where they can
show it; the real server only for the header timeout, which lives in the HTTP protocol."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from emovox.server import Settings, create_app  # noqa: E402

NOT_UTF8 = b"RIFF\xff\xfe\x00\x80WAVE\xc3\x28 not json"


@pytest.fixture(scope="module")
def client(debug_model):
    app = create_app(Settings(model=str(debug_model), max_upload_mb=1))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def post_routes(client) -> list[str]:
    return sorted(path for path, ops in client.app.openapi()["paths"].items() if "post" in ops)


def test_multimodal_non_utf8_body_is_422_json(client):
    for headers, kw in [
        ({"content-type": "audio/wav"}, {"content": NOT_UTF8}),
        ({}, {"files": {"file": ("a.wav", NOT_UTF8, "audio/wav")}}),
        ({"content-type": "application/octet-stream"}, {"content": NOT_UTF8}),
    ]:
        r = client.post("/api/v1/emotion/analyze/multimodal", headers=headers, **kw)
        assert r.status_code == 422, r.text
        error = r.json()["detail"][0]
        assert error["loc"] == ["body"]
        assert "valid dictionary" in error["msg"]


@pytest.mark.parametrize("kind", ["raw", "multipart-file", "multipart-text"])
def test_every_post_route_answers_binary_bodies_with_4xx_json(client, kind):
    routes = post_routes(client)
    assert "/api/v1/emotion/analyze/multimodal" in routes and "/v1/analyze" in routes
    for path in routes:
        if kind == "raw":
            r = client.post(path, content=NOT_UTF8, headers={"content-type": "audio/wav"})
        elif kind == "multipart-file":
            r = client.post(path, files={"other": ("a.wav", NOT_UTF8)})
        else:
            body = b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\n' + NOT_UTF8 + b"\r\n--x--\r\n"
            r = client.post(path, content=body, headers={"content-type": "multipart/form-data; boundary=x"})
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
        assert r.headers["content-type"] == "application/json", (path, r.text)
        assert "detail" in r.json()


def test_validation_errors_do_not_echo_large_inputs(client):
    big = "A" * 100_000  # a JSON string where an object belongs: pydantic echoes it as the input
    r = client.post("/api/v1/emotion/analyze/multimodal", json=big)
    assert r.status_code == 422
    assert len(r.content) < 2_000, len(r.content)


def metrics_text(client) -> str:
    r = client.get("/metrics")
    assert r.status_code == 200
    return r.text


def test_metrics_stay_bounded_under_made_up_methods_and_paths(client):
    import itertools
    import random

    rng = random.Random(0)
    bases = ["/v1/analyze", "/healthz", "/static/x.js", "/"]

    def made_up_method() -> str:
        return "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ", k=rng.randint(3, 9)))

    for method, base, suffix in itertools.product(["MADEUP", "GET", "POST", "PUT"], bases, ["", "/x"]):
        client.request(method, base + suffix)  # one request of each kind first
    metrics_text(client)  # its own series
    before = metrics_text(client)
    for _ in range(2_000):
        method = rng.choice([made_up_method(), "GET", "POST", "PUT"])
        path = rng.choice(bases) + rng.choice(["", f"/{rng.getrandbits(64):x}"])
        client.request(method, path)
    text = metrics_text(client)
    assert len(text.splitlines()) == len(before.splitlines())  # no new series, only larger counts
    assert len(text) < len(before) * 1.25, (len(before), len(text))
    assert 'method="other"' in text
