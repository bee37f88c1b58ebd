"""Choosing the next stage and how an activation ends (campaigns.md 4.8-4.10, 5.2, 8.5, 8.6).

After every stage run that reached a verdict the selector is evaluated -- in both modes -- and
one `NextStep` says what happens: another stage (run at once when self-driving, suggested when
stepped) or the end of the activation, with the final status of the stage's history entry.
`handleErrors` is read on the stage being selected, never on the stage that failed (4.9).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from symphony_mesh.engine.stage_checks import StageError
from symphony_mesh.expr import ExpressionError, Scope, evaluate_template
from symphony_mesh.expr.values import text
from symphony_mesh.model.documents import StageSpec
from symphony_mesh.model.status import StateCode

__all__ = [
    "NextStep",
    "cancel_ending",
    "choose_next",
    "stage_error_ending",
    "timeout_ending",
]

_DONE = int(StateCode.DONE)
_RUNNING = int(StateCode.RUNNING)
_BAD_REQUEST = int(StateCode.BAD_REQUEST)
_INTERNAL_ERROR = int(StateCode.INTERNAL_ERROR)


@dataclass(frozen=True)
class NextStep:
    """What follows a stage run's verdict."""

    next_stage: str
    """The stage to run (self-driving) or suggest (stepped); `""` when the activation ends."""
    ends: bool
    """Whether the activation becomes terminal now."""
    activation_status: int
    """9996 Done or the failure status when it ends; 9994 Running when it goes on (the runtime
    shows 9995 Paused instead while a stepped activation waits for a Step)."""
    error_message: str
    """The activation's `errorMessage` when it ends unsuccessfully; else `""`."""
    entry_status: int
    """The history entry's final status: 9996 on success, the failure status, or the 500/400
    that a selector error or an unknown stage puts in its place (4.8)."""
    entry_error: str
    """The history entry's `errorMessage` (`""` on success)."""


def _end(status: int, message: str) -> NextStep:
    """The activation ends with the stage entry's own status and message (4.10)."""
    return NextStep("", True, status, message, status, message)


def _go(next_stage: str, entry_status: int, entry_error: str) -> NextStep:
    return NextStep(next_stage, False, _RUNNING, "", entry_status, entry_error)


def choose_next(
    stage_name: str,
    selector: str,
    scope: Scope,
    *,
    succeeded: bool,
    failure_status: int,
    failure_message: str = "",
    stages: Mapping[str, StageSpec],
) -> NextStep:
    """Apply the table of 4.8 after a run of `stage_name` (and 4.10 for the endings).

    The selector is evaluated in the selector `scope` and its value rendered as text, with
    surrounding whitespace kept (`" a"` is not stage `a`); an absent selector is `""`. An
    evaluation error makes the entry 500 with the error's display text, whatever the verdict,
    and the activation ends 500 with it. After a success, `""` ends the activation `Done`, a
    stage name goes there and an unknown name ends it 400 `stage X is not found`. After a
    failure, only a stage with `handleErrors` may follow; anything else ends the activation
    with `failure_status` and `failure_message` (default `stage <S> failed`; a stage timeout
    passes `stage <S> timed out after <d>`). A handled failure keeps its status and message in
    the entry.
    """
    try:
        chosen = text(evaluate_template(selector, scope)) if selector else ""
    except ExpressionError as error:
        return _end(_INTERNAL_ERROR, error.display_text)
    if succeeded:
        if chosen == "":
            return NextStep("", True, _DONE, "", _DONE, "")
        if chosen in stages:
            return _go(chosen, _DONE, "")
        return _end(_BAD_REQUEST, f"stage {chosen} is not found")
    message = failure_message or f"stage {stage_name} failed"
    handler = stages.get(chosen) if chosen else None
    if handler is not None and handler.handle_errors:
        return _go(chosen, failure_status, message)
    return _end(failure_status, message)


def stage_error_ending(error: StageError) -> NextStep:
    """A stage-level error (4.11): no selector, no handler; the activation ends with it."""
    return _end(error.status, error.message)


def cancel_ending(reason: str = "") -> NextStep:
    """A cancelled activation (8.5): 9990, `activation cancelled[: <reason>]` for the activation
    and for the interrupted entry."""
    message = f"activation cancelled: {reason}" if reason else "activation cancelled"
    return _end(int(StateCode.CANCELLED), message)


def timeout_ending(duration: str) -> NextStep:
    """An activation timeout (8.6): 11004, `activation timed out after <d>` (`d` as written)."""
    return _end(int(StateCode.TIMED_OUT), f"activation timed out after {duration}")
