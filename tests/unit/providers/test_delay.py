"""The delay provider (8.4, 9.5): a dormant timer, never a sleeping coroutine."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from symphony_mesh.model.jsonvalues import JsonValue
from symphony_mesh.providers import delay
from symphony_mesh.providers.base import Completed, Failed, Waiting
from tests.unit.providers.fakes import NOW, FakeEnvironment, call, resumed


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("2s", 2), ("4m20s", 260), ("90", 90), (90, 90), (1.5, 1.5), ("1.5h", 5400)],
)
async def test_delay_waits_as_a_timer(
    env: FakeEnvironment, value: JsonValue, seconds: float
) -> None:
    first = call(env, "providers.stage.delay", {"delay": value})
    outcome = await delay.run(first)
    until = NOW + timedelta(seconds=seconds)
    assert isinstance(outcome, Waiting)
    assert outcome.status == 9997
    assert outcome.until == until
    assert outcome.signal is None
    assert list(outcome.sites) == []
    assert outcome.waiting_for == {
        "kind": "timer",
        "reason": "delay",
        "until": until.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    json.dumps(outcome.state)  # the state is persisted as JSON
    env.advance(seconds)
    done = await delay.run(resumed(first, outcome, "timer"))
    assert done == Completed({"status": 200})


async def test_delay_keeps_waiting_after_another_wake(env: FakeEnvironment) -> None:
    first = call(env, "providers.stage.delay", {"delay": "10s"})
    outcome = await delay.run(first)
    again = await delay.run(resumed(first, outcome, "signal", signal="go"))
    assert again == outcome


@pytest.mark.parametrize("inputs", [{}, {"delay": None}, {"delay": 0}, {"delay": "0s"}])
async def test_delay_without_a_duration_succeeds_at_once(
    env: FakeEnvironment, inputs: dict[str, JsonValue]
) -> None:
    assert await delay.run(call(env, inputs=inputs)) == Completed({"status": 200})


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("abc", '"abc"'),
        (-1, "-1"),
        ("-1s", '"-1s"'),
        (True, "true"),
        ("10 s", '"10 s"'),
        ([1], "[1]"),
        ({"a": 1}, '{"a":1}'),
        ("3651d", '"3651d"'),
    ],
)
async def test_delay_fails_on_anything_else(
    env: FakeEnvironment, value: JsonValue, shown: str
) -> None:
    outcome = await delay.run(call(env, inputs={"delay": value}))
    assert outcome == Failed(1000, f"invalid delay {shown}")
