"""What ``POST /v1/analyze?timeline=true&speakers=true`` answers: who spoke when and what each felt
(``emovox.analysis.conversation``), decoded and analysed in a worker thread like every upload."""

from __future__ import annotations

import io
from functools import partial
from typing import Any

import anyio
from fastapi import HTTPException
from fastapi.responses import JSONResponse

from ..labels import emotion_info


def check_speaker_options(timeline: bool, speakers: bool, num_speakers: int | None, transcribe: bool) -> None:
    """422 for ``speakers`` without ``timeline`` or with ``transcribe``, ``num_speakers`` without ``speakers``."""
    if speakers and not timeline:
        raise HTTPException(422, "speakers=true needs timeline=true (segments per speaker turn)")
    if num_speakers is not None and not speakers:
        raise HTTPException(422, "num_speakers only applies with speakers=true")
    if speakers and transcribe:
        raise HTTPException(422, "speakers=true does not take transcribe=true yet")


async def conversation_response(state, data: bytes, filename: str | None, *, model, num_speakers: int | None,
                                window_s: float) -> JSONResponse:
    """The conversation of one upload as JSON: segments with ``speaker``, a summary per speaker and one
    for the whole, display metadata (same limits as a timeline)."""
    name = state.check_audio(data, filename)
    source = io.BytesIO(data)
    source.name = name
    run = partial(model.conversation, source, num_speakers=num_speakers, window_s=window_s,
                  max_duration_s=state.settings.max_duration_s)
    conv = await anyio.to_thread.run_sync(run, limiter=state.limiter)
    state.metrics.observe_prediction(conv.summary.dominant, conv.duration_s)
    body: dict[str, Any] = {**conv.to_dict(), "file": filename,
                            "display": {k: emotion_info(k).to_dict() for k in conv.labels}}
    return JSONResponse(body)
