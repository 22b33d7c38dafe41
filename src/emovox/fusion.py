"""The path the README documents for ``emovox.analysis.fusion``: its public names, so old imports keep working.

New code imports ``emovox.analysis.fusion`` (see docs/architecture.md).
"""

from .analysis.fusion import *  # noqa: F403
