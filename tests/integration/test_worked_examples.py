"""The worked examples of campaigns.md section 12, A and B (E1-E21), on a real node.

This module also holds the helpers the other `test_worked_examples_*` modules import. Every test
uses its own campaign name (the node is shared by the tests of a module); the version is
`<name>-v-1` and the activation `<name>-a1` (`a2`, ... when an example has several), so the spec's
`c-v-1` and `a1` read as those names in asserted messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.helpers.cli import Invocation
from tests.helpers.waiting import eventually_sync
from tests.integration.conftest import Mesh

__all__ = [
    "Finished",
    "activation",
    "apply",
    "campaign",
    "counter",
    "done",
    "ended",
    "entries",
    "finish",
    "get",
    "mock",
    "run",
    "stage",
    "start",
    "terminal",
    "until",
    "wait",
]

API = "workflow.symphony/v1"


def campaign(
    name: str,
    stages: dict[str, dict[str, Any]],
    *,
    first: str | None = None,
    self_driving: bool | None = True,
    **spec: Any,
) -> list[dict[str, Any]]:
    """A Campaign `name` and its CampaignVersion `name-v-1`; `first` defaults to the first stage."""
    version: dict[str, Any] = {"rootResource": name, "firstStage": first or next(iter(stages))}
    if self_driving is not None:
        version["selfDriving"] = self_driving
    version.update(spec)
    version["stages"] = stages
    return [
        {"apiVersion": API, "kind": "Campaign", "metadata": {"name": name}, "spec": {}},
        {"apiVersion": API, "kind": "CampaignVersion", "metadata": {"name": f"{name}-v-1"},
         "spec": version},
    ]  # fmt: skip


def activation(
    name: str, version: str, inputs: dict[str, Any] | None = None, **spec: Any
) -> dict[str, Any]:
    """An Activation of campaign version reference `version` (`c:1`)."""
    body: dict[str, Any] = {"campaignversion": version}
    if inputs is not None:
        body["inputs"] = inputs
    body.update(spec)
    return {"apiVersion": API, "kind": "Activation", "metadata": {"name": name}, "spec": body}


def apply(mesh: Mesh, *documents: dict[str, Any] | list[dict[str, Any]]) -> Invocation:
    """`apply -f -` of the documents as one JSON `{"items": [...]}` file."""
    items: list[dict[str, Any]] = []
    for document in documents:
        items += document if isinstance(document, list) else [document]
    return mesh.cli("apply", "-f", "-", stdin=json.dumps({"items": items}))


def get(mesh: Mesh, name: str) -> dict[str, Any]:
    """`get activation NAME -o json --history all`."""
    got = mesh.cli("get", "activation", name, "-o", "json", "--history", "all")
    assert got.code == 0, got.stderr
    document: dict[str, Any] = json.loads(got.stdout)
    return document


def wait(mesh: Mesh, name: str, timeout: str = "30s") -> Invocation:
    """`wait activation NAME --for terminal` (blocks on the Watch stream)."""
    return mesh.cli("wait", "activation", name, "--for", "terminal", "--timeout", timeout)


def until(
    mesh: Mesh, name: str, status: int, timeout: float = 10.0, **fields: Any
) -> dict[str, Any]:
    """Poll `get` until the activation has `status` (and the given status fields); return it."""

    def reached() -> dict[str, Any] | None:
        document = get(mesh, name)
        current = document["status"]
        wanted = current["status"] == status
        return document if wanted and all(current[k] == v for k, v in fields.items()) else None

    return eventually_sync(reached, timeout, what=f"{name} to reach {status} {fields}")


@dataclass
class Finished:
    """An activation once terminal: the `wait` run and the document of `get`."""

    waited: Invocation
    document: dict[str, Any]

    @property
    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.document["status"]
        return status

    @property
    def history(self) -> list[dict[str, Any]]:
        history: list[dict[str, Any]] = self.status["stageHistory"]
        return history

    @property
    def final(self) -> tuple[int, str, str]:
        """`status statusMessage errorMessage` of the activation."""
        return (self.status["status"], self.status["statusMessage"], self.status["errorMessage"])

    def entry(self, stage: str, iteration: int = 1) -> dict[str, Any]:
        """The history entry `stage#iteration`."""
        found = [e for e in self.history if (e["stage"], e["iteration"]) == (stage, iteration)]
        assert len(found) == 1, f"{stage}#{iteration} in {entries(self.document)}"
        return found[0]


def entries(document: dict[str, Any]) -> list[tuple[str, int, int, str]]:
    """`stage#iteration status → nextStage` of every history entry, as tuples."""
    return [
        (e["stage"], e["iteration"], e["status"], e["nextStage"])
        for e in document["status"]["stageHistory"]
    ]


UNFINISHED = (9991, 9994, 9995, 9997)


def terminal(mesh: Mesh, name: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll `get` until activation `name` is terminal; return its document.

    Polling, not `wait activation`: the server's Watch reads its snapshot before it subscribes
    (server/activation_ops.py `watch`), so an activation ending in between is never reported
    and a blocking `wait` hangs until its timeout. `wait` is run once the activation is terminal.
    """

    def ended() -> dict[str, Any] | None:
        document = get(mesh, name)
        return document if document["status"]["status"] not in UNFINISHED else None

    return eventually_sync(ended, timeout, what=f"{name} to finish")


