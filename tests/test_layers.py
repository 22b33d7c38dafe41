"""The package's layers (docs/architecture.md): the import-linter contracts in pyproject hold, there is
no import cycle anywhere (imports inside functions count), and models/ never imports a front end."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def module_graph() -> dict[str, set[str]]:
    """emovox module -> the emovox modules it imports, at the top or inside a function (an
    ``if TYPE_CHECKING:`` block is no import at run time and does not count)."""
    def name_of(path: Path) -> str:
        parts = ("emovox", *path.relative_to(SRC).with_suffix("").parts)
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    paths = {name_of(p): p for p in SRC.rglob("*.py")}

    def module(name: str) -> str | None:  # emovox.io.audio.load_audio -> emovox.io.audio
        while name not in paths and "." in name:
            name = name.rsplit(".", 1)[0]
        return name if name in paths else None

    graph = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        hidden = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                  and "TYPE_CHECKING" in ast.unparse(block.test) for stmt in block.body for n in ast.walk(stmt)}
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(tree):
            if id(node) in hidden:
                continue
            if isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package if node.level else ""
                target = ".".join(x for x in (base, node.module) if x)
                found.update(module(f"{target}.{a.name}") for a in node.names)
            elif isinstance(node, ast.Import):
                found.update(module(a.name) for a in node.names)
        graph[name] = {m for m in found if m and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that reach each other through imports (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_lazy_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_in_the_package():
    graph = module_graph()
    assert "emovox.analysis.analyze" in graph["emovox"]  # function-level imports are seen
    assert cycles(graph) == []


def test_the_voice_recognizer_knows_audio_only():
    graph = module_graph()
    assert not {m for m in graph["emovox.recognizers.voice"]
                if m.startswith(("emovox.analysis", "emovox.recognizers.words", "emovox.io.vision"))}


@pytest.mark.skipif(importlib.util.find_spec("importlinter") is None,
                    reason="import-linter is not installed (pip install -e '.[dev]')")
def test_import_linter_contracts_hold():
    """`lint-imports` with the contracts of pyproject.toml ([tool.importlinter]) on this checkout."""
    root = SRC.parents[1]
    out = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"],
                         cwd=root, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(SRC.parent)})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_the_readme_import_paths_still_work():
    from emovox.fusion import fuse
    from emovox.media_timeline import build_media_timeline
    from emovox.text import load_text, normalise
    from emovox.transcribe import window_seconds

    assert fuse.__module__ == "emovox.analysis.fusion"
    assert build_media_timeline.__module__ == "emovox.analysis.media_timeline"
    assert (load_text.__module__, normalise("caf\u00e9  ok")) == ("emovox.io.text", "caf\u00e9 ok")
    assert window_seconds(16_000) == 15
