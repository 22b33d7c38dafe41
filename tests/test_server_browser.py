"""The web page in headless Chromium: upload a file, record through the fake microphone.

Screenshots go to build/artifacts/ (kept by CI). Needs Debian's chromium and Python Playwright;
skips with the reason when either is missing.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")

from conftest import CHROMIUM, SR, encode, speech_like  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[1] / "build" / "artifacts"
BASE_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update"]


def launch(playwright, *extra: str):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*BASE_ARGS, *extra])


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def scores_on_page(page) -> list[float]:
    return [float(x) for x in page.eval_on_selector_all("#bars li", "els => els.map(e => e.dataset.score)")]


def test_upload_shows_dashboard(browser_server, playwright, tmp_path):
    clip = tmp_path / "voice.wav"
    clip.write_bytes(encode(speech_like(2.5), SR, "wav"))
    expected = httpx.post(browser_server.url + "/v1/analyze", files={"file": ("voice.wav", clip.read_bytes())}).json()
    browser = launch(playwright)
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(browser_server.url + "/")
        page.wait_for_function("document.getElementById('server-model').textContent.startsWith('Model')")
        page.set_input_files("#file-input", str(clip))
        page.wait_for_selector("#results:not([hidden])", timeout=30_000)
        label = expected["display"][expected["emotion"]]["label"]
        assert page.inner_text("#dominant-label") == label
        assert page.inner_text("#dominant-emoji") == expected["display"][expected["emotion"]]["emoji"]
        assert page.inner_text("#dominant-confidence") == f"{expected['confidence'] * 100:.1f}% confidence"
        scores = scores_on_page(page)
        assert len(scores) == 4 and scores == sorted(scores, reverse=True)
        assert scores == pytest.approx(sorted(expected["scores"].values(), reverse=True), abs=1e-6)
        if expected["features"]:
            keys = page.eval_on_selector_all("#descriptors > div", "els => els.map(e => e.dataset.key)")
            assert keys[:2] == ["duration_s", "pitch_mean_hz"] and len(keys) == len(expected["features"])
            assert page.inner_text("#descriptors [data-key=duration_s] dd") == "2.50 s"
        else:
            assert "No descriptors" in page.inner_text("#descriptors")
        shot(page, "browser-upload.png")

        bad = tmp_path / "notes.wav"
        bad.write_text("this is a text file, not audio\n" * 5)
        page.set_input_files("#file-input", str(bad))
        page.wait_for_selector("#error:not([hidden])")
        assert "not audio this server can read" in page.inner_text("#error")
        assert "notes.wav" in page.inner_text("#error")
        assert page.is_hidden("#results")  # the previous file's results are not left on show
        shot(page, "browser-error.png")

        page.click("#theme-toggle")
        assert page.get_attribute("html", "data-theme") == "dark"
        assert page.get_attribute("#theme-toggle", "aria-pressed") == "true"
        shot(page, "browser-dark.png")
    finally:
        browser.close()


def test_keyboard_and_phone_layout(browser_server, playwright, tmp_path):
    clip = tmp_path / "voice.wav"
    clip.write_bytes(encode(speech_like(1.5), SR, "wav"))
    browser = launch(playwright)
    try:
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        page.goto(browser_server.url + "/")
        focused = []
        for _ in range(6):
            page.keyboard.press("Tab")
            focused.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
        assert {"theme-toggle", "record", "file-input"} <= set(focused)
        with page.expect_file_chooser() as chooser:  # the file picker opens from the keyboard
            page.focus("#file-input")
            page.keyboard.press("Enter")
        chooser.value.set_files(str(clip))
        page.wait_for_selector("#results:not([hidden])", timeout=30_000)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"page scrolls sideways on a phone: {width}px"
        shot(page, "browser-phone.png")

        drop = tmp_path / "dropped.wav"  # drag and drop onto the drop zone
        drop.write_bytes(encode(speech_like(1.0, seed=5), SR, "wav"))
        transfer = page.evaluate_handle(
            """(b64) => {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                const dt = new DataTransfer();
                dt.items.add(new File([bytes], "dropped.wav", { type: "audio/wav" }));
                return dt;
            }""",
            base64.b64encode(drop.read_bytes()).decode(),
        )
        page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
        page.wait_for_function("document.getElementById('status').textContent === 'Analyzed dropped.wav.'")
        assert page.is_visible("#results")
    finally:
        browser.close()


def test_record_with_fake_microphone(browser_server, playwright, tmp_path):
    voice = tmp_path / "mic.wav"
    voice.write_bytes(encode(speech_like(3.0, seed=3), SR, "wav"))
    browser = launch(
        playwright,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={voice}",
    )
    try:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.grant_permissions(["microphone"], origin=browser_server.url)
        page = context.new_page()
        page.goto(browser_server.url + "/")
        page.click("#record")
        page.wait_for_function("document.getElementById('level').value > 0.01", timeout=10_000)
        page.wait_for_timeout(2000)
        assert page.inner_text("#record .record-text") == "Stop recording"
        shot(page, "browser-recording.png")
        page.click("#record")
        page.wait_for_selector("#results:not([hidden])", timeout=30_000)
        assert page.is_hidden("#error"), page.inner_text("#error")
        assert page.inner_text("#status").startswith("Analyzed recording.")
        assert page.inner_text("#dominant-label") in {"Angry", "Happy", "Neutral", "Sad"}
        duration = float(page.inner_text("#model-line").split("·")[1].split()[0])
        assert 1.0 < duration < 6.0
        assert len(scores_on_page(page)) == 4
        shot(page, "browser-record.png")
    finally:
        browser.close()


def test_results_appear_where_the_eyes_are_on_a_laptop(browser_server, playwright, tmp_path):
    """After an upload on a 1366x768 screen the results' top is on screen and their heading has the
    focus (they used to land below the Live panel, out of sight); the next Tab goes on from there."""
    clip = tmp_path / "voice.wav"
    clip.write_bytes(encode(speech_like(2.0), SR, "wav"))
    browser = launch(playwright)
    try:
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(browser_server.url + "/")
        page.set_input_files("#file-input", str(clip))
        page.wait_for_selector("#results:not([hidden])", timeout=30_000)
        page.wait_for_function("document.activeElement && document.activeElement.id === 'results-title'")
        page.wait_for_function(  # smooth scrolling settles
            "(() => { const r = document.getElementById('results').getBoundingClientRect();"
            " return r.top >= 0 && r.top < window.innerHeight / 2; })()", timeout=5_000)
        dominant = page.eval_on_selector("#dominant", "e => e.getBoundingClientRect().bottom")
        assert dominant <= 768, "the dominant emotion is below the fold"
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('results').contains(document.activeElement)"
                             " || document.getElementById('live-toggle') === document.activeElement")
        shot(page, "browser-laptop-results.png")
    finally:
        browser.close()
