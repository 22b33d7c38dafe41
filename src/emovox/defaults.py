"""Every default a front end offers and the checks of those options, in one place: the Python API,
the CLI, batch, the HTTP service and the live stream import these instead of restating them.

>>> TIMELINE_WINDOW_S, TIMELINE_HOP_S, LIVE_WINDOW_S, LIVE_HOP_S, MAX_DURATION_S
(3.0, 1.5, 3.0, 1.0, 600.0)
>>> check_window(2.0, 3.0)
Traceback (most recent call last):
...
emovox.errors.OptionError: hop_s (3) must not exceed window_s (2): audio would be skipped
"""

from __future__ import annotations

from .errors import OptionError

MAX_DURATION_S = 600.0
"""Longest recording analysed as one clip (``predict``, ``emovox analyze``/``batch``, the HTTP
service); ``timeline`` has no limit unless given one."""

TIMELINE_WINDOW_S = 3.0
"""Seconds of audio per classified window: about one phrase, what clip-level models are trained on."""
TIMELINE_HOP_S = 1.5
"""Seconds between timeline windows (50 % overlap). Model time grows with windows per second of
speech: at hop 1 s, 30 minutes of continuous speech is 1,800 windows, ~18 s with a 10 ms/window
encoder, over the 0.01 real-time target on its own; at 1.5 s it is 1,200 (~12 s), and windows are
only placed inside speech, so pauses cost nothing. ``hop_s=1.0`` gives finer steps when time allows."""
MAX_WINDOW_S = 30.0
"""Longest window or hop the HTTP service and the live stream accept (the models' input limit)."""

LIVE_WINDOW_S = 3.0
"""Seconds of audio behind each live result."""
LIVE_HOP_S = 1.0
"""Seconds of audio between live results: one a second feels live."""
LIVE_LIMITS = {"window_s": (0.5, MAX_WINDOW_S), "hop_s": (0.1, MAX_WINDOW_S)}
"""The live stream's accepted ranges, in seconds."""

MIN_REFERENCE_CLIPS = 20
"""Fewer reference clips than this give a mean too noisy to adapt to; ``Recognizer.adapt`` refuses."""
ADAPT_CLIPS = 50
"""Reference files drawn at random for ``--adapt-to`` (``emovox analyze``, ``emovox serve``)."""

MAX_TEXT_LENGTH = 5000
"""Longest text analysed, in characters (``MAX_TEXT_LENGTH`` / ``EMOVOX_MAX_TEXT_LENGTH`` override it)."""


def check_window(window_s: float, hop_s: float, names: tuple[str, str] = ("window_s", "hop_s")) -> None:
    """Raise OptionError unless both are positive and the hop does not skip audio (hop <= window).

    ``names``: how the caller's user spells the two options (``("--window", "--hop")`` in the CLI).
    """
    window_name, hop_name = names
    if not (_number(window_s) and _number(hop_s) and window_s > 0 and hop_s > 0):
        raise OptionError(f"{window_name} and {hop_name} must be positive numbers of seconds, "
                          f"got {window_name}={window_s!r}, {hop_name}={hop_s!r}")
    if hop_s > window_s:
        raise OptionError(f"{hop_name} ({hop_s:g}) must not exceed {window_name} ({window_s:g}): "
                          "audio would be skipped")


def check_max_duration(max_duration_s: float | None) -> float | None:
    """``max_duration_s`` if it is None (no limit) or a positive number of seconds, else OptionError.

    >>> check_max_duration(0)
    Traceback (most recent call last):
    ...
    emovox.errors.OptionError: max_duration_s must be a positive number of seconds or None (no limit), got 0
    """
    if max_duration_s is not None and not (_number(max_duration_s) and max_duration_s > 0):
        raise OptionError(
            f"max_duration_s must be a positive number of seconds or None (no limit), got {max_duration_s!r}"
        )
    return max_duration_s


def check_batch_size(batch_size: int) -> int:
    """``batch_size`` if it is a whole number >= 1, else OptionError."""
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise OptionError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
    return batch_size


def _number(x) -> bool:
    import math

    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
