"""The server fuzz harness (issue 28): seed media built in-process, Hypothesis strategies for every
route that takes a client's bytes or text and for both WebSockets, and the property every answer
holds. ``tests/test_server_fuzz.py`` runs it with the fast profile (CI); ``benchmarks/fuzz_server.py``
with the long one, counting instead of stopping at the first failure.

The property: never a 5xx; always JSON with a readable ``detail`` on a 4xx (and ``error`` on the
routes whose earlier clients read it); never slower than ``TIME_LIMIT_S``; a WebSocket error is a
JSON error event followed by a close frame with a protocol code, never a dropped socket.
"""

from __future__ import annotations

import base64
import functools
import json
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from conftest import SR, encode, speech_like
from media_helpers import drawn_image, image_bytes, moving_frames, video_bytes

TIME_LIMIT_S = 10.0
"""The slowest answer allowed for one request or one WebSocket message (the issue's bound)."""

FILE_ROUTES = {  # path -> the multipart field its file goes in
    "/v1/analyze": "file", "/v1/faces": "file", "/api/v1/emotion/analyze/file": "file",
    "/predict": "file", "/api/analyze": "file", "/predict-emotion/": "file",
    "/predict-realtime/": "audio_buffer", "/api/classify-emotion": "file",
    "/api/classify-emotion-upload": "audio",
    "/v1/profiles": "files",  # a profile wants >= 20 clips: one fuzzed clip is always refused, never a 5xx
}
JSON_ROUTES = ("/v1/text", "/api/v1/emotion/analyze/text", "/api/v1/emotion/analyze/multimodal")
HTTP_ROUTES = (*FILE_ROUTES, *JSON_ROUTES)
WS_ROUTES = ("/v1/stream", "/ws/emotion/stream")
ERROR_FIELD_ROUTES = frozenset({"/predict", "/api/classify-emotion", "/api/classify-emotion-upload"})
LIVE_CLOSE_CODES = frozenset({1000, 1003, 1007, 1008, 1009})  # /v1/stream's documented codes (1011: a failure)

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
             HealthCheck.large_base_example]
settings.register_profile("emovox-fast", max_examples=300, deadline=None, database=None, derandomize=True,
                          suppress_health_check=_SUPPRESS, print_blob=True)
settings.register_profile("emovox-long", max_examples=1000, deadline=None, database=None,
                          suppress_health_check=_SUPPRESS)


# --- seeds: real formats, encoded here (no files needed) ---------------------------------------

AUDIO_SEEDS = ("wav", "flac", "mp3", "webm-audio")
MEDIA_SEEDS = ("jpeg", "png", "mp4", "webm")


@functools.cache
def seeds() -> dict[str, bytes]:
    """Small valid files of every kind the routes take: audio, images, videos with sound."""
    voice = speech_like(1.0)
    frames = moving_frames(0.6, fps=10, w=64, h=48)
    return {
        "wav": encode(voice, SR, "wav"), "flac": encode(voice, SR, "flac"), "mp3": encode(voice, SR, "mp3"),
        "webm-audio": encode(voice, SR, "webm"),
        "jpeg": image_bytes(drawn_image(96, 72), "JPEG"), "png": image_bytes(drawn_image(96, 72), "PNG"),
        "mp4": video_bytes(frames, fps=10, audio=speech_like(0.6)),
        "webm": video_bytes(frames, fps=10, audio=speech_like(0.6), fmt="webm", codec="libvpx"),
    }


@functools.cache
def pcm_speech() -> bytes:
    """1.5 s of speech-like audio as 16 kHz PCM16, the live stream's input."""
    return (speech_like(1.5) * 32767).astype("<i2").tobytes()


