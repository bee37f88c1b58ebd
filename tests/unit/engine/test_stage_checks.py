"""Stage-level errors and what a stage run resolves first: provider, schedule, contexts and the
contextPolicy limits (campaigns.md 4.11, 6.1, 6.2, 8.3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest

from symphony_mesh.engine.stage_checks import (
    StageError,
    check_provider,
    limit,
    resolve_contexts,
    resolve_schedule,
)
from symphony_mesh.expr import Scope
from symphony_mesh.model.documents import ContextLimit
from symphony_mesh.model.jsonvalues import JsonMap
from tests.unit.engine.helpers import stage

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


# --- 4.11: providers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "provider", ["", "mock", "providers.stage.mock", "http", "remote", "signal", "approval"]
)
def test_runnable_providers_pass(provider: str) -> None:
    check_provider(stage(provider=provider))


@pytest.mark.parametrize(
    ("provider", "proxy", "message"),
    [
        ("providers.stage.invalid", None, "provider providers.stage.invalid is not found"),
        ("nope", None, "provider nope is not found"),
        ("test.effect", None, "provider test.effect is not found"),
        (
            "providers.stage.patch",
            None,
            "provider providers.stage.patch is not supported by symphony-mesh",
        ),
        ("materialize", None, "provider materialize is not supported by symphony-mesh"),
        (
            "providers.stage.flaky",
            None,
            "provider providers.stage.flaky is not supported by symphony-mesh",
        ),
        (
            "mock",
            {"provider": "providers.stage.proxy.http", "config": {}},
            "stage proxy providers.stage.proxy.http is not supported by symphony-mesh",
        ),
        ("mock", {}, "stage proxy is not supported by symphony-mesh"),
        ("nope", {"provider": "x"}, "provider nope is not found"),
    ],
)
def test_provider_errors(provider: str, proxy: JsonMap | None, message: str) -> None:
    with pytest.raises(StageError) as caught:
        check_provider(stage(provider=provider, proxy=proxy))
    assert (caught.value.status, caught.value.message) == (400, message)
    assert str(caught.value) == message
    assert caught.value.outputs == {"status": 400, "error": message}


def test_test_providers_need_test_hooks() -> None:
    check_provider(stage(provider="providers.stage.test.effect"), test_hooks=True)


# --- 6.1: contexts --------------------------------------------------------------------------

TRIGGERS: JsonMap = {
    "sites": ["a", "b"],
    "numbers": [1, 22],
    "one": "tokyo",
    "empty": [],
    "mixed": ["a", True],
    "dup": ["a", "b", "a"],
    "bad": ["a b"],
    "slash": ["a/b"],
    "many": [f"c{i}" for i in range(10_001)],
    "limit": [f"c{i}" for i in range(10_000)],
    "map": {},
    "nulls": [None],
    "fraction": [1.5],
    "nested": [["a"]],
    "blank": [""],
    "floats": [3.0, "x"],
    "true": True,
    "list": [1],
    "object": {"a": 1},
}


def _contexts(contexts: str | tuple[str, ...] | None, provider: str = "mock") -> list[str] | None:
    scope = Scope(triggers=TRIGGERS, inputs={"x": "${{$foo(1)}}"})
    return resolve_contexts(
        "fan", stage("fan", provider, contexts=contexts), scope, local_site="hub"
    )


@pytest.mark.parametrize(
    ("contexts", "expected"),
    [
        (None, None),
        (("a", "b"), ["a", "b"]),
        (("hub",), ["hub"]),
        ((), []),
        ("tokyo", ["tokyo"]),
        ("${{$trigger(sites, '')}}", ["a", "b"]),
        ("${{$trigger(one, '')}}", ["tokyo"]),
        ("${{$trigger(numbers, '')}}", ["1", "22"]),
        ("${{$trigger(empty, '')}}", []),
        ("${{$trigger(missing, '')}}", []),
        ("${{$trigger(missing, $val())}}", []),
        ("${{$trigger(floats, '')}}", ["3", "x"]),
        ("${{$trigger(limit, '')}}", [f"c{i}" for i in range(10_000)]),
    ],
)
def test_contexts(contexts: str | tuple[str, ...] | None, expected: list[str] | None) -> None:
    assert _contexts(contexts) == expected


@pytest.mark.parametrize(
    ("contexts", "provider", "status", "message"),
    [
        ("${{$foo(1)}}", "mock", 500, "Bad Config: invalid function name: 'foo'"),
        ("${{$input(x)}}", "mock", 500, "Bad Config: invalid function name: 'foo'"),
        ("${{1}}", "mock", 1000, "invalid context ${{1}}"),
        ("${{$equal(1, 1)}}", "mock", 1000, "invalid context ${{$equal(1, 1)}}"),
        ("${{$trigger(map, '')}}", "mock", 1000, "invalid context ${{$trigger(map, '')}}"),
        ("${{$trigger(mixed, '')}}", "mock", 1000, "invalid context element true"),
        ("${{$trigger(bad, '')}}", "mock", 1000, 'invalid context element "a b"'),
        ("${{$trigger(slash, '')}}", "mock", 1000, 'invalid context element "a/b"'),
        ("${{$trigger(nulls, '')}}", "mock", 1000, "invalid context element null"),
        ("${{$trigger(fraction, '')}}", "mock", 1000, "invalid context element 1.5"),
        ("${{$trigger(nested, '')}}", "mock", 1000, 'invalid context element ["a"]'),
        ("${{$trigger(blank, '')}}", "mock", 1000, 'invalid context element ""'),
        ("a b", "mock", 1000, 'invalid context element "a b"'),
        ("${{$trigger(many, '')}}", "mock", 1000, "too many contexts (10001 > 10000)"),
        (("a", "b", "a"), "mock", 1000, 'duplicate context "a" in stage "fan"'),
        ("${{$trigger(dup, '')}}", "mock", 1000, 'duplicate context "a" in stage "fan"'),
        (("tokyo", "tokyo"), "remote", 1000, 'duplicate context "tokyo" in remote stage "fan"'),
        (("a", "b", "a"), "", 1000, 'duplicate context "a" in stage "fan"'),
    ],
)
def test_context_errors(
    contexts: str | tuple[str, ...], provider: str, status: int, message: str
) -> None:
    with pytest.raises(StageError) as caught:
        _contexts(contexts, provider)
    assert (caught.value.status, caught.value.message) == (status, message)


def test_a_long_name_is_invalid() -> None:
    assert _contexts(("x" * 253,)) == ["x" * 253]
    with pytest.raises(StageError) as caught:
        _contexts(("x" * 254,))
    assert caught.value.message == f'invalid context element "{"x" * 254}"'


# --- 8.3: schedules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (None, None),
        ("2026-03-01T12:00:00Z", NOW),
        ("2020-01-01T12:00:00-08:00", datetime(2020, 1, 1, 20, 0, tzinfo=UTC)),
        ("2027-01-01T00:00:00.5+01:00", datetime(2026, 12, 31, 23, 0, 0, 500000, tzinfo=UTC)),
        ("3s", NOW + timedelta(seconds=3)),
        ("4m20s", NOW + timedelta(minutes=4, seconds=20)),
        ("1.5h", NOW + timedelta(hours=1.5)),
        ("30", NOW + timedelta(seconds=30)),
        (0, NOW),
        (90, NOW + timedelta(seconds=90)),
        (1.5, NOW + timedelta(seconds=1.5)),
        ("${{'2s'}}", NOW + timedelta(seconds=2)),
        ("${{5}}", NOW + timedelta(seconds=5)),
        ("${{2.5}}", NOW + timedelta(seconds=2.5)),
        ("${{$trigger(at, '')}}", datetime(2026, 5, 1, tzinfo=UTC)),
        ("${{$trigger(none, '')}}", None),
        ("${{$trigger(none, $val())}}", None),
    ],
)
def test_schedules(schedule: str | int | float | None, expected: datetime | None) -> None:
    scope = Scope(triggers={"at": "2026-05-01T00:00:00Z"})
    due = resolve_schedule(stage(schedule=schedule), scope, NOW)
    assert due == expected
    if due is not None:
        assert due.tzinfo is UTC


@pytest.mark.parametrize(
    ("schedule", "status", "message"),
    [
        ("${{$foo(1)}}", 500, "Bad Config: invalid function name: 'foo'"),
        ("${{$output(nope, x)}}", 500, "Bad Config: step nope is not found in output collection"),
        ("${{'tomorrow'}}", 1000, 'invalid schedule "tomorrow"'),
        ("${{$trigger(true, '')}}", 1000, "invalid schedule true"),
        ("${{-1}}", 1000, "invalid schedule -1"),
        ("${{'-1s'}}", 1000, 'invalid schedule "-1s"'),
        ("${{$trigger(list, '')}}", 1000, "invalid schedule [1]"),
        ("${{$trigger(object, '')}}", 1000, 'invalid schedule {"a":1}'),
        ("${{'10 s'}}", 1000, 'invalid schedule "10 s"'),
        ("${{'3651d'}}", 1000, 'invalid schedule "3651d"'),
        ("tomorrow", 1000, 'invalid schedule "tomorrow"'),
    ],
)
def test_schedule_errors(schedule: str, status: int, message: str) -> None:
    scope = Scope(outputs={"a": {"status": 200}}, triggers=TRIGGERS)
    with pytest.raises(StageError) as caught:
        resolve_schedule(stage(schedule=schedule), scope, NOW)
    assert (caught.value.status, caught.value.message) == (status, message)


# --- 6.2: limits ----------------------------------------------------------------------------

Kind = Literal["maxConcurrency", "maxFailures"]


@pytest.mark.parametrize(
    ("value", "count", "kind", "expected"),
    [
        (None, 5, "maxConcurrency", None),
        (None, 5, "maxFailures", 0),
        (ContextLimit(2), 5, "maxConcurrency", 2),
        (ContextLimit(1), 0, "maxConcurrency", 1),
        (ContextLimit(50, percent=True), 3, "maxConcurrency", 2),
        (ContextLimit(1, percent=True), 3, "maxConcurrency", 1),
        (ContextLimit(100, percent=True), 7, "maxConcurrency", 7),
        (ContextLimit(10, percent=True), 0, "maxConcurrency", 1),
        (ContextLimit(34, percent=True), 3, "maxConcurrency", 2),
        (ContextLimit(50, percent=True), 4, "maxFailures", 2),
        (ContextLimit(75, percent=True), 4, "maxFailures", 3),
        (ContextLimit(50, percent=True), 3, "maxFailures", 1),
        (ContextLimit(0, percent=True), 10, "maxFailures", 0),
        (ContextLimit(99, percent=True), 1, "maxFailures", 0),
        (ContextLimit(100, percent=True), 4, "maxFailures", 4),
        (ContextLimit(0), 4, "maxFailures", 0),
        (ContextLimit(3), 2, "maxFailures", 3),
        (3, 10, "maxConcurrency", 3),
        (1, 10, "maxFailures", 1),
        ("50%", 3, "maxConcurrency", 2),
        ("50%", 3, "maxFailures", 1),
        ("4", 3, "maxFailures", 4),
    ],
)
def test_limits(
    value: ContextLimit | int | str | None, count: int, kind: Kind, expected: int | None
) -> None:
    assert limit(value, count, kind=kind) == expected


def test_a_limit_string_must_be_a_number_or_percentage() -> None:
    with pytest.raises(ValueError, match="invalid contextPolicy limit"):
        limit("lots", 3, kind="maxFailures")
