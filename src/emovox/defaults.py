"""Every default a front end offers, in one place: the Python API, the CLI, batch, the HTTP service
and the live stream import these instead of writing the numbers again.

>>> TIMELINE_WINDOW_S, TIMELINE_HOP_S, LIVE_WINDOW_S, LIVE_HOP_S
(3.0, 1.5, 3.0, 1.0)
"""

from __future__ import annotations

TIMELINE_WINDOW_S = 3.0
"""Seconds of audio per classified window: about one phrase, what clip-level models are trained on."""
TIMELINE_HOP_S = 1.5
"""Seconds between timeline windows (50 % overlap). Model time grows with windows per second of
speech: at hop 1 s, 30 minutes of continuous speech is 1,800 windows, ~18 s with a 10 ms/window
encoder, over the 0.01 real-time target on its own; at 1.5 s it is 1,200 (~12 s), and windows are
only placed inside speech, so pauses cost nothing. ``hop_s=1.0`` gives finer steps when time allows."""

LIVE_WINDOW_S = 3.0
"""Seconds of audio behind each live result."""
LIVE_HOP_S = 1.0
"""Seconds of audio between live results: one a second feels live."""
