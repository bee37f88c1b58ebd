"""Step, Signal, Cancel and Watch: requests checked here, carried out by the engine.

(federation.md API-13..API-16, campaigns.md 5.3, 8.1, 8.5, 11.5.) Watch sends a snapshot, then
one event per committed change in commit order, driven by the engine's notices -- no polling.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from google.protobuf import json_format, timestamp_pb2
from grpc import aio

from symphony_mesh.api.v1 import activation_pb2
from symphony_mesh.engine.commands import CancelCommand, SignalCommand, StepCommand, check_step_key
from symphony_mesh.engine.runtime import Engine, Notice
from symphony_mesh.errors import (
    InvalidArgumentError,
    NotFoundError,
    ResourceExhaustedError,
    UnavailableError,
)
from symphony_mesh.model.jsonvalues import compact_json, integral_numbers
from symphony_mesh.model.names import is_signal_name
from symphony_mesh.model.status import (
    StageStatus,
    StateCode,
    is_success,
    is_terminal,
    status_message,
)
from symphony_mesh.server.node_services import timestamp
from symphony_mesh.store.activation_status import entry_status
from symphony_mesh.store.documents import DocumentStore, StoredActivationRow

__all__ = ["ActivationOps", "stage_run"]

DEFAULT_STEP_WAIT = 60.0
MAX_STEP_WAIT = 3600.0
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_REASON = 1024


def _run_state(status: int) -> activation_pb2.StageRunState.ValueType:
    if status == StateCode.RUNNING:
        return activation_pb2.STAGE_RUN_STATE_RUNNING
    if status in (StateCode.PAUSED, StateCode.DELAYED):
        return activation_pb2.STAGE_RUN_STATE_PAUSED
    if status == StateCode.CANCELLED:
        return activation_pb2.STAGE_RUN_STATE_CANCELLED
    if is_success(status):
        return activation_pb2.STAGE_RUN_STATE_SUCCEEDED
    return activation_pb2.STAGE_RUN_STATE_FAILED


def _context_state(status: int) -> activation_pb2.ContextState.ValueType:
    if status == StateCode.UNTOUCHED:
        return activation_pb2.CONTEXT_STATE_QUEUED
    if status in (StateCode.RUNNING, StateCode.PAUSED, StateCode.DELAYED):
        return activation_pb2.CONTEXT_STATE_RUNNING
    if status == StateCode.CANCELLED:
        return activation_pb2.CONTEXT_STATE_CANCELLED
    if status == StateCode.TIMED_OUT:
        return activation_pb2.CONTEXT_STATE_TIMED_OUT
    if is_success(status):
        return activation_pb2.CONTEXT_STATE_SUCCEEDED
    return activation_pb2.CONTEXT_STATE_FAILED


def stage_run(entry: StageStatus) -> activation_pb2.StageRun:
    """A history entry as the API's StageRun."""
    run = activation_pb2.StageRun(
        stage=entry.stage,
        iteration=entry.iteration,
        state=_run_state(entry.status),
        status=entry.status,
        status_message=status_message(entry.status),
        next_stage=entry.next_stage,
        error_message=entry.error_message,
        attempts=entry.attempts,
        started_at=timestamp(entry.started_at),
        finished_at=timestamp(entry.finished_at),
    )
    run.outputs.update({k: v for k, v in entry.outputs.items() if not k.startswith("__")})
    for name, context in (entry.contexts or {}).items():
        run.contexts.append(
            activation_pb2.ContextProgress(
                context=name,
                state=_context_state(context.status),
                status=context.status,
                error=context.error,
                attempts=context.attempts,
                updated_at=timestamp(context.finished_at or context.started_at),
            )
        )
    return run


