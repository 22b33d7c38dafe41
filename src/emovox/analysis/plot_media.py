"""A video's emotion timeline as a PNG: three lanes (voice, face, fused) over time; needs ``plot``.

Each lane stacks the emotions' probabilities (colours from ``emovox.labels``, as in ``emovox.analysis.plot``):
voice per timeline step (zero outside speech), face per sampled frame (all faces pooled; zero where no
face was seen), fused per span.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from ..errors import require
from ..labels import emotion_info
from .plot import _clock, _stair

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .media_timeline import MediaTimeline

LANES = ("voice", "face", "fused")


def plot_media_timeline(
    mt: MediaTimeline, path: str | os.PathLike, *, width: float = 12.0, height: float = 6.0, dpi: int = 120
) -> Figure:
    """Write ``mt`` as a PNG to ``path`` and return the figure (one axes per lane)."""
    require("matplotlib", "plot", "plotting a timeline")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter


    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(LANES), 1, sharex=True)
    labels = mt.labels
    lanes = {
        "voice": _voice(mt, labels),
        "face": _face_frames(mt, labels),
        "fused": lane_steps(mt, "fused", labels),
    }
    colors = [emotion_info(k).color for k in labels]
    names = [emotion_info(k).label for k in labels]
    for ax, lane in zip(axes, LANES, strict=True):
        for s in mt.spans:
            if s.speech:
                ax.axvspan(s.start, s.end, color="#e5e7eb", alpha=0.6, lw=0, zorder=0)
        steps, scores = lanes[lane]
        x, ys = _stair(steps, scores, mt.duration_s)
        if ys.size and steps.size:
            ax.stackplot(x, ys, colors=colors, labels=names, alpha=0.85, zorder=2)
        ax.set_ylim(0, 1)
        ax.set_ylabel(lane)
        ax.set_xlim(0, max(mt.duration_s, 1e-3))
    axes[0].legend(*_legend(axes, names), loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small",
                   frameon=False)
    models = f"{mt.voice.model}, {mt.face_model}" if mt.voice is not None else mt.face_model
    axes[0].set_title(f"{mt.file or 'video'}  ({models})", fontsize="medium", loc="left")
    if mt.duration_s >= 60:
        axes[-1].xaxis.set_major_formatter(FuncFormatter(lambda v, _: _clock(v)))
    axes[-1].set_xlabel("time" if mt.duration_s >= 60 else "time (s)")
    fig.tight_layout()
    fig.savefig(os.fspath(path), format="png")
    return fig


def _legend(axes, names: list[str]):
    """Handles for every label (a lane may have drawn nothing)."""
    from matplotlib.patches import Patch

    handles = [Patch(color=emotion_info(n).color, label=n) for n in names]
    return handles, names


def _voice(mt: MediaTimeline, labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    if mt.voice is None or not len(mt.voice.steps):
        return np.zeros((0, 2)), np.zeros((0, len(labels)))
    own = list(mt.voice.labels)
    scores = np.nan_to_num(mt.voice.step_scores)
    cols = [scores[:, own.index(k)] if k in own else np.zeros(len(scores)) for k in labels]
    return mt.voice.steps, np.stack(cols, axis=1)


def _face_frames(mt: MediaTimeline, labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Each sampled frame with a face: the faces' mean scores, held for one frame interval."""
    by_t: dict[float, list] = {}
    for track in mt.tracks:
        for o in track.observations:
            by_t.setdefault(round(o.t or 0.0, 6), []).append([o.scores.get(k, 0.0) for k in labels])
    if not by_t:
        return np.zeros((0, 2)), np.zeros((0, len(labels)))
    ts = sorted(by_t)
    step = 1.0 / mt.fps
    ends = [nxt if nxt - t < 1.5 * step else t + step for t, nxt in zip(ts, ts[1:])]
    ends.append(max(ts[-1] + step, mt.duration_s) if mt.duration_s - ts[-1] < 1.5 * step else ts[-1] + step)
    steps = np.array(list(zip(ts, ends)))
    return steps, np.array([np.mean(by_t[t], axis=0) for t in ts])


def lane_steps(mt: MediaTimeline, lane: str, labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(steps [n, 2], scores [n, len(labels)]) of a lane for plotting: each span's scores held over it."""
    rows = [(s.start, s.end, getattr(s, lane)) for s in mt.spans if getattr(s, lane) is not None]
    steps = np.array([(a, b) for a, b, _ in rows], float).reshape(-1, 2)
    scores = np.array([[p.scores.get(k, 0.0) for k in labels] for _, _, p in rows], float)
    return steps, scores.reshape(-1, len(labels))
