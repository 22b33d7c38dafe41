"""The Ray engine: Ray Data from the paths -> an actor pool (one model per actor) -> Parquet.

Runs against a local Ray (``ray.init(num_cpus=...)``) when no address is given, or joins a cluster
(``ray://head:10001`` or ``auto``). Each actor holds the same ``Analyzer`` the local engine uses, so
the rows are the same. Needs ``pip install "emovox[ray]"``; on a cluster every node needs emovox and
the audio files at the same paths (a shared filesystem).
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

from ..errors import require
from .summary import Tally
from .worker import Analyzer, ModelOptions
from .writers import OutputError, ParquetFolder


class RayAnalyzer:
    """Ray Data callable class: constructed once per actor, called per batch of paths."""

    def __init__(self, options: ModelOptions) -> None:
        self.analyzer = Analyzer(options)

    def __call__(self, batch):
        groups = batch.column("group").to_pylist() if "group" in batch.column_names else None
        return self.analyzer.table(batch.column("path").to_pylist(), groups)


def run_ray(
    paths: list[str],
    options: ModelOptions,
    writer,
    tally: Tally,
    *,
    workers: int,
    address: str | None = None,
    chunk_size: int = 64,
    progress: bool = False,
    groups: list | None = None,
) -> None:
    """Analyze ``paths`` on Ray and write Parquet parts into the writer's folder (``groups``: each
    path's group key for ``ModelOptions.adapt_groups``; the options, references included, go to
    every actor)."""
    if not isinstance(writer, ParquetFolder):
        raise OutputError("the ray engine writes Parquet: use --out results/ (a folder) or results.parquet")
    ray = require("ray", "ray", "the Ray engine")
    require("ray.data", "ray", "the Ray engine")
    pq = require("pyarrow.parquet", "ray", "the Ray engine")
    started = _connect(ray, address, workers)
    _quiet(ray, progress)
    try:
        before = set(writer.parts())
        # writing a few rows of Parquet is light: it must not wait for the actors' CPUs
        _pipeline(ray, paths, options, workers, chunk_size, groups).write_parquet(
            str(writer.folder), ray_remote_args={"num_cpus": 0}
        )
        for part in sorted(set(writer.parts()) - before):
            tally.add(pq.read_table(part))
    finally:
        if started:
            ray.shutdown()


def _pipeline(ray, paths: list[str], options: ModelOptions, workers: int, chunk_size: int,
              groups: list | None = None):
    per_batch = max(1, min(chunk_size, math.ceil(len(paths) / (workers * 4))))
    blocks = max(1, math.ceil(len(paths) / per_batch))
    items = ([{"path": p} for p in paths] if groups is None
             else [{"path": p, "group": g} for p, g in zip(paths, groups, strict=True)])
    ds = ray.data.from_items(items, override_num_blocks=blocks)
    return ds.map_batches(
        RayAnalyzer,
        fn_constructor_args=(options,),
        batch_size=per_batch,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=min(workers, blocks)),
        num_cpus=1,
    )


def _quiet(ray, progress: bool) -> None:
    """Ray Data's own progress bars only when asked; its INFO log lines never."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = progress
    context.enable_operator_progress_bars = progress
    for name in ("ray.data", "ray"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _connect(ray, address: str | None, workers: int) -> bool:
    """Join ``address`` or start a local Ray; True when this call started it (so it stops it)."""
    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        return True
    ray.init(
        num_cpus=workers,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.WARNING,
        runtime_env={"env_vars": {"PYTHONPATH": _package_root()}},
    )
    return True


def _package_root() -> str:
    """This emovox's import root, so that local Ray workers import the same code as the driver."""
    root = str(Path(__file__).resolve().parents[2])
    existing = os.environ.get("PYTHONPATH")
    return os.pathsep.join([root, existing]) if existing else root
