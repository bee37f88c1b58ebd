"""What operators do to a running activation: Step, Signal, Cancel (campaigns.md 5.3, 8.1, 8.5).

Each command is a mutation run by `Engine.wake` under the activation's lock, so it is one
transition like any other event. A refused command raises a `MeshError` before anything is
committed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from symphony_mesh.engine.outcomes import cancelled
from symphony_mesh.engine.session import Session
from symphony_mesh.engine.stagerun import (
    cancel_current,
    end_activation,
    open_stage,
    wake_with_signal,
)
from symphony_mesh.engine.state import WAITING
from symphony_mesh.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    ResourceExhaustedError,
)
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue, json_equal
from symphony_mesh.model.status import StateCode, is_terminal, status_message

__all__ = ["CancelCommand", "SignalCommand", "StepCommand", "check_step_key"]

_STEP_KEY = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MAX_QUEUED_SIGNALS = 100


def check_step_key(key: str) -> None:
    """`idempotency_key`: 1-128 characters of A-Z a-z 0-9 . _ : - (5.3)."""
    if not _STEP_KEY.fullmatch(key):
        raise InvalidArgumentError(
            "invalid idempotency_key: must be 1-128 characters of "
            "A-Z, a-z, 0-9, '.', '_', ':', '-'",
            "INVALID_FIELD",
            metadata={"field": "idempotency_key"},
        )


def _terminal(session: Session) -> FailedPreconditionError:
    message = status_message(session.state.status)
    return FailedPreconditionError(
        f'activation "{session.name}" has finished ({message})',
        "ACTIVATION_TERMINAL",
        metadata={"activation": session.name},
    )


@dataclass
class StepCommand:
    """Run a stage of a stepped activation; idempotent by key. Returns the run's sequence."""

    stage: str
    inputs: JsonMap
    key: str

    def __call__(self, session: Session) -> int:
        state = session.state
        known = state.step_keys.get(self.key)
        if known is not None:
            if known["stage"] != self.stage or not json_equal(known["inputs"], self.inputs):
                raise FailedPreconditionError(
                    f'idempotency key "{self.key}" was already used with different parameters',
                    "IDEMPOTENCY_KEY_MISMATCH",
                    metadata={"activation": session.name},
                )
            seq = known["seq"]
            assert isinstance(seq, int)
            return seq
        steppable = (
            not session.version.self_driving
            and not state.finished_at
            and state.current is None
            and state.status == int(StateCode.PAUSED)
        )
        if not steppable:
            raise FailedPreconditionError(
                f'activation "{session.name}" is not waiting for a step '
                f"({status_message(state.status)})",
                "ACTIVATION_NOT_STEPPABLE",
                metadata={"activation": session.name},
            )
        stage = self.stage or state.suggested
        if stage not in session.version.stages:
            raise InvalidArgumentError(
                f'stage "{stage}" not found in campaign version "{session.version.name}"',
                "STAGE_NOT_FOUND",
                metadata={"stage": stage, "campaignVersion": session.version.name},
            )
        state.inputs.update(self.inputs)
        state.step_inputs.update(self.inputs)
        seq = state.history_count
        state.step_keys[self.key] = {"stage": self.stage, "inputs": self.inputs, "seq": seq}
        open_stage(session, stage, state.last_stage, step_key=self.key)
        return seq


@dataclass
class SignalCommand:
    """Deliver a signal to every context waiting for it, or queue it. Returns `consumed`."""

    signal: str
    payload: JsonValue
    key: str = ""

    def __call__(self, session: Session) -> bool:
        state = session.state
        if self.key and self.key in state.signal_keys:
            return bool(state.signal_keys[self.key])
        if state.finished_at or is_terminal(state.status):
            raise _terminal(session)
        run = state.current
        waiting = [
            context
            for context in (run.ctx.values() if run is not None else ())
            if context.phase == WAITING and context.signal == self.signal
        ]
        delivery: JsonMap = {"name": self.signal, "payload": self.payload}
        for context in waiting:
            assert run is not None
            wake_with_signal(session, run, context, delivery)
        if not waiting:
            if len(state.signals) >= MAX_QUEUED_SIGNALS:
                raise ResourceExhaustedError(
                    f'signal queue of activation "{session.name}" is full (limit 100)',
                    "SIGNAL_QUEUE_FULL",
                    metadata={"activation": session.name, "limit": "100"},
                )
            state.signals.append(delivery)
        if self.key:
            state.signal_keys[self.key] = bool(waiting)
        return bool(waiting)


@dataclass
class CancelCommand:
    """Cancel (8.5); returns True when an onCancel stage now runs."""

    reason: str

    def __call__(self, session: Session) -> bool:
        state = session.state
        if state.status == int(StateCode.CANCELLED) or state.cancel_requested:
            return False
        if state.finished_at or (
            is_terminal(state.status) and state.status != int(StateCode.PENDING)
        ):
            raise _terminal(session)
        message = f"activation cancelled: {self.reason}" if self.reason else "activation cancelled"
        state.cancel_requested = True
        state.cancel_reason = self.reason
        if state.status == int(StateCode.PENDING):
            end_activation(session, int(StateCode.CANCELLED), message)
            return False
        interrupted = state.current.stage if state.current is not None else state.last_stage
        cancel_current(session, message=message, result=cancelled(self.reason))
        state.signals.clear()
        on_cancel = session.version.on_cancel
        if not on_cancel:
            end_activation(session, int(StateCode.CANCELLED), message)
            return False
        state.suggested = ""
        state.status = int(StateCode.RUNNING)
        open_stage(session, on_cancel, interrupted, on_cancel=True)
        return state.current is not None
