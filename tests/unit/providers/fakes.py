"""A fake provider environment and builders of provider calls for the provider tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.providers.base import Outcome, ProviderCall, SiteView, Waiting, Wake

__all__ = ["NOW", "RUN_ID", "FakeEnvironment", "call", "resumed", "site"]

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
"""The fake clock's start."""

RUN_ID = "3f1c-9a/deploy/2/hub"
"""The run id every test call carries."""


def site(
    name: str, *, connected: bool = True, via: str = "", labels: JsonMap | None = None
) -> SiteView:
    """A site of the fake registry, with a small Site document."""
    labels = labels or {}
    document: JsonMap = {
        "apiVersion": "federation.symphony/v1",
        "kind": "Site",
        "metadata": {"name": name, "labels": dict(labels)},
        "status": {"connected": connected, "via": via},
    }
    return SiteView(name=name, connected=connected, via=via, labels=labels, document=document)


@dataclass
class FakeEnvironment:
    """A `ProviderEnvironment` whose clock and site registry the test controls."""

    script_dir: Path
    staging_dir: Path
    site_id: str = "hub"
    clock: datetime = NOW
    registry: list[SiteView] = field(default_factory=list)

    def now(self) -> datetime:
        return self.clock

    def sites(self, *, subtree: bool) -> Sequence[SiteView]:
        chosen = [s for s in self.registry if subtree or not s.via]
        return sorted(chosen, key=lambda s: s.name)

    def advance(self, seconds: float) -> None:
        self.clock += timedelta(seconds=seconds)

    def set_site(self, view: SiteView) -> None:
        """Add or replace a site (e.g. it connected)."""
        self.registry = [s for s in self.registry if s.name != view.name] + [view]


def call(
    environment: FakeEnvironment,
    provider: str = "providers.stage.mock",
    inputs: JsonMap | None = None,
    config: JsonMap | None = None,
    *,
    injected: bool = False,
) -> ProviderCall:
    """A first call; `injected` adds the engine's `__*` inputs (4.5)."""
    all_inputs: JsonMap = dict(inputs or {})
    if injected:
        all_inputs |= {
            "__activation": "a1",
            "__activationGeneration": "1",
            "__campaignversion": "c:1",
            "__namespace": "default",
            "__stage": "deploy",
            "__previousStage": "deploy",
            "__site": "hub",
            "__context": "hub",
            "__runId": RUN_ID,
        }
    return ProviderCall(
        provider=provider,
        config=dict(config or {}),
        inputs=all_inputs,
        run_id=RUN_ID,
        activation="a1",
        stage="deploy",
        context="hub",
        attempt=1,
        environment=environment,
    )


def resumed(
    first: ProviderCall,
    outcome: Outcome,
    kind: Literal["timer", "signal", "site"],
    *,
    signal: str = "",
    payload: JsonValue = None,
) -> ProviderCall:
    """The call the engine makes after `outcome` (a `Waiting`) is woken by an event of `kind`."""
    assert isinstance(outcome, Waiting), outcome
    environment = first.environment
    assert isinstance(environment, FakeEnvironment)
    wake = Wake(kind=kind, at=environment.now(), signal=signal, payload=payload)
    return replace(first, resume=outcome.state, wake=wake)
