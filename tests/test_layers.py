"""The package's layers: models/ never imports a front end, and no two model modules import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import emovox

SRC = Path(emovox.__file__).parent
FRONT_ENDS = ("emovox.batch", "emovox.cli", "emovox.server", "emovox.training")


def imports(path: Path) -> set[str]:
    """Every emovox module ``path`` imports, at the top or inside a function, as absolute names."""
    package = ".".join(("emovox", *path.relative_to(SRC).with_suffix("").parts[:-1]))
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(x for x in (base, node.module) if x)
            found.update(f"{module}.{a.name}" for a in node.names)
            found.add(module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {name for name in found if name.startswith("emovox")}


def test_models_import_no_front_end():
    offending = {
        str(path.relative_to(SRC)): sorted(m for m in imports(path) if m.startswith(FRONT_ENDS))
        for path in sorted((SRC / "models").glob("*.py"))
    }
    assert {k: v for k, v in offending.items() if v} == {}


def test_no_import_cycles_between_model_modules():
    graph = {f"emovox.models.{p.stem}": {m for m in imports(p) if m.startswith("emovox.models.")}
             for p in (SRC / "models").glob("*.py")}
    cycles = sorted((a, b) for a in graph for b in graph[a] if b in graph and a in graph[b] and a < b)
    assert cycles == []
