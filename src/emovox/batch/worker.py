"""What every engine runs on a worker: one loaded model turning a chunk of paths into rows.

The local process pool (one ``Analyzer`` per process, made by ``init_process``) and the Ray actor
pool (one per actor) both use this class, so both engines write the same rows for the same files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..defaults import MAX_DURATION_S
from ..errors import EmovoxError
from .rows import Schema, schema_for

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class ModelOptions:
    """How each worker loads and runs its model (picklable: sent to processes and actors)."""

    model: str | None = None
    features: bool = True
    max_duration_s: float | None = MAX_DURATION_S
    labels: tuple[str, ...] | None = None  # answer only these labels (Recognizer.restrict)
    batch_size: int = 8
    timeline: bool = False
    threads: int | None = None  # per worker; None leaves the library default
    timeline_options: dict[str, Any] = field(default_factory=dict)  # window_s, hop_s, ...
    backend_options: dict[str, Any] = field(default_factory=dict)
    adapt: Any = None  # results.result.Reference: score relative to it (Recognizer.adapt, to="batch")
    adapt_groups: dict[str, Any] = field(default_factory=dict)  # group key -> its own Reference
    adapt_by: str | None = None  # what the groups are ("folder", or a manifest column): to="<by>:<key>"


class Analyzer:
    """Holds one Recognizer; ``table(paths)`` returns one row per file (or per segment)."""

    def __init__(self, options: ModelOptions) -> None:
        import emovox

        limit_threads(options.threads)
        self.options = options
        plain = emovox.load_model(
            options.model,
            features=options.features,
            max_duration_s=options.max_duration_s,
            labels=options.labels,
            **options.backend_options,
        )
        self.recognizer = plain if options.adapt is None else plain.adapt(options.adapt, to="batch")
        # one recognizer per group with its own reference; they share the loaded model
        self.by_group = {key: plain.adapt(ref, to=f"{options.adapt_by}:{key}")
                         for key, ref in options.adapt_groups.items()}
        limit_threads(options.threads)  # torch may only have been imported by the load
        if options.timeline and not hasattr(self.recognizer, "timeline"):
            raise EmovoxError(
                "--timeline is not available yet in this build of emovox (Recognizer.timeline is "
                "missing); run without --timeline for one row per file"
            )
        self.schema: Schema = schema_for(self.recognizer, timeline=options.timeline,
                                         speakers=bool(options.timeline_options.get("speakers")))
        self.model_id = self.recognizer.info.id

    def rows(self, paths: list[str], groups: list | None = None) -> list[dict[str, Any]]:
        """Rows for ``paths`` (``groups``: each path's group key, for ``adapt_groups``), in input order;
        a file that fails in any way is a row with its error."""
        if groups is None or not self.by_group:
            return self._rows(paths, self.recognizer)
        out: list[dict[str, Any]] = []
        start = 0
        for i in range(1, len(paths) + 1):  # runs of files scored by the same recognizer
            if i == len(paths) or self._for(groups[i]) is not self._for(groups[start]):
                out.extend(self._rows(paths[start:i], self._for(groups[start])))
                start = i
        return out

    def _for(self, group):
        return self.by_group.get(group, self.recognizer) if group is not None else self.recognizer

    def _rows(self, paths: list[str], recognizer) -> list[dict[str, Any]]:
        try:
            return (self._timeline_rows(paths, recognizer) if self.options.timeline
                    else self._file_rows(paths, recognizer))
        except Exception:
            if len(paths) == 1:
                raise
            # something outside the recognizer's per-file checks broke the batch: isolate the file
            return [row for path in paths for row in self._one(path, recognizer)]

    def table(self, paths: list[str], groups: list | None = None):
        return self.schema.table(self.rows(paths, groups))

    def _file_rows(self, paths: list[str], recognizer) -> list[dict[str, Any]]:
        results = recognizer.iter_predict(paths, batch_size=self.options.batch_size, errors="return",
                                          faces=False)  # rows of voice results
        return [self.schema.file_row(path, result, self.model_id) for path, result in zip(paths, results, strict=True)]

    def _timeline_rows(self, paths: list[str], recognizer) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for path in paths:
            try:
                timeline = self._timeline(path, recognizer)
            except EmovoxError as exc:
                rows.append(self.schema.error_row(path, exc, self.model_id))
                continue
            rows.extend(self.schema.segment_rows(path, timeline, self.model_id))
        return rows

    def _timeline(self, path: str, recognizer):
        """A timeline, or with ``speakers`` a conversation (analysis.conversation: a speaker per segment)."""
        options = dict(self.options.timeline_options)
        if not options.pop("speakers", False):
            return recognizer.timeline(path, batch_size=self.options.batch_size, **options)
        options.pop("hop_s", None)  # conversations cut turns into pieces of about window_s
        own = options.pop("adapt", "auto") is not False
        # each speaker adapts to their own turns, unless adaptation is off or the batch (or group) did
        return recognizer.conversation(path, batch_size=self.options.batch_size,
                                       adapt=own and recognizer.info.extra.get("adapted") is None, **options)

    def _one(self, path: str, recognizer) -> list[dict[str, Any]]:
        try:
            return self._rows([path], recognizer)
        except Exception as exc:  # a bug or a backend failure on this file: record, don't crash
            error = EmovoxError(f"{path}: internal error while analyzing: {type(exc).__name__}: {exc}")
            return [self.schema.error_row(path, error, self.model_id)]


def limit_threads(threads: int | None) -> None:
    """Cap the math libraries' threads so that N workers use about N * threads cores."""
    if not threads:
        return
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    import sys

    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


_ANALYZER: Analyzer | None = None
_LOAD_ERROR: str | None = None


def init_process(options: ModelOptions) -> None:
    """ProcessPoolExecutor initializer: load the model once for this worker process.

    A load failure is kept and raised by the first chunk, so the parent sees the real message
    instead of a broken pool.
    """
    global _ANALYZER, _LOAD_ERROR
    try:
        _ANALYZER = Analyzer(options)
    except Exception as exc:
        _LOAD_ERROR = str(exc) if isinstance(exc, EmovoxError) else f"{type(exc).__name__}: {exc}"


def process_chunk(paths: list[str], groups: list | None = None):
    """Run in a worker process: the chunk's rows as a pyarrow Table."""
    if _ANALYZER is None:
        raise EmovoxError(_LOAD_ERROR or "batch worker used before its model was loaded")
    return _ANALYZER.table(paths, groups)
