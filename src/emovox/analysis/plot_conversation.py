"""Conversation plots (PNG) with matplotlib's Agg canvas; needs the ``plot`` extra.

One lane per speaker ("S1" at the top); each segment is a bar coloured by its emotion, its height
the model's confidence; a legend names the emotions present.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..errors import require
from ..labels import emotion_info

if TYPE_CHECKING:
    from .conversation import Conversation


def plot_conversation(
    conv: Conversation, path: str | os.PathLike, *, width: float = 12.0, height: float | None = None, dpi: int = 120
) -> None:
    """Write ``conv`` as a PNG to ``path``.

    >>> # plot_conversation(model.conversation("call.wav"), "call.png")
    """
    require("matplotlib", "plot", "plotting a conversation")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    names = conv.speaker_names
    fig = Figure(figsize=(width, height or 1.2 + 0.8 * max(1, len(names))), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    lane = {name: len(names) - 1 - i for i, name in enumerate(names)}
    for t in conv.turns:
        ax.broken_barh([(t.start, t.end - t.start)], (lane[t.speaker] + 0.05, 0.9), color="#e5e7eb", lw=0)
    seen: dict[str, str] = {}
    for s in conv.segments:
        if s.emotion is None:
            continue
        info = emotion_info(s.emotion)
        seen.setdefault(s.emotion, info.color)
        h = 0.9 * max(0.15, s.confidence)
        ax.broken_barh([(s.start, s.duration)], (lane[s.speaker] + 0.05, h), color=info.color, lw=0.5,
                       edgecolor="white")
    ax.set_yticks([lane[n] + 0.5 for n in names], names)
    ax.set_ylim(0, max(1, len(names)))
    ax.set_xlim(0, max(conv.duration_s, 1e-3))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{int(x // 60)}:{int(x % 60):02d}"))
    ax.set_xlabel("time")
    ax.set_title(f"{conv.file or 'audio'}: {len(names)} speaker(s), {conv.model}", loc="left", fontsize=10)
    if seen:
        ax.legend(handles=[Patch(color=c, label=emotion_info(k).label) for k, c in seen.items()],
                  loc="upper right", fontsize=8, ncol=min(len(seen), 7), frameon=False, bbox_to_anchor=(1, 1.18))
    fig.tight_layout()
    fig.savefig(os.fspath(path))
