"""Property-based fuzzing of every route that takes a client's bytes or text, and of both WebSockets
(issue 28), in-process against the app on a native test model (random weights, with an adapted head).

Hypothesis generates (and on failure shrinks) mutated real formats, random bytes, wrong content
types, JSON of the wrong type, deep or huge, and unicode edge cases; ``fuzz_support`` holds the
strategies and the property: never a 5xx, always JSON with a readable ``detail``, never slower than
the time limit, a WebSocket error always an error event and a close frame. This is the fast profile
(``EMOVOX_FUZZ_EXAMPLES`` per route, default 300, derandomized); ``benchmarks/fuzz_server.py`` runs
the long one and prints the counts.
"""

from __future__ import annotations

import os

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("hypothesis")
pytest.importorskip("av")
pytest.importorskip("cv2")
from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import given, settings  # noqa: E402

import fuzz_support as fz  # noqa: E402

EXAMPLES = int(os.environ.get("EMOVOX_FUZZ_EXAMPLES", "300"))
FAST = settings(settings.get_profile("emovox-fast"), max_examples=EXAMPLES)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The app on a native model that can be adapted, so that /v1/profiles runs its real checks."""
    pytest.importorskip("onnx", reason="building the test model needs onnx (the dev extra)")
    from adapt_helpers import write_adaptable_model

    model = write_adaptable_model(tmp_path_factory.mktemp("emovox-fuzz-model"))
    with TestClient(fz.make_app(model), raise_server_exceptions=False) as c:
        fz.silence_logs()
        yield c


def test_the_suite_covers_every_route_that_takes_a_body(client):
    posts = {path for path, ops in client.app.openapi()["paths"].items() if "post" in ops}
    assert posts == set(fz.HTTP_ROUTES), "a new POST route: add it to fuzz_support's tables"
    assert set(websocket_paths(client.app.routes)) == set(fz.WS_ROUTES)


def websocket_paths(routes) -> list[str]:
    """The WebSocket routes' paths, inside included routers too."""
    from fastapi.routing import APIWebSocketRoute

    out = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        out += websocket_paths(inner.routes) if inner is not None else [r.path] if isinstance(r, APIWebSocketRoute) else []
    return out


def test_the_seeds_are_valid_files_of_their_formats():
    from emovox.io.audio import load_audio
    from emovox.io.vision import load_image, sniff

    seeds = fz.seeds()
    for name in fz.AUDIO_SEEDS:
        assert load_audio(seeds[name]).size > 8_000, name
    assert load_image(seeds["jpeg"]).shape == load_image(seeds["png"]).shape == (72, 96, 3)
    assert sniff(seeds["mp4"]) == sniff(seeds["webm"]) == "video"


@pytest.mark.parametrize("route", fz.HTTP_ROUTES)
def test_http_route_answers_every_input_with_4xx_json_or_success(client, route):
    seen: set[int] = set()

    @FAST
    @given(request=fz.http_requests(route))
    def one(request):
        out = fz.check_http(client, request)
        assert out.failure is None, out.failure
        seen.add(out.status // 100)

    one()
    assert 4 in seen  # the generated inputs reach the refusals (and, mostly, the successes too)


@pytest.mark.parametrize("route", fz.WS_ROUTES)
def test_websocket_answers_every_message_and_ends_with_a_close_frame(client, route):
    @FAST
    @given(session=fz.ws_sessions(route))
    def one(session):
        _, messages = session
        out = fz.run_ws(client, route, messages)
        assert out.failure is None, out.failure

    one()
