"""The path the README documents for ``emovox.analysis.media_timeline``: its public names, so old imports keep working.

New code imports ``emovox.analysis.media_timeline`` (see docs/architecture.md).
"""

from .analysis.media_timeline import *  # noqa: F403
