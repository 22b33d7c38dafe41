"""Mutated wav/mp3/flac/ogg/m4a files: only AudioError (or audio) from the API, only 4xx JSON over HTTP.

Seeded byte flips, header overwrites, WAV header fields set to edge values, truncations and
spliced blocks; a few hundred cases, each in a worker thread with a generous time limit (no hang).
"""

from __future__ import annotations

import concurrent.futures
import struct

import numpy as np
import pytest

from conftest import SR, encode, speech_like
from emovox.errors import AudioError
from emovox.io.audio import iter_audio, load_audio

FORMATS = ("wav", "mp3", "flac", "ogg", "m4a")
PER_FORMAT = 56
NO_HANG_S = 20
# byte offset, struct format of the canonical 44-byte WAV header fields
WAV_FIELDS = {"channels": (22, "<H"), "rate": (24, "<I"), "byte_rate": (28, "<I"), "block_align": (32, "<H"),
              "bits": (34, "<H"), "data_size": (40, "<I"), "riff_size": (4, "<I"), "format": (20, "<H")}
EDGES = (0, 1, 3, 7, 0xFF, 0xFFFF, 0xFFFFFFFF)


def mutate(base: bytes, rng: np.random.Generator, kind: int) -> bytes:
    data = bytearray(base)
    n = len(data)
    if kind == 0:  # scattered bit flips
        for i in rng.integers(0, n, int(rng.integers(1, 24))):
            data[i] ^= 1 << int(rng.integers(0, 8))
    elif kind == 1:  # the header overwritten
        for i in rng.integers(0, min(n, 96), int(rng.integers(1, 8))):
            data[i] = int(rng.choice([0, 0xFF, int(rng.integers(0, 256))]))
    elif kind == 2:  # truncated
        del data[int(rng.integers(1, n)) :]
    else:  # a block duplicated or removed
        start, size = int(rng.integers(0, n)), int(rng.integers(1, 2048))
        if rng.random() < 0.5:
            data[start:start] = data[start : start + size]
        else:
            del data[start : start + size]
    return bytes(data)


def cases() -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(20260129)
    out = []
    for fmt in FORMATS:
        base = encode(speech_like(0.6, seed=FORMATS.index(fmt)), SR, fmt)
        out += [(f"{fmt}-{k}", mutate(base, rng, k % 4)) for k in range(PER_FORMAT)]
    wav = encode(speech_like(0.6), SR, "wav")
    for field, (offset, fmt) in WAV_FIELDS.items():
        for value in EDGES:
            data = bytearray(wav)
            data[offset : offset + struct.calcsize(fmt)] = struct.pack(fmt, value & (2 ** (8 * struct.calcsize(fmt)) - 1))
            out.append((f"wav-{field}={value}", bytes(data)))
    return out


CASES = cases()


def outcome(data: bytes) -> str:
    """'ok' for usable audio, 'refused' for an AudioError; anything else is raised."""
    try:
        x = load_audio(data, max_duration_s=30)
    except AudioError:
        return "refused"
    assert x.dtype == np.float32 and x.ndim == 1 and x.size > 0 and np.isfinite(x).all()
    return "ok"


def streamed(data: bytes) -> str:
    try:
        blocks = list(iter_audio(data, chunk_s=0.25, max_duration_s=30))
    except AudioError:
        return "refused"
    assert all(b.dtype == np.float32 and np.isfinite(b).all() for b in blocks)
    return "ok"


def run_all(fn, items):
    pool = concurrent.futures.ThreadPoolExecutor(1)
    counts: dict[str, int] = {}
    try:
        for name, data in items:
            try:
                result = pool.submit(fn, data).result(timeout=NO_HANG_S)
            except concurrent.futures.TimeoutError:
                pytest.fail(f"{name}: no answer within {NO_HANG_S} s")
            except Exception as exc:  # noqa: BLE001 - the point: name the case that escaped
                pytest.fail(f"{name}: {type(exc).__name__}: {exc}")
            counts[result] = counts.get(result, 0) + 1
    finally:
        pool.shutdown(wait=False)
    return counts


def test_python_api_gives_audio_or_audio_error():
    counts = run_all(outcome, CASES)
    assert sum(counts.values()) == len(CASES) > 300
    assert counts.get("ok", 0) > 0 and counts.get("refused", 0) > 0  # the mutations reach both sides


def test_streaming_api_gives_audio_or_audio_error():
    run_all(streamed, CASES[::3])


@pytest.fixture(scope="module")
def client(debug_model):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from emovox.server import Settings, create_app

    with TestClient(create_app(Settings(model=str(debug_model), max_duration_s=30))) as c:
        yield c


@pytest.mark.parametrize("route", ["/v1/analyze", "/v1/analyze?timeline=true", "/predict"])
def test_http_answers_only_documented_json(client, route):
    def post(data: bytes) -> str:
        name = "upload." + ("m4a" if data[4:8] == b"ftyp" else "wav")
        r = client.post(route, files={"file": (name, data, "application/octet-stream")})
        assert r.status_code in (200, 413, 415, 422), (r.status_code, r.text)
        assert r.headers["content-type"] == "application/json"
        return str(r.status_code)

    run_all(post, CASES[::7])
