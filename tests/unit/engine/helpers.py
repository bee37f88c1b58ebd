"""Small builders for the engine's unit tests."""

from __future__ import annotations

from typing import Any

from symphony_mesh.model.documents import StageSpec, TaskSpec
from symphony_mesh.model.providers_catalog import canonical_provider


def stage(name: str = "s", provider: str = "mock", **fields: Any) -> StageSpec:
    """A stage as validation would produce it (`provider_type` filled in)."""
    return StageSpec(
        name=name, provider=provider, provider_type=canonical_provider(provider), **fields
    )


def task(name: str, provider: str = "mock", **fields: Any) -> TaskSpec:
    """A task as validation would produce it."""
    return TaskSpec(
        name=name, provider=provider, provider_type=canonical_provider(provider), **fields
    )
