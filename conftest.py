"""For the doctests over src/emovox (``--doctest-modules`` in pyproject's pytest settings): a module
whose import needs an extra that is not installed is left out, so a light install still collects.
(The tests' own fixtures are in tests/conftest.py.)"""

from __future__ import annotations

import importlib

NEEDS = {  # files (globs from the repo root) -> what importing them needs
    "src/emovox/server/*.py": ("fastapi", "pydantic_settings", "prometheus_client", "anyio"),
    "src/emovox/training/text_minilm.py": ("torch",),
}


def _importable(modules: tuple[str, ...]) -> bool:
    try:
        for module in modules:
            importlib.import_module(module)
    except ImportError:
        return False
    return True


collect_ignore_glob = [files for files, modules in NEEDS.items() if not _importable(modules)]
