"""Injected inputs and run ids (campaigns.md 4.5, 4.15, 6.5 item 2)."""

from __future__ import annotations

from datetime import UTC, datetime

from symphony_mesh.engine.injected import injected_inputs, run_id, task_call_inputs
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.model.stages import INJECTED_INPUTS
from tests.unit.engine.helpers import task


def _inject(
    *,
    state: JsonValue | None = None,
    has_state: bool = False,
    target: str = "",
    schedule: datetime | None = None,
    origin: str = "",
) -> JsonMap:
    return injected_inputs(
        activation="a1",
        campaign_version_ref="canary:1",
        stage="deploy",
        previous_stage="deploy",
        context="hub",
        run_id="uid/deploy/1/hub",
        state=state,
        has_state=has_state,
        target=target,
        schedule=schedule,
        origin=origin,
    )


def test_the_always_present_keys_in_table_order() -> None:
    assert _inject() == {
        "__activation": "a1",
        "__activationGeneration": "1",
        "__campaignversion": "canary:1",
        "__namespace": "default",
        "__stage": "deploy",
        "__previousStage": "deploy",
        "__site": "hub",
        "__context": "hub",
        "__runId": "uid/deploy/1/hub",
    }
    assert list(_inject()) == [
        "__activation",
        "__activationGeneration",
        "__campaignversion",
        "__namespace",
        "__stage",
        "__previousStage",
        "__site",
        "__context",
        "__runId",
    ]


def test_the_optional_keys_appear_only_when_present() -> None:
    inputs = _inject(
        state={"foo": 5},
        has_state=True,
        target="edge",
        schedule=datetime(2020, 1, 1, 12, 0, 0, 700000, tzinfo=UTC),
        origin="hub",
    )
    assert inputs["__state"] == {"foo": 5}
    assert inputs["__target"] == "edge"
    assert inputs["__schedule"] == "2020-01-01T12:00:00Z"
    assert inputs["__origin"] == "hub"
    assert set(inputs) == INJECTED_INPUTS
    plain = _inject(target="", origin="")
    assert not {"__state", "__target", "__schedule", "__origin"} & set(plain)


def test_saved_state_may_be_null() -> None:
    assert _inject(state=None, has_state=True)["__state"] is None
    assert _inject(state=0)["__state"] == 0


def test_run_ids() -> None:
    assert run_id("3f1c-9a", "deploy", 2, "tokyo") == "3f1c-9a/deploy/2/tokyo"
    assert run_id("3f1c-9a", "deploy", 2, "tokyo", "t1") == "3f1c-9a/deploy/2/tokyo/t1"
    assert run_id("u", "s", 1, "hub") != run_id("u", "s", 2, "hub")


def test_task_inputs_overlay_the_context_inputs() -> None:
    context = {**_inject(target="stage-target"), "input1": "stageValue1", "foo": 1}
    inputs = task_call_inputs(
        context, {"taskInput2": "value2", "foo": 2, "__stage": "evil"}, task("t2")
    )
    assert inputs["input1"] == "stageValue1"
    assert inputs["foo"] == 2
    assert inputs["taskInput2"] == "value2"
    assert inputs["__stage"] == "deploy"
    assert inputs["__target"] == "stage-target"
    assert inputs["__runId"] == "uid/deploy/1/hub/t2"
    assert context["__runId"] == "uid/deploy/1/hub"
    overridden = task_call_inputs(context, {}, task("t1", target="task-target"))
    assert overridden["__target"] == "task-target"