def finish(mesh: Mesh, name: str, timeout: float = 30.0) -> Finished:
    """Wait until activation `name` is terminal, then `wait --for terminal` and `get` it."""
    terminal(mesh, name, timeout)
    waited = wait(mesh, name, "10s")
    assert waited.code == 0, f"wait {name}: {waited.code} {waited.stdout} {waited.stderr}"
    return Finished(waited, get(mesh, name))


def start(
    mesh: Mesh,
    name: str,
    stages: dict[str, dict[str, Any]],
    inputs: dict[str, Any] | None = None,
    *,
    first: str | None = None,
    self_driving: bool | None = True,
    activation_spec: dict[str, Any] | None = None,
    **spec: Any,
) -> Invocation:
    """Apply campaign `name`, version `name-v-1` and activation `name-a1`; assert it applied."""
    applied = apply(
        mesh,
        campaign(name, stages, first=first, self_driving=self_driving, **spec),
        activation(f"{name}-a1", f"{name}:1", inputs, **(activation_spec or {})),
    )
    assert applied.code == 0, applied.stderr
    return applied


def run(
    mesh: Mesh,
    name: str,
    stages: dict[str, dict[str, Any]],
    inputs: dict[str, Any] | None = None,
    **options: Any,
) -> Finished:
    """`start` then `finish`: the activation `name-a1` once terminal."""
    start(mesh, name, stages, inputs, **options)
    return finish(mesh, f"{name}-a1")


