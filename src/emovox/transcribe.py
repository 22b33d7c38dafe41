"""The path the README documents for ``emovox.analysis.transcribe``: its public names, so old imports keep working.

New code imports ``emovox.analysis.transcribe`` (see docs/architecture.md).
"""

from .analysis.transcribe import *  # noqa: F403
