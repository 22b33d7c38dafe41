"""The local engine: worker processes that each hold one model, fed chunks of paths.

``workers <= 1`` runs in this process. Otherwise a spawn-context ``ProcessPoolExecutor`` whose
initializer loads the model once per process; at most two chunks per worker are in flight, so a
list of millions of paths never sits in the queue, and finished chunks are yielded (and written)
as they complete.
"""

from __future__ import annotations

import math
import signal
from collections.abc import Iterator

from ..errors import EmovoxError
from .worker import Analyzer, ModelOptions, init_process, process_chunk


def chunk_size_for(n: int, workers: int, batch_size: int, limit: int) -> int:
    """Small enough to spread ``n`` files over the workers (and to show progress), big enough to batch."""
    spread = math.ceil(n / (max(workers, 1) * 4)) if n else 1
    return max(1, min(limit, max(spread, batch_size if workers <= 1 else 1)))


def chunks(paths: list[str], size: int, groups: list | None = None) -> Iterator[tuple[list[str], list | None]]:
    """(paths, their groups or None), ``size`` at a time."""
    for i in range(0, len(paths), size):
        yield paths[i : i + size], (None if groups is None else groups[i : i + size])


def run_local(
    paths: list[str], options: ModelOptions, *, workers: int = 1, chunk_size: int = 64,
    groups: list | None = None,
) -> Iterator:
    """Yield one pyarrow Table per finished chunk (completion order); ``groups``: each path's group
    key (``ModelOptions.adapt_groups``)."""
    size = chunk_size_for(len(paths), workers, options.batch_size, chunk_size)
    if workers <= 1:
        analyzer = Analyzer(options)
        for chunk, chunk_groups in chunks(paths, size, groups):
            yield analyzer.table(chunk) if chunk_groups is None else analyzer.table(chunk, chunk_groups)
        return
    yield from _pool(chunks(paths, size, groups), options, workers)


def _pool(work: Iterator[tuple[list[str], list | None]], options: ModelOptions, workers: int) -> Iterator:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_quiet,
        initargs=(options,),
    )
    pending: set = set()
    try:
        for chunk in _take(work, 2 * workers):
            pending.add(pool.submit(process_chunk, *chunk))
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                table = future.result()
                for chunk in _take(work, 1):
                    pending.add(pool.submit(process_chunk, *chunk))
                yield table
    except BrokenProcessPool as exc:
        raise EmovoxError(
            "a batch worker process died (out of memory, or the model failed to load in it: "
            f"{exc}); the rows written so far are kept, rerun with --resume"
        ) from exc
    finally:
        # Ctrl-C or an error: drop the queued chunks; the running ones end on their own
        pool.shutdown(wait=False, cancel_futures=True)


def _take(work: Iterator, n: int) -> list:
    out = []
    for chunk in work:
        out.append(chunk)
        if len(out) >= n:
            break
    return out


def _init_quiet(options: ModelOptions) -> None:
    """Workers ignore Ctrl-C: the parent decides, and saves what has finished."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    init_process(options)
