"""Server hardening (issue 14): bodies that are not UTF-8, bounded metrics, trusted hosts,
the in-flight body budget, body and header read timeouts. TestClient / ASGI calls where they can
show it; the real server only for the header timeout, which lives in the HTTP protocol."""

from __future__ import annotations

import anyio
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


def test_any_host_by_default_and_only_trusted_hosts_when_set(debug_model, client):
    assert client.get("/healthz", headers={"host": "evil.example"}).status_code == 200
    settings = Settings(model=str(debug_model), trusted_hosts="api.example.com, *.internal")
    with TestClient(create_app(settings), base_url="http://api.example.com") as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/healthz", headers={"host": "a.b.internal:8000"}).status_code == 200
        for host in ("evil.example", "api.example.com.evil.example", ""):
            r = c.get("/healthz", headers={"host": host})
            assert r.status_code == 400, host
            assert "Host header" in r.json()["detail"]
        r = c.post("/v1/analyze", content=b"x" * 1000, headers={"host": "evil.example"})
        assert r.status_code == 400 and "Host header" in r.json()["detail"]
        from starlette.testclient import WebSocketDenialResponse

        with c.websocket_connect("/v1/stream", headers={"host": "api.example.com"}):
            pass  # the trusted host's stream opens
        with pytest.raises(WebSocketDenialResponse) as denied, \
                c.websocket_connect("/v1/stream", headers={"host": "evil.example"}):
            pass
        assert denied.value.status_code == 400 and b"Host header" in denied.value.content


def test_trusted_host_patterns_are_checked():
    with pytest.raises(ValueError, match="wildcard"):
        Settings(trusted_hosts="api.*.com")
    with pytest.raises(ValueError, match="wildcard"):
        Settings(trusted_hosts=["*example.com"])


def test_upload_limit_is_stated_in_mib(client):
    r = client.post("/v1/analyze", content=bytes(2 * 1024 * 1024), headers={"content-type": "audio/wav"})
    assert r.status_code == 413
    assert "the limit is 1 MiB (1,048,576 bytes)" in r.json()["detail"]


# ---- the in-flight body budget and the body read timeout, driven at the ASGI level -------------
# (TestClient reads a request body whole before the app runs, so it cannot trickle one)

MIB = 1024 * 1024
FORM_START = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'


async def asgi_call(app, path: str, chunks, headers: dict[str, str] | None = None, method: str = "POST"):
    """One HTTP request through ``app``; ``chunks`` is an async iterator of body pieces.
    Returns (status, headers, JSON body or None)."""
    import json

    sent: list[dict] = []
    body_iter = chunks.__aiter__()
    finished = False

    async def receive():
        nonlocal finished
        if finished:
            await anyio.sleep_forever()  # a connection that stays open
        try:
            piece = await body_iter.__anext__()
        except StopAsyncIteration:
            finished = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if piece is None:  # the client went away
            finished = True
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": piece, "more_body": True}

    async def send(message):
        sent.append(message)

    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": [(b"host", b"test"), *raw], "client": ("127.0.0.1", 1),
             "server": ("test", 80), "state": {}}
    await app(scope, receive, send)
    start = next((m for m in sent if m["type"] == "http.response.start"), None)
    if start is None:
        return None, {}, None
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    heads = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], heads, json.loads(body) if "json" in heads.get("content-type", "") else None


async def pieces(*items, gate=None, pause: float = 0.0):
    """Body pieces; ``gate`` (an anyio.Event) is awaited after the first piece."""
    for i, item in enumerate(items):
        yield item
        if i == 0 and gate is not None:
            await gate.wait()
        if pause:
            await anyio.sleep(pause)


def in_flight(app) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    text = app.state.emovox.metrics.render().decode()
    family = next(f for f in text_string_to_metric_families(text)
                  if f.name == "emovox_http_request_body_bytes_in_flight")
    return family.samples[0].value


def run_with_app(settings: Settings, scenario) -> None:
    """Start ``create_app(settings)`` (its lifespan loads the model) and run ``scenario(app)``."""
    app = create_app(settings)

    async def main():
        async with app.router.lifespan_context(app):
            await scenario(app)

    anyio.run(main)


def test_bodies_in_flight_are_bounded_503_with_retry_after_and_released(debug_model):
    settings = Settings(model=str(debug_model), max_upload_mb=1, max_inflight_mb=1.5, body_timeout_s=30)

    async def scenario(app):
        gate = anyio.Event()
        first: dict = {}

        async def big_upload():  # declares 1 MiB, sends 100 kB, then waits for the gate
            body = pieces(b"\0" * 100_000, b"\0" * (MIB - 100_000), gate=gate)
            first["answer"] = await asgi_call(app, "/v1/analyze", body, {"content-length": str(MIB)})

        async with anyio.create_task_group() as tg:
            tg.start_soon(big_upload)
            await anyio.sleep(0.2)
            assert in_flight(app) == MIB
            # a second large declared body does not fit: 503 before its body is read
            status, heads, body = await asgi_call(app, "/v1/analyze", pieces(b"\0" * 10),
                                                  {"content-length": str(700_000)})
            assert status == 503 and heads["retry-after"] == "2", body
            assert "too many uploads" in body["detail"]
            # a chunked body (no Content-Length) is counted as it arrives: 503 once past the budget
            status, heads, body = await asgi_call(app, "/predict", pieces(FORM_START, *[b"\0" * 200_000] * 4),
                                                  {"content-type": "multipart/form-data; boundary=x"})
            assert status == 503 and heads["retry-after"] == "2", body
            # a small upload still fits
            status, _, body = await asgi_call(app, "/v1/analyze", pieces(b"not audio" * 10),
                                              {"content-length": "90"})
            assert status == 415, body
            gate.set()
        assert first["answer"][0] == 415  # the big upload was read whole, then found undecodable
        # a client that goes away in the middle of its body releases what it held
        status, _, _ = await asgi_call(app, "/v1/analyze", pieces(b"\0" * 1000, None),
                                       {"content-length": "500000"})
        assert status is None  # nothing answered, nothing raised
        assert in_flight(app) == 0
        # so does a chunked body that passes the upload limit (413)
        status, _, body = await asgi_call(app, "/v1/analyze", pieces(*[b"\0" * 300_000] * 4))
        assert status == 413 and "1 MiB" in body["detail"]
        assert in_flight(app) == 0
        status, _, body = await asgi_call(app, "/v1/analyze", pieces(b"\0" * 700_000),
                                          {"content-length": "700000"})
        assert status == 415, body  # room again

    run_with_app(settings, scenario)


