"""Defaults and option checks have one home (emovox.defaults): no front end restates them."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import emovox
from emovox import defaults
from emovox.errors import OptionError

SRC = Path(emovox.__file__).parent
OPTIONS = {"max_duration_s", "window_s", "hop_s"}


def _literal_defaults(tree: ast.AST):
    """(line, name, value) for every parameter or dataclass field in OPTIONS given a number literal."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            positional = args.posonlyargs + args.args
            pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
            for arg, default in pairs:
                if arg.arg in OPTIONS and isinstance(default, ast.Constant) and default.value is not None:
                    yield node.lineno, arg.arg, default.value
        elif (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
              and node.target.id in OPTIONS and isinstance(node.value, ast.Constant)
              and node.value.value is not None):
            yield node.lineno, node.target.id, node.value.value


def test_no_module_restates_a_default_window_hop_or_maximum_duration():
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "defaults.py" or "training" in path.parts:
            continue
        for line, name, value in _literal_defaults(ast.parse(path.read_text(encoding="utf-8"))):
            found.append(f"{path.relative_to(SRC)}:{line} {name}={value}")
    assert found == []


def test_every_front_end_offers_the_same_defaults():
    from emovox.analysis.analyze import Analyzer
    from emovox.analysis.live import LiveSession
    from emovox.batch import run_batch
    from emovox.batch.worker import ModelOptions
    from emovox.recognizers.voice import Recognizer

    def default(fn, name):
        return inspect.signature(fn).parameters[name].default

    assert default(emovox.load_model, "max_duration_s") == defaults.MAX_DURATION_S
    assert default(Recognizer, "max_duration_s") == defaults.MAX_DURATION_S
    assert default(run_batch, "max_duration_s") == ModelOptions().max_duration_s == defaults.MAX_DURATION_S
    assert (default(Analyzer.timeline, "window_s"), default(Analyzer.timeline, "hop_s")) == (
        defaults.TIMELINE_WINDOW_S, defaults.TIMELINE_HOP_S)
    for fn in (Analyzer.stream, LiveSession):
        assert (default(fn, "window_s"), default(fn, "hop_s")) == (defaults.LIVE_WINDOW_S, defaults.LIVE_HOP_S)


def test_the_option_checks_say_what_is_wrong_in_the_callers_words():
    with pytest.raises(OptionError, match=r"^--hop \(2\) must not exceed --window \(1\)"):
        defaults.check_window(1, 2, names=("--window", "--hop"))
    for window, hop in ((0, 1), (1, -1), (float("nan"), 1), ("3", 1), (True, 1)):
        with pytest.raises(OptionError, match="must be positive numbers of seconds"):
            defaults.check_window(window, hop)
    for bad in (0, -1, float("inf"), "600", True):
        with pytest.raises(OptionError, match="max_duration_s must be a positive number"):
            defaults.check_max_duration(bad)
    assert defaults.check_max_duration(None) is None and defaults.check_max_duration(1) == 1
    with pytest.raises(ValueError, match="batch_size must be a whole number >= 1, got 0"):
        defaults.check_batch_size(0)
