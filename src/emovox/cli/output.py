"""What every CLI command prints for an input it could not analyse: one stderr line, and with
``--json`` one JSON line in the results stream, so a failed input is never silently missing."""

from __future__ import annotations

import json
import sys


def report_error(name: str, exc: Exception, as_json: bool, *, key: str = "file", value: str | None = None) -> None:
    """``emovox: error: NAME: EXC`` on stderr; with ``as_json`` also ``{key: value or name, "error": ...}``."""
    print(f"emovox: error: {name}: {exc}", file=sys.stderr)
    if as_json:
        print(json.dumps({key: name if value is None else value, "error": str(exc)}, ensure_ascii=False),
              flush=True)
