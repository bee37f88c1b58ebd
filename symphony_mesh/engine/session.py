"""One transition being computed: the activation's state plus the effects to carry out after commit.

A `Session` is built under the activation's lock from its stored row, mutated by the stage-run
logic (`stagerun.py`), then turned into one store transition. Effects (provider calls to start,
calls to cancel, watchers to notify) run only after the transition committed, so nothing outside
the store ever sees a state that could still be lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from symphony_mesh.engine.state import RunState
from symphony_mesh.expr.resolver import ConfigResolver
from symphony_mesh.model.documents import Activation, CampaignVersion, StageSpec
from symphony_mesh.model.jsonvalues import JsonMap

__all__ = ["Session", "iso", "parse_iso"]


def iso(moment: datetime) -> str:
    """Times inside engine state: RFC 3339 UTC with microseconds (ordering needs them)."""
    return moment.astimezone(UTC).isoformat()


def parse_iso(text: str) -> datetime:
    """The inverse of `iso`."""
    return datetime.fromisoformat(text)


@dataclass
class Session:
    """The activation a transition is computed for, and what to do once it committed."""

    uid: str
    name: str
    activation: Activation
    version: CampaignVersion
    state: RunState
    revision: int
    now: datetime
    site_id: str
    created_at: str
    entries: dict[int, JsonMap] = field(default_factory=dict)
    """History entries written by this transition, by sequence number."""
    launch: list[tuple[int, str]] = field(default_factory=list)
    """(stage run seq, context) whose provider call starts after commit."""
    cancel: list[tuple[int, str]] = field(default_factory=list)
    """Provider calls to cancel after commit."""
    events: list[dict[str, Any]] = field(default_factory=list)
    """Watch events (context/stage granularity), in order."""
    previous_status: int = 0
    resolver: ConfigResolver | None = None
    """Where `$config` and `$secret` look (the node's config and secret directories)."""

    @property
    def stamp(self) -> str:
        """`now` in the engine's own time format."""
        return iso(self.now)

    def stage(self, name: str) -> StageSpec:
        """A stage of the snapshot."""
        return self.version.stages[name]
