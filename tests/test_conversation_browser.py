"""The page's speaker view in headless Chromium: lanes and a card per speaker (skips without chromium)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
pytest.importorskip("fastapi")
pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")

from conftest import SR, encode  # noqa: E402
from conversation_helpers import talk  # noqa: E402
from test_server_browser import launch, shot  # noqa: E402


def test_speakers_toggle_shows_lanes_and_cards(browser_server, playwright, tmp_path):
    clip = tmp_path / "talk.wav"
    clip.write_bytes(encode(talk("LHLH", 3.0)[0], SR, "wav"))
    browser = launch(playwright)
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(browser_server.url + "/")
        page.wait_for_function("document.getElementById('server-model').textContent.startsWith('Model')")
        page.check("#speakers-mode")
        page.set_input_files("#file-input", str(clip))
        page.wait_for_selector("#conversation-results:not([hidden])", timeout=60_000)
        assert page.is_hidden("#results")
        cards = page.eval_on_selector_all(".speaker-card", "els => els.map(e => e.dataset.speaker)")
        assert cards == ["S1", "S2"]
        assert page.get_attribute("#conversation-chart", "data-lanes") == "2"
        rows = page.eval_on_selector_all("#conversation-segments tr", "els => els.map(e => e.dataset.speaker)")
        assert rows == ["S1", "S2", "S1", "S2"]
        assert "2 speaker(s)" in page.inner_text("#conversation-summary")
        shot(page, "browser-conversation.png")
        page.uncheck("#speakers-mode")  # back to one result per file
        page.set_input_files("#file-input", str(clip))
        page.wait_for_selector("#results:not([hidden])", timeout=30_000)
        assert page.is_hidden("#conversation-results")
    finally:
        browser.close()
