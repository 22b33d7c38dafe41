"""The `emovox` command: thin adapters over the Python API, one module per subcommand.

Library errors become one line on stderr and a non-zero exit code; no tracebacks for user mistakes.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from .. import __version__
from ..errors import EmovoxError

# subcommand -> module; each module defines register(subparsers) and sets a `func` default.
COMMANDS = {
    "analyze": "emovox.cli.analyze",
    "batch": "emovox.cli.batch",
    "models": "emovox.cli.models",
    "prepare": "emovox.cli.prepare",
    "train": "emovox.cli.train",
    "evaluate": "emovox.cli.evaluate",
    "serve": "emovox.cli.serve",
    "text": "emovox.cli.text",
    "train-text": "emovox.cli.train_text",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emovox",
        description="Speech emotion recognition: emotions, acoustic descriptors and timelines "
        "from voice recordings.",
    )
    parser.add_argument("--version", action="version", version=f"emovox {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMANDS.values():
        if importlib.util.find_spec(module_name) is not None:
            importlib.import_module(module_name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except EmovoxError as exc:
        print(f"emovox: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("emovox: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
