"""Registered models and model versions, with their aliases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelVersion:
    model_name: str
    version: str
    run_id: str
    source: str
    status: str = "READY"
    creation_time_ms: int | None = None
    last_updated_time_ms: int | None = None
    user: str = ""
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    description: str = ""
    creation_time_ms: int | None = None
    last_updated_time_ms: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)  # alias -> version
