"""The page's faces in headless Chromium: a photo goes to /v1/faces and comes back with a box and an
emotion label per face drawn over it; a picture without a face says so and invents no emotion.

Needs Debian's chromium, Python Playwright and the real clips in ../shared/av (skips with the reason
otherwise). Screenshots go to the test's tmp dir and to $EMOVOX_ARTIFACTS when set.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("PIL", reason="Pillow is not installed (pip install 'emovox[vision]')")
pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")

from media_helpers import av_clips, drawn_image, image_bytes  # noqa: E402, F401
from test_server_browser import launch  # noqa: E402


def snap(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("EMOVOX_ARTIFACTS"):
        out = Path(os.environ["EMOVOX_ARTIFACTS"])
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, out / name)
    return path


def overlay_ink(page, x: float, y: float) -> int:
    """Alpha of the overlay canvas at one pixel: non-zero where a box was drawn."""
    return page.evaluate(
        "([x, y]) => document.getElementById('face-overlay').getContext('2d')"
        ".getImageData(Math.round(x), Math.round(y), 1, 1).data[3]", [x, y])


def test_photo_shows_boxes_and_labels_and_no_face_says_so(browser_server, playwright, tmp_path, av_clips):  # noqa: F811
    from emovox.io.vision import load_video

    clip = next(c for c in av_clips if c.suffix == ".mp4")
    frame = next(iter(load_video(clip, audio=False).frames()))
    photo = tmp_path / "speaker.jpg"
    photo.write_bytes(image_bytes(frame.rgb, "JPEG"))
    expected = httpx.post(browser_server.url + "/v1/faces", files={"file": (photo.name, photo.read_bytes())},
                          timeout=60).json()
    assert expected["faces_detected"] == 1, expected
    labels = {e["name"]: e["label"] for e in httpx.get(browser_server.url + "/v1/emotions").json()["emotions"]}
    track = expected["tracks"][0]
    answer = expected["fused"] or expected["face"]

    browser = launch(playwright)
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(browser_server.url + "/")
        page.set_input_files("#file-input", str(photo))
        page.wait_for_selector("#faces-view:not([hidden])", timeout=60_000)
        page.wait_for_function("document.getElementById('face-overlay').dataset.labels")
        assert page.is_hidden("#error"), page.inner_text("#error")
        assert page.get_attribute("#face-overlay", "data-faces") == "1"
        assert page.inner_text("#faces-summary") == "1 face found"
        drawn = page.get_attribute("#face-overlay", "data-labels")
        assert drawn == f"{labels[track['emotion']]} {round(track['confidence'] * 100)}%"
        assert page.inner_text("#dominant-label") == labels[answer["emotion"]]
        assert labels[track["emotion"]] in page.inner_text("#face-list li")
        assert "an image has no sound" in page.inner_text("#voice-line")
        assert page.is_hidden("#descriptors-block")  # no acoustic descriptors for a photo
        box = track["box"]  # the box is drawn where the server found the face, and not elsewhere
        assert overlay_ink(page, box["x"], box["y"] + box["height"] / 2) > 0
        assert overlay_ink(page, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2) == 0
        shown = page.eval_on_selector("#media-stage img", "e => e.naturalWidth")
        assert shown == expected["width"]
        assert snap(page, tmp_path, "browser-faces.png").stat().st_size > 10_000
        page.set_viewport_size({"width": 390, "height": 844})  # a phone: the picture shrinks, no sideways scroll
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.eval_on_selector("#face-overlay", "e => e.getBoundingClientRect().width") <= 390
        snap(page, tmp_path, "browser-faces-phone.png")

        blank = tmp_path / "shapes.png"
        blank.write_bytes(image_bytes(drawn_image()))
        page.set_input_files("#file-input", str(blank))
        page.wait_for_function("document.getElementById('status').textContent === 'Analyzed shapes.png.'",
                               timeout=60_000)
        assert page.is_hidden("#error"), page.inner_text("#error")
        assert page.inner_text("#faces-summary") == "No face found"
        assert page.get_attribute("#face-overlay", "data-faces") == "0"
        assert page.get_attribute("#face-overlay", "data-labels") == ""
        assert page.inner_text("#dominant-label") == "No face found"
        assert page.eval_on_selector_all("#bars li[data-emotion]", "els => els.length") == 0
        assert "shapes.png" in page.inner_text("#result-file")
        snap(page, tmp_path, "browser-no-face.png")

        broken = tmp_path / "broken.jpg"
        broken.write_text("not a picture at all\n" * 10)
        page.set_input_files("#file-input", str(broken))
        page.wait_for_selector("#error:not([hidden])", timeout=30_000)
        detail = httpx.post(browser_server.url + "/v1/faces",
                            files={"file": (broken.name, broken.read_bytes())}).json()["detail"]
        assert detail in page.inner_text("#error")
        assert page.is_hidden("#results")
    finally:
        browser.close()


def test_video_shows_lanes_voice_and_fusion_and_audio_only_webm_stays_voice(
        browser_server, playwright, tmp_path, av_clips):  # noqa: F811
    from conftest import SR, encode, speech_like

    clip = next(c for c in av_clips if c.suffix == ".mp4")
    expected = httpx.post(browser_server.url + "/v1/faces", files={"file": (clip.name, clip.read_bytes())},
                          timeout=120).json()
    labels = {e["name"]: e["label"] for e in httpx.get(browser_server.url + "/v1/emotions").json()["emotions"]}
    browser = launch(playwright)
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.goto(browser_server.url + "/")
        page.set_input_files("#file-input", str(clip))
        page.wait_for_selector("#faces-view:not([hidden])", timeout=120_000)
        assert page.is_hidden("#error"), page.inner_text("#error")
        assert page.eval_on_selector("#media-stage video", "e => e.tagName") == "VIDEO"
        assert page.get_attribute("#face-overlay", "data-faces") == str(expected["faces_detected"])
        cells = page.eval_on_selector_all(".lane-bar", "els => els.map(e => e.children.length)")
        assert cells == [len(t["timeline"]) for t in expected["tracks"] if len(t["timeline"]) > 1]
        assert cells and cells[0] == expected["frames_analyzed"]
        first = expected["tracks"][0]["timeline"][0]  # the paused video shows its first sampled frame's box
        assert page.get_attribute("#face-overlay", "data-labels") == \
            f"{labels[first['emotion']]} {round(first['confidence'] * 100)}%"
        voice = expected["voice"]
        assert page.inner_text("#voice-line").startswith("Voice: ") and labels[voice["emotion"]] in \
            page.inner_text("#voice-line")
        fused = expected["fused"]
        assert fused["modalities"] == ["audio", "face"] or set(fused["modalities"]) == {"audio", "face"}
        line = page.inner_text("#fusion-line")
        assert line.startswith("Fused (voice") and labels[fused["emotion"]] in line
        assert ("disagree" in line) == bool(fused["conflict"])
        assert page.get_attribute("#fusion-line", "data-conflict") == str(bool(fused["conflict"])).lower()
        assert page.inner_text("#dominant-label") == labels[fused["emotion"]]
        snap(page, tmp_path, "browser-faces-video.png")

        recording = tmp_path / "voice-memo.webm"  # a .webm without a picture keeps the voice path
        recording.write_bytes(encode(speech_like(2.0), SR, "webm"))
        page.set_input_files("#file-input", str(recording))
        page.wait_for_function("document.getElementById('status').textContent === 'Analyzed voice-memo.webm.'",
                               timeout=60_000)
        assert page.is_hidden("#error"), page.inner_text("#error")
        assert page.is_hidden("#faces-view") and page.is_visible("#descriptors-block")
        assert page.inner_text("#dominant-label") in set(labels.values())
    finally:
        browser.close()


def test_camera_sends_frames_and_shows_no_face_for_the_fake_camera(browser_server, playwright, tmp_path):
    """Chromium's fake camera shows a synthetic pattern (no face): frames go to /v1/faces about once a
    second, the state says there is no face, no box is drawn and no error shows; stopping stops."""
    browser = launch(playwright, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")
    try:
        context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        context.grant_permissions(["camera"], origin=browser_server.url)
        page = context.new_page()
        posted, answers = [], []
        page.on("request", lambda r: posted.append(r) if r.url.endswith("/v1/faces") else None)
        page.on("response", lambda r: answers.append(r) if r.url.endswith("/v1/faces") else None)
        page.goto(browser_server.url + "/")
        page.focus("#camera-toggle")  # from the keyboard
        page.keyboard.press("Enter")
        page.wait_for_function("document.getElementById('camera-toggle').getAttribute('aria-pressed') === 'true'")
        page.wait_for_function("Number(document.getElementById('camera-overlay').dataset.frames) >= 2",
                               timeout=30_000)
        assert page.is_hidden("#camera-error"), page.inner_text("#camera-error")
        assert page.inner_text("#camera-state") == "No face found"
        assert page.get_attribute("#camera-overlay", "data-faces") == "0"
        assert len(posted) >= 2 and all(r.method == "POST" for r in posted)
        first = answers[0]  # the server decoded the frame as a picture and found no face in it
        assert first.status == 422 and first.json()["detail"] == "camera.jpg: no face found; nothing to analyse"
        assert page.evaluate("document.getElementById('camera-video').videoWidth") > 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # phone-sized, no sideways scroll
        snap(page, tmp_path, "browser-camera.png")
        page.keyboard.press("Enter")
        page.wait_for_function("document.getElementById('camera-toggle').getAttribute('aria-pressed') === 'false'")
        assert page.inner_text("#camera-state") == "Camera off"
        sent = len(posted)
        page.wait_for_timeout(2500)
        assert len(posted) <= sent + 1  # at most the frame already on its way
        assert page.evaluate("document.getElementById('camera-video').srcObject") is None
    finally:
        browser.close()
