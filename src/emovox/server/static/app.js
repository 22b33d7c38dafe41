// emovox page: record or upload a clip, send it to /v1/analyze, show the dashboard.
// Plain browser JavaScript, no build step and no network access beyond this server.
"use strict";

const MAX_RECORD_S = 60;
const DESCRIPTORS = [
  ["duration_s", "Duration", "s", 2],
  ["pitch_mean_hz", "Pitch (mean)", "Hz", 0],
  ["pitch_std_hz", "Pitch variation (SD)", "Hz", 0],
  ["pitch_min_hz", "Pitch (min)", "Hz", 0],
  ["pitch_max_hz", "Pitch (max)", "Hz", 0],
  ["pitch_range_hz", "Pitch range", "Hz", 0],
  ["voiced_fraction", "Voiced", "%", 0],
  ["energy_mean_db", "Loudness (mean)", "dB", 1],
  ["energy_std_db", "Loudness variation (SD)", "dB", 1],
  ["tempo_syllables_per_s", "Speaking rate", "syll/s", 1],
  ["spectral_centroid_hz", "Brightness (spectral centroid)", "Hz", 0],
  ["jitter_local", "Jitter", "%", 2],
  ["shimmer_local", "Shimmer", "%", 2],
  ["hnr_db", "Harmonics-to-noise", "dB", 1],
];
const PERCENT_KEYS = new Set(["voiced_fraction", "jitter_local", "shimmer_local"]);

const $ = (id) => document.getElementById(id);
const ui = {};
const rec = { stream: null, recorder: null, chunks: [], ctx: null, analyser: null, raf: 0, start: 0, timer: 0 };

document.addEventListener("DOMContentLoaded", () => {
  for (const id of ["record", "visualizer", "timer", "level", "dropzone", "file-input", "status", "error",
    "results", "dominant", "dominant-emoji", "dominant-label", "dominant-confidence", "bars",
    "descriptors", "result-file", "model-line", "server-model", "theme-toggle"]) {
    ui[id] = $(id);
  }
  setupTheme();
  setupUpload();
  ui.record.addEventListener("click", () => (rec.recorder ? stopRecording() : startRecording()));
  drawIdle();
  fetch("healthz").then((r) => r.json()).then((h) => {
    ui["server-model"].textContent = `Model: ${h.model} · emovox ${h.version}`;
  }).catch(() => { ui["server-model"].textContent = "Server not reachable"; });
});

// --- theme ----------------------------------------------------------------------------------
function setupTheme() {
  const apply = (theme) => {
    document.documentElement.dataset.theme = theme;
    const dark = theme === "dark";
    ui["theme-toggle"].setAttribute("aria-pressed", String(dark));
    ui["theme-toggle"].textContent = dark ? "Light theme" : "Dark theme";
  };
  apply(document.documentElement.dataset.theme || "light");
  ui["theme-toggle"].addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    try { localStorage.setItem("emovox-theme", next); } catch (e) { /* private mode */ }
    apply(next);
    drawIdle();
  });
}

