"""Errors about a stage itself, and the values a stage run resolves before any provider runs.

Stage-level errors (campaigns.md 4.11) are not routed to error handlers: the activation ends
with the stage's status. Everything here is decided before a provider is called: whether the
provider can run at all (4.3 step 2), the due time of a `schedule` (8.3), the list of contexts
(6.1) and the numeric `contextPolicy` limits for that list (6.2).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal, overload

from symphony_mesh.engine.outcomes import render
from symphony_mesh.expr import ExpressionError, Scope, evaluate_template
from symphony_mesh.expr.values import compact_json, type_name
from symphony_mesh.model.documents import ContextLimit, StageSpec
from symphony_mesh.model.durations import DurationError, parse_duration, parse_time
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.model.names import is_context_name
from symphony_mesh.model.providers_catalog import ProviderScope, provider_scope
from symphony_mesh.model.stages import TEMPLATE_MARK
from symphony_mesh.model.status import StateCode

__all__ = [
    "MAX_CONTEXTS",
    "StageError",
    "check_provider",
    "limit",
    "resolve_contexts",
    "resolve_schedule",
]

MAX_CONTEXTS = 10_000
"""The most contexts one stage run may fan out to (6.1)."""

_BAD_REQUEST = int(StateCode.BAD_REQUEST)
_INTERNAL_ERROR = int(StateCode.INTERNAL_ERROR)
_BAD_CONFIG = int(StateCode.BAD_CONFIG)
_MAX_EXACT_FLOAT = 2.0**53


class StageError(Exception):
    """A stage-level error (4.11): the stage's final status and its `errorMessage`."""

    status: int
    """The stage's status: 400, 500 or 1000."""
    message: str
    """The stage's `errorMessage`, exactly as the table of 4.11 words it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return self.message

    @property
    def outputs(self) -> JsonMap:
        """What the outputs context records for the stage: `{status, error: <errorMessage>}`."""
        return {"status": self.status, "error": self.message}


def _json(value: JsonValue) -> str:
    """A value as JSON inside a message (`"a b"`, `true`, `{"k":1}`); never raises."""
    try:
        return compact_json(value)
    except ExpressionError:
        return f"<{type_name(value)} too large to show>"


def check_provider(stage: StageSpec, *, test_hooks: bool = False) -> None:
    """Raise `StageError` 400 when the stage's provider cannot run (4.3 step 2, 4.11, 9.12).

    Checked in the order of the 4.11 table: an unknown type, an out-of-scope one, then `proxy`.
    An empty provider is a router stage and passes. The test-only providers count as unknown
    unless the node runs with test hooks. Messages name the provider as the stage wrote it.
    """
    scope = provider_scope(stage.provider, test_hooks=test_hooks)
    if scope is ProviderScope.UNKNOWN:
        raise StageError(_BAD_REQUEST, f"provider {stage.provider} is not found")
    if scope is ProviderScope.OUT_OF_SCOPE:
        raise StageError(
            _BAD_REQUEST, f"provider {stage.provider} is not supported by symphony-mesh"
        )
    if stage.proxy is not None:
        proxy_provider = render(stage.proxy.get("provider"))
        # A proxy without a provider name still fails; the text then skips the empty name.
        named = f"stage proxy {proxy_provider}" if proxy_provider else "stage proxy"
        raise StageError(_BAD_REQUEST, f"{named} is not supported by symphony-mesh")


def _element_name(element: JsonValue) -> str | None:
    """A context list element as a name: strings as they are, integers as decimal text."""
    if isinstance(element, str):
        return element
    if isinstance(element, bool):
        return None
    if isinstance(element, int):
        return str(element)
    # Numbers that crossed a protobuf Struct are doubles; an integral one is still an integer.
    if isinstance(element, float) and element.is_integer() and abs(element) <= _MAX_EXACT_FLOAT:
        return str(int(element))
    return None


def _names(elements: list[JsonValue] | tuple[str, ...]) -> list[str]:
    names: list[str] = []
    for element in elements:
        name = _element_name(element)
        if name is None or not is_context_name(name):
            raise StageError(_BAD_CONFIG, f"invalid context element {_json(element)}")
        names.append(name)
    return names


def resolve_contexts(
    stage_name: str, stage: StageSpec, scope: Scope, *, local_site: str
) -> list[str] | None:
    """The contexts of one stage run, in list order (6.1); None when the stage has no `contexts`.

    A literal list is used as written; a string is evaluated in the stage `scope` (a string
    without `${{` is one literal name). `""` and `null` give an empty list. Raises `StageError`:
    500 with the display text when the template fails, 1000 for a value of the wrong type, a bad
    element, more than 10 000 names or a name listed twice.

    `local_site` is not needed to decide anything here (a stage without `contexts` has the one
    implicit context the caller already knows); it is taken so every caller passes the node's
    identity the same way.
    """
    del local_site  # see the docstring: kept for the caller's uniform signature
    written = stage.contexts
    if written is None:
        return None
    value: JsonValue
    if isinstance(written, tuple):
        value = list(written)
    elif TEMPLATE_MARK not in written:
        value = written
    else:
        try:
            value = evaluate_template(written, scope)
        except ExpressionError as error:
            raise StageError(_INTERNAL_ERROR, error.display_text) from error
    if value is None or value == "":
        names: list[str] = []
    elif isinstance(value, str):
        names = _names([value])
    elif isinstance(value, list):
        names = _names(value)
    else:
        # Only a template can produce a number, boolean or map: `written` is that template.
        raise StageError(_BAD_CONFIG, f"invalid context {written}")
    if len(names) > MAX_CONTEXTS:
        raise StageError(_BAD_CONFIG, f"too many contexts ({len(names)} > {MAX_CONTEXTS})")
    seen: set[str] = set()
    where = "remote stage" if stage.is_remote else "stage"
    for name in names:
        if name in seen:
            raise StageError(_BAD_CONFIG, f'duplicate context "{name}" in {where} "{stage_name}"')
        seen.add(name)
    return names


def _due_time(value: JsonValue, now: datetime) -> datetime | None:
    """A schedule value as a due time: a time, a duration from `now`, or None for no schedule."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return parse_time(value)
        except DurationError:
            pass
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            return now + timedelta(seconds=parse_duration(value))
        except DurationError:
            pass
    raise StageError(_BAD_CONFIG, f"invalid schedule {_json(value)}")


