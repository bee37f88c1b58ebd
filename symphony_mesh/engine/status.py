"""The activation status the store keeps beside the engine state (campaigns.md 4.1, 10.1)."""

from __future__ import annotations

from typing import Any

from symphony_mesh.engine.session import Session
from symphony_mesh.engine.state import RUNNING, WAITING
from symphony_mesh.model.status import StateCode, is_terminal

__all__ = ["settle", "status_document"]


def settle(session: Session) -> None:
    """Derive Running / Paused / Delayed from what the open run does (4.1: Running wins)."""
    state = session.state
    if state.finished_at or (is_terminal(state.status) and state.status != int(StateCode.RUNNING)):
        return
    run = state.current
    if run is None:
        state.status = int(StateCode.PAUSED) if state.suggested else state.status
        return
    phases = {context.phase for context in run.ctx.values()}
    if not run.ctx and run.status == int(StateCode.DELAYED):
        state.status = int(StateCode.DELAYED)
    elif RUNNING in phases or "queued" in phases or not run.ctx:
        state.status = int(StateCode.RUNNING)
    elif any(c.phase == WAITING and (c.signal or not c.until) for c in run.ctx.values()):
        state.status = int(StateCode.PAUSED)
    else:
        state.status = int(StateCode.DELAYED)


def _waiting_for(session: Session) -> list[dict[str, Any]]:
    state = session.state
    if state.finished_at:
        return []
    if state.status == int(StateCode.PENDING):
        return [{"kind": "queue", "position": state.queue_position}] if state.queue_position else []
    run = state.current
    if run is None:
        if state.suggested:
            return [{"kind": "step", "nextStage": state.suggested}]
        return []
    items: list[dict[str, Any]] = []
    if not run.ctx and run.schedule_until:
        items.append({"kind": "timer", "reason": "schedule", "until": run.schedule_until,
                      "stage": run.stage, "context": ""})  # fmt: skip
    items += [dict(c.waiting_for) for c in run.ctx.values() if c.phase == WAITING and c.waiting_for]
    return items


def status_document(session: Session) -> dict[str, Any]:
    """The `status_doc` column: every field of 10.1 except the history (its own table)."""
    settle(session)
    state = session.state
    return {
        "status": state.status,
        "updateTime": session.stamp,
        "startedAt": state.started_at or None,
        "finishedAt": state.finished_at,
        "errorMessage": state.error_message,
        "currentStage": state.last_stage,
        "nextStage": state.suggested,
        "waitingFor": _waiting_for(session),
        "cancelRequested": state.cancel_requested,
        "cancelReason": state.cancel_reason,
        "historyTotal": state.history_count,
        "campaignVersionGeneration": state.generation if state.started_at else 0,
        "stepInputs": state.step_inputs,
    }
