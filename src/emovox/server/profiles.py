"""Voice profiles: a client's recordings reduced once to a ``Reference`` and reused by id.

``POST /v1/profiles`` turns unlabelled clips into one ``Reference`` (``Recognizer.reference``: one
float32 vector, a few KiB; the audio is never kept) held in memory under an unguessable id
(``secrets.token_urlsafe``). ``?profile=ID`` on the analyze routes scores with the model adapted to it
(``Recognizer.adapt(reference, to="profile")``). At most ``max_profiles`` are held: adding one more
drops the least recently used (created, read or used), whose id then answers 404. Nothing is written
to disk; a restart forgets every profile. There is no route listing ids: an id is the key to its profile.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from fastapi import HTTPException

from ..results.result import Reference

ID_BYTES = 24  # secrets.token_urlsafe(24): 32 characters, 192 random bits


@dataclass(frozen=True)
class Profile:
    id: str
    reference: Reference
    adapted: dict  # what every answer with this profile carries as ``adapted``
    created: float

    def to_dict(self) -> dict:
        return {"id": self.id, "clips": self.reference.clips, "skipped": list(self.reference.skipped),
                "adapted": self.adapted, "created": round(self.created, 3)}


class ProfileStore:
    """At most ``capacity`` profiles in memory, the least recently used dropped first (thread-safe).

    >>> store = ProfileStore(1)
    >>> len(store), store.get("nope") is None
    (0, True)
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.evicted = 0
        self._items: OrderedDict[str, Profile] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, reference: Reference, adapted: dict) -> Profile:
        profile = Profile(secrets.token_urlsafe(ID_BYTES), reference, adapted, time.time())
        with self._lock:
            self._items[profile.id] = profile
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
                self.evicted += 1
        return profile

    def get(self, profile_id: str) -> Profile | None:
        with self._lock:
            profile = self._items.get(profile_id)
            if profile is not None:
                self._items.move_to_end(profile_id)
            return profile

    def delete(self, profile_id: str) -> bool:
        with self._lock:
            return self._items.pop(profile_id, None) is not None


def unknown(profile_id: str) -> HTTPException:
    shown = profile_id if len(profile_id) <= 64 else profile_id[:64] + "..."
    return HTTPException(404, f"unknown profile {shown!r}: it was deleted, dropped as the least recently "
                              "used (the server holds EMOVOX_MAX_PROFILES), or the server restarted; "
                              "create it again with POST /v1/profiles")


def require_profile(state, profile_id: str) -> Profile:
    profile = state.profiles.get(profile_id)
    if profile is None:
        raise unknown(profile_id)
    return profile


def profile_model(state, profile_id: str | None):
    """The served model, adapted to profile ``profile_id`` when one is named (404 when unknown)."""
    if profile_id is None:
        return state.model
    return state.model.adapt(require_profile(state, profile_id).reference, to="profile")