# marker, offset from the marker, struct format: fields that declare sizes, rates, dimensions, durations
DECLARED = {
    "wav": [(b"RIFF", 4, "<I"), (b"fmt ", 10, "<H"), (b"fmt ", 12, "<I"), (b"fmt ", 16, "<I"),
            (b"fmt ", 20, "<H"), (b"fmt ", 22, "<H"), (b"data", 4, "<I")],
    "flac": [(b"fLaC", 18, ">Q"), (b"fLaC", 8, ">H")],
    "png": [(b"IHDR", 4, ">I"), (b"IHDR", 8, ">I"), (b"IHDR", 12, ">B")],
    "jpeg": [(b"\xff\xc0", 5, ">H"), (b"\xff\xc0", 7, ">H"), (b"\xff\xc0", 9, ">B")],
    "mp4": [(b"mvhd", 16, ">I"), (b"mvhd", 20, ">I"), (b"tkhd", 80, ">I"), (b"tkhd", 84, ">I"),
            (b"mdhd", 20, ">I"), (b"stsz", 12, ">I")],
    "webm": [(b"\x44\x89", 3, ">Q"), (b"\x2a\xd7\xb1", 4, ">B")],
}
EDGE_VALUES = (0, 1, 2, 7, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0x7FF0000000000000,
               0x7FF8000000000000, 0xFFFFFFFFFFFFFFFF)
MAGIC = (b"RIFF\xff\xff\xff\xffWAVEfmt ", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"\x00\x00\x00\x18ftypmp42",
         b"\x1a\x45\xdf\xa3", b"ID3\x04\x00", b"fLaC", b"OggS\x00", b"RIFF\x00\x00\x00\x00WEBPVP8 ",
         b"RIFF\x00\x00\x00\x00AVI ", b"FLV\x01", b"GIF89a", b"%PDF-1.4", b"<?xml", b"#EXTM3U\n")


@st.composite
def mutated(draw, names: tuple[str, ...]) -> tuple[str, bytes]:
    """(label, bytes): a seed bit-flipped, truncated, its header damaged, a declared size / rate /
    dimension / duration set to an edge value, a block spliced, or left valid."""
    name = draw(st.sampled_from(names))
    data = bytearray(seeds()[name])
    n = len(data)
    op = draw(st.sampled_from(("valid", "flip", "truncate", "header", "declare", "splice")))
    if op == "flip":
        for _ in range(draw(st.integers(1, 32))):
            data[draw(st.integers(0, n - 1))] ^= 1 << draw(st.integers(0, 7))
    elif op == "truncate":
        del data[draw(st.integers(0, n - 1)):]
    elif op == "header":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, min(n, 128) - 1))] = draw(st.integers(0, 255))
    elif op == "declare" and name in DECLARED:
        marker, offset, fmt = draw(st.sampled_from(DECLARED[name]))
        at = bytes(data).find(marker)
        size = struct.calcsize(fmt)
        if at >= 0 and at + offset + size <= n:
            value = draw(st.sampled_from(EDGE_VALUES)) & (2 ** (8 * size) - 1)
            data[at + offset: at + offset + size] = struct.pack(fmt, value)
    elif op == "splice":
        start, size = draw(st.integers(0, n - 1)), draw(st.integers(1, 4096))
        if draw(st.booleans()):
            data[start:start] = data[start:start + size]
        else:
            del data[start:start + size]
    return f"{name}:{op}", bytes(data)


def raw_bytes() -> st.SearchStrategy[tuple[str, bytes]]:
    """(label, bytes): random bytes, a format's magic number before random bytes, or nothing."""
    return st.one_of(
        st.binary(max_size=2048).map(lambda b: ("random", b)),
        st.tuples(st.sampled_from(MAGIC), st.binary(max_size=1024)).map(lambda t: ("magic", t[0] + t[1])),
        st.just(("empty", b"")),
    )


def any_bytes(names: tuple[str, ...]) -> st.SearchStrategy[tuple[str, bytes]]:
    return st.one_of(mutated(names), mutated(names), raw_bytes())


# --- text and JSON ------------------------------------------------------------------------------

EDGE_CHARS = ("\ud800", "\udfff", "\ud83d", "\x00", "\u200f", "\u202e", "\u0301", "\ufeff", "\uffff",
              "\U0010ffff", "\u2028", "\ufdfa", "\U0001f600", "\r\n", "\t", " ", "\\", '"', "e\u0301", "\u0663")