class ActivationOps:
    """The engine-backed RPCs of ActivationService."""

    def __init__(
        self, documents: DocumentStore, engine: Engine, site_id: str, max_watchers: int = 1000
    ):
        self._documents = documents
        self._engine = engine
        self._site_id = site_id
        self._max_watchers = max_watchers
        self._watchers = 0

    async def _uid(self, name: str) -> str:
        return (await self._documents.get_activation(name, history_limit=0)).stored.uid

    async def step(
        self, request: activation_pb2.StepRequest, context: aio.ServicerContext[Any, Any]
    ) -> tuple[StoredActivationRow, StageStatus, bool]:
        """Run (or find) the step of this key and wait for its result up to `wait`."""
        check_step_key(request.idempotency_key)
        wait = DEFAULT_STEP_WAIT
        if request.HasField("wait"):
            wait = min(max(request.wait.ToTimedelta().total_seconds(), 0.0), MAX_STEP_WAIT)
        remaining = context.time_remaining()
        if remaining is not None:  # honour the caller's deadline (API-6)
            wait = max(0.0, min(wait, remaining - 1.0))
        uid = await self._uid(request.name)
        inputs: dict[str, Any] = integral_numbers(json_format.MessageToDict(request.inputs))  # type: ignore[assignment]
        queue = self._engine.subscribe(uid)
        try:
            command = StepCommand(request.stage, inputs, request.idempotency_key)
            seq = await self._engine.wake(uid, command)
            if seq is None:
                raise _gone(request.name)
            deadline = time.monotonic() + wait
            while True:
                row = await self._documents.get_activation(request.name, history_limit=None)
                entry = row.status.stage_history[seq]
                if entry.status != StateCode.RUNNING:
                    return row, entry, True
                left = deadline - time.monotonic()
                if left <= 0:
                    return row, entry, False
                try:
                    async with asyncio.timeout(left):
                        await queue.get()
                except TimeoutError:
                    continue
        finally:
            self._engine.unsubscribe(uid, queue)

    async def signal(self, request: activation_pb2.SignalRequest) -> tuple[bool, str]:
        """Deliver or queue a signal; (consumed, stage that took it)."""
        if not is_signal_name(request.signal):
            raise InvalidArgumentError(
                "invalid signal: must be 1-63 characters of A-Z, a-z, 0-9, '_', '.', '-'",
                "INVALID_FIELD",
                metadata={"field": "signal"},
            )
        payload = (
            integral_numbers(json_format.MessageToDict(request.payload))
            if request.HasField("payload")
            else None
        )
        if len(compact_json(payload).encode()) > MAX_PAYLOAD_BYTES:
            raise InvalidArgumentError(
                "invalid payload: larger than 64 KiB",
                "INVALID_FIELD",
                metadata={"field": "payload"},
            )
        uid = await self._uid(request.name)
        command = SignalCommand(request.signal, payload, request.idempotency_key)  # type: ignore[arg-type]
        consumed = await self._engine.wake(uid, command)
        if consumed is None:
            raise _gone(request.name)
        row = await self._documents.get_activation(request.name, history_limit=1)
        stage = row.status.current_stage if consumed else ""
        return bool(consumed), stage

    async def cancel(self, request: activation_pb2.CancelRequest) -> None:
        """Cancel (idempotent)."""
        if len(request.reason) > MAX_REASON:
            raise InvalidArgumentError(
                "invalid reason: longer than 1024 characters",
                "INVALID_FIELD",
                metadata={"field": "reason"},
            )
        uid = await self._uid(request.name)
        await self._engine.wake(uid, CancelCommand(request.reason))

    async def watch(self, name: str, document: Any) -> AsyncIterator[activation_pb2.WatchResponse]:
        """SNAPSHOT, then events in commit order, ending after TERMINAL or DELETED."""
        if self._watchers >= self._max_watchers:
            raise ResourceExhaustedError(
                f'node "{self._site_id}" has {self._watchers} open watch streams '
                f"(limit {self._max_watchers})",
                "TOO_MANY_WATCHERS",
                metadata={"limit": str(self._max_watchers)},
            )
        uid = (await self._documents.get_activation(name, history_limit=0)).stored.uid
        # Subscribe before reading the snapshot: a change committed in between is then both in
        # the snapshot and among the notices, never in neither.
        queue = self._engine.subscribe(uid)
        self._watchers += 1
        try:
            row = await self._documents.get_activation(name)
            yield _event(activation_pb2.WATCH_EVENT_TYPE_SNAPSHOT, row, document(row))
            last, seen = row.status.status, row.revision
            while not is_terminal(last) or last == StateCode.PENDING:
                notice = await queue.get()
                if notice.shutting_down:
                    raise UnavailableError(
                        f'node "{self._site_id}" is shutting down', "SHUTTING_DOWN"
                    )
                if notice.deleted:
                    yield _event(activation_pb2.WATCH_EVENT_TYPE_DELETED, row, None)
                    return
                if notice.revision <= seen:  # already part of the snapshot
                    continue
                seen = notice.revision
                for event in _commit_events(row, notice):
                    yield event
                if notice.status != last:
                    last = notice.status
                    update = _event(activation_pb2.WATCH_EVENT_TYPE_ACTIVATION_UPDATED, row, None)
                    update.revision = notice.revision
                    update.activation.status = notice.status
                    update.activation.status_message = status_message(notice.status)
                    update.activation.revision = notice.revision
                    yield update
            try:
                row = await self._documents.get_activation(name)
            except NotFoundError:
                yield _event(activation_pb2.WATCH_EVENT_TYPE_DELETED, row, None)
                return
            yield _event(activation_pb2.WATCH_EVENT_TYPE_TERMINAL, row, document(row))
        finally:
            self._watchers -= 1
            self._engine.unsubscribe(uid, queue)


_KINDS = {
    "stage_started": activation_pb2.WATCH_EVENT_TYPE_STAGE_STARTED,
    "stage_finished": activation_pb2.WATCH_EVENT_TYPE_STAGE_FINISHED,
}


def _commit_events(row: StoredActivationRow, notice: Notice) -> list[activation_pb2.WatchResponse]:
    """The stage and context events of one commit, built from the entries it wrote."""
    events = []
    for change in notice.events:
        raw = (notice.entries or {}).get(int(change.get("seq", -1)))
        if raw is None:
            continue
        kind = _KINDS.get(str(change["type"]), activation_pb2.WATCH_EVENT_TYPE_CONTEXT_UPDATED)
        event = _event(kind, row, None)
        event.revision = notice.revision
        event.stage_run.CopyFrom(stage_run(entry_status(raw)))
        if kind == activation_pb2.WATCH_EVENT_TYPE_CONTEXT_UPDATED:
            progress = [p for p in event.stage_run.contexts if p.context == change.get("context")]
            if not progress:  # the implicit context of a stage without fan-out
                continue
            event.context.CopyFrom(progress[0])
        events.append(event)
    return events


def _event(
    kind: activation_pb2.WatchEventType.ValueType, row: StoredActivationRow, full: Any
) -> activation_pb2.WatchResponse:
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    activation = (
        full
        if full is not None
        else activation_pb2.Activation(
            name=row.stored.activation.name,
            uid=row.stored.uid,
            campaign_version=row.stored.activation.campaign_version_name,
            status=row.status.status,
            status_message=status_message(row.status.status),
            revision=row.revision,
        )
    )
    return activation_pb2.WatchResponse(
        type=kind, revision=row.revision, time=stamp, activation=activation
    )


def _gone(name: str) -> NotFoundError:
    return NotFoundError(
        f'activation "{name}" not found', "ACTIVATION_NOT_FOUND", metadata={"activation": name}
    )
