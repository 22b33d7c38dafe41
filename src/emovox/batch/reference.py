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

import numpy as np

from ..defaults import ADAPT_CLIPS
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
