"""Validation of one stage of a campaign version (campaigns.md 2.4, rules V12-V30 of 3.2).

`check_stage` walks one entry of `spec.stages`, records every problem and warning in the
document's report, and returns the typed `StageSpec` (meaningful only when the report stays free
of problems). References to other stages (`stageSelector`) are checked against `stage_keys`, the
keys of the same version.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from symphony_mesh.model.checks import DocumentReport, Rule, as_integer, child, item, json_text
from symphony_mesh.model.documents import (
    ContextLimit,
    ContextPolicy,
    ErrorAction,
    ErrorMode,
    RetryPolicy,
    StageSpec,
    TaskOption,
    TaskSpec,
)
from symphony_mesh.model.durations import DurationError, parse_duration, parse_time
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.model.names import is_context_name, is_stage_name, is_task_name
from symphony_mesh.model.providers_catalog import (
    REMOTE,
    ProviderScope,
    canonical_provider,
    known_config_keys,
    provider_scope,
)

__all__ = ["INJECTED_INPUTS", "TEMPLATE_MARK", "check_stage"]

TEMPLATE_MARK = "${{"
"""A string containing this is a template (selectors, schedules, contexts)."""

INJECTED_INPUTS = frozenset(
    {
        "__activation",
        "__activationGeneration",
        "__campaignversion",
        "__namespace",
        "__stage",
        "__previousStage",
        "__site",
        "__context",
        "__runId",
        "__state",
        "__target",
        "__schedule",
        "__origin",
    }
)
"""The input keys the engine injects (4.5); a user key among them draws a warning."""

_STAGE_FIELDS = frozenset(
    {
        "name",
        "provider",
        "config",
        "inputs",
        "stageSelector",
        "contexts",
        "contextPolicy",
        "handleErrors",
        "schedule",
        "retry",
        "timeout",
        "target",
        "tasks",
        "taskOption",
        "proxy",
        "triggeringStage",
    }
)
_TASK_FIELDS = frozenset({"name", "provider", "config", "inputs", "target"})
_RETRY_FIELDS = frozenset({"maxRetries", "interval"})
_TASK_OPTION_FIELDS = frozenset({"concurrency", "errorAction"})
_ERROR_ACTION_FIELDS = frozenset({"mode", "maxToleratedFailures"})
_CONTEXT_POLICY_FIELDS = frozenset({"maxConcurrency", "maxFailures", "timeout", "failFast"})
_PROXY_FIELDS = frozenset({"provider", "config"})
_PERCENT = re.compile(r"(\d{1,3})%")


def check_stage(
    report: DocumentReport,
    key: str,
    value: JsonValue,
    stage_keys: Collection[str],
    *,
    test_hooks: bool = False,
) -> StageSpec:
    """Validate `spec.stages.<key>`; problems and warnings go to `report`."""
    path = child("spec.stages", key)
    if not is_stage_name(key):
        report.error(Rule.V12, path, "invalid stage name")
    if value is None:
        value = {}
    if not isinstance(value, dict):
        report.error(Rule.V6, path, "must be a map")
        return StageSpec(name=key)
    stage = value
    report.unknown_fields(stage, _STAGE_FIELDS, path)

    name = report.string_field(stage, "name", path)
    if name is not None and name != key:
        report.error(Rule.V13, child(path, "name"), f'must equal the stage key "{key}"')

    provider = report.string_field(stage, "provider", path) or ""
    provider_type = canonical_provider(provider)
    config = report.map_field(stage, "config", path) or {}
    _provider_warnings(report, path, provider, config, task=False, test_hooks=test_hooks)
    inputs = report.map_field(stage, "inputs", path) or {}

    selector = report.string_field(stage, "stageSelector", path) or ""
    if selector and TEMPLATE_MARK not in selector and selector not in stage_keys:
        report.error(
            Rule.V15,
            child(path, "stageSelector"),
            f'stage "{selector}" is not defined in spec.stages',
        )

    contexts = _contexts(report, stage, path)
    policy = _context_policy(report, stage, path)
    handle_errors = report.bool_field(stage, "handleErrors", path) or False
    schedule = _schedule(report, stage, path)
    retry = _retry(report, stage, path)
    timeout = report.duration_field(stage, "timeout", path)
    target = report.string_field(stage, "target", path) or ""
    tasks = _tasks(report, stage, path, test_hooks=test_hooks)
    task_option = _task_option(report, stage, path)
    proxy = report.map_field(stage, "proxy", path)

    if provider_type == REMOTE:
        if stage.get("contexts") in (None, ""):
            report.error(Rule.V23, child(path, "contexts"), "required for providers.stage.remote")
        if tasks:
            report.error(
                Rule.V24,
                child(path, "tasks"),
                "tasks cannot be combined with providers.stage.remote",
            )
    if proxy is not None:
        report.unknown_fields(proxy, _PROXY_FIELDS, child(path, "proxy"))
        report.string_field(proxy, "provider", child(path, "proxy"))
        report.map_field(proxy, "config", child(path, "proxy"))
        report.warn(
            child(path, "proxy"),
            "stage proxies are not supported by symphony-mesh; the stage will fail when it runs",
        )
    for input_key in inputs:
        if input_key in INJECTED_INPUTS:
            report.warn(
                child(child(path, "inputs"), input_key),
                "reserved input name; the injected value is used instead",
            )
    if stage.get("contextPolicy") is not None and contexts is None:
        report.warn(child(path, "contextPolicy"), "has no effect without contexts")
    if stage.get("triggeringStage") is not None:
        report.warn(child(path, "triggeringStage"), "ignored")

    return StageSpec(
        name=key,
        provider=provider,
        provider_type=provider_type,
        config=config,
        inputs=inputs,
        stage_selector=selector,
        contexts=contexts,
        context_policy=policy,
        handle_errors=handle_errors,
        schedule=schedule,
        retry=retry,
        timeout=timeout,
        target=target,
        tasks=tuple(tasks),
        task_option=task_option,
        proxy=proxy,
    )


def _provider_warnings(
    report: DocumentReport,
    path: str,
    provider: str,
    config: JsonMap,
    *,
    task: bool,
    test_hooks: bool,
) -> None:
    """The provider warnings of 3.3 and 13.3: one for unsupported, config keys for in-scope."""
    what = "task" if task else "stage"
    scope = provider_scope(provider, test_hooks=test_hooks)
    if scope is ProviderScope.UNKNOWN:
        report.warn(
            child(path, "provider"),
            f'unknown provider "{provider}"; the {what} will fail when it runs',
        )
    elif scope is ProviderScope.OUT_OF_SCOPE:
        report.warn(
            child(path, "provider"),
            f'provider "{provider}" is not supported by symphony-mesh; '
            f"the {what} will fail when it runs",
        )
    elif scope is ProviderScope.IN_SCOPE:
        known = known_config_keys(provider) or frozenset()
        canonical = canonical_provider(provider)
        for key in config:
            if key not in known:
                report.warn(
                    child(child(path, "config"), key),
                    f"unknown config key for {canonical} (ignored)",
                )


def _contexts(report: DocumentReport, stage: JsonMap, path: str) -> str | tuple[str, ...] | None:
    value = stage.get("contexts")
    where = child(path, "contexts")
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        report.error(Rule.V6, where, "must be a list of strings")
        return None
    names: list[str] = []
    valid = True
    for element in value:
        # A literal list is taken as written; integers stand for their decimal text (6.1).
        text: str | None = None
        if isinstance(element, str):
            text = element
        elif isinstance(element, int) and not isinstance(element, bool):
            text = str(element)
        if text is not None and is_context_name(text):
            names.append(text)
        else:
            valid = False
    if not valid:
        report.error(
            Rule.V22, where, "list elements must be non-empty names without '/' or whitespace"
        )
    return tuple(names)


def _percent_or_int(value: JsonValue, minimum: int) -> ContextLimit | None:
    number = as_integer(value)
    if number is not None:
        return ContextLimit(number) if number >= minimum else None
    if isinstance(value, str):
        match = _PERCENT.fullmatch(value)
        if match and minimum <= int(match.group(1)) <= 100:
            return ContextLimit(int(match.group(1)), percent=True)
    return None


def _context_policy(report: DocumentReport, stage: JsonMap, path: str) -> ContextPolicy:
    policy = report.map_field(stage, "contextPolicy", path)
    if policy is None:
        return ContextPolicy()
    where = child(path, "contextPolicy")
    report.unknown_fields(policy, _CONTEXT_POLICY_FIELDS, where)
    max_concurrency: ContextLimit | None = None
    if policy.get("maxConcurrency") is not None:
        max_concurrency = _percent_or_int(policy["maxConcurrency"], 1)
        if max_concurrency is None:
            report.error(
                Rule.V20,
                child(where, "maxConcurrency"),
                'must be an integer >= 1 or a percentage "N%" with 1 <= N <= 100',
            )
    max_failures = ContextLimit(0)
    if policy.get("maxFailures") is not None:
        parsed = _percent_or_int(policy["maxFailures"], 0)
        if parsed is None:
            report.error(
                Rule.V21,
                child(where, "maxFailures"),
                'must be an integer >= 0 or a percentage "N%" with 0 <= N <= 100',
            )
        else:
            max_failures = parsed
    timeout = report.duration_field(policy, "timeout", where)
    fail_fast = report.bool_field(policy, "failFast", where) or False
    return ContextPolicy(max_concurrency, max_failures, timeout, fail_fast)


def _schedule(report: DocumentReport, stage: JsonMap, path: str) -> str | int | float | None:
    value = stage.get("schedule")
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if TEMPLATE_MARK in value or _is_time_or_duration(value):
            return value
        written = f'"{value}"'
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if _is_time_or_duration(value):
            return value
        written = json_text(value)
    else:
        written = json_text(value)
    report.error(
        Rule.V17,
        child(path, "schedule"),
        f"invalid schedule {written} (expected an RFC 3339 time or a duration)",
    )
    return None


def _is_time_or_duration(value: str | int | float) -> bool:
    if isinstance(value, str):
        try:
            parse_time(value)
            return True
        except DurationError:
            pass
    try:
        parse_duration(value)
    except DurationError:
        return False
    return True


def _retry(report: DocumentReport, stage: JsonMap, path: str) -> RetryPolicy:
    retry = report.map_field(stage, "retry", path)
    if retry is None:
        return RetryPolicy()
    where = child(path, "retry")
    report.unknown_fields(retry, _RETRY_FIELDS, where)
    max_retries = 0
    if retry.get("maxRetries") is not None:
        number = as_integer(retry["maxRetries"])
        if number is None or not 0 <= number <= 100:
            report.error(
                Rule.V19, child(where, "maxRetries"), "must be an integer between 0 and 100"
            )
        else:
            max_retries = number
    interval = report.duration_field(retry, "interval", where)
    return RetryPolicy(max_retries, interval)


def _non_negative(report: DocumentReport, obj: JsonMap, key: str, where: str) -> int:
    if obj.get(key) is None:
        return 0
    number = as_integer(obj[key])
    if number is None or number < 0:
        report.error(Rule.V28, child(where, key), "must be an integer >= 0")
        return 0
    return number


def _task_option(report: DocumentReport, stage: JsonMap, path: str) -> TaskOption:
    option = report.map_field(stage, "taskOption", path)
    if option is None:
        return TaskOption()
    where = child(path, "taskOption")
    report.unknown_fields(option, _TASK_OPTION_FIELDS, where)
    concurrency = _non_negative(report, option, "concurrency", where)
    action = report.map_field(option, "errorAction", where)
    if action is None:
        return TaskOption(concurrency)
    action_path = child(where, "errorAction")
    report.unknown_fields(action, _ERROR_ACTION_FIELDS, action_path)
    mode = error_mode(action.get("mode"))
    if mode is None:
        report.error(
            Rule.V27,
            child(action_path, "mode"),
            "must be one of stopOnAnyFailure, stopOnNFailures, silentlyContinue",
        )
        mode = ErrorMode.SILENTLY_CONTINUE
    tolerated = _non_negative(report, action, "maxToleratedFailures", action_path)
    return TaskOption(concurrency, ErrorAction(mode, tolerated))


def error_mode(value: JsonValue) -> ErrorMode | None:
    """`errorAction.mode` matched case-insensitively; absent or `""` is `silentlyContinue`."""
    if value is None or value == "":
        return ErrorMode.SILENTLY_CONTINUE
    if not isinstance(value, str):
        return None
    for mode in ErrorMode:
        if mode.value.lower() == value.lower():
            return mode
    return None


def _tasks(
    report: DocumentReport, stage: JsonMap, path: str, *, test_hooks: bool
) -> list[TaskSpec]:
    value = stage.get("tasks")
    where = child(path, "tasks")
    if value is None:
        return []
    if not isinstance(value, list):
        report.error(Rule.V6, where, "must be a list")
        return []
    tasks: list[TaskSpec] = []
    seen: set[str] = set()
    for index, task in enumerate(value):
        task_path = item(where, index)
        if not isinstance(task, dict):
            report.error(Rule.V6, task_path, "must be a map")
            continue
        report.unknown_fields(task, _TASK_FIELDS, task_path)
        name = ""
        if task.get("name") in (None, ""):
            report.error(Rule.V25, child(task_path, "name"), "required")
        else:
            name = report.string_field(task, "name", task_path) or ""
            if name and not is_task_name(name):
                report.error(Rule.V25, child(task_path, "name"), "invalid task name")
            elif name and name in seen:
                report.error(Rule.V25, child(task_path, "name"), f'duplicate task name "{name}"')
            if name:
                seen.add(name)
        provider = ""
        config = report.map_field(task, "config", task_path) or {}
        if task.get("provider") in (None, ""):
            report.error(Rule.V26, child(task_path, "provider"), "required")
        else:
            provider = report.string_field(task, "provider", task_path) or ""
            if canonical_provider(provider) == REMOTE:
                report.error(
                    Rule.V26,
                    child(task_path, "provider"),
                    "providers.stage.remote cannot run as a task",
                )
            elif provider:
                _provider_warnings(
                    report, task_path, provider, config, task=True, test_hooks=test_hooks
                )
        inputs = report.map_field(task, "inputs", task_path) or {}
        target = report.string_field(task, "target", task_path) or ""
        tasks.append(TaskSpec(name, provider, canonical_provider(provider), config, inputs, target))
    return tasks
