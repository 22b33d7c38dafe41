"""In-domain research runs on the two text sets that may not be shipped: trained on each set's train
split, chosen on its dev split, scored once on its test split. Never shipped.

    python -m emovox.training.text research [--arch tfidf|minilm] [--sets dair-emotion meld]

The tweet set is research-only and MELD's repository GPL-3.0, so the models are written outside the
package (default ``~/.cache/emovox/text-research``) and a folder inside it is refused. Both sets keep
their own label names here (the tweets' six, with ``love`` apart from joy, as their papers score them).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import OptionError
from ..recognizers.words import DEFAULT_TEXT_MODEL
from .text_tfidf import LABELS, export, score_row, train

SETS = {
    "dair-emotion": ("sadness", "joy", "love", "anger", "fear", "surprise"),
    "meld": LABELS,
}
LICENCES = {
    "dair-emotion": "research only: trained on the dair-ai emotion tweets (educational and research use)",
    "meld": "GPL-3.0: trained on MELD (declare-lab/MELD repository, GPL-3.0; Friends transcripts)",
}


def default_dir() -> Path:
    return Path.home() / ".cache" / "emovox" / "text-research"


def check_outside_package(folder: Path) -> Path:
    folder = Path(folder).resolve()
    package = DEFAULT_TEXT_MODEL.resolve().parents[1]
    if folder == package or package in folder.parents:
        raise OptionError(f"research models may not be written inside the emovox package ({package}); "
                          "choose a folder outside it")
    return folder


def run(root: Path, arch: str = "tfidf", sets=tuple(SETS), out: Path | None = None, seed: int = 0,
        log=print, **minilm) -> list[dict]:
    """Train, choose on dev and test once for each set; returns the table's rows."""
    from ..recognizers.words import load_text_model

    out = check_outside_package(out or default_dir())
    rows = []
    for name in sets:
        if name not in SETS:
            raise OptionError(f"unknown research set {name!r}; known: {', '.join(SETS)}")
        labels, folder = SETS[name], out / f"{name}-{arch}"
        meta = {"name": f"research-{name}-{arch}", "version": "0", "licence": LICENCES[name]}
        log(f"== {name} ({arch}) -> {folder}")
        if arch == "tfidf":
            vec, clf, recipe = train(root, seed, log, corpus=name, labels=labels, native=True)
            export(vec, clf, folder, labels=labels, recipe=recipe, **meta)
            dev = recipe["dev_macro_f1"]
        else:
            from .text_minilm import run_train

            run_train(root, folder, labels, seed=seed, corpus=name, native=True, meta=meta,
                      work=out / f"{name}-{arch}-work", log=log, **minilm)
            config = json.loads((folder / "text_model.json").read_text(encoding="utf-8"))
            dev = config["training"][f"dev_macro_f1_onnx_{config['weights']}"]
        row = score_row(load_text_model(folder), name, labels, root, "test", native=True)
        rows.append({**row, "arch": arch, "dev_macro_f1": dev})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| set (in-domain) | arch | test texts | labels | dev macro-F1 (choice) | test accuracy | "
             "macro-F1 | weighted F1 |", "|---|---|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        dev = f"{r['dev_macro_f1']:.3f}" if r.get("dev_macro_f1") is not None else "-"
        lines.append(f"| {r['set']} | {r['arch']} | {r['n']:,} | {r['labels']} | {dev} | "
                     f"{r['accuracy']:.3f} | {r['macro_f1']:.3f} | {r['weighted_f1']:.3f} |")
    return "\n".join(lines)
