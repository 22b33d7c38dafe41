"""Corpus recipes: ``prepare_<corpus>(root) -> list[ManifestRow]`` from each original download.

>>> sorted(set(PREPARERS.values()), key=lambda f: f.__name__)[0].__name__
'prepare_ased'
"""

from __future__ import annotations

from collections.abc import Callable

from .ased import prepare_ased
from .crema_d import prepare_crema_d
from .emodb import prepare_emodb
from .iemocap import prepare_iemocap
from .location import corpora_root
from .manifest import MANIFEST_COLUMNS, ManifestRow, read_folds, read_manifest, write_manifest
from .ravdess import prepare_ravdess
from .savee import prepare_savee
from .tess import prepare_tess
from .turev import prepare_turev

# name (and aliases) -> recipe; the CLI offers these names.
PREPARERS: dict[str, Callable[..., list[ManifestRow]]] = {
    "ravdess": prepare_ravdess,
    "crema-d": prepare_crema_d,
    "cremad": prepare_crema_d,
    "tess": prepare_tess,
    "emodb": prepare_emodb,
    "savee": prepare_savee,
    "iemocap": prepare_iemocap,
    "turev": prepare_turev,
    "turev-db": prepare_turev,
    "ased": prepare_ased,
}

__all__ = [
    "MANIFEST_COLUMNS", "PREPARERS", "corpora_root", "ManifestRow", "read_folds", "read_manifest", "write_manifest",
    "prepare_ased", "prepare_crema_d", "prepare_emodb", "prepare_iemocap", "prepare_ravdess", "prepare_savee",
    "prepare_tess", "prepare_turev",
]
