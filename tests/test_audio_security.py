"""Uploads reach no file, URL or socket of the server, and every bad input is a quick AudioError.

The inputs are the crafted ones of the audit: an HLS playlist (local file and local HTTP server), an
``ffconcat`` list, an SDP session; a WAV with 0 bits per sample; a tiny WAV that decodes to minutes.
Each goes through the Python API (bytes, a file object with a chosen ``.name``, a path) and HTTP.
"""

from __future__ import annotations

import base64
import concurrent.futures
import http.server
import io
import os
import socket
import struct
import subprocess
import sys
import threading

import numpy as np
import pytest

from conftest import SR, encode, speech_like, subprocess_env, tone
from emovox.errors import AudioError, AudioTooLongError, UndecodableAudioError
from emovox.io.audio import decode, iter_audio, load_audio

NO_HANG_S = 15  # generous: each of these is refused in milliseconds; a demuxer waiting on a socket took 20 s


def finish(fn, *args, **kwargs):
    """Run ``fn`` in a worker thread and return its result or raise its error; fail if it hangs."""
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        return pool.submit(fn, *args, **kwargs).result(timeout=NO_HANG_S)
    except concurrent.futures.TimeoutError:
        pytest.fail(f"{getattr(fn, '__name__', fn)} did not return within {NO_HANG_S} s")
    finally:
        pool.shutdown(wait=False)