WORDS = ("I am so happy for you!", "Stop lying to me.", "I'm scared.", "ok", "")


def texts() -> st.SearchStrategy[str]:
    """Words with unicode edge cases in them (surrogates, NUL, RTL marks, combining characters), any
    characters, and up to 100k characters of one."""
    edge = st.sampled_from(EDGE_CHARS)
    return st.one_of(
        st.sampled_from(WORDS),
        st.tuples(st.sampled_from(WORDS[:4]), edge, st.integers(0, 24)).map(lambda t: t[0][:t[2]] + t[1] + t[0][t[2]:]),
        st.lists(st.one_of(edge, st.sampled_from(WORDS), st.characters()), max_size=24).map("".join),
        st.text(max_size=64),
        st.tuples(st.sampled_from((*EDGE_CHARS, "a", "é ", "happy ")), st.sampled_from((4_999, 5_000, 5_001, 100_000)))
        .map(lambda t: t[0] * (t[1] // len(t[0]))),
    )


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value (for fields of the wrong type), a few levels deep."""
    leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                       texts())
    return st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                        max_leaves=10)


def deep_json() -> st.SearchStrategy[tuple[str, str]]:
    """(label, text): JSON nested 10 to 100,000 levels, closed or not."""
    def build(t: tuple[str, int, bool]) -> str:
        opener, depth, closed = t
        closer = {"[": "]", '{"text":': "}", '{"a":[': "]}"}[opener]
        return opener * depth + ("1" + closer * depth if closed else "")
    return st.tuples(st.sampled_from(("[", '{"text":', '{"a":[')), st.sampled_from((10, 900, 1_100, 100_000)),
                     st.booleans()).map(lambda t: (f"deep-{t[1]}", build(t)))


def b64_field() -> st.SearchStrategy[tuple[str, Any]]:
    """(label, value) for a base64 field: an encoded (mutated) file, a data URL, garbage, a wrong type."""
    encoded = any_bytes(AUDIO_SEEDS + MEDIA_SEEDS).map(lambda t: (t[0], base64.b64encode(t[1]).decode()))
    return st.one_of(
        encoded, encoded,
        encoded.map(lambda t: (t[0] + ":data-url", "data:application/octet-stream;base64," + t[1])),
        encoded.map(lambda t: (t[0] + ":spaced", " \n".join(t[1][i:i + 76] for i in range(0, len(t[1]), 76)))),
        texts().map(lambda s: ("text", s)),
        json_values().map(lambda v: ("json", v)),
    )


# --- requests -----------------------------------------------------------------------------------

@dataclass
class Request:
    route: str
    label: str
    kwargs: dict[str, Any] = field(repr=False)
    query: str = ""

    def __repr__(self) -> str:
        sizes = {k: len(v) if isinstance(v, (bytes, str)) else "..." for k, v in self.kwargs.items()}
        return f"Request({self.route}{self.query}, {self.label}, {sizes})"


FILE_NAMES = ("clip.wav", "a.mp4", "x.jpg", "y.png", "v.webm", "noext", "../../etc/passwd", "",
              "\U0001f600.m4a", "a" * 300 + ".wav", "x.m3u8")
PART_TYPES = ("application/octet-stream", "audio/wav", "image/png", "video/mp4", "text/plain", "application/json")
BODY_TYPES = (*PART_TYPES, "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=x", "")
QUERIES = {
    "/v1/analyze": ("", "", "?timeline=true", "?top_k=2", "?top_k=0", "?top_k=-3", "?top_k=99999999999999999999",
                    "?labels=happy,sad", "?labels=", "?labels=%00%ff", "?labels=%ED%A0%80", "?features=false",
                    "?features=maybe", "?timeline=true&window_s=0.01&hop_s=0.01", "?timeline=true&window_s=1e309",
                    "?timeline=true&hop_s=5&window_s=1"),
}


@st.composite
def file_request(draw, route: str) -> Request:
    """A file route's request: the (mutated) file in its field, in the wrong field, as a text value,
    as the raw body under any content type, or no body at all."""
    names = MEDIA_SEEDS + AUDIO_SEEDS if route in ("/v1/faces", "/api/v1/emotion/analyze/file") else AUDIO_SEEDS + MEDIA_SEEDS[:3]
    label, data = draw(any_bytes(names))
    name, ctype = draw(st.sampled_from(FILE_NAMES)), draw(st.sampled_from(PART_TYPES))
    how = draw(st.sampled_from(("multipart", "multipart", "multipart", "wrong-field", "text-value", "raw", "none")))
    form: dict[str, str] = {}
    if route == "/api/v1/emotion/analyze/file":
        kind = draw(st.one_of(st.sampled_from(("video", "audio", "", None)), st.text(max_size=8)))
        form = {} if kind is None else {"analysis_type": kind}
    if how == "multipart":
        kwargs: dict[str, Any] = {"files": {FILE_ROUTES[route]: (name, data, ctype)}, "data": form}
    elif how == "wrong-field":
        kwargs = {"files": {"other": (name, data, ctype)}, "data": form}
    elif how == "text-value":
        kwargs = {"data": {FILE_ROUTES[route]: data.decode("latin-1")[:512], **form}}
    elif how == "raw":
        body_type = draw(st.sampled_from(BODY_TYPES))
        kwargs = {"content": data, "headers": {"content-type": body_type} if body_type else {}}
    else:
        kwargs = {}
    query = draw(st.sampled_from(QUERIES.get(route, ("",))))
    return Request(route, f"{how}:{label}", kwargs, query)


def _json_body(value: Any) -> bytes:
    """JSON as a client writes it: ASCII, so a lone surrogate travels as its ``\\ud800`` escape."""
    return json.dumps(value).encode()


@st.composite
def json_request(draw, route: str) -> Request:
    """A JSON route's request: the right fields with fuzzed text / base64, wrong types, deep nesting,
    huge strings, bodies that are not JSON, and the wrong content type."""
    how = draw(st.sampled_from(("fields", "fields", "fields", "wrong-type", "deep", "not-json", "any-json")))
    ctype = "application/json"
    if how == "fields":
        if route == "/v1/text":
            value = draw(st.one_of(texts().map(lambda t: {"text": t}),
                                   st.lists(texts(), max_size=5).map(lambda ts: {"texts": ts}),
                                   st.integers(1_000, 1_002).map(lambda n: {"texts": ["ok"] * n})))
        elif route == "/api/v1/emotion/analyze/text":
            value = {"text": draw(texts()), "model_type": draw(st.one_of(st.none(), texts()))}
        else:
            value = {}
            for key in draw(st.sets(st.sampled_from(("audio_base64", "video_base64", "text", "image_base64")), min_size=1)):
                value[key] = draw(texts()) if key == "text" else draw(b64_field())[1]
        body, label = _json_body(value), f"fields:{','.join(value)}"
    elif how == "wrong-type":
        keys = ("text", "texts", "model_type", "audio_base64", "video_base64")
        value = draw(st.dictionaries(st.sampled_from(keys), json_values(), min_size=1, max_size=3))
        body, label = _json_body(value), "wrong-type"
    elif how == "deep":
        label, text = draw(deep_json())
        body = text.encode()
    elif how == "not-json":
        label, body = draw(raw_bytes())
        label = f"not-json:{label}"
    else:
        body, label = _json_body(draw(json_values())), "any-json"
    if draw(st.sampled_from((False,) * 9 + (True,))):  # now and then, the wrong content type
        ctype = draw(st.sampled_from(BODY_TYPES))
        label += f":type={ctype or 'none'}"
    headers = {"content-type": ctype} if ctype else {}
    return Request(route, label, {"content": body, "headers": headers})


def http_requests(route: str) -> st.SearchStrategy[Request]:
    return file_request(route) if route in FILE_ROUTES else json_request(route)


# --- WebSocket sessions -------------------------------------------------------------------------

@st.composite
def live_messages(draw) -> tuple[str, list[tuple[str, Any]]]:
    """/v1/stream: settings (valid, wrong, unknown, deep or not JSON), PCM frames (speech, random,
    odd lengths, over the message limit) and stray text; ``end`` is sent after them."""
    pcm = pcm_speech()
    settings_value = st.one_of(
        st.fixed_dictionaries({}, optional={"sample_rate": st.sampled_from((16000, 8000, 7999, 48001, 16000.5, "16k", True)),
                                            "window_s": st.sampled_from((3, 1, 0, -1, 1e309, "3", None)),
                                            "hop_s": st.sampled_from((1, 0.5, 5, 0, None)),
                                            "type": st.sampled_from(("config", "end", "\ud800"))}),
        st.dictionaries(st.text(max_size=6), json_values(), max_size=3),
        json_values(),
    )
    message = st.one_of(
        settings_value.map(lambda v: ("text", json.dumps(v))),
        deep_json().map(lambda t: ("text", t[1])),
        st.text(max_size=32).map(lambda s: ("text", s)),
        st.tuples(st.integers(0, len(pcm) // 2), st.integers(0, 16_000)).map(
            lambda t: ("bytes", pcm[2 * t[0]: 2 * t[0] + 2 * t[1]])),
        st.binary(max_size=512).map(lambda b: ("bytes", b)),
        st.sampled_from((257 * 1024, 256 * 1024 + 2, 3)).map(lambda n: ("bytes", bytes(n))),
    )
    messages = draw(st.lists(message, max_size=5))
    return ",".join(m[0][0] for m in messages) or "none", messages


@st.composite
def seed_stream_messages(draw) -> tuple[str, list[tuple[str, Any]]]:
    """/ws/emotion/stream: JSON messages with fuzzed fields and ids, wrong types, deep JSON, binary."""
    fields = st.fixed_dictionaries({}, optional={
        "text": texts(), "audio_base64": b64_field().map(lambda t: t[1]), "video_base64": b64_field().map(lambda t: t[1]),
        "model_type": texts(), "id": json_values(), "image_base64": st.just("AAAA")})
    message = st.one_of(
        fields.map(lambda v: ("text", json.dumps(v))), fields.map(lambda v: ("text", json.dumps(v))),
        json_values().map(lambda v: ("text", json.dumps(v))),
        deep_json().map(lambda t: ("text", t[1])),
        st.binary(max_size=256).map(lambda b: ("bytes", b)),
    )
    messages = draw(st.lists(message, min_size=1, max_size=3))
    return ",".join(m[0][0] for m in messages), messages


# --- the property -------------------------------------------------------------------------------

@dataclass
class Outcome:
    """One input's result: its status class, latency, and what broke the property (None: it held)."""
    status: int
    seconds: float
    failure: str | None = None
    ws_no_close: bool = False


def check_http(client, request: Request) -> Outcome:
    start = time.perf_counter()
    r = client.post(request.route + request.query, **request.kwargs)
    seconds = time.perf_counter() - start
    failure = _http_failure(request.route, r, seconds)
    return Outcome(r.status_code, seconds, failure and f"{request!r}: {failure}")


def _http_failure(route: str, r, seconds: float) -> str | None:
    if r.status_code >= 500:
        return f"{r.status_code}: {r.text[:300]}"
    if seconds > TIME_LIMIT_S:
        return f"took {seconds:.1f} s (limit {TIME_LIMIT_S:g} s)"
    if r.headers.get("content-type") != "application/json":
        return f"{r.status_code} answered {r.headers.get('content-type')!r}: {r.text[:200]}"
    try:
        body = r.json()
    except ValueError:
        return f"{r.status_code}: the body is not JSON: {r.text[:200]}"
    if r.status_code >= 400:
        if not isinstance(body, dict) or not body.get("detail") or not isinstance(body["detail"], (str, list)):
            return f"{r.status_code} without a readable detail: {r.text[:200]}"
        if route in ERROR_FIELD_ROUTES and not (isinstance(body.get("error"), str) and body["error"]):
            return f"{r.status_code} without error on a route whose clients read it: {r.text[:200]}"
    return None


def run_ws(client, route: str, messages: list[tuple[str, Any]]) -> Outcome:
    """Play one WebSocket session in a daemon thread (a hung socket cannot hang the run)."""
    box: dict[str, Outcome] = {}

    def play() -> None:
        try:
            box["out"] = (_play_live if route == "/v1/stream" else _play_seed)(client, messages)
        except Exception as exc:  # noqa: BLE001 - the app raised: the socket dropped without a close frame
            box["out"] = Outcome(599, 0.0, f"dropped without a close frame: {type(exc).__name__}: {exc}"[:400], True)

    start = time.perf_counter()
    worker = threading.Thread(target=play, daemon=True)
    worker.start()
    worker.join(TIME_LIMIT_S * (len(messages) + 2))
    if worker.is_alive():
        return Outcome(599, time.perf_counter() - start, "no answer and no close frame (hung)", True)
    out = box["out"]
    if out.failure:
        out.failure = f"{route} {_describe(messages)}: {out.failure}"
    return out


def _describe(messages: list[tuple[str, Any]]) -> str:
    return "[" + ", ".join(f"{kind} {len(m)}:{m[:60]!r}" for kind, m in messages) + "]"


def _play_live(client, messages: list[tuple[str, Any]]) -> Outcome:
    from starlette.websockets import WebSocketDisconnect

    events: list[dict[str, Any]] = []
    slowest = 0.0
    with client.websocket_connect("/v1/stream") as ws:
        for kind, m in [*messages, ("text", json.dumps({"type": "end"}))]:
            ws.send_text(m) if kind == "text" else ws.send_bytes(m)
        while True:
            start = time.perf_counter()
            try:
                events.append(ws.receive_json())
            except WebSocketDisconnect as closed:
                code = closed.code
                break
            slowest = max(slowest, time.perf_counter() - start)
    errors = [e for e in events if e.get("type") == "error"]
    if code not in LIVE_CLOSE_CODES:
        return Outcome(599, slowest, f"closed with {code} after {errors or events[-1:]}")
    if code != 1000 and not (errors and errors[0].get("code") == code and errors[0].get("detail")):
        return Outcome(599, slowest, f"closed with {code} without an error event saying why: {events[-2:]}")
    if slowest > TIME_LIMIT_S:
        return Outcome(400 if errors else 200, slowest, f"an event took {slowest:.1f} s")
    return Outcome(400 if errors else 200, slowest)


def _play_seed(client, messages: list[tuple[str, Any]]) -> Outcome:
    worst, slowest = 200, 0.0
    with client.websocket_connect("/ws/emotion/stream") as ws:
        for kind, m in messages:
            start = time.perf_counter()
            ws.send_text(m) if kind == "text" else ws.send_bytes(m)
            reply = ws.receive_json()
            slowest = max(slowest, time.perf_counter() - start)
            status = int(reply.get("status", 200)) if reply.get("type") == "error" else 200
            worst = max(worst, status)
            if reply.get("type") not in ("result", "error"):
                return Outcome(599, slowest, f"a reply that is neither result nor error: {str(reply)[:200]}")
            if status >= 500 or (reply["type"] == "error" and not reply.get("detail")):
                return Outcome(status, slowest, f"error reply {str(reply)[:300]}")
            if slowest > TIME_LIMIT_S:
                return Outcome(status, slowest, f"a reply took {slowest:.1f} s")
    return Outcome(worst, slowest)


def ws_sessions(route: str) -> st.SearchStrategy[tuple[str, list[tuple[str, Any]]]]:
    return live_messages() if route == "/v1/stream" else seed_stream_messages()


def make_app(model_path) -> Any:
    """The app the fuzz runs against: the given model, default limits."""
    from emovox.server import Settings, create_app

    return create_app(Settings(model=str(model_path)))


def silence_logs() -> None:
    """The server logs each refused input; a fuzz run sends thousands."""
    import logging

    for name in ("emovox", "multipart", "python_multipart"):
        logging.getLogger(name).setLevel(logging.CRITICAL)

