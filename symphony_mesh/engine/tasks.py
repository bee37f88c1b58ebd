"""Tasks inside a context: extra provider calls after the stage's own one (campaigns.md 6.5).

Tasks start in list order, at most `taskOption.concurrency` at a time (0 = no limit). After each
task finishes the next one starts unless the error action's stop condition holds; tasks already
running are never cancelled, and tasks never started are absent from the outputs. Each task is
one call without retry, classified by the success rule. The context then keeps its provider
result, or fails with 500 when the error action says so.

The tasks of a context run only when its provider call succeeded or the stage has no provider;
the caller decides that, and `with_tasks` folds the task results into the context result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence

from symphony_mesh.engine.outcomes import ContextResult, failure, unexpected_exception
from symphony_mesh.model.documents import ErrorMode, TaskOption, TaskSpec
from symphony_mesh.model.jsonvalues import JsonMap
from symphony_mesh.model.providers_catalog import REMOTE, ProviderScope, provider_scope
from symphony_mesh.model.status import StateCode

__all__ = [
    "TaskCall",
    "run_tasks",
    "task_provider_failure",
    "tasks_verdict",
    "with_tasks",
]

TaskCall = Callable[[TaskSpec, JsonMap, JsonMap], Awaitable[ContextResult]]
"""Runs one task: (task, evaluated inputs, evaluated config) -> its classified result."""

_BAD_CONFIG = int(StateCode.BAD_CONFIG)
_INTERNAL_ERROR = int(StateCode.INTERNAL_ERROR)


def task_provider_failure(
    task: TaskSpec, context: str, *, test_hooks: bool = False
) -> ContextResult | None:
    """The failure of a task whose provider cannot run (6.5 item 4), or None when it can.

    Unknown: 1000 `task provider <p> is not found, skipping task <t> for site <c>`; out of scope
    (9.12), or the remote provider that validation already refuses in tasks: 1000
    `task provider <p> is not supported by symphony-mesh`. `<p>` is the provider as written.
    """
    scope = provider_scope(task.provider, test_hooks=test_hooks)
    if scope is ProviderScope.IN_SCOPE and task.provider_type != REMOTE:
        return None
    if scope is ProviderScope.OUT_OF_SCOPE or task.provider_type == REMOTE:
        return failure(
            _BAD_CONFIG, f"task provider {task.provider} is not supported by symphony-mesh"
        )
    return failure(
        _BAD_CONFIG,
        f"task provider {task.provider} is not found, skipping task {task.name} for site {context}",
    )


def _stops(option: TaskOption, failures: int) -> bool:
    """Whether no further task may start (6.5 item 3)."""
    action = option.error_action
    if action.mode is ErrorMode.STOP_ON_ANY_FAILURE:
        return failures >= 1
    if action.mode is ErrorMode.STOP_ON_N_FAILURES:
        return failures > action.max_tolerated_failures
    return False


def tasks_verdict(
    option: TaskOption | None, failures: int, task_outputs: JsonMap | None = None
) -> ContextResult | None:
    """The context's failure caused by `failures` failed tasks, or None (6.5 item 6).

    `stopOnAnyFailure` with at least one failure: 500 `Task failed <f> times, error action is
    stop on any failure`; `stopOnNFailures` above the maximum: 500 `Task failed <f> times,
    exceeded maximum tolerated failures (<m>)`. The failure's result holds `task_outputs`.
    """
    action = (option or TaskOption()).error_action
    if action.mode is ErrorMode.STOP_ON_ANY_FAILURE and failures >= 1:
        message = f"Task failed {failures} times, error action is stop on any failure"
    elif action.mode is ErrorMode.STOP_ON_N_FAILURES and failures > action.max_tolerated_failures:
        message = (
            f"Task failed {failures} times, exceeded maximum tolerated failures "
            f"({action.max_tolerated_failures})"
        )
    else:
        return None
    return failure(_INTERNAL_ERROR, message, task_outputs)


async def run_tasks(
    tasks: Sequence[TaskSpec],
    option: TaskOption | None,
    task_inputs: Mapping[str, JsonMap],
    task_configs: Mapping[str, JsonMap],
    call: TaskCall,
    *,
    context: str | None = None,
    test_hooks: bool = False,
) -> tuple[JsonMap, ContextResult | None]:
    """Run the tasks of one context; return `<t>` -> result of each finished task (in list
    order) and the context's failure when the error action fails it, else None.

    With `context` given, a task whose provider cannot run fails here without calling `call`
    (`task_provider_failure`); without it `call` must do that itself. An exception escaping
    `call` is an unexpected provider error (500) of that task, so it cannot orphan the others.
    If this coroutine is cancelled (the context is cancelled or timed out), the running tasks
    are cancelled with it.
    """
    option = option or TaskOption()
    capacity = option.concurrency or len(tasks)
    results: dict[str, ContextResult] = {}
    failures = 0

    async def one(task: TaskSpec) -> tuple[TaskSpec, ContextResult]:
        if context is not None:
            refused = task_provider_failure(task, context, test_hooks=test_hooks)
            if refused is not None:
                return task, refused
        inputs = task_inputs.get(task.name, {})
        config = task_configs.get(task.name, {})
        try:
            return task, await call(task, inputs, config)
        except Exception as exc:  # a provider bug is that task's 500, not the context's crash
            return task, unexpected_exception(task.provider_type or task.provider, exc)

    waiting = list(reversed(tasks))  # popped from the end: list order
    running: set[asyncio.Task[tuple[TaskSpec, ContextResult]]] = set()
    async with asyncio.TaskGroup() as group:
        while True:
            while waiting and len(running) < capacity and not _stops(option, failures):
                running.add(group.create_task(one(waiting.pop())))
            if not running:
                break
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for finished in done:
                task, result = finished.result()
                results[task.name] = result
                failures += 0 if result.succeeded else 1
    outputs: JsonMap = {t.name: results[t.name].result for t in tasks if t.name in results}
    return outputs, tasks_verdict(option, failures, outputs)


def with_tasks(
    base: ContextResult, task_outputs: JsonMap, task_failure: ContextResult | None
) -> ContextResult:
    """The context result once its tasks ran (6.5 items 5 and 6).

    `base` is the provider's (successful) result, or `{status: 200}` for a stage without a
    provider. One key per finished task is added; when the tasks failed the context, its
    `status` and `error` become that failure's, otherwise the provider's result stands.
    """
    own = {key: value for key, value in base.result.items() if key != "status"}
    if task_failure is None:
        result: JsonMap = {**own, **task_outputs, "status": base.status}
        return ContextResult(base.succeeded, base.status, result, base.message)
    result = {
        **own,
        **task_outputs,
        "status": task_failure.status,
        "error": task_failure.result.get("error"),
    }
    return ContextResult(False, task_failure.status, result, task_failure.message)
