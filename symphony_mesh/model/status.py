"""State codes (campaigns.md 10.2) and the status records of activations (10.1, 10.3).

The records are what the engine keeps and the renderer turns into the Symphony-shaped status
document; they hold values ready for display (inputs already masked by the engine, 10.3), while the
renderer applies the display rules that need no knowledge of templates: hidden keys and the
65 536-byte truncation of 10.4.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

from symphony_mesh.model.jsonvalues import JsonMap

__all__ = [
    "ActivationStatus",
    "ContextStatus",
    "StageStatus",
    "StateCode",
    "is_success",
    "is_terminal",
    "status_label",
    "status_message",
]


class StateCode(IntEnum):
    """The named state codes of 10.2."""

    OK = 200
    BAD_REQUEST = 400
    UNAUTHORIZED = 401
    FORBIDDEN = 403
    NOT_FOUND = 404
    METHOD_NOT_ALLOWED = 405
    CONFLICT = 409
    INTERNAL_ERROR = 500
    BAD_CONFIG = 1000
    MISSING_CONFIG = 1001
    UPDATE_FAILED = 8001
    DELETE_FAILED = 8002
    VALIDATE_FAILED = 8003
    CANCELLED = 9990
    PENDING = 9991
    RUNNING = 9994
    PAUSED = 9995
    DONE = 9996
    DELAYED = 9997
    UNTOUCHED = 9998
    NOT_IMPLEMENTED = 9999
    TIMED_OUT = 11004


_NAMES: dict[int, str] = {
    StateCode.OK: "OK",
    StateCode.BAD_REQUEST: "Bad Request",
    StateCode.UNAUTHORIZED: "Unauthorized",
    StateCode.FORBIDDEN: "Forbidden",
    StateCode.NOT_FOUND: "Not Found",
    StateCode.METHOD_NOT_ALLOWED: "Method Not Allowed",
    StateCode.CONFLICT: "Conflict",
    StateCode.INTERNAL_ERROR: "Internal Error",
    StateCode.BAD_CONFIG: "Bad Config",
    StateCode.MISSING_CONFIG: "Missing Config",
    StateCode.UPDATE_FAILED: "Update Failed",
    StateCode.DELETE_FAILED: "Delete Failed",
    StateCode.VALIDATE_FAILED: "Validate Failed",
    StateCode.CANCELLED: "Cancelled",
    StateCode.PENDING: "Pending",
    StateCode.RUNNING: "Running",
    StateCode.PAUSED: "Paused",
    StateCode.DONE: "Done",
    StateCode.DELAYED: "Delayed",
    StateCode.UNTOUCHED: "Untouched",
    StateCode.NOT_IMPLEMENTED: "Not Implemented",
    StateCode.TIMED_OUT: "Timed Out",
}

_UNFINISHED = frozenset({StateCode.PENDING, StateCode.RUNNING, StateCode.PAUSED, StateCode.DELAYED})


def status_message(code: int) -> str:
    """The name of a state code (`statusMessage`): the table of 10.2.

    Named codes have their name; other codes from 100 to 599 are `HTTP <code>`; anything else is
    `Unknown State: <code>`.
    """
    name = _NAMES.get(code)
    if name is not None:
        return name
    if 100 <= code <= 599:
        return f"HTTP {code}"
    return f"Unknown State: {code}"


def status_label(code: int) -> str:
    """The value of the `statusMessage` system label: the name without spaces (`InternalError`)."""
    return status_message(code).replace(" ", "")


def is_success(code: int) -> bool:
    """The success rule of 4.6: 200-299 and 9996 `Done`."""
    return 200 <= code <= 299 or code == StateCode.DONE


def is_terminal(code: int) -> bool:
    """Terminal activation statuses: everything except Pending, Running, Paused, Delayed."""
    return code not in _UNFINISHED


@dataclass(frozen=True)
class ContextStatus:
    """One context of a fan-out stage run (the `contexts` map of 10.3)."""

    status: int
    error: str = ""
    inputs: JsonMap = field(default_factory=dict)
    """Evaluated inputs, secrets already masked; hidden keys are removed when rendered."""
    outputs: JsonMap = field(default_factory=dict)
    """The context result; hidden keys are removed when rendered."""
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    remote: bool = False


@dataclass(frozen=True)
class StageStatus:
    """One history entry (10.3)."""

    stage: str
    iteration: int
    status: int
    started_at: datetime
    next_stage: str = ""
    inputs: JsonMap = field(default_factory=dict)
    outputs: JsonMap = field(default_factory=dict)
    error_message: str = ""
    is_active: bool = False
    finished_at: datetime | None = None
    attempts: int = 0
    contexts: Mapping[str, ContextStatus] | None = None
    """Only for stages with `contexts`, in context order."""
    tasks: Sequence[str] = ()
    """Task names of the stage, so that the renderer can hide keys inside task results."""


@dataclass(frozen=True)
class ActivationStatus:
    """The status of an activation (10.1)."""

    status: int
    update_time: datetime
    stage_history: Sequence[StageStatus] = ()
    """The entries to show (the last 50 by default), oldest first."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error_message: str = ""
    current_stage: str = ""
    next_stage: str = ""
    waiting_for: Sequence[JsonMap] = ()
    """Items such as `{"kind": "step", "nextStage": "B"}` (10.1)."""
    cancel_requested: bool = False
    cancel_reason: str = ""
    history_total: int = 0
    campaign_version_generation: int = 0
    """0 until the activation starts and takes its snapshot."""
    step_inputs: JsonMap = field(default_factory=dict)

    @classmethod
    def pending(cls, now: datetime, position: int | None = None) -> ActivationStatus:
        """A new activation that has not started: Pending with an empty history (8.7)."""
        waiting: tuple[JsonMap, ...] = ()
        if position is not None:
            waiting = ({"kind": "queue", "position": position},)
        return cls(status=StateCode.PENDING, update_time=now, waiting_for=waiting)
