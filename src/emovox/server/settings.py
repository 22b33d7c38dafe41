"""Server settings: defaults, then ``EMOVOX_*`` environment variables, then ``emovox serve`` flags.

>>> Settings(max_upload_mb=5).max_upload_bytes
5242880
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything `create_app` needs; read from ``EMOVOX_<NAME>`` variables when not given."""

    model_config = SettingsConfigDict(env_prefix="EMOVOX_", extra="ignore", protected_namespaces=())

    model: str | None = Field(
        None, description="model name, folder or hub id; None loads the built-in default"
    )
    text_model: str | None = Field(None, description="text model folder; None: the built-in emovox-text")
    threads: int | None = Field(None, ge=1, description="CPU threads for the model (None: library default)")
    max_upload_mb: float = Field(25.0, gt=0, description="largest accepted request body, in MB")
    max_duration_s: float = Field(600.0, gt=0, description="longest accepted recording, in seconds")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="origins allowed by CORS (comma list or JSON); none by default"
    )
    log_level: str = Field("info", description="uvicorn / logging level")
    concurrency: int = Field(
        2, ge=1, description="recordings analyzed at once; further requests wait their turn"
    )

    adapt_to: str | None = Field(
        None, description="adapt the model at start-up to recordings like the ones it will serve: a folder, "
        "glob or manifest (Recognizer.adapt; see adapt_clips)",
    )
    adapt_clips: int = Field(50, ge=20, description="how many adapt_to files to draw at random (seed 0)")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept a JSON list or a comma-separated string from the environment."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

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
        return int(self.max_upload_mb * 1024 * 1024)
