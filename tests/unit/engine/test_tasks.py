"""Tasks inside a context (campaigns.md 6.5)."""

from __future__ import annotations

import asyncio

import pytest

from symphony_mesh.engine.outcomes import ContextResult, classify_outputs, failure
from symphony_mesh.engine.tasks import run_tasks, task_provider_failure, tasks_verdict, with_tasks
from symphony_mesh.model.documents import ErrorAction, ErrorMode, TaskOption, TaskSpec
from symphony_mesh.model.jsonvalues import JsonMap
from tests.unit.engine.helpers import task

UNKNOWN = (
    "Bad Config: task provider providers.stage.invalid is not found, skipping task bad for site hub"
)
ANY = TaskOption(concurrency=1, error_action=ErrorAction(ErrorMode.STOP_ON_ANY_FAILURE))


class Recorder:
    """A task call that records start order and concurrency; tasks named `bad*` fail."""

    def __init__(self, delay: float = 0.0) -> None:
        self.started: list[str] = []
        self.running = 0
        self.most = 0
        self.delay = delay

    async def __call__(self, spec: TaskSpec, inputs: JsonMap, config: JsonMap) -> ContextResult:
        self.started.append(spec.name)
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.running -= 1
        if spec.name.startswith("bad"):
            return failure(500, f"{spec.name} broke")
        outputs = dict(inputs)
        foo = outputs.get("foo")
        if isinstance(foo, int):
            outputs["foo"] = foo + 1
        return classify_outputs(outputs)


async def test_parallel_tasks_of_e101() -> None:
    tasks = [task("t1"), task("t2")]
    inputs: dict[str, JsonMap] = {
        "t1": {"taskInput1": "value1", "input1": "value1", "foo": 1},
        "t2": {"taskInput2": "value2", "input1": "stageValue1", "foo": 2},
    }
    call = Recorder(0.01)
    outputs, failed = await run_tasks(tasks, TaskOption(concurrency=2), inputs, {}, call)
    assert failed is None
    assert call.most == 2
    assert outputs == {
        "t1": {"taskInput1": "value1", "input1": "value1", "foo": 2, "status": 200},
        "t2": {"taskInput2": "value2", "input1": "stageValue1", "foo": 3, "status": 200},
    }


@pytest.mark.parametrize(("concurrency", "most"), [(0, 5), (1, 1), (2, 2), (5, 5), (9, 5)])
async def test_concurrency(concurrency: int, most: int) -> None:
    call = Recorder(0.005)
    tasks = [task(f"t{i}") for i in range(5)]
    outputs, failed = await run_tasks(tasks, TaskOption(concurrency=concurrency), {}, {}, call)
    assert failed is None
    assert call.most == most
    assert call.started == [f"t{i}" for i in range(5)]
    assert list(outputs) == [f"t{i}" for i in range(5)]


async def test_no_option_means_unlimited_and_silently_continue() -> None:
    call = Recorder(0.005)
    outputs, failed = await run_tasks([task("bad"), task("ok")], None, {}, {}, call)
    assert failed is None
    assert call.most == 2
    assert outputs["bad"] == {"status": 500, "error": "Internal Error: bad broke"}
    assert outputs["ok"] == {"status": 200}


async def test_no_tasks() -> None:
    assert await run_tasks([], None, {}, {}, Recorder()) == ({}, None)


async def test_stop_on_any_failure_of_e102() -> None:
    call = Recorder()
    outputs, failed = await run_tasks(
        [task("bad", "providers.stage.invalid"), task("ok")], ANY, {}, {}, call, context="hub"
    )
    assert call.started == []
    assert outputs == {"bad": {"status": 1000, "error": UNKNOWN}}
    assert failed is not None
    assert failed.status == 500
    assert failed.result["error"] == (
        "Internal Error: Task failed 1 times, error action is stop on any failure"
    )
    assert failed.result["bad"] == outputs["bad"]


@pytest.mark.parametrize(
    "option",
    [
        TaskOption(concurrency=1, error_action=ErrorAction(ErrorMode.SILENTLY_CONTINUE)),
        TaskOption(concurrency=1, error_action=ErrorAction(ErrorMode.STOP_ON_N_FAILURES, 1)),
    ],
)
async def test_tolerated_failures_of_e103(option: TaskOption) -> None:
    outputs, failed = await run_tasks(
        [task("bad", "providers.stage.invalid"), task("ok")],
        option,
        {},
        {},
        Recorder(),
        context="hub",
    )
    assert failed is None
    assert outputs == {"bad": {"status": 1000, "error": UNKNOWN}, "ok": {"status": 200}}


async def test_stop_on_n_failures() -> None:
    option = TaskOption(concurrency=1, error_action=ErrorAction(ErrorMode.STOP_ON_N_FAILURES, 1))
    call = Recorder()
    tasks = [task("bad1"), task("ok1"), task("bad2"), task("ok2")]
    outputs, failed = await run_tasks(tasks, option, {}, {}, call)
    assert call.started == ["bad1", "ok1", "bad2"]
    assert list(outputs) == ["bad1", "ok1", "bad2"]
    assert failed is not None
    assert failed.result["error"] == (
        "Internal Error: Task failed 2 times, exceeded maximum tolerated failures (1)"
    )


