"""The worked examples of campaigns.md section 12, E and F (E47-E62), on a real node."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from tests.integration.conftest import Mesh
from tests.integration.test_worked_examples import (
    counter,
    done,
    ended,
    entries,
    finish,
    mock,
    run,
    stage,
    start,
    until,
)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- E. Stepped mode ----------------------------------------------------------------------------

A_THEN_B = {"A": mock({"foo": 1}, "B"), "B": mock({"foo": "${{$output(A,foo)}}"})}


def test_e47_stepping_a_then_b(mesh: Mesh) -> None:
    start(mesh, "e47", A_THEN_B, self_driving=False)
    paused = until(mesh, "e47-a1", 9995)
    status = paused["status"]
    assert entries(paused) == [("A", 1, 9996, "B")]
    assert status["stageHistory"][0]["outputs"] == {"foo": 2, "status": 200}
    assert (status["statusMessage"], status["nextStage"]) == ("Paused", "B")
    assert status["waitingFor"] == [{"kind": "step", "nextStage": "B"}]
    stepped = mesh.cli("activation", "step", "e47-a1", "-o", "json")
    assert stepped.code == 0, stepped.stderr
    run_b = json.loads(stepped.stdout)
    assert (run_b["stage"], run_b["status"]) == ("B", 9996)
    assert run_b["inputs"] == {"foo": 2}
    assert run_b["outputs"] == {"foo": 3, "status": 200}
    finished = finish(mesh, "e47-a1")
    assert entries(finished.document) == [("A", 1, 9996, "B"), ("B", 1, 9996, "")]
    done(finished, "e47-a1")


def test_e48_idempotent_step(mesh: Mesh) -> None:
    start(mesh, "e48", A_THEN_B, self_driving=False)
    until(mesh, "e48-a1", 9995)
    first = mesh.cli("activation", "step", "e48-a1", "--key", "k1", "-o", "json")
    second = mesh.cli("activation", "step", "e48-a1", "--key", "k1", "-o", "json")
    assert (first.code, second.code) == (0, 0), (first.stderr, second.stderr)
    assert json.loads(first.stdout) == json.loads(second.stdout)
    assert json.loads(first.stdout)["stage"] == "B"
    finished = finish(mesh, "e48-a1")
    assert finished.status["historyTotal"] == 2
    done(finished, "e48-a1")
    third = mesh.cli("activation", "step", "e48-a1", "--key", "k1", "--stage", "A")
    assert third.code == 1
    assert third.stderr.strip() == (
        'error: idempotency key "k1" was already used with different parameters '
        "(IDEMPOTENCY_KEY_MISMATCH)"
    )


def test_e49_step_to_a_chosen_stage_with_inputs(mesh: Mesh) -> None:
    stages = {
        "A": mock({}, "B"),
        "B": mock({"v": "${{$trigger(v, none)}}"}),
        "C": mock({"v": "${{$trigger(v, none)}}"}),
    }
    start(mesh, "e49", stages, self_driving=False)
    assert until(mesh, "e49-a1", 9995)["status"]["nextStage"] == "B"
    stepped = mesh.cli("activation", "step", "e49-a1", "--stage", "C", "--input", "v=42",
                       "-o", "json")  # fmt: skip
    assert stepped.code == 0, stepped.stderr
    assert json.loads(stepped.stdout)["outputs"] == {"v": 42, "status": 200}
    finished = finish(mesh, "e49-a1")
    assert entries(finished.document) == [("A", 1, 9996, "B"), ("C", 1, 9996, "")]
    assert finished.entry("C")["outputs"] == {"v": 42, "status": 200}
    assert finished.status["stepInputs"] == {"v": 42}
    done(finished, "e49-a1")


def test_e50_step_refused(mesh: Mesh) -> None:
    finished = run(mesh, "e50", {"a": mock()})
    done(finished, "e50-a1")
    refused = mesh.cli("activation", "step", "e50-a1")
    assert refused.code == 1
    assert refused.stderr.strip() == (
        'error: activation "e50-a1" is not waiting for a step (Done) (ACTIVATION_NOT_STEPPABLE)'
    )
    start(mesh, "e50s", A_THEN_B, self_driving=False)
    until(mesh, "e50s-a1", 9995)
    unknown = mesh.cli("activation", "step", "e50s-a1", "--stage", "nope")
    assert unknown.code == 1
    assert unknown.stderr.strip() == (
        'error: stage "nope" not found in campaign version "e50s-v-1" (STAGE_NOT_FOUND)'
    )
    assert until(mesh, "e50s-a1", 9995)["status"]["historyTotal"] == 1  # nothing ran


def test_e51_stepped_failure_with_handler(mesh: Mesh) -> None:
    stages = {"A": mock({"status": 500}, "H"), "H": mock({}, handleErrors=True)}
    start(mesh, "e51", stages, self_driving=False)
    paused = until(mesh, "e51-a1", 9995)
    assert entries(paused) == [("A", 1, 500, "H")]
    assert paused["status"]["nextStage"] == "H"
    stepped = mesh.cli("activation", "step", "e51-a1", "-o", "json")
    assert stepped.code == 0, stepped.stderr
    assert json.loads(stepped.stdout)["stage"] == "H"
    finished = finish(mesh, "e51-a1")
    assert entries(finished.document) == [("A", 1, 500, "H"), ("H", 1, 9996, "")]
    done(finished, "e51-a1")


def test_e52_stepped_failure_without_handler(mesh: Mesh) -> None:
    stages = {"A": mock({"status": 500}, "B"), "B": mock()}
    start(mesh, "e52", stages, self_driving=False)
    finished = finish(mesh, "e52-a1")
    ended(finished, "e52-a1", 500, "Internal Error", "stage A failed")
    refused = mesh.cli("activation", "step", "e52-a1")
    assert refused.code == 1
    assert refused.stderr.strip() == (
        'error: activation "e52-a1" is not waiting for a step (Internal Error) '
        "(ACTIVATION_NOT_STEPPABLE)"
    )


# --- F. Map-reduce over contexts ----------------------------------------------------------------

COUNTERS = ("__total", "__succeeded", "__failed", "__pending", "__failedContexts")


def _probe(stage_name: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """A mock stage echoing hidden (ctx) outputs of `stage_name` through $output.

    Its input for `__total` is `total`, for `a.__site` `a.site` (`__` keys are hidden).
    """
    return mock({key.replace("__", ""): f"${{{{$output({stage_name}, {key})}}}}" for key in keys})


def test_e53_local_fan_out(mesh: Mesh) -> None:
    fan = mock({"foo": 1, "who": "${{$input(__site)}}"}, contexts="${{$trigger(sites, '')}}")
    finished = run(mesh, "e53", {"fan": fan}, {"sites": ["a", "b"]})
    entry = finished.entry("fan")
    assert entry["outputs"] == {
        "a.foo": 2, "a.who": "a", "a.status": 200,
        "b.foo": 2, "b.who": "b", "b.status": 200, "status": 200,
    }  # fmt: skip
    assert (entry["status"], entry["attempts"]) == (9996, 2)
    assert set(entry["contexts"]) == {"a", "b"}
    for name in ("a", "b"):
        assert (entry["contexts"][name]["status"], entry["contexts"][name]["statusMessage"]) == (
            200,
            "OK",
        )
    done(finished, "e53-a1")
    # ctx: the counters and `a.__site`.
    probed = run(
        mesh,
        "e53p",
        {"fan": {**fan, "stageSelector": "probe"},
         "probe": _probe("fan", (*COUNTERS, "a.__site"))},
        {"sites": ["a", "b"]},
    )  # fmt: skip
    assert probed.entry("probe")["inputs"] == {
        "total": 2, "succeeded": 2, "failed": 0, "pending": 0, "failedContexts": [],
        "a.site": "a",
    }  # fmt: skip


ONE_FAILS = {
    "status": "${{$if($equal($input(__context), b), 500, 200)}}",
    "error": "${{$if($equal($input(__context), b), boom, '')}}",
}


def test_e54_one_of_three_contexts_fails(mesh: Mesh) -> None:
    fan = mock(ONE_FAILS, contexts=["a", "b", "c"])
    finished = run(mesh, "e54", {"fan": fan})
    entry = finished.entry("fan")
    outputs = entry["outputs"]
    assert (outputs["a.status"], outputs["b.status"], outputs["c.status"]) == (200, 500, 200)
    assert outputs["b.error"] == "Internal Error: boom"
    assert outputs["status"] == 500
    assert outputs["error"] == "Internal Error: 1 of 3 contexts failed (b)"
    assert entry["attempts"] == 3  # all three ran
    assert (entry["status"], entry["errorMessage"]) == (500, "stage fan failed")
    ended(finished, "e54-a1", 500, "Internal Error", "stage fan failed")
    probed = run(
        mesh,
        "e54p",
        {
            "fan": {**fan, "stageSelector": "probe"},
            "probe": {**_probe("fan", COUNTERS), "handleErrors": True},
        },
    )
    assert probed.entry("probe")["inputs"] == {
        "total": 3, "succeeded": 2, "failed": 1, "pending": 0, "failedContexts": ["b"],
    }  # fmt: skip


def test_e55_tolerated_failure_and_routing(mesh: Mesh) -> None:
    stages = {
        "fan": mock(ONE_FAILS, "${{$if($gt($output(fan, __failed), 0), report, '')}}",
                    contexts=["a", "b", "c"], contextPolicy={"maxFailures": 1}),
        "report": mock({"failed": "${{$output(fan, __failedContexts)}}"}),
    }  # fmt: skip
    finished = run(mesh, "e55", stages)
    assert entries(finished.document) == [("fan", 1, 9996, "report"), ("report", 1, 9996, "")]
    fan = finished.entry("fan")["outputs"]
    assert (fan["status"], fan["b.status"]) == (200, 500)
    assert "error" not in fan
    assert finished.entry("report")["outputs"] == {"failed": ["b"], "status": 200}
    done(finished, "e55-a1")


def test_e56_percentage_threshold(mesh: Mesh) -> None:
    inputs = {"status": "${{$if($equal($input(__context), a), 200, 500)}}"}

    def fan(max_failures: str) -> dict[str, dict[str, Any]]:
        return {"fan": mock(inputs, contexts=["a", "b", "c", "d"],
                            contextPolicy={"maxFailures": max_failures})}  # fmt: skip

    failed = run(mesh, "e56", fan("50%"))
    outputs = failed.entry("fan")["outputs"]
    assert outputs["error"] == "Internal Error: 3 of 4 contexts failed (b, c, d)"
    assert outputs["status"] == 500
    ended(failed, "e56-a1", 500, "Internal Error", "stage fan failed")
    tolerated = run(mesh, "e56b", fan("75%"))
    assert tolerated.entry("fan")["status"] == 9996
    assert tolerated.entry("fan")["outputs"]["status"] == 200
    done(tolerated, "e56b-a1")


def test_e57_contexts_of_the_wrong_type(mesh: Mesh) -> None:
    finished = run(mesh, "e57", {"t": mock({}, contexts="${{1}}")})
    entry = finished.entry("t")
    assert (entry["status"], entry["statusMessage"]) == (1000, "Bad Config")
    assert entry["errorMessage"] == "invalid context ${{1}}"
    ended(finished, "e57-a1", 1000, "Bad Config", "invalid context ${{1}}")


def test_e58_empty_contexts(mesh: Mesh) -> None:
    fan = mock({"foo": 1}, contexts="${{$trigger(sites, '')}}")
    for name, inputs in (("e58", {"sites": []}), ("e58b", None)):
        finished = run(mesh, name, {"fan": fan}, inputs)
        entry = finished.entry("fan")
        assert (entry["attempts"], entry["outputs"], entry["status"]) == (0, {"status": 200}, 9996)
        done(finished, f"{name}-a1")
    probed = run(mesh, "e58p", {"fan": {**fan, "stageSelector": "probe"},
                                "probe": _probe("fan", ("__total",))})  # fmt: skip
    assert probed.entry("probe")["inputs"] == {"total": 0}


def test_e59_one_context_at_a_time(mesh: Mesh) -> None:
    # `delay: 0.3` instead of 1: the point is the ordering, not the length of each delay. The
    # status shows whole seconds, so the length of the stage is measured here.
    fan = stage("providers.stage.delay", {"delay": 0.3}, contexts=["a", "b", "c"],
                contextPolicy={"maxConcurrency": 1})  # fmt: skip
    began = time.monotonic()
    finished = run(mesh, "e59", {"d": fan})
    assert time.monotonic() - began >= 0.9
    contexts = finished.entry("d")["contexts"]
    assert _time(contexts["b"]["startedAt"]) >= _time(contexts["a"]["finishedAt"])
    assert _time(contexts["c"]["startedAt"]) >= _time(contexts["b"]["finishedAt"])
    done(finished, "e59-a1")


def test_e60_fail_fast(mesh: Mesh) -> None:
    inputs = {"status": "${{$if($equal($input(__context), b), 500, 200)}}"}
    fan = mock(inputs, contexts=["a", "b", "c", "d"],
               contextPolicy={"maxConcurrency": 1, "failFast": True})  # fmt: skip
    finished = run(mesh, "e60", {"fan": fan})
    outputs = finished.entry("fan")["outputs"]
    assert [outputs[f"{c}.status"] for c in "abcd"] == [200, 500, 9998, 9998]
    assert outputs["error"] == "Internal Error: 1 of 4 contexts failed (b)"
    ended(finished, "e60-a1", 500, "Internal Error", "stage fan failed")
    probed = run(
        mesh,
        "e60p",
        {
            "fan": {**fan, "stageSelector": "probe"},
            "probe": {**_probe("fan", COUNTERS[1:4]), "handleErrors": True},
        },
    )
    assert probed.entry("probe")["inputs"] == {"succeeded": 1, "failed": 1, "pending": 2}


def test_e61_context_equal_to_the_local_site_id(mesh: Mesh) -> None:
    finished = run(mesh, "e61", {"t": mock({"foo": 1}, contexts="hub")})
    assert finished.entry("t")["outputs"] == {"hub.foo": 2, "hub.status": 200, "status": 200}
    done(finished, "e61-a1")


def test_e62_per_context_provider_state(mesh: Mesh) -> None:
    loop = counter({"n": 1}, "${{$if($lt($output(c, a.n), 3), c, '')}}", contexts=["a", "b"])
    finished = run(mesh, "e62", {"c": loop})
    assert [e["outputs"]["a.n"] for e in finished.history] == [1, 2, 3]
    assert [e["outputs"]["b.n"] for e in finished.history] == [1, 2, 3]
    assert entries(finished.document) == [("c", 1, 9996, "c"), ("c", 2, 9996, "c"),
                                          ("c", 3, 9996, "")]  # fmt: skip
    done(finished, "e62-a1")
