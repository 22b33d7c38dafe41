// emovox page, conversation view: /v1/analyze?timeline=true&speakers=true.
// One lane per speaker (height = confidence, colour = emotion), a card per speaker, the segments.
"use strict";

window.emovoxConversation = window.emovoxSegments.view("conversation", (body, meta) => {
  const s = body.summary;
  return s.dominant
    ? `${body.num_speakers} speaker(s) · ${meta(s.dominant).emoji} Mostly ${meta(s.dominant).label} · ` +
      `${s.speech_s.toFixed(1)} s of speech in ${body.duration_s.toFixed(1)} s · ${s.changes} change(s)`
    : `No speech found in ${body.duration_s.toFixed(1)} s, so no speakers and no emotion are given.`;
}, [drawLanes, speakerCards, listTurns]);

function drawLanes(body, meta) {
  const c = document.getElementById("conversation-chart");
  const names = body.speakers.map((p) => p.speaker);
  const lane = 40;
  c.height = Math.max(1, names.length) * lane + 16;
  const g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  const left = 36;
  const x = (t) => left + (t / Math.max(body.duration_s, 1e-3)) * (c.width - left);
  const muted = window.emovoxSegments.muted();
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
  window.emovoxSegments.timeLabels(g, c, left, body.duration_s);
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
    const shares = window.emovoxSegments.shares(p.shares, meta);
    facts.textContent = `${p.speech_s.toFixed(1)} s in ${p.turns} turn(s) · ${p.changes} change(s)` +
      (shares ? ` · ${shares}` : "") + (p.adapted && p.adapted.applied !== false ? " · adapted to this speaker" : "");
    card.append(title, facts);
    box.append(card);
  }
}

function listTurns(body, meta) {
  const { clock, addRow } = window.emovoxSegments;
  const tbody = document.getElementById("conversation-segments");
  tbody.replaceChildren();
  for (const seg of body.segments) {
    const tr = document.createElement("tr");
    tr.dataset.speaker = seg.speaker;
    tr.dataset.emotion = seg.emotion || "";
    const m = seg.emotion ? meta(seg.emotion) : null;
    const cells = [seg.speaker, clock(seg.start_s), clock(seg.end_s), m ? `${m.emoji} ${m.label}` : "no emotion",
      m ? `${(seg.confidence * 100).toFixed(0)}%` : ""];
    addRow(tbody, tr, cells);
  }
}
