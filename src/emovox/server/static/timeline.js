// emovox page, timeline view: an uploaded recording analyzed with /v1/analyze?timeline=true.
// Draws the segments (height = confidence, colour = emotion, gaps = silence) and lists them.
"use strict";

window.emovoxTimeline = {
  hide() {
    const section = document.getElementById("timeline-results");
    if (section) section.hidden = true;
  },

  render(body) {
    const section = document.getElementById("timeline-results");
    document.getElementById("results").hidden = true;
    section.hidden = false;
    document.getElementById("timeline-file").textContent = body.file ? `· ${body.file}` : "";
    const meta = (name) => body.display[name] || { label: name, emoji: "🔹", color: "#9ca3af" };
    const s = body.summary;
    const shares = Object.entries(s.shares).filter((kv) => kv[1] > 0).sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${meta(k).label} ${(v * 100).toFixed(0)}%`).join(", ");
    document.getElementById("timeline-summary").textContent = s.dominant
      ? `${meta(s.dominant).emoji} Mostly ${meta(s.dominant).label} · ${s.speech_s.toFixed(1)} s of speech in ` +
        `${body.duration_s.toFixed(1)} s · ${s.changes} change(s) · ${shares}`
      : `No speech found in ${body.duration_s.toFixed(1)} s, so no emotion is given.`;
    drawSegments(body, meta);
    listSegments(body, meta);
    if (window.emovoxBringIntoView) window.emovoxBringIntoView(section, document.getElementById("timeline-title"));
  },
};

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
  g.fillStyle = getComputedStyle(document.documentElement).getPropertyValue("--muted").trim() || "#475569";
  g.font = "12px system-ui, sans-serif";
  g.fillText("0:00", 2, c.height - 3);
  const end = clock(body.duration_s);
  g.fillText(end, c.width - g.measureText(end).width - 2, c.height - 3);
  c.dataset.segments = String(body.segments.length);
}

function listSegments(body, meta) {
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
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    tbody.append(tr);
  }
}

function clock(t) {
  const m = Math.floor(t / 60);
  const s = t - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, "0")}`;
}
