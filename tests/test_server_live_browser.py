"""The page's Live mode in headless Chromium: the fake microphone streams to /v1/stream.

Needs Debian's chromium and Python Playwright (skips with the reason otherwise); the screenshot
goes to build/artifacts/ like the other browser tests'.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.browser
pytest.importorskip("fastapi")
pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")

from conftest import SR, encode, speech_like  # noqa: E402
from test_server_browser import launch, shot  # noqa: E402


def test_live_mode_charts_emotions_from_the_fake_microphone(browser_server, playwright, tmp_path):
    voice = tmp_path / "live.wav"  # looped by Chromium: 1 s pause, 3 s voice, 1 s pause
    signal = np.concatenate([np.zeros(SR, np.float32), speech_like(3.0, seed=4), np.zeros(SR, np.float32)])
    voice.write_bytes(encode(signal, SR, "wav"))
    browser = launch(playwright, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                     f"--use-file-for-fake-audio-capture={voice}")
    try:
        context = browser.new_context(viewport={"width": 1200, "height": 1000})
        context.grant_permissions(["microphone"], origin=browser_server.url)
        page = context.new_page()
        page.goto(browser_server.url + "/")
        page.click("#live-toggle")
        page.wait_for_function("document.getElementById('live-toggle').getAttribute('aria-pressed') === 'true'")
        page.wait_for_function(
            "Number(document.getElementById('live-chart').dataset.speechResults || 0) >= 2", timeout=30_000
        )
        assert page.is_hidden("#live-error"), page.inner_text("#live-error")
        emotion = page.get_attribute("#live-now", "data-emotion")
        results = int(page.get_attribute("#live-chart", "data-results"))
        assert results >= 2
        legend = page.eval_on_selector_all("#live-legend li", "els => els.map(e => e.textContent)")
        assert len(legend) == 4 and any("Happy" in x for x in legend)
        page.wait_for_function("document.getElementById('live-now').textContent.length > 0")
        assert emotion in {"", "angry", "happy", "neutral", "sad"}
        shot(page, "browser-live.png")
        page.click("#live-toggle")
        page.wait_for_function("document.getElementById('live-toggle').getAttribute('aria-pressed') === 'false'")
        assert page.inner_text("#live-state") == "Stopped"
        assert page.is_hidden("#live-error"), page.inner_text("#live-error")
    finally:
        browser.close()


def test_timeline_view_of_an_uploaded_file(browser_server, playwright, tmp_path):
    import httpx

    from timeline_helpers import layout

    signal, _ = layout([("silence", 1.5), ("high", 4.0), ("silence", 2.0), ("low", 5.0), ("silence", 1.0)])
    path = tmp_path / "call.flac"
    path.write_bytes(encode(signal, SR, "flac"))
    expected = httpx.post(browser_server.url + "/v1/analyze?timeline=true",
                          files={"file": ("call.flac", path.read_bytes())}, timeout=60).json()
    browser = launch(playwright)
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.goto(browser_server.url + "/")
        page.check("#timeline-mode")
        page.set_input_files("#file-input", str(path))
        page.wait_for_selector("#timeline-results:not([hidden])", timeout=30_000)
        assert page.is_hidden("#results") and page.is_hidden("#error")
        rows = page.eval_on_selector_all("#timeline-segments tr", "els => els.map(e => e.dataset.emotion)")
        assert rows == [s["emotion"] or "" for s in expected["segments"]]
        assert rows[0] == "" and "silence" in page.inner_text("#timeline-segments tr:first-child")
        assert page.get_attribute("#timeline-chart", "data-segments") == str(len(expected["segments"]))
        assert "call.flac" in page.inner_text("#timeline-file")
        assert "s of speech" in page.inner_text("#timeline-summary")
        shot(page, "browser-timeline.png")
    finally:
        browser.close()
