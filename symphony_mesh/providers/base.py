"""The contract between the engine and a stage provider (campaigns.md 4.6, 9.1).

A provider is an async function `run(call) -> Outcome`. It sees a `ProviderCall` (the evaluated
config and inputs of one context, the run id, and a small `ProviderEnvironment`), never the
engine. It ends in one of three ways:

- `Completed(outputs)`: the engine classifies the outputs by their `status` key (4.6 rule 1), so
  `{"status": 403}` is a failure and no `status` is a success;
- `Failed(code, message, outputs)`: a documented provider error (`fail <code> <message>` in
  section 9); the engine records `error: "<State name>: <message>"`;
- `Waiting(...)`: the context goes dormant (delay, signal, approval, wait). The engine persists
  `state`, arms the wake condition, drops every coroutine, and later calls the provider again with
  `call.resume = state` and `call.wake` describing what woke it.

Any other exception is a bug in the provider: the engine records 500
`provider "<p>" raised <Type>: <message>`. Cancellation arrives as `asyncio.CancelledError`;
providers that own resources (the script provider's process group) clean up and re-raise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from symphony_mesh.model.jsonvalues import JsonMap, JsonValue

__all__ = [
    "Completed",
    "Failed",
    "Outcome",
    "Provider",
    "ProviderCall",
    "ProviderEnvironment",
    "SiteView",
    "Waiting",
    "Wake",
]


@dataclass(frozen=True)
class Completed:
    """The provider returned outputs; success or failure follows their `status` (4.6)."""

    outputs: JsonMap


@dataclass(frozen=True)
class Failed:
    """A documented provider failure: `fail <code> <message>`."""

    code: int
    message: str
    outputs: JsonMap = field(default_factory=dict)
    """Outputs kept with the failure (e.g. the http provider's `body` and `header.*`)."""


@dataclass(frozen=True)
class Waiting:
    """The context goes dormant until one of the wake conditions holds."""

    state: JsonMap
    """Persisted and handed back as `call.resume` (must be JSON)."""
    status: int
    """Context status while waiting: 9997 Delayed (only timers) or 9995 Paused."""
    waiting_for: JsonMap
    """The status document's `waitingFor` item, e.g. `{"kind": "signal", "signal": "go"}`."""
    until: datetime | None = None
    """Wake at this time (timer)."""
    signal: str | None = None
    """Wake when a signal of this name arrives (it is consumed by this context)."""
    sites: Sequence[str] = ()
    """Wake when one of these sites connects (wait provider)."""


@dataclass(frozen=True)
class Wake:
    """Why a waiting provider is called again."""

    kind: Literal["timer", "signal", "site"]
    at: datetime
    """When the event happened."""
    signal: str = ""
    """The signal's name (kind `signal`)."""
    payload: JsonValue = None
    """The signal's payload (kind `signal`)."""


@dataclass(frozen=True)
class SiteView:
    """What a provider may know about one site of this node's subtree (federation.md T-10)."""

    name: str
    connected: bool
    via: str
    """The direct child it is reached through; `""` for a direct child."""
    labels: JsonMap
    document: JsonMap
    """The Site document as `get sites -o json` prints it."""


class ProviderEnvironment(Protocol):
    """The node facts a provider may use."""

    @property
    def site_id(self) -> str:
        """This node's site id."""
        ...

    @property
    def script_dir(self) -> Path:
        """Default `scriptFolder` (`engine.scriptDir`)."""
        ...

    @property
    def staging_dir(self) -> Path:
        """Where script runs get their fresh directories (`<data-dir>/staging`)."""
        ...

    def now(self) -> datetime:
        """The current time (aware, UTC)."""
        ...

    def sites(self, *, subtree: bool) -> Sequence[SiteView]:
        """Direct children (and descendants with `subtree`), sorted by name."""
        ...


@dataclass(frozen=True)
class ProviderCall:
    """One provider call for one context (or one task of a context)."""

    provider: str
    """Canonical type name, e.g. `providers.stage.mock`."""
    config: JsonMap
    """Evaluated config."""
    inputs: JsonMap
    """Evaluated inputs including the injected `__*` keys (4.5)."""
    run_id: str
    """`__runId`: the same for every attempt and after a restart (4.15)."""
    activation: str
    stage: str
    context: str
    attempt: int
    """1 for the first attempt (8.8)."""
    environment: ProviderEnvironment
    resume: JsonMap | None = None
    """The `Waiting.state` this call resumes from; None on the first call of an attempt."""
    wake: Wake | None = None
    """What woke a waiting call; None on the first call of an attempt."""


Outcome = Completed | Failed | Waiting
"""Everything a provider call can end with."""

Provider = Callable[[ProviderCall], Awaitable[Outcome]]
"""A stage provider."""
