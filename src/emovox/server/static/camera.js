// emovox page, Camera: grab a webcam frame about once a second, post it as a JPEG to /v1/faces and
// draw the latest boxes over the live picture. Loaded after faces.js, whose paint and meta it reuses.
"use strict";

(() => {
  const PERIOD_MS = 1000;  // a modest rate: one frame in flight at a time, at most one a second
  const MAX_SIDE = 640;    // frames are scaled down to this before they are sent
  const cam = { stream: null, timer: 0, busy: false, sent: 0, grab: null };
  const el = (id) => document.getElementById(id);

  document.addEventListener("DOMContentLoaded", () => {
    const button = el("camera-toggle");
    if (button) button.addEventListener("click", () => (cam.stream ? stop("Camera off") : start()));
  });

  function setState(text, faces) {
    const state = el("camera-state");
    state.textContent = text;
    state.dataset.faces = String(faces);
  }

  function showError(text) {
    const e = el("camera-error");
    e.textContent = text;
    e.hidden = !text;
  }

  async function start() {
    showError("");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showError("This browser cannot open a camera here (it needs https or localhost).");
      return;
    }
    try {
      cam.stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 } }, audio: false });
    } catch (err) {
      cam.stream = null;
      showError(err && err.name === "NotAllowedError" ? "Camera access was refused."
        : `No camera could be opened (${err && err.name}).`);
      return;
    }
    if (window.emovoxFaces) await window.emovoxFaces.loadDisplay();
    const video = el("camera-video");
    video.srcObject = cam.stream;
    await video.play().catch(() => { /* autoplay of a muted stream is allowed; ignore otherwise */ });
    cam.sent = 0;
    cam.grab = document.createElement("canvas");
    el("camera-view").hidden = false;
    el("camera-overlay").dataset.frames = "0";
    const button = el("camera-toggle");
    button.setAttribute("aria-pressed", "true");
    button.textContent = "Stop camera";
    setState("Looking for faces…", 0);
    cam.timer = setInterval(send, PERIOD_MS);
  }

  function stop(text) {
    clearInterval(cam.timer);
    if (cam.stream) cam.stream.getTracks().forEach((t) => t.stop());
    cam.stream = null;
    el("camera-video").srcObject = null;
    const button = el("camera-toggle");
    button.setAttribute("aria-pressed", "false");
    button.textContent = "Start camera";
    setState(text, 0);
  }

  async function send() {
    const video = el("camera-video");
    if (cam.busy || !cam.stream || !video.videoWidth) return;
    cam.busy = true;
    try {
      const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
      const w = Math.round(video.videoWidth * scale);
      const h = Math.round(video.videoHeight * scale);
      cam.grab.width = w;
      cam.grab.height = h;
      cam.grab.getContext("2d").drawImage(video, 0, 0, w, h);
      const jpeg = await new Promise((resolve) => cam.grab.toBlob(resolve, "image/jpeg", 0.85));
      if (!jpeg || !cam.stream) return;
      const form = new FormData();
      form.append("file", jpeg, "camera.jpg");
      const response = await fetch("v1/faces", { method: "POST", body: form });
      cam.sent += 1;
      const overlay = el("camera-overlay");
      overlay.dataset.frames = String(cam.sent);
      let body = null;
      try { body = await response.json(); } catch (e) { /* not JSON */ }
      const detail = body && typeof body.detail === "string" ? body.detail : "";
      if (!cam.stream) return; // stopped while the frame was on its way
      if (response.ok) {
        window.emovoxFaces.paint(overlay, w, h, body.tracks);
        const n = body.tracks.length;
        const top = body.tracks.map((t) => window.emovoxFaces.meta(t.emotion).label).join(", ");
        setState(n ? `${n} face${n === 1 ? "" : "s"}: ${top}` : "No face found", n);
      } else if (response.status === 422 && /no face/.test(detail)) {
        window.emovoxFaces.paint(overlay, w, h, []);
        setState("No face found", 0);
      } else {
        stop("Camera off");
        showError(detail || `The server answered ${response.status}.`);
      }
    } catch (err) {
      stop("Camera off");
      showError(`Could not reach the server: ${err.message}`);
    } finally {
      cam.busy = false;
    }
  }
})();
