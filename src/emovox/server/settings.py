"""Server settings: defaults, then ``EMOVOX_*`` environment variables, then ``emovox serve`` flags.

Sizes are in MiB (1 MiB = 1,048,576 bytes), times in seconds. Images and videos have their own
limit, ``MAX_VIDEO_FILE_SIZE`` / ``EMOVOX_MAX_VIDEO_FILE_SIZE`` in bytes (default 50 MiB; see
``emovox.io.vision``), on the routes that take them.

>>> Settings(max_upload_mb=5).max_upload_bytes
5242880
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ..defaults import ADAPT_CLIPS, MAX_DURATION_S, MIN_REFERENCE_CLIPS

MIB = 1024 * 1024
FORM_OVERHEAD = 64 * 1024
"""Room for a multipart form's boundaries, headers and small fields beside the file."""


class Settings(BaseSettings):
    """Everything `create_app` needs; read from ``EMOVOX_<NAME>`` variables when not given."""

    model_config = SettingsConfigDict(env_prefix="EMOVOX_", extra="ignore", protected_namespaces=())

    model: str | None = Field(
        None, description="model name, folder or hub id; None loads the built-in default"
    )
    text_model: str | None = Field(None, description="text model folder; None: the built-in emovox-text")
    threads: int | None = Field(None, ge=1, description="CPU threads for the model (None: library default)")
    max_upload_mb: float = Field(25.0, gt=0, description="largest accepted request body, in MiB")
    max_inflight_mb: float | None = Field(
        None, gt=0, description="most request-body MiB held in memory at once, over all requests; "
        "beyond it a request gets 503 with Retry-After (None: 4 x the largest body, audio or video)",
    )
    body_timeout_s: float = Field(
        120.0, gt=0, description="longest time spent waiting for one request's body; slower uploads get 408"
    )
    header_timeout_s: float = Field(
        10.0, gt=0, description="longest time to receive a request's headers, from the connection or the "
        "previous response; then the connection is closed (emovox serve)",
    )
    keep_alive_s: float = Field(
        5.0, gt=0, description="how long an idle kept-alive connection stays open (emovox serve)"
    )
    trusted_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["*"], description="Host header values answered (comma list or JSON; "
        "'*.example.com' for subdomains); others get 400. Default '*': any host",
    )
    max_duration_s: float = Field(MAX_DURATION_S, gt=0, description="longest accepted recording, in seconds")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="origins allowed by CORS (comma list or JSON); none by default. Read from "
        "EMOVOX_CORS_ORIGINS, else CORS_ORIGINS (the variable SER_wav2vec's backend documents)",
        validation_alias=AliasChoices("EMOVOX_CORS_ORIGINS", "cors_origins"),
    )
    log_level: str = Field("info", description="uvicorn / logging level")
    concurrency: int = Field(
        2, ge=1, description="recordings analyzed at once; further requests wait their turn"
    )

    adapt_to: str | None = Field(
        None, description="adapt the model at start-up to recordings like the ones it will serve: a folder, "
        "glob or manifest (Recognizer.adapt; see adapt_clips)",
    )
    adapt_clips: int = Field(ADAPT_CLIPS, ge=MIN_REFERENCE_CLIPS, description="how many adapt_to files to draw at random (seed 0)")
    live_adapt: bool = Field(
        True, description="/v1/stream adapts each session to its own speech after a warm-up, unless the "
        "client asks ?adapt=false (or {\"adapt\": false}); false: off unless a client asks for it",
    )
    max_profiles: int = Field(
        1000, ge=1, description="voice profiles (POST /v1/profiles) held in memory; beyond it the least "
        "recently used one is dropped (a few KiB each: one vector, never the audio)",
    )
    profile_max_clips: int = Field(
        200, ge=MIN_REFERENCE_CLIPS, description="most clips in one POST /v1/profiles (the whole request "
        "also stays within max_upload_mb, each clip within max_duration_s)",
    )

    @field_validator("cors_origins", "trusted_hosts", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept a JSON list or a comma-separated string from the environment."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("trusted_hosts")
    @classmethod
    def _check_hosts(cls, value: list[str]) -> list[str]:
        """The patterns Starlette's TrustedHostMiddleware accepts (it asserts them): checked here."""
        if not value:
            raise ValueError("trusted_hosts must name at least one host ('*' for any)")
        for pattern in value:
            if "*" in pattern[1:] or (pattern.startswith("*") and pattern != "*" and not pattern.startswith("*.")):
                raise ValueError(f"trusted host {pattern!r}: a wildcard must be '*' or lead like '*.example.com'")
        return value

    @model_validator(mode="after")
    def _check_inflight(self) -> Settings:
        if self.max_inflight_mb is not None and self.max_inflight_mb < self.max_upload_mb:
            raise ValueError(f"max_inflight_mb ({self.max_inflight_mb:g}) must be at least max_upload_mb "
                             f"({self.max_upload_mb:g}), or no upload of the largest size could be received")
        return self

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.lower()
        allowed = ("critical", "error", "warning", "info", "debug", "trace")
        if level not in allowed:
            raise ValueError(f"log_level must be one of {', '.join(allowed)}, got {value!r}")
        return level

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * MIB)

    @property
    def max_video_bytes(self) -> int:
        """The largest image or video file (``MAX_VIDEO_FILE_SIZE``, read from the environment)."""
        from ..io.vision import max_video_bytes

        return max_video_bytes()

    @property
    def media_body_bytes(self) -> int:
        """The largest body of a route taking a file upload that may be an image or a video."""
        return self.max_video_bytes + FORM_OVERHEAD

    @property
    def max_inflight_bytes(self) -> int:
        """The in-flight budget: set, else room for 4 of the largest bodies (audio or video)."""
        if self.max_inflight_mb:
            return int(self.max_inflight_mb * MIB)
        return 4 * max(self.max_upload_bytes, self.media_body_bytes)
