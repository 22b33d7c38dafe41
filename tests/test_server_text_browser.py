"""The page's Words box in headless Chromium: type a sentence, see its emotion and a bar per emotion."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")

from test_server_browser import launch, shot  # noqa: E402


def test_text_box_shows_the_emotion_of_the_words(browser_server, playwright):
    sentence = "I miss her so much, I've been crying all day."
    expected = httpx.post(browser_server.url + "/v1/text", json={"text": sentence}).json()
    browser = launch(playwright)
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(browser_server.url + "/")
        page.fill("#text-input", sentence)
        page.click("#text-analyze")
        page.wait_for_selector("#text-result:not([hidden])", timeout=30_000)
        label = expected["display"][expected["emotion"]]["label"]
        assert page.inner_text("#text-dominant").startswith(f"{expected['display'][expected['emotion']]['emoji']} {label}")
        order = page.eval_on_selector_all("#text-bars li", "els => els.map(e => e.dataset.emotion)")
        assert order[0] == expected["emotion"] == "sad" and len(order) == 7
        page.fill("#text-input", "   ")
        page.click("#text-analyze")
        page.wait_for_selector("#text-error:not([hidden])", timeout=30_000)
        assert "give at least one word" in page.inner_text("#text-error")
        shot(page, "text-box.png")
    finally:
        browser.close()


@pytest.mark.slow
@pytest.mark.corpus
def test_transcribe_option_shows_what_was_said(browser_server, playwright, corpora):
    pytest.importorskip("ctranslate2", reason="transcription needs the transcribe extra")
    clip = corpora / "ravdess" / "audio" / "03-01-01-01-02-01-01.flac"  # "Dogs are sitting by the door"
    browser = launch(playwright)
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(browser_server.url + "/")
        page.check("#transcribe-mode")
        page.set_input_files("#file-input", str(clip))
        page.wait_for_selector("#words:not([hidden])", timeout=60_000)
        assert page.inner_text("#transcript").lower().startswith("dogs are sitting by the door")
        assert page.inner_text("#transcript-emotion").startswith("Emotion of the words: ")
        assert page.inner_text("#fused-line").startswith("Voice + words: ")
        shot(page, "transcript.png")
    finally:
        browser.close()
