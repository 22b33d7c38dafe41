"""`emovox models`: what models exist, which is default, where each comes from."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("models", help="list the models emovox can use")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..models.registry import REGISTRY, is_installed, spec_path

    rows = [
        {**s.to_dict(), "path": spec_path(s), "installed": is_installed(s)} for s in REGISTRY.values()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = Table(title="emovox models")
    for col in ("name", "default", "backend", "where", "available offline", "description"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["name"], "yes" if r["default"] else "", r["backend"], r["location"],
            "yes" if r["installed"] else "no", r["description"],
        )
    Console().print(table)
    print("Also accepted by --model: a local model folder, or any Hugging Face hub id (owner/name).")
    return 0
