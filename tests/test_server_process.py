"""The real `emovox serve` process on a loopback port, called over HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

from conftest import SR, encode, run_emovox, speech_like  # noqa: E402
from server_support import running_server  # noqa: E402


def test_serve_over_http(debug_model, tmp_path):
    wavs = [encode(speech_like(1.0 + i / 4, seed=i), SR, "wav") for i in range(4)]
    with running_server(debug_model, tmp_path, "--max-upload-mb", "2") as server:
        url = server.url
        assert httpx.get(url + "/").json() == {"status": "ok"}
        assert "<canvas" in httpx.get(url + "/", headers={"accept": "text/html"}).text
        alone = [httpx.post(url + "/v1/analyze", files={"file": ("a.wav", w)}).json() for w in wavs]

        def call(i: int):
            return httpx.post(url + "/v1/analyze", files={"file": ("a.wav", wavs[i % 4])}, timeout=60)

        with ThreadPoolExecutor(8) as pool:  # concurrent requests get the same answers as alone
            responses = list(pool.map(call, range(24)))
        for i, r in enumerate(responses):
            assert r.status_code == 200, r.text
            assert r.json()["scores"] == pytest.approx(alone[i % 4]["scores"], abs=1e-5)

        predict = httpx.post(url + "/predict", files={"file": ("a.wav", wavs[0])}).json()
        assert predict["dominant"]["label"] == alone[0]["emotion"]
        too_big = httpx.post(url + "/v1/analyze", content=bytes(3 * 1024 * 1024),
                             headers={"content-type": "audio/wav"})
        assert too_big.status_code == 413
        assert httpx.get(url + "/healthz").status_code == 200  # still serving
        metrics = httpx.get(url + "/metrics").text
        assert 'route="/v1/analyze",status="200"} 28.0' in metrics
    assert server.process.returncode == 0, server.log()
    assert "Traceback" not in server.log()


def test_serve_bad_model_is_one_line(tmp_path):
    result = run_emovox("serve", "--model", str(tmp_path / "missing"), "--port", "1", timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("emovox: error: model not found")
    assert "Traceback" not in result.stderr
