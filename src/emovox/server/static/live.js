// emovox page, Live mode: stream the microphone to /v1/stream and draw the emotions as they come.
// The browser sends 16-bit PCM at its own rate (the server resamples); the server answers
// speech_start / result (every hop) / speech_end events. Plain JavaScript, no build step.
"use strict";

const LIVE_SPAN_S = 30;  // seconds shown on the rolling chart
const LIVE_HOP_S = 1;
const live = { ws: null, ctx: null, stream: null, node: null, source: null, points: [], meta: {}, labels: [], stopping: false };

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("live-toggle");
  if (!button) return;
  button.addEventListener("click", () => (live.ws ? stopLive() : startLive()));
  fetch("v1/emotions").then((r) => r.json()).then((body) => {
    for (const e of body.emotions) live.meta[e.name] = e;
  }).catch(() => { /* colours fall back to grey */ });
  drawLive();
});

function liveUi(id) { return document.getElementById(id); }

function setLiveState(text, speaking) {
  const el = liveUi("live-state");
  el.textContent = text;
  el.dataset.speech = speaking ? "true" : "false";
}

function liveError(text) {
  const el = liveUi("live-error");
  el.textContent = text;
  el.hidden = !text;
}

async function startLive() {
  liveError("");
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!navigator.mediaDevices || !Ctx || !window.WebSocket) {
    liveError("This browser cannot stream audio here (it needs a microphone, Web Audio and WebSockets on https or localhost).");
    return;
  }
  try {
    live.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
  } catch (err) {
    liveError(err && err.name === "NotAllowedError" ? "Microphone access was refused." : `No microphone could be opened (${err && err.name}).`);
    return;
  }
  live.ctx = new Ctx();
  const rate = Math.round(live.ctx.sampleRate);
  const url = new URL("v1/stream", window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  live.ws = new WebSocket(url);
  live.ws.binaryType = "arraybuffer";
  live.points = [];
  live.stopping = false;
  live.ws.addEventListener("open", () => {
    live.ws.send(JSON.stringify({ sample_rate: rate, window_s: 3, hop_s: LIVE_HOP_S }));
  });
  live.ws.addEventListener("message", (e) => onLiveEvent(JSON.parse(e.data)));
  live.ws.addEventListener("close", (e) => {
    if (e.code !== 1000 && e.code !== 1005) liveError(`The stream closed: ${e.reason || "connection lost"} (${e.code}).`);
    teardownLive();
  });
  live.source = live.ctx.createMediaStreamSource(live.stream);
  live.node = live.ctx.createScriptProcessor(4096, 1, 1);
  live.node.onaudioprocess = (e) => {
    if (!live.ws || live.ws.readyState !== WebSocket.OPEN) return;
    const input = e.inputBuffer.getChannelData(0);
    const pcm = new Int16Array(input.length);
    for (let i = 0; i < input.length; i++) pcm[i] = Math.max(-1, Math.min(1, input[i])) * 32767;
    live.ws.send(pcm.buffer);
  };
  live.source.connect(live.node);
  live.node.connect(live.ctx.destination);  // ScriptProcessor only runs when connected
  const button = liveUi("live-toggle");
  button.classList.add("recording");
  button.textContent = "Stop live";
  button.setAttribute("aria-pressed", "true");
  setLiveState("Connecting…", false);
}

function stopLive() {
  live.stopping = true;  // the server flushes its last events, then closes
  if (live.ws && live.ws.readyState === WebSocket.OPEN) live.ws.send(JSON.stringify({ type: "end" }));
  else teardownLive();
  stopCapture();
  setLiveState("Stopping…", false);
}

function stopCapture() {
  if (live.node) { live.node.disconnect(); live.node.onaudioprocess = null; }
  if (live.source) live.source.disconnect();
  if (live.stream) live.stream.getTracks().forEach((t) => t.stop());
  if (live.ctx) live.ctx.close();
  live.node = live.source = live.stream = live.ctx = null;
}

function teardownLive() {
  stopCapture();
  live.ws = null;
  const button = liveUi("live-toggle");
  button.classList.remove("recording");
  button.textContent = "Start live";
  button.setAttribute("aria-pressed", "false");
  setLiveState(live.stopping ? "Stopped" : "Not listening", false);
}

function onLiveEvent(event) {
  if (live.stopping && event.type !== "result" && event.type !== "error") return;
  if (event.type === "ready") {
    live.labels = event.labels;
    setLiveState("Listening…", false);
  } else if (event.type === "speech_start") {
    setLiveState("Speech", true);
  } else if (event.type === "speech_end") {
    setLiveState("Listening…", false);
  } else if (event.type === "error") {
    liveError(event.detail);
  } else if (event.type === "result") {
    live.points.push(event);
    const chart = liveUi("live-chart");
    chart.dataset.results = String(live.points.length);
    chart.dataset.speechResults = String(live.points.filter((p) => p.speech).length);
    showNow(event);
    drawLive();
  }
}

function showNow(event) {
  const now = liveUi("live-now");
  if (!event.speech || !event.emotion) {
    now.textContent = "🔇 no speech";
    now.dataset.emotion = "";
    return;
  }
  const meta = live.meta[event.emotion] || { label: event.emotion, emoji: "🔹" };
  now.textContent = `${meta.emoji} ${meta.label} · ${(event.confidence * 100).toFixed(0)}%`;
  now.dataset.emotion = event.emotion;
}

// Stacked emotion probabilities over the last LIVE_SPAN_S seconds; no speech draws nothing.
function drawLive() {
  const c = liveUi("live-chart");
  if (!c) return;
  const g = c.getContext("2d");
  const css = getComputedStyle(document.documentElement);
  g.clearRect(0, 0, c.width, c.height);
  const end = live.points.length ? live.points[live.points.length - 1].end : LIVE_SPAN_S;
  const start = Math.max(0, end - LIVE_SPAN_S);
  const x = (t) => ((t - start) / Math.max(LIVE_SPAN_S, end - start)) * c.width;
  for (const p of live.points) {
    if (p.end <= start || !p.speech || !p.scores) continue;
    const x0 = x(Math.max(start, p.end - LIVE_HOP_S));
    const x1 = x(p.end);
    let y = c.height;
    for (const name of live.labels) {
      const h = (p.scores[name] || 0) * c.height;
      g.fillStyle = (live.meta[name] && live.meta[name].color) || "#9ca3af";
      g.fillRect(x0, y - h, x1 - x0 + 0.5, h);
      y -= h;
    }
  }
  g.fillStyle = css.getPropertyValue("--muted").trim() || "#475569";
  g.font = "12px system-ui, sans-serif";
  g.fillText(`${start.toFixed(0)} s`, 4, c.height - 4);
  g.fillText(`${end.toFixed(0)} s`, c.width - 40, c.height - 4);
  renderLegend();
}

function renderLegend() {
  const ol = liveUi("live-legend");
  if (!ol || ol.childElementCount === live.labels.length) return;
  ol.replaceChildren();
  for (const name of live.labels) {
    const meta = live.meta[name] || { label: name, emoji: "🔹", color: "#9ca3af" };
    const li = document.createElement("li");
    const dot = document.createElement("span");
    dot.className = "dot";
    dot.style.background = meta.color;
    li.append(dot, `${meta.emoji} ${meta.label}`);
    ol.append(li);
  }
}
