"""``run_batch``: discover the files, skip what the output already has, run an engine, summarise."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace

from ..defaults import (
    ADAPT_CLIPS,
    MAX_DURATION_S,
    TIMELINE_HOP_S,
    TIMELINE_WINDOW_S,
    check_max_duration,
)
from ..errors import EmovoxError, require
from ..labels import canonical_list
from .inputs import discover, groups_of
from .local import run_local
from .reference import AdaptPlan, plan_adaptation
from .summary import BatchSummary, Tally, progress_bar
from .worker import ModelOptions
from .writers import OutputError, open_output

ENGINES = ("local", "ray")


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during a batch: the rows finished so far are saved; ``summary`` says how many."""

    def __init__(self, summary: BatchSummary) -> None:
        super().__init__(f"interrupted after {summary.files} files; rerun with resume=True")
        self.summary = summary


def run_batch(
    source: str | os.PathLike | Iterable[str],
    out: str | os.PathLike,
    *,
    model: str | None = None,
    engine: str = "local",
    workers: int = 1,
    address: str | None = None,
    batch_size: int = 8,
    timeline: bool = False,
    window_s: float | None = None,
    hop_s: float | None = None,
    resume: bool = False,
    overwrite: bool = False,
    features: bool = True,
    max_duration_s: float | None = MAX_DURATION_S,
    labels: str | Sequence[str] | None = None,
    threads: int | None = None,
    chunk_size: int = 64,
    progress: bool = False,
    backend_options: dict | None = None,
    adapt: int | bool | str = "auto",
    adapt_by: str | None = None,
    speakers: bool = False,
    num_speakers: int | None = None,
) -> BatchSummary:
    """Analyze every file of ``source`` and write one row per file (or segment) to ``out``.

    ``source``: a folder, a glob, a manifest (.csv/.parquet with a ``path`` column) or a list of
    paths. ``out``: ``.parquet`` (default), ``.csv``, ``.jsonl`` or a folder of Parquet parts.
    ``timeline=True``: one row per segment (``window_s``/``hop_s`` as in ``Recognizer.timeline``).
    ``labels``: score only these of the model's labels (see ``Recognizer.restrict``).
    ``speakers=True`` (with ``timeline``): one row per conversation segment with its ``speaker``
    (``Analyzer.conversation``; ``num_speakers`` when known).
    A file that fails is a row with its ``error``. Ctrl-C raises ``BatchInterrupted`` after saving
    the finished rows; ``resume=True`` continues where a run stopped. ``threads`` caps each worker's
    math threads (default: cores / workers; in-process runs keep the library default).
    ``adapt``: "auto" (default) first adapts the model to ``min(all, 50)`` files drawn at random
    (seed 0) from all of ``source`` when it has at least 20 (``Recognizer.adapt``, method "safe";
    unreadable or silent ones are left out, at least 20 must remain), else leaves it un-adapted and
    the summary says why; ``adapt=N`` draws N and raises when it cannot adapt; 0 or False: never.
    Every worker then scores relative to that one reference; a resumed run draws the same files.
    ``adapt_by``: "folder" (each file's parent folder) or a column of a manifest ``source`` (caller,
    site, speaker): each group of at least 20 files gets its own reference (rows: ``adapted_to``
    "<by>:<value>"); a smaller group falls back to the whole batch's. A timeline (``timeline=True``)
    of an un-adapted model adapts to each recording's own speech unless ``adapt`` is off.
    ``BatchSummary.adapted`` says what was adapted to, and why not.

    >>> s = run_batch("calls/", "calls.parquet", workers=2)   # doctest: +SKIP
    >>> s.files, s.failed, s.failures                          # doctest: +SKIP
    """
    _check(engine, workers, batch_size, chunk_size, features)
    n, strict = _adapt_count(adapt)
    if adapt_by is not None and (not isinstance(adapt_by, str) or not adapt_by.strip()):
        raise EmovoxError(f"adapt_by must be 'folder' or a manifest column, got {adapt_by!r}")
    writer = open_output(out, resume=resume, overwrite=overwrite)  # checked before any analysis
    check_max_duration(max_duration_s)
    paths = list(dict.fromkeys(discover(source)))  # a manifest may list a file twice
    group_of = groups_of(source, paths, adapt_by.strip()) if adapt_by and n else None
    timeline_options = _timeline_options(window_s, hop_s)
    if not n:
        timeline_options["adapt"] = False  # adaptation off: not to each recording either
    options = ModelOptions(
        model=model, features=features, max_duration_s=max_duration_s, batch_size=batch_size,
        labels=None if labels is None else canonical_list(labels),
        timeline=timeline, timeline_options={**timeline_options,
                                             **_speaker_options(timeline, speakers, num_speakers)},
        threads=threads or _default_threads(workers),
        backend_options=dict(backend_options or {}),
    )
    plan = AdaptPlan()
    if n:  # before the output is touched: a failure here leaves existing results as they are
        plan = adaptation_plan(paths, n, options, strict=strict, group_of=group_of,
                               by=adapt_by.strip() if adapt_by else None, progress=progress)
        options = replace(options, adapt=plan.reference, adapt_groups=plan.groups, adapt_by=plan.by)
    if overwrite:
        writer.remove()
    done = writer.done_paths() if resume else set()
    todo = [p for p in paths if p not in done]
    tally = Tally()
    summarize = lambda interrupted: tally.summary(  # noqa: E731
        os.fspath(out), engine, len(paths) - len(todo), interrupted,
        options.adapt.clips if options.adapt is not None else 0, plan.report,
    )
    groups = None if group_of is None or not plan.groups else [group_of.get(p) for p in todo]
    try:
        if todo:
            _run_engine(todo, options, writer, tally, engine, workers, address, chunk_size, progress, groups)
        writer.finalize()
    except KeyboardInterrupt:
        _save(writer)
        raise BatchInterrupted(summarize(True)) from None
    except OutputError as exc:
        _save(writer)
        raise OutputError(f"{exc}; the rows written before are kept: rerun with --resume") from exc
    except BaseException:
        _save(writer)
        raise
    return summarize(False)