def stage(
    provider: str,
    inputs: dict[str, Any] | None = None,
    selector: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A stage of `provider` (full type name) with `inputs`, `stageSelector` and other fields."""
    body: dict[str, Any] = {"provider": provider}
    if inputs is not None:
        body["inputs"] = inputs
    if selector is not None:
        body["stageSelector"] = selector
    body.update(fields)
    return body


def mock(
    inputs: dict[str, Any] | None = None, selector: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A `providers.stage.mock` stage."""
    return stage("providers.stage.mock", inputs, selector, **fields)


def counter(
    inputs: dict[str, Any] | None = None, selector: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A `providers.stage.counter` stage."""
    return stage("providers.stage.counter", inputs, selector, **fields)


def done(finished: Finished, name: str) -> None:
    """Final `9996 Done`, and `wait` printed `activation/<name> Done (9996)` and exited 0."""
    assert finished.final == (9996, "Done", "")
    assert finished.waited.stdout.strip() == f"activation/{name} Done (9996)"
    assert finished.waited.code == 0


def ended(finished: Finished, name: str, status: int, message: str, error: str) -> None:
    """Final `status message` with errorMessage `error`, as `wait` printed it."""
    assert finished.final == (status, message, error)
    line = f"activation/{name} {message} ({status})" + (f": {error}" if error else "")
    assert finished.waited.stdout.strip() == line
    assert finished.waited.code == 0  # --for terminal


# --- A. Basic flow, inputs and outputs ----------------------------------------------------------

HELLO = {"mock": mock({"foo": "${{$trigger(foo, 0)}}"})}


def test_e1_hello_world(mesh: Mesh) -> None:
    finished = run(mesh, "e1", HELLO, {"foo": "bar"})
    assert entries(finished.document) == [("mock", 1, 9996, "")]
    entry = finished.entry("mock")
    assert entry["inputs"] == {"foo": "bar"}
    assert entry["outputs"] == {"foo": "bar", "status": 200}
    assert entry["attempts"] == 1
    assert entry["isActive"] is False
    assert finished.status["historyTotal"] == 1
    done(finished, "e1-a1")


def test_e2_hello_world_without_inputs(mesh: Mesh) -> None:
    finished = run(mesh, "e2", HELLO)
    assert finished.entry("mock")["outputs"] == {"foo": 1, "status": 200}
    done(finished, "e2-a1")


def test_e3_activation_inputs_are_not_provider_inputs(mesh: Mesh) -> None:
    finished = run(mesh, "e3", {"mock": mock({})}, {"foo": "bar"})
    entry = finished.entry("mock")
    assert entry["inputs"] == {}
    assert entry["outputs"] == {"status": 200}
    done(finished, "e3-a1")


def test_e4_mock_self_loop(mesh: Mesh) -> None:
    stages = {"test": mock({"foo": "${{$output(test,foo)}}"},
                           "${{$if($lt($output(test,foo), 5), test, '')}}")}  # fmt: skip
    finished = run(mesh, "e4", stages)
    assert entries(finished.document) == [("test", i, 9996, "test") for i in range(1, 5)] + [
        ("test", 5, 9996, "")
    ]
    assert [e["outputs"]["foo"] for e in finished.history] == [1, 2, 3, 4, 5]
    assert finished.status["historyTotal"] == 5
    done(finished, "e4-a1")


def test_e5_counter_loop(mesh: Mesh) -> None:
    stages = {"test": counter({"foo": 1}, "${{$if($lt($output(test,foo),5),test,'')}}")}
    finished = run(mesh, "e5", stages)
    assert [e["outputs"]["foo"] for e in finished.history] == [1, 2, 3, 4, 5]
    assert finished.entry("test", 5)["outputs"] == {"foo": 5, "status": 200}
    assert [e["stage"] for e in finished.history] == ["test"] * 5
    done(finished, "e5-a1")
    # ctx `__state = {foo: 5}`: hidden from the display, read with $output by one more stage.
    probe = {
        "test": counter({"foo": 1}, "${{$if($lt($output(test,foo),5),test,probe)}}"),
        "probe": mock({"state": "${{$output(test, __state)}}"}),
    }
    probed = run(mesh, "e5p", probe)
    assert probed.entry("probe")["outputs"] == {"state": {"foo": 5}, "status": 200}


def test_e6_negative_counter(mesh: Mesh) -> None:
    stages = {"test": counter({"foo": -10}, "${{$if($gt($output(test,foo),-50),test,'')}}")}
    finished = run(mesh, "e6", stages)
    assert [e["outputs"]["foo"] for e in finished.history] == [-10, -20, -30, -40, -50]
    assert finished.status["historyTotal"] == 5
    done(finished, "e6-a1")


COUNTER_INIT = {
    "counter": counter(
        {"val": "${{$trigger(val, 0)}}", "val.init": "${{$trigger(val.init, 0)}}"},
        "${{$if($lt($output(counter,val), 20), counter, '')}}",
    )
}


def test_e7_counter_init_from_activation_inputs(mesh: Mesh) -> None:
    finished = run(mesh, "e7", COUNTER_INIT, {"val.init": 10, "val": 2})
    assert [e["outputs"]["val"] for e in finished.history] == [12, 14, 16, 18, 20]
    assert all("val.init" not in e["outputs"] for e in finished.history)
    assert finished.entry("counter", 5)["outputs"] == {"val": 20, "status": 200}
    done(finished, "e7-a1")


def test_e8_counter_init_from_string_inputs(mesh: Mesh) -> None:
    finished = run(mesh, "e8", COUNTER_INIT, {"val.init": "10", "val": "2"})
    assert [e["outputs"]["val"] for e in finished.history] == [12, 14, 16, 18, 20]
    assert all("val.init" not in e["outputs"] for e in finished.history)
    assert finished.entry("counter", 5)["outputs"] == {"val": 20, "status": 200}
    done(finished, "e8-a1")


def test_e9_ping_pong(mesh: Mesh) -> None:
    stages = {
        "test": counter({}, "test2"),
        "test2": counter({"foo": 1, "bar": 1}, "${{$if($lt($output(test2,bar),5),test,'')}}"),
    }
    finished = run(mesh, "e9", stages)
    expected = []
    for i in range(1, 6):
        expected += [("test", i, 9996, "test2"), ("test2", i, 9996, "test" if i < 5 else "")]
    assert entries(finished.document) == expected
    assert finished.entry("test2", 5)["outputs"] == {"foo": 5, "bar": 5, "status": 200}
    done(finished, "e9-a1")


def test_e10_triggers_and_counters(mesh: Mesh) -> None:
    stages = {
        "test": counter({"count": 1, "foo": "${{$trigger(foo,0)}}"},
                        "${{$if($lt($output(test,foo),5),test,test2)}}"),
        "test2": counter({"count.init": "${{$output(test,count)}}", "count": 1,
                          "foo": "${{$output(test,foo)}}", "bar": "${{$trigger(bar,-1)}}",
                          "bazz": "${{$trigger(bazz,0)}}"},
                         "${{$if($lt($output(test2,foo),10),test2,'')}}"),
    }  # fmt: skip
    finished = run(mesh, "e10", stages, {"foo": 1, "bar": 1})
    assert [e["stage"] for e in finished.history] == ["test"] * 5 + ["test2"] * 2
    assert finished.entry("test2", 2)["outputs"] == {
        "count": 7, "foo": 10, "bar": 2, "bazz": 0, "status": 200,
    }  # fmt: skip
    done(finished, "e10-a1")


PREVIOUS = {
    "test": mock({"ticket": "bar"}, "test2"),
    "test2": mock({"stcheck": "${{$output($input(__previousStage), status)}}",
                   "stfoo": "${{$output($input(__previousStage), ticket)}}"}),
}  # fmt: skip


def test_e11_previous_stage_access(mesh: Mesh) -> None:
    finished = run(mesh, "e11", PREVIOUS)
    assert finished.entry("test2")["outputs"] == {"stcheck": 200, "stfoo": "bar", "status": 200}
    assert entries(finished.document) == [("test", 1, 9996, "test2"), ("test2", 1, 9996, "")]
    done(finished, "e11-a1")


def test_e12_first_stage_is_its_own_previous_stage(mesh: Mesh) -> None:
    finished = run(mesh, "e12", {"a": mock({"prev": "${{$input(__previousStage)}}"})})
    assert finished.entry("a")["outputs"] == {"prev": "a", "status": 200}
    done(finished, "e12-a1")


def test_e13_typed_inputs(mesh: Mesh) -> None:
    inputs = {"a": "${{1+2}}", "b": "x${{1+2}}", "c": "1+2", "d": "${{$trigger(l, '')}}",
              "e": 7, "f": "${{6.3}}", "g": ""}  # fmt: skip
    finished = run(mesh, "e13", {"t": mock(inputs)}, {"l": [1, 2]})
    assert finished.entry("t")["inputs"] == {
        "a": 3, "b": "x3", "c": "1+2", "d": [1, 2], "e": 7, "f": "6.3", "g": None,
    }  # fmt: skip
    done(finished, "e13-a1")


def test_e14_document_order_and_on_demand_evaluation(mesh: Mesh) -> None:
    finished = run(mesh, "e14", {"t": mock({"b": "${{$input(a)}}-x", "a": "${{1+1}}"})})
    inputs = finished.entry("t")["inputs"]
    assert inputs == {"b": "2-x", "a": 2}
    done(finished, "e14-a1")


def test_e15_data_is_never_evaluated(mesh: Mesh) -> None:
    finished = run(mesh, "e15", {"t": mock({"a": "${{$trigger(x, '')}}"})}, {"x": "${{1+2}}"})
    assert finished.entry("t")["inputs"] == {"a": "${{1+2}}"}
    assert finished.entry("t")["outputs"]["a"] == "${{1+2}}"
    done(finished, "e15-a1")


def test_e16_multi_segment_rendering(mesh: Mesh) -> None:
    template = ("sites=${{$trigger(sites, '')}} on=${{$trigger(on, false)}} "
                "n=${{$trigger(none, $val())}}")  # fmt: skip
    finished = run(mesh, "e16", {"t": mock({"msg": template})}, {"sites": ["a", "b"], "on": True})
    assert finished.entry("t")["inputs"] == {"msg": 'sites=["a","b"] on=true n='}
    done(finished, "e16-a1")


# --- B. Selector and termination ---------------------------------------------------------------


def test_e17_static_chain(mesh: Mesh) -> None:
    finished = run(mesh, "e17", {"a": mock({}, "b"), "b": mock({})})
    assert entries(finished.document) == [("a", 1, 9996, "b"), ("b", 1, 9996, "")]
    done(finished, "e17-a1")


def test_e18_unknown_stage_chosen_dynamically(mesh: Mesh) -> None:
    finished = run(mesh, "e18", {"a": mock({}, "${{'nope'}}")})
    entry = finished.entry("a")
    assert (entry["status"], entry["statusMessage"]) == (400, "Bad Request")
    assert entry["errorMessage"] == "stage nope is not found"
    ended(finished, "e18-a1", 400, "Bad Request", "stage nope is not found")


def test_e19_unknown_static_selector(mesh: Mesh) -> None:
    applied = apply(mesh, campaign("e19", {"a": mock({}, "wrongstage")}))
    assert applied.code == 1
    assert applied.stderr.splitlines() == [
        "error: campaignversion/e19-v-1: spec.stages.a.stageSelector: "
        'stage "wrongstage" is not defined in spec.stages'
    ]
    assert applied.stdout == ""
    missing = mesh.cli("get", "campaign", "e19")
    assert missing.code == 1
    assert missing.stderr.strip() == 'error: campaign "e19" not found (CAMPAIGN_NOT_FOUND)'
    misspelt = apply(mesh, campaign("e19", {"a": {"provider": "providers.stage.mock",
                                                  "stageselector": ""}}))  # fmt: skip
    assert misspelt.code == 1
    assert misspelt.stderr.splitlines() == [
        "error: campaignversion/e19-v-1: spec.stages.a.stageselector: unknown field"
    ]


def test_e20_selector_evaluation_error(mesh: Mesh) -> None:
    finished = run(mesh, "e20", {"a": mock({}, "${{$if($lt($output(a,missing),5),a,'')}}")})
    entry = finished.entry("a")
    assert entry["status"] == 500
    assert entry["errorMessage"] == "Bad Config: property missing is not found"
    ended(finished, "e20-a1", 500, "Internal Error", "Bad Config: property missing is not found")


def test_e21_input_in_selector_of_stage_without_inputs(mesh: Mesh) -> None:
    stages = {
        "a": {"provider": "providers.stage.mock",
              "stageSelector": "${{$if($equal($input(__stage), a), b, '')}}"},
        "b": {"provider": "providers.stage.mock"},
    }  # fmt: skip
    finished = run(mesh, "e21", stages)
    assert entries(finished.document) == [("a", 1, 9996, "b"), ("b", 1, 9996, "")]
    done(finished, "e21-a1")
