"""The durable state of one activation, as the engine keeps it between events (campaigns.md 4.12).

Everything needed to continue an activation is here and goes to the store with every transition:
the cursor (the open stage run and its contexts), activation inputs with Step merges, the outputs
context, provider state, queued signals, Step keys and the absolute deadlines. Waits are data
(`until`, `signal`), not coroutines: a dormant activation is only this document plus its rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from symphony_mesh.model.jsonvalues import JsonMap, JsonValue

__all__ = ["ContextRun", "RunState", "StageRun"]

QUEUED, RUNNING, WAITING, DONE = "queued", "running", "waiting", "done"


@dataclass
class ContextRun:
    """One context of the open stage run."""

    name: str
    inputs: JsonMap
    """Evaluated inputs including the injected keys (the provider's input)."""
    config: JsonMap
    tasks: dict[str, JsonMap] = field(default_factory=dict)
    """Per task: its evaluated `inputs` (call inputs) and `config` (6.5)."""
    phase: str = QUEUED
    """`queued`, `running` (a provider call in flight), `waiting` (dormant) or `done`."""
    attempt: int = 1
    status: int = 9998
    result: JsonMap | None = None
    """The context result once done (4.6)."""
    succeeded: bool | None = None
    message: str = ""
    resume: JsonMap | None = None
    """The waiting provider's state."""
    waiting_for: JsonMap | None = None
    until: str | None = None
    """RFC 3339 due time of the context's timer (a wait or a retry back-off)."""
    signal: str | None = None
    wake: JsonMap | None = None
    """What woke a waiting call (persisted with the delivery, so a restart resumes it)."""
    attempt_deadline: str | None = None
    """End of the current attempt under `contextPolicy.timeout` (6.2)."""
    stopped: str = ""
    """The failFast text when failFast stopped this context (it then counts as pending)."""
    retrying: bool = False
    """The timer is a retry back-off: on expiry the next attempt starts."""
    started_at: str | None = None
    finished_at: str | None = None


@dataclass
class StageRun:
    """The open stage run (its history entry is kept in step with it)."""

    seq: int
    stage: str
    iteration: int
    previous: str
    started_at: str
    contexts: list[str] | None
    """None: the implicit single context (the local site id)."""
    ctx: dict[str, ContextRun] = field(default_factory=dict)
    inputs_shown: JsonMap = field(default_factory=dict)
    status: int = 9994
    schedule_until: str | None = None
    deadline: str | None = None
    on_cancel: bool = False
    step_key: str = ""


@dataclass
class RunState:
    """Everything of one activation that survives a restart."""

    inputs: JsonMap
    """Activation inputs including keys merged by Step."""
    step_inputs: JsonMap = field(default_factory=dict)
    outputs: dict[str, JsonMap] = field(default_factory=dict)
    provider_state: dict[str, JsonValue] = field(default_factory=dict)
    """`<stage>/<context>` -> saved `__state`."""
    iterations: dict[str, int] = field(default_factory=dict)
    history_count: int = 0
    current: StageRun | None = None
    last_stage: str = ""
    suggested: str = ""
    step_keys: dict[str, JsonMap] = field(default_factory=dict)
    signals: list[JsonMap] = field(default_factory=list)
    """Queued signals, oldest first (8.1)."""
    signal_keys: dict[str, bool] = field(default_factory=dict)
    """Signal idempotency keys and whether that signal was consumed (API-14)."""
    started_at: str = ""
    finished_at: str | None = None
    status: int = 9994
    error_message: str = ""
    cancel_requested: bool = False
    cancel_reason: str = ""
    deadline: str | None = None
    """Activation timeout (8.6), absolute."""
    deadline_text: str = ""
    """The timeout as written, for `activation timed out after <d>`."""
    final_status: int = 0
    """How the activation ends once its onCancel stage is done (9990, or 11004 on timeout)."""
    final_message: str = ""
    generation: int = 1
    queue_position: int = 0
    """1-based place in the concurrency queue while Pending (8.7)."""

    def to_json(self) -> dict[str, Any]:
        """The JSON document stored in `activation_run.state` (shallow: it is encoded at once).

        Written by hand because `dataclasses.asdict` deep-copies every value, which was the
        largest single cost of a transition.
        """
        document = dict(vars(self))
        run = self.current
        if run is not None:
            document["current"] = {
                **vars(run),
                "ctx": {name: dict(vars(context)) for name, context in run.ctx.items()},
            }
        return document

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        """Rebuild from `to_json()` output."""
        current = data.get("current")
        state = cls(**{k: v for k, v in data.items() if k != "current"})
        if current is not None:
            contexts = {
                name: ContextRun(**context) for name, context in current.get("ctx", {}).items()
            }
            state.current = StageRun(**{**current, "ctx": contexts})
        return state