async def test_running_tasks_are_not_cancelled_by_the_stop_condition() -> None:
    release = asyncio.Event()
    both_started = asyncio.Event()
    started: list[str] = []

    async def call(spec: TaskSpec, inputs: JsonMap, config: JsonMap) -> ContextResult:
        started.append(spec.name)
        if len(started) == 2:
            both_started.set()
        if spec.name == "bad":
            return failure(500, "broke")
        await release.wait()
        return classify_outputs({})

    option = TaskOption(concurrency=2, error_action=ErrorAction(ErrorMode.STOP_ON_ANY_FAILURE))
    running = asyncio.create_task(
        run_tasks([task("slow"), task("bad"), task("never")], option, {}, {}, call)
    )
    await both_started.wait()
    await asyncio.sleep(0.01)  # "bad" has finished; "never" must still not start
    release.set()
    outputs, failed = await running
    assert started == ["slow", "bad"]
    assert outputs == {
        "slow": {"status": 200},
        "bad": {"status": 500, "error": "Internal Error: broke"},
    }
    assert failed is not None
    assert failed.message == "Task failed 1 times, error action is stop on any failure"


async def test_inputs_and_configs_reach_the_call() -> None:
    seen: list[tuple[str, JsonMap, JsonMap]] = []

    async def call(spec: TaskSpec, inputs: JsonMap, config: JsonMap) -> ContextResult:
        seen.append((spec.name, inputs, config))
        return classify_outputs({})

    await run_tasks([task("t1"), task("t2")], None, {"t1": {"a": 1}}, {"t2": {"url": "u"}}, call)
    assert seen == [("t1", {"a": 1}, {}), ("t2", {}, {"url": "u"})]


async def test_an_exception_is_that_tasks_500() -> None:
    async def call(spec: TaskSpec, inputs: JsonMap, config: JsonMap) -> ContextResult:
        if spec.name == "boom":
            raise RuntimeError("oops")
        return classify_outputs({})

    outputs, failed = await run_tasks([task("boom"), task("ok")], None, {}, {}, call)
    assert failed is None
    assert outputs["boom"] == {
        "status": 500,
        "error": 'Internal Error: provider "providers.stage.mock" raised RuntimeError: oops',
    }
    assert outputs["ok"] == {"status": 200}


async def test_cancelling_the_context_cancels_its_tasks() -> None:
    cancelled: list[str] = []

    async def call(spec: TaskSpec, inputs: JsonMap, config: JsonMap) -> ContextResult:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(spec.name)
            raise
        return classify_outputs({})

    running = asyncio.create_task(run_tasks([task("a"), task("b")], None, {}, {}, call))
    await asyncio.sleep(0.01)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert sorted(cancelled) == ["a", "b"]


@pytest.mark.parametrize(
    ("provider", "error"),
    [
        ("mock", None),
        ("providers.stage.http", None),
        ("signal", None),
        ("nope", "Bad Config: task provider nope is not found, skipping task t for site tokyo"),
        ("patch", "Bad Config: task provider patch is not supported by symphony-mesh"),
        (
            "providers.stage.proxy.mqtt",
            "Bad Config: task provider providers.stage.proxy.mqtt is not supported by "
            "symphony-mesh",
        ),
        ("remote", "Bad Config: task provider remote is not supported by symphony-mesh"),
        (
            "test.effect",
            "Bad Config: task provider test.effect is not found, skipping task t for site tokyo",
        ),
    ],
)
def test_task_provider_failures(provider: str, error: str | None) -> None:
    result = task_provider_failure(task("t", provider), "tokyo")
    if error is None:
        assert result is None
    else:
        assert result is not None
        assert result.result == {"status": 1000, "error": error}


def test_test_providers_need_test_hooks() -> None:
    assert task_provider_failure(task("t", "test.effect"), "hub", test_hooks=True) is None


def test_verdict_without_failures() -> None:
    assert tasks_verdict(ANY, 0) is None
    assert tasks_verdict(None, 3) is None


def test_with_tasks() -> None:
    base = classify_outputs({"foo": 2})
    tasks: JsonMap = {"t1": {"status": 200}}
    merged = with_tasks(base, tasks, None)
    assert merged == ContextResult(True, 200, {"foo": 2, "t1": {"status": 200}, "status": 200}, "")
    verdict = tasks_verdict(ANY, 1, {"t1": {"status": 500, "error": "Internal Error: x"}})
    assert verdict is not None
    failed = with_tasks(base, {"t1": {"status": 500, "error": "Internal Error: x"}}, verdict)
    assert not failed.succeeded
    assert failed.result == {
        "foo": 2,
        "t1": {"status": 500, "error": "Internal Error: x"},
        "status": 500,
        "error": "Internal Error: Task failed 1 times, error action is stop on any failure",
    }
    router = with_tasks(ContextResult(True, 200, {"status": 200}, ""), tasks, None)
    assert router.result == {"t1": {"status": 200}, "status": 200}
