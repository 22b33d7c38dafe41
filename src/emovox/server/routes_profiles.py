"""Voice profiles: ``POST /v1/profiles`` (clips in, an id out), ``GET`` and ``DELETE /v1/profiles/{id}``.

Use one with ``POST /v1/analyze?profile=ID``. See ``server/profiles.py`` for what is kept (one
vector, never the audio), for how long (in memory, least recently used dropped), and why no route lists ids.
"""

from __future__ import annotations

import io
from typing import Any

import anyio
from fastapi import APIRouter, HTTPException, Request, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import AudioError, EmovoxError, ModelError
from .profiles import require_profile
from .schemas import ERROR_RESPONSES, ProfileResponse
from .state import StateDep, audio_error_status
from .uploads import display_name, read_file

router = APIRouter()

FIELDS = ("files", "file")
PROFILE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "unlabelled recordings of the client's audio: multipart, one part per clip, "
        "each in field `files` (or `file`)",
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["files"],
            "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
        }}},
    }
}


@router.post("/v1/profiles", status_code=201, response_model=ProfileResponse, responses=ERROR_RESPONSES,
             openapi_extra=PROFILE_BODY, tags=["v1"], summary="Make a voice profile from a client's clips")
async def create_profile(request: Request, state: StateDep) -> dict[str, Any]:
    """Adapt once to a set of your recordings (at least 20 with speech; several speakers and moods
    are better), then send `?profile=ID` with each analysis.

    Answers `id`, `clips` (used), `skipped` (silent clips), `adapted` (what answers with this
    profile will carry). 413 too many clips, too large a request or too long a clip; 415 a clip
    that is not audio; 422 an empty clip or too few clips with speech; 501 a model that cannot adapt.
    """
    model = state.model
    clips = await _read_clips(request, state.settings.profile_max_clips)  # a malformed request: 4xx first
    try:
        model.reference([])  # costs nothing: raises ModelError when the model has no adapted head
    except ModelError as exc:
        raise HTTPException(501, f"this server's model cannot be adapted: {exc}") from None
    except EmovoxError:
        pass
    current: list[str] = []

    def sources():
        for i, (name, data) in enumerate(clips, 1):
            current[:] = [f"clip {i} ({name})"]
            if not data:
                raise AudioError("empty: 0 bytes were received")
            source = io.BytesIO(data)
            source.name = name
            yield source

    def run():
        reference = model.reference(sources())
        return reference, model.adapt(reference, to="profile").info.extra["adapted"]

    try:
        reference, adapted = await anyio.to_thread.run_sync(run, limiter=state.limiter)
    except AudioError as exc:
        what = current[0] if current else "a clip"
        raise HTTPException(audio_error_status(exc), f"{what}: {exc}") from None
    except EmovoxError as exc:  # too few clips with speech
        raise HTTPException(422, f"{exc} (of {len(clips)} received; silent clips do not count)") from None
    return state.profiles.add(reference, adapted).to_dict()


@router.get("/v1/profiles/{profile_id}", response_model=ProfileResponse, responses=ERROR_RESPONSES,
            tags=["v1"], summary="A voice profile")
async def get_profile(profile_id: str, state: StateDep) -> dict[str, Any]:
    return require_profile(state, profile_id).to_dict()


@router.delete("/v1/profiles/{profile_id}", status_code=204, responses=ERROR_RESPONSES, tags=["v1"],
               summary="Forget a voice profile")
async def delete_profile(profile_id: str, state: StateDep) -> Response:
    require_profile(state, profile_id)
    state.profiles.delete(profile_id)
    return Response(status_code=204)


async def _read_clips(request: Request, limit: int) -> list[tuple[str, bytes]]:
    """(display name, bytes) of every uploaded clip; 413 beyond ``limit`` clips, 415/422 for other bodies."""
    content_type = request.headers.get("content-type", "").lower()
    if not content_type.startswith("multipart/form-data"):
        raise HTTPException(415, "send the clips as multipart/form-data, one file part per clip in field 'files'")
    try:
        async with request.form(max_files=limit + 1) as form:
            items = [item for name in FIELDS for item in form.getlist(name)]
            if any(isinstance(item, str) for item in items):
                raise HTTPException(422, "form fields 'files' must be file uploads, got a text value")
            if not items:
                raise HTTPException(422, "no clips: send one file part per clip in field 'files'")
            if len(items) > limit:
                raise HTTPException(413, f"too many clips: {len(items)}; a profile takes at most {limit}")
            return [(display_name(item.filename), await read_file(item)) for item in items
                    if isinstance(item, UploadFile)]
    except StarletteHTTPException as exc:
        if not isinstance(exc, HTTPException) and "Too many files" in str(exc.detail):
            raise HTTPException(413, f"too many clips: a profile takes at most {limit}") from None
        raise
