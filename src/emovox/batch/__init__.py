"""Batch analysis: thousands to millions of recordings, on a laptop or a Ray cluster.

>>> from emovox.batch import run_batch
>>> summary = run_batch("recordings/", "results.parquet", workers=2)  # doctest: +SKIP
>>> summary.to_dict()["failures"]                                      # doctest: +SKIP
{'could not decode FILE: not a supported audio format or codec': 3}

Rows (see ``rows.py``): path, duration_s, emotion, confidence, score_<label>..., descriptors,
silent, error, model; or one row per timeline segment. Engines: ``local`` (worker processes, one
model each) and ``ray`` (Ray Data actor pool). Needs the ``batch`` extra (pyarrow).
"""

from .inputs import InputError, discover
from .rows import Schema, reason
from .runner import BatchInterrupted, run_batch
from .summary import BatchSummary
from .writers import OutputError, output_kind

__all__ = [
    "BatchInterrupted",
    "BatchSummary",
    "InputError",
    "OutputError",
    "Schema",
    "discover",
    "output_kind",
    "reason",
    "run_batch",
]
