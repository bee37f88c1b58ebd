"""The Symphony-shaped documents that `get` returns (campaigns.md 10.5, clarification 13.7).

Every function returns a plain JSON map `{apiVersion, kind, metadata, spec, status}`; the server
puts it into the `document` Struct of its responses and the CLI prints it. Absent optional fields
are omitted (no `null` placeholders), except the fields of the activation status (10.1), which are
always present (`startedAt: null` before the start). Lists of documents are
`{"items": [...]}` (`document_list`).

Display rules applied here (10.3, 10.4): keys starting with `__` or `header.` are hidden from
history inputs and outputs (also after a context prefix, and inside task results), and any single
value whose compact JSON exceeds 65 536 bytes is replaced by its first 65 536 bytes followed by
`...`. Secrets are masked by the engine, which knows the templates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from symphony_mesh.model.documents import Activation, CampaignVersion
from symphony_mesh.model.durations import format_time
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue, compact_json
from symphony_mesh.model.names import API_VERSION, NAMESPACE
from symphony_mesh.model.status import (
    ActivationStatus,
    ContextStatus,
    StageStatus,
    status_label,
    status_message,
)
from symphony_mesh.model.stored import ObjectMeta

__all__ = [
    "MAX_DISPLAY_BYTES",
    "activation_document",
    "activation_status_document",
    "campaign_document",
    "campaign_version_document",
    "display_value",
    "document_list",
    "metadata_document",
    "stage_status_document",
]

MAX_DISPLAY_BYTES = 65536
"""Values longer than this (compact JSON) are truncated in displayed history (10.4)."""

_HIDDEN_PREFIXES = ("__", "header.")


def metadata_document(meta: ObjectMeta, extra_labels: dict[str, str] | None = None) -> JsonMap:
    """`metadata` of a stored object: name, namespace, uid, generation, creation time, labels."""
    labels: JsonMap = dict(meta.labels)
    labels.update(extra_labels or {})
    return {
        "name": meta.name,
        "namespace": NAMESPACE,
        "uid": meta.uid,
        "generation": meta.generation,
        "creationTimestamp": format_time(meta.created_at),
        "labels": labels,
        "annotations": dict(meta.annotations),
    }


def campaign_document(meta: ObjectMeta, versions: Iterable[str]) -> JsonMap:
    """A Campaign: `spec: {}` and `status: {"versions": [<version object names>]}`."""
    return {
        "apiVersion": API_VERSION,
        "kind": "Campaign",
        "metadata": metadata_document(meta),
        "spec": {},
        "status": {"versions": list(versions)},
    }


def campaign_version_document(
    meta: ObjectMeta, version: CampaignVersion, active_activations: int
) -> JsonMap:
    """A CampaignVersion: its spec as applied and `status: {"activeActivations": n}`."""
    return {
        "apiVersion": API_VERSION,
        "kind": "CampaignVersion",
        "metadata": metadata_document(meta),
        "spec": version.spec,
        "status": {"activeActivations": active_activations},
    }


def activation_document(
    meta: ObjectMeta, activation: Activation, status: ActivationStatus
) -> JsonMap:
    """An Activation with the system labels and its full status (10.1, 10.5)."""
    system_labels = {
        "campaignversion": activation.campaign_version_name,
        "statusMessage": status_label(status.status),
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "Activation",
        "metadata": metadata_document(meta, system_labels),
        "spec": activation.spec,
        "status": activation_status_document(status),
    }


def activation_status_document(status: ActivationStatus) -> JsonMap:
    """The `status` of an activation: every field of 10.1, always present."""
    return {
        "status": status.status,
        "statusMessage": status_message(status.status),
        "updateTime": format_time(status.update_time),
        "stageHistory": [stage_status_document(entry) for entry in status.stage_history],
        "startedAt": _time_or_null(status.started_at),
        "finishedAt": _time_or_null(status.finished_at),
        "errorMessage": status.error_message,
        "currentStage": status.current_stage,
        "nextStage": status.next_stage,
        "waitingFor": [dict(item) for item in status.waiting_for],
        "cancelRequested": status.cancel_requested,
        "cancelReason": status.cancel_reason,
        "historyTotal": status.history_total,
        "campaignVersionGeneration": status.campaign_version_generation,
        "stepInputs": dict(status.step_inputs),
    }


def stage_status_document(entry: StageStatus) -> JsonMap:
    """One history entry (10.3); `finishedAt` and `contexts` are omitted when absent (13.7)."""
    prefixes = tuple(entry.contexts or ())
    document: JsonMap = {
        "stage": entry.stage,
        "nextStage": entry.next_stage,
        "status": entry.status,
        "statusMessage": status_message(entry.status),
        "inputs": _visible(entry.inputs, prefixes, entry.tasks),
        "outputs": _visible(entry.outputs, prefixes, entry.tasks),
        "errorMessage": entry.error_message,
        "isActive": entry.is_active,
        "iteration": entry.iteration,
        "startedAt": format_time(entry.started_at),
        "attempts": entry.attempts,
    }
    if entry.finished_at is not None:
        document["finishedAt"] = format_time(entry.finished_at)
    if entry.contexts is not None:
        document["contexts"] = {
            name: _context_document(context, entry.tasks)
            for name, context in entry.contexts.items()
        }
    return document


def _context_document(context: ContextStatus, tasks: Sequence[str]) -> JsonMap:
    document: JsonMap = {
        "status": context.status,
        "statusMessage": status_message(context.status),
        "error": context.error,
        "inputs": _visible(context.inputs, (), tasks),
        "outputs": _visible(context.outputs, (), tasks),
        "attempts": context.attempts,
        "remote": context.remote,
    }
    if context.started_at is not None:
        document["startedAt"] = format_time(context.started_at)
    if context.finished_at is not None:
        document["finishedAt"] = format_time(context.finished_at)
    return document


def document_list(documents: Iterable[JsonMap]) -> JsonMap:
    """`{"items": [...]}`, the list form of `get`."""
    return {"items": list(documents)}


def display_value(value: JsonValue) -> JsonValue:
    """The display copy of one value: itself, or its truncated compact JSON text (10.4)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = compact_json(value)
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= MAX_DISPLAY_BYTES:
        return value
    head = encoded[:MAX_DISPLAY_BYTES].decode("utf-8", "ignore")
    return head + "..."


def _hidden(key: str) -> bool:
    return key.startswith(_HIDDEN_PREFIXES)


def _visible(values: JsonMap, contexts: Sequence[str], tasks: Sequence[str]) -> JsonMap:
    """Hide `__*` / `header.*` keys (also after a context prefix and inside task results)."""
    shown: JsonMap = {}
    for key, value in values.items():
        if _hidden(key):
            continue
        task_key = key
        for context in contexts:
            prefix = f"{context}."
            if key.startswith(prefix):
                task_key = key[len(prefix) :]
                break
        if task_key != key and _hidden(task_key):
            continue
        if task_key in tasks and isinstance(value, dict):
            value = {name: item for name, item in value.items() if not _hidden(name)}
        shown[key] = display_value(value)
    return shown


def _time_or_null(moment: datetime | None) -> str | None:
    return format_time(moment) if moment is not None else None
