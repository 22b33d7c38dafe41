// emovox page, conversation view: /v1/analyze?timeline=true&speakers=true.
// One lane per speaker (height = confidence, colour = emotion), a card per speaker, the segments.
"use strict";

window.emovoxConversation = {
  hide() {
    const section = document.getElementById("conversation-results");
    if (section) section.hidden = true;
  },

  render(body) {
    const section = document.getElementById("conversation-results");
    document.getElementById("results").hidden = true;
    section.hidden = false;
    document.getElementById("conversation-file").textContent = body.file ? `· ${body.file}` : "";
    const meta = (name) => body.display[name] || { label: name, emoji: "🔹", color: "#9ca3af" };
    const s = body.summary;
    document.getElementById("conversation-summary").textContent = s.dominant
      ? `${body.num_speakers} speaker(s) · ${meta(s.dominant).emoji} Mostly ${meta(s.dominant).label} · ` +
        `${s.speech_s.toFixed(1)} s of speech in ${body.duration_s.toFixed(1)} s · ${s.changes} change(s)`
      : `No speech found in ${body.duration_s.toFixed(1)} s, so no speakers and no emotion are given.`;
    drawLanes(body, meta);
    speakerCards(body, meta);
    listTurns(body, meta);
    if (window.emovoxBringIntoView) {
      window.emovoxBringIntoView(section, document.getElementById("conversation-title"));
    }
  },
};

function drawLanes(body, meta) {
  const c = document.getElementById("conversation-chart");
  const names = body.speakers.map((p) => p.speaker);
  const lane = 40;
  c.height = Math.max(1, names.length) * lane + 16;
  const g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  const left = 36;
  const x = (t) => left + (t / Math.max(body.duration_s, 1e-3)) * (c.width - left);
  const muted = getComputedStyle(document.documentElement).getPropertyValue("--muted").trim() || "#475569";
  g.font = "12px system-ui, sans-serif";
  names.forEach((name, i) => {
    g.fillStyle = muted;
    g.fillText(name, 2, i * lane + lane / 2 + 4);
  });
  for (const seg of body.segments) {
    if (!seg.emotion) continue;
    const i = names.indexOf(seg.speaker);
    const h = Math.max(0.15, seg.confidence) * (lane - 8);
    g.fillStyle = meta(seg.emotion).color;
    g.fillRect(x(seg.start_s), i * lane + (lane - 4 - h), Math.max(1, x(seg.end_s) - x(seg.start_s) - 1), h);
  }
  g.fillStyle = muted;
  g.fillText("0:00", left, c.height - 3);
  const end = conversationClock(body.duration_s);
  g.fillText(end, c.width - g.measureText(end).width - 2, c.height - 3);
  c.dataset.lanes = String(names.length);
  c.dataset.segments = String(body.segments.length);
}

function speakerCards(body, meta) {
  const box = document.getElementById("conversation-speakers");
  box.replaceChildren();
  for (const p of body.speakers) {
    const card = document.createElement("article");
    card.className = "speaker-card";
    card.dataset.speaker = p.speaker;
    card.dataset.dominant = p.dominant || "";
    const title = document.createElement("h3");
    const m = p.dominant ? meta(p.dominant) : null;
    title.textContent = m ? `${p.speaker} · ${m.emoji} ${m.label}` : `${p.speaker} · no emotion`;
    if (m) card.style.setProperty("--speaker-color", m.color);
    const facts = document.createElement("p");
    const shares = Object.entries(p.shares).filter((kv) => kv[1] > 0).sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${meta(k).label} ${(v * 100).toFixed(0)}%`).join(", ");
    facts.textContent = `${p.speech_s.toFixed(1)} s in ${p.turns} turn(s) · ${p.changes} change(s)` +
      (shares ? ` · ${shares}` : "") + (p.adapted && p.adapted.applied !== false ? " · adapted to this speaker" : "");
    card.append(title, facts);
    box.append(card);
  }
}

function listTurns(body, meta) {
  const tbody = document.getElementById("conversation-segments");
  tbody.replaceChildren();
  for (const seg of body.segments) {
    const tr = document.createElement("tr");
    tr.dataset.speaker = seg.speaker;
    tr.dataset.emotion = seg.emotion || "";
    const m = seg.emotion ? meta(seg.emotion) : null;
    const cells = [seg.speaker, conversationClock(seg.start_s), conversationClock(seg.end_s), m ? `${m.emoji} ${m.label}` : "no emotion",
      m ? `${(seg.confidence * 100).toFixed(0)}%` : ""];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    tbody.append(tr);
  }
}

function conversationClock(t) {
  const m = Math.floor(t / 60);
  const s = t - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, "0")}`;
}