def resolve_schedule(stage: StageSpec, scope: Scope, now: datetime) -> datetime | None:
    """The due time of the stage's `schedule` (8.3), in UTC, or None when there is none.

    An RFC 3339 time is absolute, a duration (or a number of seconds) counts from `now`; a
    template is evaluated in the stage `scope` first, and `""` or `null` mean no schedule. The
    due time is returned even when it is not in the future (the run then starts at once, and
    `__schedule` still shows it). Raises `StageError` 500 with the display text when the
    template fails, 1000 `invalid schedule <value as JSON>` for any other value.
    """
    written = stage.schedule
    value: JsonValue = written
    if isinstance(written, str) and TEMPLATE_MARK in written:
        try:
            value = evaluate_template(written, scope)
        except ExpressionError as error:
            raise StageError(_INTERNAL_ERROR, error.display_text) from error
    due = _due_time(value, now)
    return due.astimezone(UTC) if due is not None else None


@overload
def limit(
    value: ContextLimit | int | str | None, count: int, *, kind: Literal["maxConcurrency"]
) -> int | None: ...
@overload
def limit(
    value: ContextLimit | int | str | None, count: int, *, kind: Literal["maxFailures"]
) -> int: ...
def limit(
    value: ContextLimit | int | str | None,
    count: int,
    *,
    kind: Literal["maxConcurrency", "maxFailures"],
) -> int | None:
    """A `contextPolicy` limit for `count` contexts (6.2).

    `maxConcurrency`: a number, or `"N%"` = ceil(N x count / 100), never below 1; None (absent)
    means no limit. `maxFailures`: a number, or `"N%"` = floor(N x count / 100); absent means 0.
    Raises `ValueError` for a string that is neither a number nor a percentage (validation
    rejects those at apply time).
    """
    concurrency = kind == "maxConcurrency"
    if value is None:
        return None if concurrency else 0
    if isinstance(value, str):
        value = _parse_limit(value)
    if isinstance(value, int):
        value = ContextLimit(value)
    if concurrency:
        return max(1, value.concurrency(count))
    return max(0, value.failures(count))


def _parse_limit(written: str) -> ContextLimit:
    number = written.strip()
    percent = number.endswith("%")
    if percent:
        number = number[:-1]
    if not number.isascii() or not number.isdigit():
        raise ValueError(f"invalid contextPolicy limit {written!r}")
    return ContextLimit(int(number), percent=percent)
