// emovox page, what the timeline and conversation views share: a results section for an analyzed
// recording (shown in place of the single-clip results), its emotion names, its summary line, its
// chart's time labels, its table rows and its clock.
"use strict";

window.emovoxSegments = {
  // A view over the section `${view}-results`: hide(), and render(body), which opens the section with
  // the line summary(body, meta), runs each draw(body, meta) and brings the section into view.
  view(view, summary, draws) {
    const shared = window.emovoxSegments;
    return {
      hide() {
        shared.hide(view);
      },

      render(body) {
        const meta = shared.open(view, body, (meta) => summary(body, meta));
        for (const draw of draws) draw(body, meta);
        shared.bringIntoView(view);
      },
    };
  },

  // Hides the section `${view}-results`, if the page has it.
  hide(view) {
    const section = document.getElementById(`${view}-results`);
    if (section) section.hidden = true;
  },

  // Shows the section `${view}-results` instead of the single-clip results, names the file, writes
  // the summary line, and returns how to name and colour each of the body's emotions.
  open(view, body, summary) {
    document.getElementById("results").hidden = true;
    document.getElementById(`${view}-results`).hidden = false;
    document.getElementById(`${view}-file`).textContent = body.file ? `· ${body.file}` : "";
    const meta = (name) => body.display[name] || { label: name, emoji: "🔹", color: "#9ca3af" };
    document.getElementById(`${view}-summary`).textContent = summary(meta);
    return meta;
  },

  // Scrolls the section `${view}-results` into view once it is drawn.
  bringIntoView(view) {
    if (window.emovoxBringIntoView) {
      window.emovoxBringIntoView(document.getElementById(`${view}-results`), document.getElementById(`${view}-title`));
    }
  },

  // "Neutral 60%, Happy 40%": the emotions that have a share, largest first.
  shares(shares, meta) {
    return Object.entries(shares).filter((kv) => kv[1] > 0).sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${meta(k).label} ${(v * 100).toFixed(0)}%`).join(", ");
  },

  // The page's muted text colour, for a chart's labels.
  muted() {
    return getComputedStyle(document.documentElement).getPropertyValue("--muted").trim() || "#475569";
  },

  // Labels a chart's time axis: "0:00" at x `left`, the recording's length at the right edge.
  timeLabels(g, c, left, duration) {
    g.fillStyle = window.emovoxSegments.muted();
    g.font = "12px system-ui, sans-serif";
    g.fillText("0:00", left, c.height - 3);
    const end = window.emovoxSegments.clock(duration);
    g.fillText(end, c.width - g.measureText(end).width - 2, c.height - 3);
  },

  // Appends the row `tr` to `tbody`, a cell per text.
  addRow(tbody, tr, cells) {
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    tbody.append(tr);
  },

  // 75.25 -> "1:15.3"
  clock(t) {
    const m = Math.floor(t / 60);
    const s = t - m * 60;
    return `${m}:${s.toFixed(1).padStart(4, "0")}`;
  },
};
