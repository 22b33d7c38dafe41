"""What the routes share: the loaded model, settings and metrics, and the one inference path."""

from __future__ import annotations

import dataclasses
import io
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated

import anyio
from fastapi import Depends, HTTPException, Request

from ..analysis.analyze import Analyzer
from ..analysis.timeline import Timeline
from ..errors import AudioError, AudioTooLongError, UndecodableAudioError
from ..results.result import Prediction
from .metrics import Metrics
from .profiles import ProfileStore
from .settings import Settings
from .uploads import display_name


@dataclass
class ServerState:
    """Built once in the app's lifespan and reached by routes through ``StateDep``."""

    settings: Settings
    model: Analyzer
    metrics: Metrics
    limiter: anyio.CapacityLimiter
    started: float = field(default_factory=time.time)
    profiles: ProfileStore = field(default_factory=lambda: ProfileStore(1000))  # POST /v1/profiles

    async def predict(
        self, data: bytes, filename: str | None, *, features: bool = True, model: Analyzer | None = None,
        transcribe: bool = False,
    ) -> Prediction:
        """Decode and analyze one upload in a worker thread; AudioError for unusable audio.
        ``model``: a restricted view of the loaded model (``Recognizer.restrict``)."""
        name = self.check_audio(data, filename)
        source = io.BytesIO(data)
        source.name = name
        run = partial((model or self.model).predict, source, features=features, transcribe=transcribe,
                      faces=False)  # the voice routes: a video's sound; faces have their own routes
        prediction = await anyio.to_thread.run_sync(run, limiter=self.limiter)
        prediction = dataclasses.replace(prediction, file=filename)
        self.metrics.observe_prediction(prediction.emotion, prediction.duration_s)
        return prediction


    async def timeline(
        self, data: bytes, filename: str | None, *, window_s: float, hop_s: float, model: Analyzer | None = None
    ) -> Timeline:
        """A timeline of one upload, in a worker thread (same limits as ``predict``)."""
        name = self.check_audio(data, filename)
        source = io.BytesIO(data)
        source.name = name
        run = partial((model or self.model).timeline, source, window_s=window_s, hop_s=hop_s,
                      max_duration_s=self.settings.max_duration_s)
        tl = await anyio.to_thread.run_sync(run, limiter=self.limiter)
        self.metrics.observe_prediction(tl.summary.dominant, tl.duration_s)
        return dataclasses.replace(tl, file=filename)


    def check_audio(self, data: bytes, filename: str | None) -> str:
        """The upload's display name; AudioError when empty, 413 when over the audio limit (the
        routes that take videos receive bodies up to MAX_VIDEO_FILE_SIZE; audio keeps max_upload_mb)."""
        from .limits import mib

        name = display_name(filename)
        if not data:
            raise AudioError(f"{name} is empty: 0 bytes of audio were received")
        limit = self.settings.max_upload_bytes
        if len(data) > limit:
            raise HTTPException(413, f"{name} is too large: {len(data):,} bytes; the limit for audio (and for "
                                     f"voice timelines) is {mib(limit)} MiB ({limit:,} bytes)")
        return name


def get_state(request: Request) -> ServerState:
    state = getattr(request.app.state, "emovox", None)
    if state is None:  # only when the app is used without running its lifespan
        raise HTTPException(503, "the model is not loaded yet")
    return state


StateDep = Annotated[ServerState, Depends(get_state)]


def require_speech(prediction: Prediction) -> Prediction:
    """Compatible routes cannot say 'no emotion': a silent clip answers 422 there."""
    if prediction.silent or prediction.emotion is None:
        raise HTTPException(
            422,
            "no speech detected: the recording is silent (level below -60 dBFS), "
            "so no emotion can be given",
        )
    return prediction


def audio_error_status(exc: AudioError) -> int:
    """415 for audio we cannot decode, 413 for too long, 422 for decodable but unusable audio."""
    if isinstance(exc, AudioTooLongError):
        return 413
    if isinstance(exc, UndecodableAudioError):
        return 415
    return 422
