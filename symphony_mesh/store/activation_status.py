"""Rebuild an activation's status (campaigns.md 10.1) from its stored status and history rows."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from symphony_mesh.model.status import ActivationStatus, ContextStatus, StageStatus

__all__ = ["activation_status", "entry_status"]


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def entry_status(raw: dict[str, Any]) -> StageStatus:
    """One stored history entry as the model's StageStatus."""
    return _entry(raw)


def _entry(raw: dict[str, Any]) -> StageStatus:
    contexts = raw.get("contexts")
    return StageStatus(
        stage=raw["stage"],
        iteration=raw["iteration"],
        status=raw["status"],
        started_at=datetime.fromisoformat(raw["startedAt"]),
        next_stage=raw.get("nextStage", ""),
        inputs=raw.get("inputs") or {},
        outputs=raw.get("outputs") or {},
        error_message=raw.get("errorMessage", ""),
        is_active=bool(raw.get("isActive")),
        finished_at=_time(raw.get("finishedAt")),
        attempts=int(raw.get("attempts") or 0),
        contexts=None
        if contexts is None
        else {
            name: ContextStatus(
                status=c["status"],
                error=c.get("error", ""),
                inputs=c.get("inputs") or {},
                outputs=c.get("outputs") or {},
                attempts=int(c.get("attempts") or 0),
                started_at=_time(c.get("startedAt")),
                finished_at=_time(c.get("finishedAt")),
                remote=bool(c.get("remote")),
            )
            for name, c in contexts.items()
        },
        tasks=tuple(raw.get("tasks") or ()),
    )


def activation_status(status_doc: str, history: list[str]) -> ActivationStatus:
    """The status of 10.1 from the `status_doc` column and the history entries to show."""
    raw = json.loads(status_doc)
    return ActivationStatus(
        status=raw["status"],
        update_time=datetime.fromisoformat(raw["updateTime"]),
        stage_history=[_entry(json.loads(entry)) for entry in history],
        started_at=_time(raw.get("startedAt")),
        finished_at=_time(raw.get("finishedAt")),
        error_message=raw.get("errorMessage", ""),
        current_stage=raw.get("currentStage", ""),
        next_stage=raw.get("nextStage", ""),
        waiting_for=tuple(raw.get("waitingFor", ())),
        cancel_requested=bool(raw.get("cancelRequested")),
        cancel_reason=raw.get("cancelReason", ""),
        history_total=int(raw.get("historyTotal") or 0),
        campaign_version_generation=int(raw.get("campaignVersionGeneration") or 0),
        step_inputs=raw.get("stepInputs") or {},
    )
