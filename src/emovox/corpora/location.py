"""Where the real corpora live on this machine (tests and benchmarks read them; the repo never holds them)."""

from __future__ import annotations

import os
from pathlib import Path


def corpora_root(start: str | os.PathLike | None = None) -> Path:
    """``$EMOVOX_CORPORA``, else the nearest ``shared/corpora`` in ``start`` or a folder above it.

    ``start`` defaults to the current folder; without a match the answer is ``../shared/corpora``
    relative to it (which may not exist: callers check and skip with a reason).
    """
    if os.environ.get("EMOVOX_CORPORA"):
        return Path(os.environ["EMOVOX_CORPORA"])
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "shared" / "corpora").is_dir():
            return folder / "shared" / "corpora"
    return here.parent / "shared" / "corpora"
