"""Timeline plots (PNG) with matplotlib's Agg canvas; needs the ``plot`` extra.

The top panel stacks each emotion's probability over time (steps of about one hop; zero outside
speech) with speech regions shaded; the strip below shows the smoothed segments.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from ..errors import require
from ..labels import emotion_info

if TYPE_CHECKING:
    from .timeline import Timeline


def plot_timeline(
    tl: Timeline, path: str | os.PathLike, *, width: float = 12.0, height: float = 4.5, dpi: int = 120
) -> None:
    """Write ``tl`` as a PNG to ``path``.

    >>> # plot_timeline(model.timeline("call.mp3"), "call.png")
    """
    require("matplotlib", "plot", "plotting a timeline")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ax, strip = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [4, 1]})
    regions = tl.speech_regions
    for start, end in regions:
        ax.axvspan(start, end, color="#e5e7eb", alpha=0.6, lw=0, zorder=0)
    strip.broken_barh([(a, b - a) for a, b in regions], (1.1, 0.8), color="#9ca3af")
    x, ys = _stair(tl.steps, tl.step_scores, tl.duration_s)
    colors = [emotion_info(k).color for k in tl.labels]
    names = [emotion_info(k).label for k in tl.labels]
    if ys.size:
        ax.stackplot(x, ys, colors=colors, labels=names, alpha=0.85, zorder=2)
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.set_xlim(0, max(tl.duration_s, 1e-3))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    ax.set_title(f"{tl.file or 'audio'}  ({tl.model})", fontsize="medium", loc="left")
    for s in tl.segments:
        if s.emotion is not None:
            strip.broken_barh([(s.start, s.duration)], (0.1, 0.8), color=emotion_info(s.emotion).color)
    strip.set_ylim(0, 2)
    strip.set_yticks([0.5, 1.5], ["emotion", "speech"], fontsize="small")
    if tl.duration_s >= 60:
        strip.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _clock(v)))
    strip.set_xlabel("time" if tl.duration_s >= 60 else "time (s)")
    fig.tight_layout()
    fig.savefig(os.fspath(path), format="png")


def _stair(steps: np.ndarray, scores: np.ndarray, duration: float) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-constant curves: each step's value held across it, zero between regions."""
    xs: list[float] = [0.0]
    rows: list[np.ndarray] = [np.zeros(scores.shape[1] if scores.ndim == 2 else 0)]
    zero = rows[0]
    for (a, b), p in zip(steps, np.nan_to_num(scores), strict=True):
        if a > xs[-1] + 1e-9:  # a gap: drop to zero until this step
            xs += [xs[-1], a]
            rows += [zero, zero]
        xs += [a, b]
        rows += [p, p]
    xs += [xs[-1], max(duration, xs[-1])]
    rows += [zero, zero]
    return np.asarray(xs), np.asarray(rows).T


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
