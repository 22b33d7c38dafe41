// emovox page, faces: an image or a video from the upload control goes to /v1/faces; the picture is
// shown with a box and an emotion label per face on a canvas overlay, beside the voice and the fused
// answer. Loaded after app.js, whose $, pct, renderBars, setStatus, showError, clearError, errorText,
// analyze and emovoxBringIntoView it reuses.
"use strict";

(() => {
  const IMAGE_EXT = /\.(jpe?g|png|webp)$/i;
  const VIDEO_EXT = /\.(mp4|m4v|mov|webm|mkv|avi|flv)$/i;
  const GREY = "#9ca3af";
  let display = null; // emotion -> {label, emoji, color}, from GET v1/emotions once
  let objectUrl = null;
  let current = null; // {body, media} of the picture on show

  // "image", "video" or null (audio and anything else keep the voice path).
  function kindOf(file) {
    const type = (file.type || "").toLowerCase();
    if (type.startsWith("image/")) return "image";
    if (type.startsWith("video/")) return "video";
    if (type.startsWith("audio/")) return null;
    const name = file.name || "";
    return IMAGE_EXT.test(name) ? "image" : VIDEO_EXT.test(name) ? "video" : null;
  }

  async function loadDisplay() {
    if (display) return display;
    display = {};
    try {
      const r = await fetch("v1/emotions");
      if (r.ok) for (const e of (await r.json()).emotions) display[e.name] = e;
    } catch (e) { /* labels fall back to the raw names */ }
    return display;
  }
  const meta = (name) => (display && display[name]) || { label: name, emoji: "🔹", color: GREY };

  async function analyzeMedia(file, kind, opts = {}) {
    clearError();
    hide();
    $("results").hidden = true;
    if (window.emovoxTimeline) window.emovoxTimeline.hide();
    setStatus(`Looking for faces in ${file.name}…`);
    await loadDisplay();
    const form = new FormData();
    form.append("file", file, file.name);
    let response;
    try {
      response = await fetch("v1/faces", { method: "POST", body: form });
    } catch (err) {
      setStatus("");
      showError(`Could not reach the server: ${err.message}`);
      return null;
    }
    let body = null;
    try { body = await response.json(); } catch (e) { /* not JSON */ }
    const noPicture = response.status === 415 || (response.ok && body && body.kind === "video" && !body.width);
    if (noPicture && kind === "video" && !opts.camera) {
      analyze(file, file.name); // a .webm or .mp4 without a picture (a recording): the voice path
      return null;
    }
    const detail = body && typeof body.detail === "string" ? body.detail : "";
    if (response.status === 422 && /no face/.test(detail)) {
      body = { file: file.name, kind, faces_detected: 0, tracks: [], voice: null, fused: null, face: null };
    } else if (!response.ok) {
      setStatus("");
      showError(errorText(response.status, body).replace("is not audio", "is not an image, a video or audio"));
      return null;
    }
    setStatus(`Analyzed ${file.name}.`);
    if (!opts.camera) render(body, file, kind);
    return body;
  }

  // --- the results panel ---------------------------------------------------------------------
  function render(body, file, kind) {
    $("results").hidden = false;
    $("faces-view").hidden = false;
    $("descriptors-block").hidden = true;
    $("words").hidden = true;
    $("result-file").textContent = `· ${body.file || file.name}`;
    showMedia(file, kind, body);
    renderAnswer(body);
    renderFaceList(body);
    renderLanes(body);
    renderVoiceAndFusion(body);
    const size = body.width ? ` · ${body.width}×${body.height}` : "";
    const frames = kind === "video" && body.frames_analyzed
      ? ` · ${body.frames_analyzed} frames of ${Number(body.duration_s).toFixed(1)} s` : "";
    $("model-line").textContent = body.face_model ? `Face model ${body.face_model}${size}${frames}` : "";
    window.emovoxBringIntoView($("results"), $("results-title"));
  }

  function renderAnswer(body) {
    const top = body.fused || body.face || body.voice;
    const emoji = $("dominant-emoji");
    const label = $("dominant-label");
    const conf = $("dominant-confidence");
    if (!top) {
      emoji.textContent = "😶";
      label.textContent = "No face found";
      conf.textContent = "No face was detected (and no speech), so no emotion is given.";
      $("dominant").style.removeProperty("--dominant-color");
      renderBars({}, display);
      $("bars").firstChild.textContent = "No scores: no face and no speech.";
      return;
    }
    const m = meta(top.emotion);
    emoji.textContent = m.emoji;
    label.textContent = m.label;
    const from = body.fused && body.fused.modalities.length > 1 ? "face and voice" : body.face ? "face" : "voice";
    conf.textContent = `${pct(top.confidence)} confidence · from the ${from}`;
    $("dominant").style.setProperty("--dominant-color", m.color);
    renderBars(top.scores || {}, display);
  }

  function renderFaceList(body) {
    const list = $("face-list");
    list.replaceChildren();
    const summary = $("faces-summary");
    const n = body.faces_detected || 0;
    summary.dataset.faces = String(n);
    summary.textContent = n ? `${n} face${n === 1 ? "" : "s"} found` : "No face found";
    body.tracks.forEach((t, i) => {
      const li = document.createElement("li");
      li.dataset.emotion = t.emotion;
      const frames = body.kind === "video" ? ` over ${t.frames} frame${t.frames === 1 ? "" : "s"}` : "";
      li.textContent = `Face ${i + 1}: ${meta(t.emotion).emoji} ${meta(t.emotion).label}, ${pct(t.confidence)}${frames}`;
      list.append(li);
    });
  }

  function renderLanes(body) {
    const lanes = $("face-lanes");
    lanes.replaceChildren();
    const tracks = body.kind === "video" ? body.tracks.filter((t) => (t.timeline || []).length > 1) : [];
    lanes.hidden = !tracks.length;
    const span = Math.max(Number(body.duration_s) || 0, 1e-3);
    tracks.forEach((t, i) => {
      const row = document.createElement("div");
      row.className = "lane";
      const name = document.createElement("span");
      name.textContent = `Face ${i + 1}`;
      const bar = document.createElement("div");
      bar.className = "lane-bar";
      bar.setAttribute("role", "img");
      bar.setAttribute("aria-label", `Face ${i + 1} over time: ` +
        t.timeline.map((o) => `${o.t.toFixed(1)} s ${meta(o.emotion).label}`).join(", "));
      t.timeline.forEach((o, k) => {
        const next = k + 1 < t.timeline.length ? t.timeline[k + 1].t : Math.min(span, o.t + 1 / (body.fps || 1));
        const cell = document.createElement("span");
        cell.style.left = `${(100 * o.t) / span}%`;
        cell.style.width = `${Math.max(0.5, (100 * (next - o.t)) / span)}%`;
        cell.style.background = meta(o.emotion).color;
        cell.title = `${o.t.toFixed(1)} s: ${meta(o.emotion).label} ${pct(o.confidence)}`;
        bar.append(cell);
      });
      row.append(name, bar);
      lanes.append(row);
    });
  }

  function renderVoiceAndFusion(body) {
    const voice = $("voice-line");
    if (body.voice && body.voice.emotion) {
      voice.textContent = `Voice: ${meta(body.voice.emotion).emoji} ${meta(body.voice.emotion).label}, ${pct(body.voice.confidence)}`;
    } else {
      voice.textContent = body.kind === "image" ? "Voice: none (an image has no sound)." : "Voice: no speech heard.";
    }
    const fused = $("fusion-line");
    const f = body.fused;
    fused.dataset.conflict = String(Boolean(f && f.conflict));
    if (f && f.modalities.length > 1) {
      const parts = Object.entries(f.weights || {}).map(([m, w]) => `${m === "audio" ? "voice" : m} ${pct(w)}`).join(", ");
      fused.textContent = `Fused (${parts}): ${meta(f.emotion).label}, ${pct(f.confidence)}` +
        (f.conflict ? ". Face and voice disagree: treat this answer with care." : ".");
    } else {
      fused.textContent = "";
    }
  }

  // --- the picture and its boxes --------------------------------------------------------------
  function showMedia(file, kind, body) {
    const stage = $("media-stage");
    const overlay = $("face-overlay");
    overlay.getContext("2d").clearRect(0, 0, overlay.width, overlay.height);
    overlay.dataset.faces = "0";
    overlay.dataset.labels = "";
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(file);
    stage.querySelectorAll("img, video").forEach((e) => e.remove());
    const media = document.createElement(kind === "video" ? "video" : "img");
    media.src = objectUrl;
    if (kind === "video") {
      Object.assign(media, { controls: true, muted: true, playsInline: true, preload: "auto" });
      ["loadeddata", "timeupdate", "seeked"].forEach((ev) => media.addEventListener(ev, draw));
    } else {
      media.alt = `${file.name}, with a box around each face found`;
      media.addEventListener("load", draw);
    }
    stage.prepend(media);
    current = { body, media };
    draw();
  }

  function boxesNow(body, media) {
    if (body.kind !== "video") return body.tracks.map((t) => ({ ...t, box: t.box }));
    const now = media.currentTime || 0;
    const out = [];
    for (const t of body.tracks) {
      let best = null;
      for (const o of t.timeline || []) if (!best || Math.abs(o.t - now) < Math.abs(best.t - now)) best = o;
      if (best && Math.abs(best.t - now) <= Math.max(1, 2 / (body.fps || 1))) out.push(best);
    }
    return out;
  }

  function draw() {
    if (!current) return;
    const { body, media } = current;
    const w = body.width || media.naturalWidth || media.videoWidth || 0;
    const h = body.height || media.naturalHeight || media.videoHeight || 0;
    paint($("face-overlay"), w, h, boxesNow(body, media));
  }

  // A box and "Label NN%" per face on an overlay canvas of the picture's size (also for the camera).
  function paint(canvas, w, h, faces) {
    if (!w || !h) return;
    canvas.width = w;
    canvas.height = h;
    const g = canvas.getContext("2d");
    g.clearRect(0, 0, w, h);
    const line = Math.max(2, Math.round(w / 200));
    const font = Math.max(14, Math.round(w / 28));
    g.font = `600 ${font}px system-ui, sans-serif`;
    g.textBaseline = "bottom";
    const labels = [];
    for (const f of faces) {
      const { x, y, width, height } = f.box;
      const m = meta(f.emotion);
      const text = `${m.label} ${Math.round(f.confidence * 100)}%`;
      g.lineWidth = line;
      g.strokeStyle = m.color;
      g.strokeRect(x, y, width, height);
      const tw = g.measureText(text).width + font * 0.6;
      const ty = y - font * 1.3 >= 0 ? y : y + height + font * 1.3;
      g.fillStyle = m.color;
      g.fillRect(x - line / 2, ty - font * 1.3, tw, font * 1.3);
      g.fillStyle = "#000";
      g.fillText(text, x + font * 0.3, ty - font * 0.15);
      labels.push(text);
    }
    canvas.dataset.faces = String(faces.length);
    canvas.dataset.labels = labels.join("|");
  }

  function hide() {
    $("faces-view").hidden = true;
    $("descriptors-block").hidden = false;
    current = null;
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = null;
    $("media-stage").querySelectorAll("img, video").forEach((e) => e.remove());
  }

  window.emovoxFaces = { kindOf, analyzeMedia, hide, loadDisplay, meta, paint };
})();