@pytest.fixture
def web():
    """A local HTTP server that records every request path it receives."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            body = encode(speech_like(1.0), SR, "mp3")
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def secret(tmp_path):
    """A real audio file on the 'server' (an mp3, a segment type HLS accepts)."""
    path = tmp_path / "private" / "secret.mp3"
    path.parent.mkdir()
    path.write_bytes(encode(speech_like(1.0), SR, "mp3"))
    return path


def playlist(url: str) -> bytes:
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1.0,\n{url}\n#EXT-X-ENDLIST\n".encode()


def ffconcat(target: str) -> bytes:
    return f"ffconcat version 1.0\nfile {target}\n".encode()


def sdp(port: int) -> bytes:
    return (f"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\n"
            f"m=audio {port} RTP/AVP 0\n").encode()


def udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def named(data: bytes, name: str) -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name
    return f


def refused(source) -> str:
    """The AudioError message for ``source``, after checking it names nothing it points to."""
    with pytest.raises(UndecodableAudioError) as info:
        finish(load_audio, source)
    text = str(info.value)
    assert "secret.mp3" not in text and "absent.mp3" not in text and "FileNotFound" not in text
    return text


def test_hls_playlist_reads_no_local_file(secret, tmp_path):
    body = playlist(f"file://{secret}")
    refused(named(body, "x.m3u8"))
    refused(named(playlist(str(secret)), str(secret.parent / "x.m3u8")))
    refused(named(playlist("secret.mp3"), str(secret.parent / "x.m3u8")))  # relative to the name
    refused(body)
    path = tmp_path / "list.m3u8"  # batch reads paths: a playlist on disk is refused too
    path.write_bytes(body)
    with pytest.raises(UndecodableAudioError):
        finish(load_audio, path)
    with pytest.raises(UndecodableAudioError):
        finish(iter_audio, path)


def test_hls_playlist_fetches_no_url(web, tmp_path):
    port, hits = web
    body = playlist(f"http://127.0.0.1:{port}/segment.mp3")
    for source in (named(body, "x.m3u8"), body):
        refused(source)
    path = tmp_path / "remote.m3u8"
    path.write_bytes(body)
    with pytest.raises(UndecodableAudioError):
        finish(decode, path)
    assert hits == []


def test_ffconcat_reads_no_file_and_answers_the_same_whether_it_exists(secret, monkeypatch):
    monkeypatch.chdir(secret.parent)  # bytes: relative to the working directory
    present, missing = ffconcat("secret.mp3"), ffconcat("absent.mp3")
    assert len(present) == len(missing)
    assert refused(present) == refused(missing)  # no existence oracle
    near = str(secret.parent / "x")  # a file object named like a server path: relative to that
    assert refused(named(present, near)) == refused(named(missing, near))
    listed = secret.parent / "list.wav"  # a path: relative to the list's own folder
    listed.write_bytes(present)
    with pytest.raises(UndecodableAudioError, match="not a supported audio format"):
        finish(load_audio, listed)


def test_sdp_opens_no_socket_and_does_not_wait(tmp_path):
    body = sdp(udp_port())
    refused(body)
    refused(named(body, "session.sdp"))
    path = tmp_path / "session.sdp"
    path.write_bytes(body)
    with pytest.raises(UndecodableAudioError):
        finish(load_audio, path)


def wav_with_zero_bits() -> bytes:
    data = bytearray(encode(tone(220, 0.5), SR, "wav"))
    assert data[34:36] == struct.pack("<H", 16)  # bits_per_sample of the canonical 44-byte header
    data[34:36] = struct.pack("<H", 0)
    return bytes(data)


def test_any_decoder_failure_is_an_audio_error():
    bad = wav_with_zero_bits()
    with pytest.raises(UndecodableAudioError, match="cannot be decoded"):
        load_audio(bad)
    with pytest.raises(UndecodableAudioError):
        iter_audio(named(bad, "zero-bits.wav"))
    closed = io.BytesIO(encode(tone(), SR, "wav"))
    closed.close()
    with pytest.raises(AudioError, match="cannot read"):
        load_audio(closed)


def tiny_long_wav(seconds: float = 599.0, rate: int = 100) -> bytes:
    """An 8-bit WAV of a few KB that decodes to many minutes."""
    import soundfile as sf

    buf = io.BytesIO()
    noise = 0.1 * np.random.default_rng(0).standard_normal(int(seconds * rate))
    sf.write(buf, noise.astype(np.float32), rate, format="WAV", subtype="PCM_U8")
    return buf.getvalue()


def test_tiny_file_that_expands_to_minutes_is_refused_before_decoding():
    small = tiny_long_wav()
    assert len(small) < 61_000
    with pytest.raises(AudioError, match="100 Hz; speech needs at least 4000 Hz"):
        load_audio(small)  # under the 600 s limit, but no speech survives 100 Hz
    long8k = tiny_long_wav(120.0, 8000)
    with pytest.raises(AudioTooLongError, match="maximum of 60 s"):
        iter_audio(long8k, max_duration_s=60)  # from the header, before a single block
    with pytest.raises(AudioTooLongError):
        load_audio(long8k, max_duration_s=60)


def test_decoding_is_time_limited():
    for fmt in ("wav", "mp3"):  # libsndfile and FFmpeg
        data = encode(speech_like(2.0), SR, fmt)
        with pytest.raises(UndecodableAudioError, match="took too long"):
            load_audio(data, timeout_s=0)
        assert load_audio(data, timeout_s=None).size > 0


def test_path_errors_say_what_is_wrong(tmp_path, monkeypatch):
    loop = tmp_path / "loop.wav"
    loop.symlink_to(loop)
    with pytest.raises(AudioError, match="symbolic link loop"):
        load_audio(loop)
    dangling = tmp_path / "dangling.wav"
    dangling.symlink_to(tmp_path / "gone.wav")
    with pytest.raises(AudioError, match="broken symbolic link"):
        load_audio(dangling)
    locked = tmp_path / "locked.wav"
    locked.write_bytes(encode(tone(), SR, "wav"))
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # root reads anything: make the open fail as it would for a user
        def denied(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr("emovox.io.decoders.open", denied, raising=False)
    with pytest.raises(AudioError, match="permission denied: cannot read") as info:
        load_audio(locked)
    assert "not a supported" not in str(info.value)


def test_corrupt_mp3_prints_no_decoder_chatter(tmp_path):
    data = bytearray(encode(speech_like(2.0), SR, "mp3"))
    rng = np.random.default_rng(1)
    for i in rng.integers(200, len(data), 60):
        data[i] ^= 0xFF
    path = tmp_path / "corrupt.mp3"
    path.write_bytes(bytes(data))
    code = ("import sys\nfrom emovox.io.audio import load_audio\nfrom emovox.errors import AudioError\n"
            "try:\n    load_audio(sys.argv[1])\nexcept AudioError as exc:\n    print(exc)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                          env=subprocess_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # libmpg123 used to print 'Note: Illegal Audio-MPEG-Header ...' here


# ---- the same over HTTP -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(debug_model):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from emovox.server import Settings, create_app

    app = create_app(Settings(model=str(debug_model), max_duration_s=30))
    with TestClient(app) as c:
        yield c


def send_all(client, body: bytes, filename: str):
    """The upload through every way in: multipart (v1, timeline, compat) and raw and base64 bodies."""
    files = {"file": (filename, body, "application/octet-stream")}
    return [
        finish(client.post, "/v1/analyze", files=files),
        finish(client.post, "/v1/analyze?timeline=true", files=files),
        finish(client.post, "/v1/analyze", content=body, headers={"content-type": "audio/wav"}),
        finish(client.post, "/predict", files=files),
        finish(client.post, "/api/v1/emotion/analyze/multimodal",
               json={"audio_base64": base64.b64encode(body).decode()}),
    ]


def assert_refused(responses, *hidden: str) -> list[str]:
    details = []
    for r in responses:
        assert r.status_code == 415, (r.request.url, r.status_code, r.text)
        assert r.headers["content-type"] == "application/json"
        detail = r.json()["detail"]
        assert "FileNotFound" not in detail and all(h not in detail for h in hidden), detail
        details.append(detail)
    return details


def test_http_refuses_playlists_lists_and_sessions(client, web, secret):
    port, hits = web
    near = str(secret.parent / "x.m3u8")
    assert_refused(send_all(client, playlist(f"file://{secret}"), "x.m3u8"), str(secret.parent))
    assert_refused(send_all(client, playlist("secret.mp3"), near), str(secret.parent))
    assert_refused(send_all(client, playlist(f"http://127.0.0.1:{port}/s.mp3"), "x.m3u8"))
    assert hits == []
    present = assert_refused(send_all(client, ffconcat("secret.mp3"), near), str(secret.parent))
    missing = assert_refused(send_all(client, ffconcat("absent.mp3"), near), str(secret.parent))
    assert present == missing  # no existence oracle
    assert_refused(send_all(client, sdp(udp_port()), "session.sdp"))


def test_http_zero_bit_wav_is_415_json_also_as_timeline(client):
    responses = send_all(client, wav_with_zero_bits(), "zero.wav")
    assert "cannot be decoded" in assert_refused(responses)[0]
    assert client.post("/v1/analyze", files={"file": ("ok.wav", encode(tone(), SR, "wav"))}).status_code == 200


def test_http_names_in_messages_are_the_base_name_only(client):
    r = client.post("/v1/analyze", files={"file": ("../../etc/notes.wav", b"plain text" * 30)})
    assert r.status_code == 415
    detail = r.json()["detail"]
    assert "notes.wav" in detail and "etc" not in detail and "../" not in detail
