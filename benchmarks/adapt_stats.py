"""Add the safe adaptation's statistics to a model's adapted head (``adapted.npz``), for a model trained
before ``emovox train`` wrote them (emovox-base 2.0), and update the file's sha256 in emovox.json.

The statistics (``models.adapt_estimate.adapt_stats``) come from the clean training clips' pooled
features (the feature cache of ``emovox train``, same encoder and preprocessing as the recipe),
projected by the adapted head. The head itself is not changed.

    python benchmarks/adapt_stats.py --model src/emovox/assets/emovox-base \\
        --manifest ../shared/corpora/ravdess/manifest.csv --manifest ../shared/corpora/emodb_2s/manifest.csv \\
        --manifest ../shared/corpora/turev_db/manifest.csv --manifest ../shared/corpora/ased/manifest.csv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main() -> None:
    from emovox.models.adapted import ADAPTED_FILE, save_adapted
    from emovox.models.base import sha256_file
    from emovox.training.features import FeatureCache, recipe_backbone
    from emovox.training.recipe import Recipe
    from emovox.training.train import adaptation_statistics, pooled_matrix, read_rows, torch

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="model folder with emovox.json and adapted.npz")
    p.add_argument("--manifest", action="append", required=True, help="the model's training manifests")
    args = p.parse_args()

    folder = Path(args.model)
    config = json.loads((folder / "emovox.json").read_text())
    recipe = Recipe.from_dict(config["extra"]["recipe"])
    torch.set_num_threads(recipe.threads)
    rows = read_rows(args.manifest)
    X = pooled_matrix(FeatureCache(recipe_backbone(recipe), aug_seed=recipe.aug_seed), rows, ["clean"],
                      recipe.pooling)[0]
    path = folder / config["extra"]["adapted_head"].get("file", ADAPTED_FILE)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    labels = config["labels"][: int(arrays["classes"])]
    stats = adaptation_statistics(arrays["projection"], X, rows, labels, recipe.relabel)
    save_adapted(path, arrays["shift"], arrays["projection"], arrays["bias"], int(arrays["classes"]),
                 arrays.get("log_t"), float(arrays["temperature"]), stats=stats)
    config["extra"]["adapted_head"]["sha256"] = sha256_file(path)
    (folder / "emovox.json").write_text(json.dumps(config, indent=2) + "\n")
    print(f"{path}: statistics of {len(rows)} clips over {len(labels)} classes; sha256 {sha256_file(path)}")
    print("training mix:", dict(zip(labels, np.round(stats.prior, 3).tolist())))


if __name__ == "__main__":
    main()
