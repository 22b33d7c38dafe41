// emovox page, words: a text box sent to /v1/text, and the transcript of a recording with its emotion.
// Loaded after app.js, whose $, pct and renderBars it reuses.
"use strict";

(() => {
  const META = (display, name) => display[name] || { label: name, emoji: "🔹", color: "#9ca3af" };

  async function analyzeText() {
    const input = $("text-input");
    const error = $("text-error");
    error.hidden = true;
    $("text-result").hidden = true;
    let response;
    try {
      response = await fetch("v1/text", {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: input.value }),
      });
    } catch (err) {
      error.textContent = `Could not reach the server: ${err.message}`;
      error.hidden = false;
      return;
    }
    let body = null;
    try { body = await response.json(); } catch (e) { /* not JSON */ }
    if (!response.ok) {
      error.textContent = (body && typeof body.detail === "string") ? body.detail : `The server answered ${response.status}.`;
      error.hidden = false;
      return;
    }
    const meta = META(body.display || {}, body.emotion);
    $("text-dominant").textContent = `${meta.emoji} ${meta.label} · ${pct(body.confidence)} confidence`;
    $("text-dominant").style.color = meta.color;
    renderBars(body.scores, body.display || {}, $("text-bars"));  // app.js
    $("text-result").hidden = false;
  }

  // Called by app.js with a /v1/analyze?transcribe=true answer (or a plain one, which hides the block).
  function renderTranscript(result) {
    const box = $("words");
    if (!box) return;
    if (result.transcript === undefined) { box.hidden = true; return; }
    box.hidden = false;
    $("transcript").textContent = result.transcript || "No words were recognised.";
    const text = result.text;
    const fused = result.fused;
    $("transcript-emotion").textContent = text
      ? `Emotion of the words: ${text.emotion} (${pct(text.confidence)})`
      : "No words, so no text emotion.";
    let line = "";
    if (fused) {
      const weights = Object.entries(fused.weights).map(([m, w]) => `${m} ${w.toFixed(2)}`).join(", ");
      line = `Voice + words: ${fused.emotion} (${pct(fused.confidence)}; weights ${weights})`;
      if (fused.conflict) line += " · the voice and the words disagree";
    }
    $("fused-line").textContent = line;
  }

  window.emovoxWords = { renderTranscript };
  document.addEventListener("DOMContentLoaded", () => {
    const form = $("text-form");
    if (form) form.addEventListener("submit", (event) => { event.preventDefault(); analyzeText(); });
  });
})();