def adaptation_plan(paths: Sequence[str], n: int, options: ModelOptions, *, strict: bool = False,
                    group_of: dict | None = None, by: str | None = None, progress: bool = False) -> AdaptPlan:
    """The references of the batch (and of its groups), computed once in this process
    (``reference.plan_adaptation``); the model is loaded here only when a reference is computed."""
    def load():
        import emovox

        return emovox.load_model(options.model, features=False, max_duration_s=options.max_duration_s,
                                 **options.backend_options)

    return plan_adaptation(load, paths, n, strict=strict, group_of=group_of, by=by, progress=progress)


def _adapt_count(adapt) -> tuple[int, bool]:
    """``adapt`` as (files to draw, strict): "auto"/True -> (ADAPT_CLIPS, False), N -> (N, True), 0/False -> off."""
    if adapt == "auto" or adapt is True:
        return ADAPT_CLIPS, False
    if adapt is False or adapt is None:
        return 0, False
    if not isinstance(adapt, int) or adapt < 0:
        raise EmovoxError(f"adapt must be 'auto', False or a number of files >= 0, got {adapt!r}")
    return adapt, True


def _save(writer) -> None:
    """After Ctrl-C or an error: write what finished and merge it, so the output reads as it is.

    A failure here (disk full, a second Ctrl-C) leaves the part files for ``--resume``.
    """
    try:
        writer.close()
        writer.finalize()
    except (Exception, KeyboardInterrupt):
        pass


def _run_engine(todo, options, writer, tally, engine, workers, address, chunk_size, progress, groups=None) -> None:
    if engine == "ray":
        from .ray_engine import run_ray

        run_ray(todo, options, writer, tally, workers=max(workers, 1), address=address,
                chunk_size=chunk_size, progress=progress, groups=groups)
        return
    bar, task = progress_bar(len(todo), progress)
    with bar:
        for table in run_local(todo, options, workers=workers, chunk_size=chunk_size, groups=groups):
            writer.write(table)
            bar.advance(task, tally.add(table))


def _check(engine: str, workers: int, batch_size: int, chunk_size: int, features: bool) -> None:
    require("pyarrow", "batch", "emovox batch")
    if engine not in ENGINES:
        raise EmovoxError(f"unknown engine {engine!r}; accepted: {', '.join(ENGINES)}")
    if workers < 0:
        raise EmovoxError(f"workers must be 0 or more, got {workers}")
    if batch_size < 1 or chunk_size < 1:
        raise EmovoxError(f"batch_size and chunk_size must be >= 1, got {batch_size} and {chunk_size}")
    if features and importlib.util.find_spec("emovox.signal.features") is None:
        raise EmovoxError(
            "acoustic descriptors are not available in this build of emovox (emovox.signal.features is "
            "missing); run with features=False (--no-features)"
        )


def _timeline_options(window_s: float | None, hop_s: float | None) -> dict:
    """Window/hop for timelines, checked here once rather than failing on every file."""
    options = {k: v for k, v in {"window_s": window_s, "hop_s": hop_s}.items() if v is not None}
    if options:
        from ..defaults import check_window

        check_window(options.get("window_s", TIMELINE_WINDOW_S), options.get("hop_s", TIMELINE_HOP_S))
    return options


def _speaker_options(timeline: bool, speakers: bool, num_speakers: int | None) -> dict:
    """``speakers``/``num_speakers`` for conversations, checked once."""
    if not speakers:
        if num_speakers is not None:
            raise EmovoxError("num_speakers only applies with speakers (--speakers)")
        return {}
    if not timeline:
        raise EmovoxError("speakers needs timeline (--timeline --speakers)")
    if num_speakers is not None and (isinstance(num_speakers, bool) or not isinstance(num_speakers, int)
                                     or num_speakers < 1):
        raise EmovoxError(f"num_speakers must be a whole number >= 1, got {num_speakers!r}")
    return {"speakers": True, **({"num_speakers": num_speakers} if num_speakers is not None else {})}


def _default_threads(workers: int) -> int | None:
    """One share of the cores per worker process; in-process runs keep the library default."""
    if workers <= 1:
        return None
    return max(1, (os.cpu_count() or 1) // workers)
