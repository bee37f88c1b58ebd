"""The inputs the engine injects into every context and task, and the run id (campaigns.md 4.5,
4.15, 6.5).

Injected values are data: they reach providers and `$input`, are never evaluated, and overwrite
a user input of the same name. The status document hides them (10.3); that is the renderer's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from symphony_mesh.model.documents import TaskSpec
from symphony_mesh.model.durations import format_time
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.model.names import NAMESPACE
from symphony_mesh.model.stages import INJECTED_INPUTS

__all__ = ["ACTIVATION_GENERATION", "injected_inputs", "run_id", "task_call_inputs"]

ACTIVATION_GENERATION = "1"
"""`__activationGeneration`: an activation's spec never changes, so its generation is 1."""


def injected_inputs(
    *,
    activation: str,
    campaign_version_ref: str,
    stage: str,
    previous_stage: str,
    context: str,
    run_id: str,
    state: JsonValue | None = None,
    has_state: bool = False,
    target: str = "",
    schedule: datetime | None = None,
    origin: str = "",
) -> JsonMap:
    """The injected keys of one context's inputs, in the order of the 4.5 table.

    `__site` and `__context` are both `context`. The optional keys appear only when present:
    `__state` when there is saved state (`has_state`, or a non-null `state`; saved state may
    itself be `null`), `__target` when non-empty, `__schedule` (RFC 3339 UTC) when the stage
    has a schedule, `__origin` for a remote context.
    """
    inputs: JsonMap = {
        "__activation": activation,
        "__activationGeneration": ACTIVATION_GENERATION,
        "__campaignversion": campaign_version_ref,
        "__namespace": NAMESPACE,
        "__stage": stage,
        "__previousStage": previous_stage,
        "__site": context,
        "__context": context,
        "__runId": run_id,
    }
    if has_state or state is not None:
        inputs["__state"] = state
    if target:
        inputs["__target"] = target
    if schedule is not None:
        inputs["__schedule"] = format_time(schedule)
    if origin:
        inputs["__origin"] = origin
    return inputs


def run_id(activation_uid: str, stage: str, iteration: int, context: str, task: str = "") -> str:
    """`<activation uid>/<stage>/<iteration>/<context>`, plus `/<task>` for a task call (4.15).

    The same for every attempt and after a restart, different for every iteration.
    """
    base = f"{activation_uid}/{stage}/{iteration}/{context}"
    return f"{base}/{task}" if task else base


def task_call_inputs(
    context_inputs: Mapping[str, JsonValue], task_inputs: Mapping[str, JsonValue], task: TaskSpec
) -> JsonMap:
    """The inputs one task call receives (6.5 item 2).

    The context's evaluated stage inputs (injected keys included), overlaid with the task's
    evaluated `inputs`; then the context's injected keys again (a user key never replaces an
    injected one, 4.5), `__target` = the task's `target` when non-empty, and
    `__runId` = `<context run id>/<task name>`.
    """
    inputs: JsonMap = {**context_inputs, **task_inputs}
    for key, value in context_inputs.items():
        if key in INJECTED_INPUTS:
            inputs[key] = value
    if task.target:
        inputs["__target"] = task.target
    context_run = context_inputs.get("__runId")
    if isinstance(context_run, str):
        inputs["__runId"] = f"{context_run}/{task.name}"
    return inputs