// --- upload ---------------------------------------------------------------------------------
function setupUpload() {
  const input = ui["file-input"];
  input.addEventListener("change", () => {
    if (input.files && input.files[0]) route(input.files[0]);
    input.value = "";
  });
  const zone = ui.dropzone;
  ["dragenter", "dragover"].forEach((ev) => zone.addEventListener(ev, (e) => {
    e.preventDefault();
    zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((ev) => zone.addEventListener(ev, () => zone.classList.remove("over")));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    const file = e.dataTransfer && e.dataTransfer.files[0];
    if (file) route(file);
    else showError("That drop held no file. Drop an audio file (wav, mp3, m4a, ogg, webm, flac), a photo or a video.");
  });
}

// Photos and videos go to the faces (faces.js), everything else to the voice.
function route(file) {
  const kind = window.emovoxFaces && window.emovoxFaces.kindOf(file);
  if (kind) window.emovoxFaces.analyzeMedia(file, kind);
  else analyze(file, file.name);
}

async function analyze(blob, filename) {
  clearError();
  ui.results.hidden = true; // never show one file's results under another file's name
  if (window.emovoxFaces) window.emovoxFaces.hide();
  setStatus(`Analyzing ${filename}…`);
  const form = new FormData();
  form.append("file", blob, filename);
  const timelineBox = $("timeline-mode");
  const asTimeline = Boolean(timelineBox && timelineBox.checked && window.emovoxTimeline);
  if (window.emovoxTimeline) window.emovoxTimeline.hide();
  const speakersBox = $("speakers-mode");  // who spoke when: a timeline per speaker (conversation.js)
  const asConversation = Boolean(speakersBox && speakersBox.checked && window.emovoxConversation);
  if (window.emovoxConversation) window.emovoxConversation.hide();
  let response;
  try {
    const words = $("transcribe-mode") && $("transcribe-mode").checked ? "&transcribe=true" : "";
    const url = asConversation ? "v1/analyze?timeline=true&speakers=true"
      : asTimeline ? "v1/analyze?timeline=true" : `v1/analyze?features=true${words}`;
    response = await fetch(url, { method: "POST", body: form });
  } catch (err) {
    setStatus("");
    showError(`Could not reach the server: ${err.message}`);
    return;
  }
  let body = null;
  try { body = await response.json(); } catch (e) { /* not JSON */ }
  if (!response.ok) {
    setStatus("");
    showError(errorText(response.status, body));
    return;
  }
  setStatus(`Analyzed ${filename}.`);
  if (asConversation) window.emovoxConversation.render(body);
  else if (asTimeline) window.emovoxTimeline.render(body);
  else render(body);
}

function errorText(status, body) {
  let detail = body && body.detail;
  if (Array.isArray(detail)) detail = detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
  const what = {
    413: "The recording is too large or too long.",
    415: "That file is not audio this server can read.",
    422: "The recording could not be analyzed.",
  }[status] || `The server answered ${status}.`;
  return detail ? `${what} ${detail}` : what;
}

// --- results --------------------------------------------------------------------------------
function render(result) {
  ui.results.hidden = false;
  ui["result-file"].textContent = result.file ? `· ${result.file}` : "";
  const display = result.display || {};
  if (result.silent || !result.emotion) {
    ui["dominant-emoji"].textContent = "🔇";
    ui["dominant-label"].textContent = "Silence";
    ui["dominant-confidence"].textContent = "No speech energy, so no emotion is given.";
    ui.dominant.style.removeProperty("--dominant-color");
  } else {
    const meta = display[result.emotion] || { label: result.emotion, emoji: "🔹", color: "#9ca3af" };
    ui["dominant-emoji"].textContent = meta.emoji;
    ui["dominant-label"].textContent = meta.label;
    ui["dominant-confidence"].textContent = `${pct(result.confidence)} confidence`;
    ui.dominant.style.setProperty("--dominant-color", meta.color);
  }
  renderBars(result.scores || {}, display);
  renderDescriptors(result.features);
  if (window.emovoxWords) window.emovoxWords.renderTranscript(result);
  ui["model-line"].textContent = `Model ${result.model} · ${result.duration_s.toFixed(2)} s of audio`;
  bringIntoView(ui.results, $("results-title"));
}

// Results sit right under the recording panel; scroll their top into view and move the focus to
// their heading, so that eyes, keyboard and screen reader all land on them after an upload.
function bringIntoView(section, heading) {
  const still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  section.scrollIntoView({ behavior: still ? "auto" : "smooth", block: "start" });
  if (heading) heading.focus({ preventScroll: true });
}
window.emovoxBringIntoView = bringIntoView;

function renderBars(scores, display, list = ui.bars) {  // also used by words.js
  list.replaceChildren();
  const ranked = Object.entries(scores).sort((a, b) => b[1] - a[1]);
  for (const [name, score] of ranked) {
    const meta = display[name] || { label: name, emoji: "🔹", color: "#9ca3af" };
    const li = document.createElement("li");
    li.dataset.emotion = name;
    li.dataset.score = String(score);
    const label = document.createElement("span");
    label.textContent = `${meta.emoji} ${meta.label}`;
    const track = document.createElement("span");
    track.className = "track";
    track.setAttribute("aria-hidden", "true");
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.display = "block";
    fill.style.width = `${(score * 100).toFixed(1)}%`;
    fill.style.background = meta.color;
    track.append(fill);
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = pct(score);
    li.append(label, track, value);
    list.append(li);
  }
  if (!ranked.length) {
    const li = document.createElement("li");
    li.textContent = "No scores: the clip is silent.";
    list.append(li);
  }
}

function renderDescriptors(features) {
  ui.descriptors.replaceChildren();
  if (!features) {
    const p = document.createElement("p");
    p.className = "hint";
    p.textContent = "No descriptors were computed.";
    ui.descriptors.append(p);
    return;
  }
  const known = new Set(DESCRIPTORS.map((d) => d[0]));
  const rows = DESCRIPTORS.filter((d) => d[0] in features)
    .concat(Object.keys(features).filter((k) => !known.has(k)).map((k) => [k, k, "", 3]));
  for (const [key, label, unit, digits] of rows) {
    const wrap = document.createElement("div");
    wrap.dataset.key = key;
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = formatValue(features[key], key, unit, digits);
    wrap.append(dt, dd);
    ui.descriptors.append(wrap);
  }
}

function formatValue(value, key, unit, digits) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const v = PERCENT_KEYS.has(key) ? value * 100 : value;
  return `${v.toFixed(digits)}${unit ? " " + unit : ""}`;
}