@pytest.mark.parametrize("path", ["/v1/analyze", "/predict"])
def test_a_trickled_body_gets_408_and_is_released(debug_model, path):
    settings = Settings(model=str(debug_model), max_upload_mb=1, body_timeout_s=1)
    headers = {"content-length": "100000", "content-type":
               "audio/wav" if path == "/v1/analyze" else "multipart/form-data; boundary=x"}

    async def scenario(app):
        with anyio.fail_after(8):  # never waits for the whole trickle (100 x 0.2 s)
            status, heads, body = await asgi_call(app, path, pieces(FORM_START, *[b"\0" * 1000] * 100, pause=0.2),
                                                  headers)
        assert status == 408, body
        assert "did not arrive within 1 s" in body["detail"]
        assert heads["connection"] == "close"
        assert in_flight(app) == 0
        # a body that arrives in time, in pieces, is not cut
        status, _, body = await asgi_call(app, "/v1/analyze", pieces(*[b"x" * 10] * 5, pause=0.05),
                                          {"content-length": "50"})
        assert status == 415, body

    run_with_app(settings, scenario)


# ---- the real server: the header deadline lives in the HTTP protocol, below the app -------------


def trickle(sock, data: bytes, piece: int, pause: float, limit_s: float = 20.0) -> tuple[bytes, float]:
    """Send ``data`` ``piece`` bytes every ``pause`` s until the server answers or closes;
    return (what it sent back until it closed, seconds from the first byte)."""
    import select
    import time

    start = time.monotonic()
    for i in range(0, len(data), piece):
        if select.select([sock], [], [], pause)[0]:
            break  # an answer (or the close) came
        sock.sendall(data[i:i + piece])
    received = b""
    while time.monotonic() - start < limit_s:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received, time.monotonic() - start


def test_real_server_cuts_off_slow_headers_slow_bodies_and_silent_connections(debug_model, tmp_path):
    import socket
    import time
    from urllib.parse import urlsplit

    from server_support import running_server

    with running_server(debug_model, tmp_path, "--header-timeout", "1", "--body-timeout", "1",
                        "--keep-alive", "0.5") as server:
        address = urlsplit(server.url).hostname, urlsplit(server.url).port
        headers = b"POST /v1/analyze HTTP/1.1\r\nHost: test\r\nContent-Type: audio/wav\r\nContent-Length: 100000\r\n\r\n"

        with socket.create_connection(address, timeout=20) as sock:  # headers, a byte each 0.2 s
            answer, took = trickle(sock, headers, 1, 0.2)  # would take 18 s
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"request headers not received within 1 s" in answer
        assert took < 8, took

        with socket.create_connection(address, timeout=20) as sock:  # headers whole, the body trickled
            sock.sendall(headers)
            answer, took = trickle(sock, bytes(100_000), 500, 0.1)  # would take 20 s
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"did not arrive within 1 s" in answer and b"application/json" in answer
        assert took < 8, took

        with socket.create_connection(address, timeout=20) as sock:  # connected, sends nothing
            start = time.monotonic()
            assert sock.recv(100) == b""  # closed, no answer owed
            assert time.monotonic() - start < 8

        import httpx

        with httpx.Client(base_url=server.url) as client:  # normal clients are unaffected
            assert client.get("/healthz").status_code == 200
            time.sleep(1.5)  # idle past both timeouts: a new connection is made transparently
            assert client.get("/healthz").status_code == 200
    assert "Traceback" not in server.log(), server.log()


def test_serve_options_are_checked_in_one_line_and_sizes_say_mib():
    from conftest import run_emovox

    for args, expected in [
        (["--trusted-hosts", "api.*.com"], "wildcard must be '*' or lead like '*.example.com'"),
        (["--max-upload-mb", "8", "--max-inflight-mb", "4"], "max_inflight_mb (4) must be at least"),
        (["--header-timeout", "0"], "header_timeout_s: Input should be greater than 0"),
    ]:
        result = run_emovox("serve", "--port", "1", *args, timeout=120)
        assert result.returncode == 1, result.stderr
        assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    help_text = run_emovox("serve", "--help").stdout
    assert "MiB" in help_text and " MB" not in help_text
