"""The mock (9.2) and counter (9.3) providers."""

from __future__ import annotations

import pytest

from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.providers import counter, mock
from symphony_mesh.providers.base import Completed, Failed
from tests.unit.providers.fakes import RUN_ID, FakeEnvironment, call


async def test_mock_echoes_every_input_including_injected_keys(env: FakeEnvironment) -> None:
    inputs: JsonMap = {"a": "x", "status": 400, "error": "bad", "nested": {"k": [1, 2]}}
    outcome = await mock.run(call(env, inputs=inputs, injected=True))
    assert isinstance(outcome, Completed)
    assert outcome.outputs["__runId"] == RUN_ID
    assert outcome.outputs["__site"] == "hub"
    assert {k: v for k, v in outcome.outputs.items() if not k.startswith("__")} == inputs


async def test_mock_ignores_its_config(env: FakeEnvironment) -> None:
    outcome = await mock.run(call(env, inputs={}, config={"id": "x", "other": 1}))
    assert outcome == Completed({})


@pytest.mark.parametrize(
    ("foo", "expected"),
    [
        (None, 1),
        ("", 1),
        (1, 2),
        (2, 3),
        ("2", 3),
        (2.0, 3),
        (-5, -4),
        ("-5", -4),
        ("007", 8),
        (2.5, 2.5),
        ("abc", "abc"),
        ("+2", "+2"),
        (" 2", " 2"),
        (True, True),
        (False, False),
        ([1], [1]),
        ({"a": 1}, {"a": 1}),
    ],
)
async def test_mock_counts_foo_up(
    env: FakeEnvironment, foo: JsonValue, expected: JsonValue
) -> None:
    outcome = await mock.run(call(env, inputs={"foo": foo}))
    assert outcome == Completed({"foo": expected})
    assert isinstance(outcome, Completed)
    assert type(outcome.outputs["foo"]) is type(expected)


async def test_mock_does_not_change_the_callers_inputs(env: FakeEnvironment) -> None:
    first = call(env, inputs={"foo": 1})
    await mock.run(first)
    assert first.inputs == {"foo": 1}


async def test_counter_counts_numeric_inputs(env: FakeEnvironment) -> None:
    outcome = await counter.run(
        call(
            env,
            inputs={
                "a": 1,
                "b": 2.9,
                "c": -2.9,
                "d": "7",
                "e": "-3",
                "f": "+4",
                "skip-bool": True,
                "skip-text": "abc",
                "skip-float-text": "1.5",
                "skip-null": None,
                "skip-list": [1],
                "skip-map": {"x": 1},
            },
            injected=True,
        )
    )
    totals: JsonMap = {"a": 1, "b": 2, "c": -2, "d": 7, "e": -3, "f": 4}
    assert outcome == Completed({**totals, "__state": totals})


async def test_counter_adds_to_the_saved_state_and_keeps_the_whole_map(
    env: FakeEnvironment,
) -> None:
    state: JsonMap = {"weight": 40, "old": 5}
    outcome = await counter.run(call(env, inputs={"weight": 20, "__state": state}))
    assert outcome == Completed({"weight": 60, "__state": {"weight": 60, "old": 5}})
    assert state == {"weight": 40, "old": 5}  # the injected value is not modified


async def test_counter_init_applies_only_without_saved_state(env: FakeEnvironment) -> None:
    first = await counter.run(call(env, inputs={"w": 10, "w.init": "100"}))
    assert first == Completed({"w": 110, "__state": {"w": 110}})
    again = await counter.run(call(env, inputs={"w": 10, "w.init": 100, "__state": {"w": 110}}))
    assert again == Completed({"w": 120, "__state": {"w": 120}})
    ignored = await counter.run(call(env, inputs={"w": 10, "w.init": "abc"}))
    assert ignored == Completed({"w": 10, "__state": {"w": 10}})


async def test_counter_never_counts_injected_or_init_keys(env: FakeEnvironment) -> None:
    outcome = await counter.run(
        call(env, inputs={"__activationGeneration": "1", "x.init": 5, "__custom": 3})
    )
    assert outcome == Completed({"__state": {}})


async def test_counter_treats_a_non_numeric_saved_value_as_absent(env: FakeEnvironment) -> None:
    outcome = await counter.run(call(env, inputs={"w": 1, "__state": {"w": "junk"}}))
    assert outcome == Completed({"w": 1, "__state": {"w": 1}})


@pytest.mark.parametrize("state", [None, [1], "map", 3])
async def test_counter_fails_on_a_state_that_is_not_a_map(
    env: FakeEnvironment, state: JsonValue
) -> None:
    outcome = await counter.run(call(env, inputs={"w": 1, "__state": state}))
    assert outcome == Failed(400, "input state is not a valid map")
