"""Adapting to files drawn from a folder, glob or manifest: what ``emovox batch --adapt``,
``emovox analyze --adapt-to``, ``emovox serve --adapt-to`` and ``emovox evaluate --adapt`` share.

These helpers read inputs the way batch does, so they live here, above ``models/`` (which never
imports a front end); the numpy head itself is ``models.adapted``.

>>> draw(["a", "b", "c", "d", "e"], 3)
['c', 'd', 'e']
>>> draw(["a", "b", "c", "d", "e"], 3, seed=1)
['a', 'b', 'e']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..defaults import ADAPT_CLIPS, MIN_REFERENCE_CLIPS
from ..errors import EmovoxError
from ..results.result import Reference


def draw(items: list, n: int, seed: int = 0) -> list:
    """``n`` of ``items`` drawn at random (the same ones for the same seed), in their original order."""
    return [items[i] for i in sorted(np.random.default_rng(seed).permutation(len(items))[:n])]


def draw_reference(recognizer, paths, n: int, *, progress: bool = False, what: str = "adapt") -> Reference:
    """``recognizer.reference`` of ``n`` of ``paths`` drawn at random (seed 0: the same files every run),
    leaving out unreadable and silent ones. Used by ``emovox batch --adapt`` and ``emovox serve --adapt-to``."""
    paths = list(paths)
    if n < 1:
        raise EmovoxError(f"{what}: the number of reference files must be >= 1, got {n}")
    sample = draw(paths, n)
    drawn = len(sample)
    if progress:
        from tqdm.auto import tqdm

        sample = tqdm(sample, desc="adapting", unit="file", leave=False)
    try:
        return recognizer.reference(sample, errors="skip")
    except EmovoxError as exc:
        raise EmovoxError(f"{what} ({drawn} of {len(paths)} files drawn): {exc}") from None


def adapt_to(recognizer, source, n: int = ADAPT_CLIPS, *, what: str = "--adapt-to"):
    """``recognizer`` adapted to ``n`` files drawn from ``source`` (a folder, glob or manifest, as
    ``emovox batch`` reads them): ``emovox analyze --adapt-to`` and ``emovox serve --adapt-to``."""
    from .inputs import discover

    try:
        paths = discover(source)
    except EmovoxError as exc:
        raise EmovoxError(f"{what}: {exc}") from None
    return recognizer.adapt(draw_reference(recognizer, paths, n, what=f"{what} {source}"))


ADAPT_MIN_FILES = MIN_REFERENCE_CLIPS
"""``emovox batch`` adapts by default once the input (or a group, with ``--adapt-by``) has this many files."""


@dataclass(frozen=True)
class AdaptPlan:
    """What a batch adapts to: one reference for the whole input, one per group, and what to report."""

    reference: Reference | None = None  # the whole batch's (None: not adapted)
    groups: dict[str, Reference] = field(default_factory=dict)  # group key -> its own reference
    by: str | None = None  # the manifest column, or "folder"
    report: dict | None = None  # BatchSummary.adapted (None: adaptation turned off)


def plan_adaptation(load, paths: Sequence[str], n: int, *, strict: bool = False,
                    group_of: dict[str, str | None] | None = None, by: str | None = None,
                    progress: bool = False) -> AdaptPlan:
    """References for a batch: ``n`` files drawn at random (seed 0) from all of ``paths``, and, with
    ``group_of`` (path -> group key), from each group of at least ``ADAPT_MIN_FILES`` files.

    ``load()`` gives the recognizer (called only when a reference is to be computed). Not strict (the
    default of ``emovox batch``): too few files, too few readable ones or a model without an adapted
    head leave the batch (or the group) un-adapted, and the report says why; strict (``--adapt N``)
    raises for the whole batch instead. A group that cannot have its own reference falls back to
    the whole batch's (or to none), and the report says so.
    """
    report: dict = {"to": None, "clips": 0}
    recognizer = None

    def reference_of(members: Sequence[str], what: str) -> Reference | str:
        """The reference, or why there is none."""
        nonlocal recognizer
        if len(members) < ADAPT_MIN_FILES:
            return f"{len(members)} file(s); adapting needs at least {ADAPT_MIN_FILES}"
        if recognizer is None:
            recognizer = load()
        if not recognizer.adaptable():
            return f"the model {recognizer.info.id} has no adapted head"
        try:
            return draw_reference(recognizer, members, n, progress=progress, what=what)
        except EmovoxError as exc:
            return str(exc)

    whole = reference_of(list(paths), f"adapt={n}")
    if isinstance(whole, str):
        if strict:
            raise EmovoxError(f"cannot adapt to the batch: {whole}")
        report["reason"] = whole
        whole = None
    else:
        report.update(_described(whole, "batch"))
    groups: dict[str, Reference] = {}
    if group_of is not None:
        report["by"] = by
        members: dict[str | None, list[str]] = {}
        for path in paths:
            members.setdefault(group_of.get(path), []).append(path)
        described = {}
        for key in sorted((k for k in members if k is not None), key=str):
            ref = reference_of(members[key], f"--adapt-by {by} {key}")
            if isinstance(ref, str):
                described[key] = {"files": len(members[key]), "to": "batch" if whole is not None else None,
                                  "reason": ref}
                continue
            groups[key] = ref
            described[key] = {"files": len(members[key]), **_described(ref, f"{by}:{key}")}
        if None in members:
            described[""] = {"files": len(members[None]), "to": "batch" if whole is not None else None,
                             "reason": f"no {by} value"}
        report["groups"] = described
    return AdaptPlan(whole, groups, by, report)


def _described(reference: Reference, to: str) -> dict:
    """What a report says of one reference (as a prediction's ``adapted`` would, without the mix)."""
    info = {"method": "centre", "applied": True, **reference.adaptation}
    out = {"to": to, "clips": reference.clips, "method": info["method"], "applied": bool(info["applied"])}
    if not out["applied"] and info.get("reason"):
        out["reason"] = info["reason"]
    return out