const pct = (x) => `${(x * 100).toFixed(1)}%`;

function setStatus(text) { ui.status.textContent = text; }
function clearError() { ui.error.hidden = true; ui.error.textContent = ""; }
function showError(text) { ui.error.textContent = text; ui.error.hidden = false; }

// --- recording ------------------------------------------------------------------------------
async function startRecording() {
  clearError();
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    showError("This browser cannot record audio here (it needs MediaRecorder and a secure page: https or localhost). Upload a file instead.");
    return;
  }
  try {
    rec.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    const denied = err && (err.name === "NotAllowedError" || err.name === "SecurityError");
    showError(denied ? "Microphone access was refused. Allow it in the browser, or upload a file instead."
      : `No microphone could be opened (${err && err.name}). Upload a file instead.`);
    return;
  }
  rec.chunks = [];
  rec.recorder = new MediaRecorder(rec.stream);
  rec.recorder.addEventListener("dataavailable", (e) => { if (e.data.size) rec.chunks.push(e.data); });
  rec.recorder.addEventListener("stop", onRecorded);
  rec.recorder.start(250);
  startVisualizer(rec.stream);
  rec.start = performance.now();
  rec.timer = setInterval(tick, 200);
  ui.record.classList.add("recording");
  ui.record.querySelector(".record-text").textContent = "Stop recording";
  ui.record.setAttribute("aria-pressed", "true");
  setStatus("Recording… press the button again to stop.");
}

function tick() {
  const s = (performance.now() - rec.start) / 1000;
  ui.timer.textContent = `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
  if (s >= MAX_RECORD_S) stopRecording();
}

function stopRecording() {
  if (!rec.recorder) return;
  clearInterval(rec.timer);
  if (rec.recorder.state !== "inactive") rec.recorder.stop();
  rec.stream.getTracks().forEach((t) => t.stop());
  stopVisualizer();
  ui.record.classList.remove("recording");
  ui.record.querySelector(".record-text").textContent = "Start recording";
  ui.record.setAttribute("aria-pressed", "false");
}

function onRecorded() {
  const type = (rec.recorder && rec.recorder.mimeType) || "audio/webm";
  rec.recorder = null;
  const blob = new Blob(rec.chunks, { type });
  rec.chunks = [];
  if (!blob.size) {
    showError("Nothing was recorded. Check the microphone and try again.");
    return;
  }
  const ext = type.includes("mp4") ? "m4a" : type.includes("ogg") ? "ogg" : "webm";
  analyze(blob, `recording.${ext}`);
}

// --- visualizer: waveform plus an RMS level meter ------------------------------------------------
function startVisualizer(stream) {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  rec.ctx = new Ctx();
  const source = rec.ctx.createMediaStreamSource(stream);
  rec.analyser = rec.ctx.createAnalyser();
  rec.analyser.fftSize = 2048;
  source.connect(rec.analyser);
  const data = new Float32Array(rec.analyser.fftSize);
  const draw = () => {
    rec.analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (const v of data) sum += v * v;
    const rms = Math.sqrt(sum / data.length);
    ui.level.value = Math.min(1, rms * 4);
    drawWave(data);
    rec.raf = requestAnimationFrame(draw);
  };
  draw();
}

function stopVisualizer() {
  cancelAnimationFrame(rec.raf);
  if (rec.ctx) rec.ctx.close();
  rec.ctx = null;
  rec.analyser = null;
  ui.level.value = 0;
  drawIdle();
}

function drawWave(data) {
  const c = ui.visualizer;
  const g = c.getContext("2d");
  const color = getComputedStyle(document.documentElement).getPropertyValue("--wave").trim() || "#4f46e5";
  g.clearRect(0, 0, c.width, c.height);
  g.lineWidth = 2;
  g.strokeStyle = color;
  g.beginPath();
  const step = data.length / c.width;
  for (let x = 0; x < c.width; x++) {
    const y = (0.5 - data[Math.floor(x * step)] * 0.9) * c.height;
    if (x === 0) g.moveTo(x, y); else g.lineTo(x, y);
  }
  g.stroke();
}

function drawIdle() {
  if (!ui.visualizer) return;
  drawWave(new Float32Array(1024));
}
