"""The signal (8.1, 9.10) and approval (8.2, 9.11) providers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.providers import approval
from symphony_mesh.providers import signal as signal_provider
from symphony_mesh.providers.base import Completed, Failed, Waiting
from tests.unit.providers.fakes import NOW, FakeEnvironment, call, resumed

SIGNAL = "providers.stage.signal"
APPROVAL = "providers.stage.approval"


async def test_signal_waits_paused_without_a_timer(env: FakeEnvironment) -> None:
    outcome = await signal_provider.run(call(env, SIGNAL, {"name": "go"}))
    assert isinstance(outcome, Waiting)
    assert outcome.status == 9995
    assert outcome.signal == "go"
    assert outcome.until is None
    assert outcome.waiting_for == {"kind": "signal", "signal": "go"}
    json.dumps(outcome.state)


async def test_signal_delivers_its_payload(env: FakeEnvironment) -> None:
    first = call(env, SIGNAL, {"name": "go", "timeout": "1h"})
    outcome = await signal_provider.run(first)
    env.advance(5)
    done = await signal_provider.run(
        resumed(first, outcome, "signal", signal="go", payload={"v": 1})
    )
    assert done == Completed(
        {"signal": "go", "payload": {"v": 1}, "receivedAt": "2026-03-01T12:00:05Z", "status": 200}
    )


async def test_signal_without_payload_gives_null(env: FakeEnvironment) -> None:
    first = call(env, SIGNAL, {"name": "go"})
    outcome = await signal_provider.run(first)
    done = await signal_provider.run(resumed(first, outcome, "signal", signal="go"))
    assert isinstance(done, Completed)
    assert done.outputs["payload"] is None


@pytest.mark.parametrize(
    ("value", "shown", "seconds"), [("1h", "1h", 3600), (90, "90s", 90), (1.5, "1.5s", 1.5)]
)
async def test_signal_times_out(
    env: FakeEnvironment, value: JsonValue, shown: str, seconds: float
) -> None:
    first = call(env, SIGNAL, {"name": "go", "timeout": value})
    outcome = await signal_provider.run(first)
    assert isinstance(outcome, Waiting)
    assert outcome.until == NOW + timedelta(seconds=seconds)
    assert outcome.waiting_for["until"] == outcome.until.strftime("%Y-%m-%dT%H:%M:%SZ")
    env.clock = outcome.until
    failed = await signal_provider.run(resumed(first, outcome, "timer"))
    assert failed == Failed(11004, f"no signal go received within {shown}")


async def test_signal_keeps_waiting_after_an_unrelated_wake(env: FakeEnvironment) -> None:
    first = call(env, SIGNAL, {"name": "go", "timeout": "1h"})
    outcome = await signal_provider.run(first)
    other = await signal_provider.run(resumed(first, outcome, "signal", signal="stop"))
    assert other == outcome
    site = await signal_provider.run(resumed(first, outcome, "site"))
    assert site == outcome


@pytest.mark.parametrize("inputs", [{}, {"name": None}, {"name": ""}, {"name": "a b"}, {"name": 5}])
async def test_signal_needs_a_signal_name(env: FakeEnvironment, inputs: JsonMap) -> None:
    outcome = await signal_provider.run(call(env, SIGNAL, inputs))
    assert outcome == Failed(400, "input name must be a signal name")


@pytest.mark.parametrize(
    ("value", "shown"), [("abc", '"abc"'), (0, "0"), ("-1s", '"-1s"'), (True, "true")]
)
async def test_signal_rejects_a_bad_timeout(
    env: FakeEnvironment, value: JsonValue, shown: str
) -> None:
    outcome = await signal_provider.run(call(env, SIGNAL, {"name": "go", "timeout": value}))
    assert outcome == Failed(1000, f"invalid timeout {shown}")


async def test_approval_waits_for_signal_approval_with_its_message(env: FakeEnvironment) -> None:
    outcome = await approval.run(call(env, APPROVAL, {"timeout": "1h", "message": "Deploy v2?"}))
    assert isinstance(outcome, Waiting)
    assert outcome.status == 9995
    assert outcome.signal == "approval"
    assert outcome.until == NOW + timedelta(hours=1)
    assert outcome.waiting_for == {
        "kind": "signal",
        "signal": "approval",
        "message": "Deploy v2?",
        "until": "2026-03-01T13:00:00Z",
    }


async def test_approval_listens_to_a_custom_signal(env: FakeEnvironment) -> None:
    outcome = await approval.run(call(env, APPROVAL, {"signal": "ship-it"}))
    assert isinstance(outcome, Waiting)
    assert outcome.signal == "ship-it"
    assert outcome.waiting_for == {"kind": "signal", "signal": "ship-it"}


@pytest.mark.parametrize(
    "payload",
    [
        {"approved": True, "by": "alice"},
        {"approved": "true", "by": "alice"},
    ],
)
async def test_approval_approved(env: FakeEnvironment, payload: JsonValue) -> None:
    first = call(env, APPROVAL, {"message": "Deploy v2?"})
    outcome = await approval.run(first)
    done = await approval.run(resumed(first, outcome, "signal", signal="approval", payload=payload))
    assert done == Completed({"approved": True, "by": "alice", "comment": "", "status": 200})


@pytest.mark.parametrize(
    ("payload", "message", "by", "comment"),
    [
        (
            {"approved": False, "by": "bob", "comment": "not today"},
            "approval rejected by bob: not today",
            "bob",
            "not today",
        ),
        ({"approved": False, "by": "bob"}, "approval rejected by bob", "bob", ""),
        ({"approved": False, "comment": "no"}, "approval rejected: no", "", "no"),
        ({"approved": "yes", "by": 7}, "approval rejected by 7", "7", ""),
        ({"approved": 1}, "approval rejected", "", ""),
        (None, "approval rejected", "", ""),
        ("approved", "approval rejected", "", ""),
        ([True], "approval rejected", "", ""),
    ],
)
async def test_approval_rejected(
    env: FakeEnvironment, payload: JsonValue, message: str, by: str, comment: str
) -> None:
    first = call(env, APPROVAL, {})
    outcome = await approval.run(first)
    done = await approval.run(resumed(first, outcome, "signal", signal="approval", payload=payload))
    assert done == Failed(403, message, {"approved": False, "by": by, "comment": comment})


async def test_approval_times_out(env: FakeEnvironment) -> None:
    first = call(env, APPROVAL, {"timeout": "1s"})
    outcome = await approval.run(first)
    env.advance(1)
    failed = await approval.run(resumed(first, outcome, "timer"))
    assert failed == Failed(11004, "no approval received within 1s", {"approved": False})


@pytest.mark.parametrize("value", ["", "a b", 3, ["approval"]])
async def test_approval_needs_a_signal_name(env: FakeEnvironment, value: JsonValue) -> None:
    outcome = await approval.run(call(env, APPROVAL, {"signal": value}))
    assert outcome == Failed(400, "input signal must be a signal name")


async def test_approval_rejects_a_bad_timeout(env: FakeEnvironment) -> None:
    outcome = await approval.run(call(env, APPROVAL, {"timeout": "soon"}))
    assert outcome == Failed(1000, 'invalid timeout "soon"')
