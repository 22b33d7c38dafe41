// emovox page, timeline view: an uploaded recording analyzed with /v1/analyze?timeline=true.
// Draws the segments (height = confidence, colour = emotion, gaps = silence) and lists them.
"use strict";

window.emovoxTimeline = window.emovoxSegments.view("timeline", (body, meta) => {
  const s = body.summary;
  return s.dominant
    ? `${meta(s.dominant).emoji} Mostly ${meta(s.dominant).label} · ${s.speech_s.toFixed(1)} s of speech in ` +
      `${body.duration_s.toFixed(1)} s · ${s.changes} change(s) · ${window.emovoxSegments.shares(s.shares, meta)}`
    : `No speech found in ${body.duration_s.toFixed(1)} s, so no emotion is given.`;
}, [drawSegments, listSegments]);

function drawSegments(body, meta) {
  const c = document.getElementById("timeline-chart");
  const g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  const x = (t) => (t / Math.max(body.duration_s, 1e-3)) * c.width;
  for (const seg of body.segments) {
    if (!seg.emotion) continue;
    const h = Math.max(0.1, seg.confidence) * (c.height - 16);
    g.fillStyle = meta(seg.emotion).color;
    g.fillRect(x(seg.start), c.height - 16 - h, Math.max(1, x(seg.end) - x(seg.start)), h);
  }
  window.emovoxSegments.timeLabels(g, c, 2, body.duration_s);
  c.dataset.segments = String(body.segments.length);
}

function listSegments(body, meta) {
  const { clock, addRow } = window.emovoxSegments;
  const tbody = document.getElementById("timeline-segments");
  tbody.replaceChildren();
  for (const seg of body.segments) {
    const tr = document.createElement("tr");
    tr.dataset.emotion = seg.emotion || "";
    if (!seg.emotion) tr.className = "silence";
    const m = seg.emotion ? meta(seg.emotion) : null;
    const cells = [clock(seg.start), clock(seg.end),
      m ? `${m.emoji} ${m.label}` : (seg.speech ? "no emotion" : "silence"),
      m ? `${(seg.confidence * 100).toFixed(0)}%` : ""];
    addRow(tbody, tr, cells);
  }
}
