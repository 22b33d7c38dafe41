"""The path the README documents for ``emovox.io.text``: its public names, so old imports keep working.

New code imports ``emovox.io.text`` (see docs/architecture.md).
"""

from .io.text import *  # noqa: F403
