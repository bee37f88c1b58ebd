"""The worked examples of campaigns.md section 12, C and D (E22-E46), on a real node."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from tests.helpers.waiting import eventually_sync
from tests.integration.conftest import Mesh
from tests.integration.test_worked_examples import (
    PREVIOUS,
    activation,
    apply,
    campaign,
    counter,
    done,
    ended,
    entries,
    get,
    mock,
    run,
    stage,
    terminal,
)

# --- C. Errors and error handlers ---------------------------------------------------------------


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_e22_failure_at_the_last_stage(mesh: Mesh) -> None:
    # The spec uses port 9 ("nothing listens there"); a port just released is surely closed.
    url = f"http://127.0.0.1:{_closed_port()}/"
    finished = run(mesh, "e22", {"test": stage("providers.stage.http", config={"url": url})})
    entry = finished.entry("test")
    outputs = entry["outputs"]
    assert set(outputs) == {"status", "error"}
    assert outputs["status"] == 500
    assert outputs["error"].startswith(f"Internal Error: request to {url} failed: ")
    assert (entry["status"], entry["errorMessage"]) == (500, "stage test failed")
    ended(finished, "e22-a1", 500, "Internal Error", "stage test failed")


FAILING = {"test": mock({"status": 500, "error": "boom"}, "test2")}


def test_e23_failure_without_handler(mesh: Mesh) -> None:
    finished = run(mesh, "e23", {**FAILING, "test2": mock({})})
    entry = finished.entry("test")
    assert entry["outputs"] == {"status": 500, "error": "Internal Error: boom"}
    assert entries(finished.document) == [("test", 1, 500, "")]
    assert entry["errorMessage"] == "stage test failed"
    assert finished.status["historyTotal"] == 1
    ended(finished, "e23-a1", 500, "Internal Error", "stage test failed")


def test_e24_failure_with_handler(mesh: Mesh) -> None:
    handler = counter({"success": "${{$if($equal($output(test,status),200),1,0)}}"},
                      handleErrors=True)  # fmt: skip
    finished = run(mesh, "e24", {**FAILING, "test2": handler})
    assert entries(finished.document) == [("test", 1, 500, "test2"), ("test2", 1, 9996, "")]
    assert finished.entry("test")["statusMessage"] == "Internal Error"
    assert finished.entry("test2")["outputs"] == {"success": 0, "status": 200}
    done(finished, "e24-a1")


def test_e25_conditional_routing(mesh: Mesh) -> None:
    stages = {
        "test": mock({}, "test3"),
        "test3": mock({}, "test4"),
        "test4": mock({"status": 503},
                      "${{$if($equal($output(test4,status),200),'test3','test2')}}"),
        "test2": counter({"test-okay": "6"}, handleErrors=True),
    }  # fmt: skip
    finished = run(mesh, "e25", stages)
    assert entries(finished.document) == [
        ("test", 1, 9996, "test3"),
        ("test3", 1, 9996, "test4"),
        ("test4", 1, 503, "test2"),
        ("test2", 1, 9996, ""),
    ]
    test4 = finished.entry("test4")
    assert test4["statusMessage"] == "HTTP 503"
    assert test4["outputs"]["error"] == (
        "HTTP 503: stage returned unsuccessful status without an error"
    )
    assert finished.entry("test2")["outputs"] == {"test-okay": 6, "status": 200}
    done(finished, "e25-a1")


def test_e26_failed_stage_selecting_an_unknown_stage(mesh: Mesh) -> None:
    finished = run(mesh, "e26", {"test": mock({"status": 400}, "${{'nope'}}")})
    assert finished.entry("test")["status"] == 400
    ended(finished, "e26-a1", 400, "Bad Request", "stage test failed")


def test_e27_intentional_error_handled(mesh: Mesh) -> None:
    stages = {
        "test": mock({"status": 400, "error": "bad"}, "end"),
        "end": mock({}, handleErrors=True),
    }
    finished = run(mesh, "e27", stages)
    assert finished.entry("test")["outputs"] == {"status": 400, "error": "Bad Request: bad"}
    assert entries(finished.document) == [("test", 1, 400, "end"), ("end", 1, 9996, "")]
    done(finished, "e27-a1")


def test_e28_status_as_a_string_without_error_text(mesh: Mesh) -> None:
    finished = run(mesh, "e28", {"test": mock({"status": "400"})})
    assert finished.entry("test")["outputs"] == {
        "status": 400,
        "error": "Bad Request: stage returned unsuccessful status without an error",
    }
    ended(finished, "e28-a1", 400, "Bad Request", "stage test failed")


def test_e29_any_2xx_is_success(mesh: Mesh) -> None:
    finished = run(mesh, "e29", {"test": mock({"status": 201})})
    assert finished.entry("test")["outputs"] == {"status": 201}
    assert entries(finished.document) == [("test", 1, 9996, "")]
    done(finished, "e29-a1")
    likewise = run(mesh, "e29b", {"test": mock({"status": 9996})})
    assert likewise.entry("test")["outputs"] == {"status": 9996}
    done(likewise, "e29b-a1")


def test_e30_invalid_status_value(mesh: Mesh) -> None:
    finished = run(mesh, "e30", {"test": mock({"status": "OK"})})
    assert finished.entry("test")["outputs"] == {
        "status": 500, "error": "Internal Error: invalid state OK",
    }  # fmt: skip
    ended(finished, "e30-a1", 500, "Internal Error", "stage test failed")


def test_e31_other_state_codes_are_kept(mesh: Mesh) -> None:
    finished = run(mesh, "e31", {"test": mock({"status": 8002, "error": "gone"})})
    assert finished.entry("test")["outputs"] == {"status": 8002, "error": "Delete Failed: gone"}
    ended(finished, "e31-a1", 8002, "Delete Failed", "stage test failed")


def test_e32_unknown_provider(mesh: Mesh) -> None:
    applied = apply(
        mesh,
        campaign("e32", {"test": stage("providers.stage.notExist", {})}),
        activation("e32-a1", "e32:1"),
    )
    assert applied.code == 0
    assert applied.stderr.splitlines() == [
        "warning: campaignversion/e32-v-1: spec.stages.test.provider: unknown provider "
        '"providers.stage.notExist"; the stage will fail when it runs'
    ]
    finished = run(mesh, "e32", {"test": stage("providers.stage.notExist", {})})
    entry = finished.entry("test")
    message = "provider providers.stage.notExist is not found"
    assert (entry["status"], entry["errorMessage"], entry["attempts"]) == (400, message, 0)
    ended(finished, "e32-a1", 400, "Bad Request", message)


def test_e33_out_of_scope_provider(mesh: Mesh) -> None:
    patch = stage("providers.stage.patch", {"objectType": "solution", "patchAction": "add"},
                  config={"baseUrl": "http://x/"})  # fmt: skip
    finished = run(mesh, "e33", {"deploy": patch})
    message = "provider providers.stage.patch is not supported by symphony-mesh"
    entry = finished.entry("deploy")
    assert (entry["status"], entry["errorMessage"]) == (400, message)
    ended(finished, "e33-a1", 400, "Bad Request", message)


def test_e34_stage_proxy(mesh: Mesh) -> None:
    proxied = mock({}, proxy={"provider": "providers.stage.proxy.http", "config": {}})
    finished = run(mesh, "e34", {"t": proxied})
    message = "stage proxy providers.stage.proxy.http is not supported by symphony-mesh"
    assert finished.entry("t")["status"] == 400
    ended(finished, "e34-a1", 400, "Bad Request", message)


def test_e35_circular_input(mesh: Mesh) -> None:
    finished = run(mesh, "e35", {"test": mock({"loop": "${{$input(loop)}}"})})
    entry = finished.entry("test")
    message = "Bad Config: Detect circular dependency, object: input, field: loop"
    assert (entry["status"], entry["isActive"], entry["attempts"]) == (500, False, 0)
    assert entry["errorMessage"] == message
    ended(finished, "e35-a1", 500, "Internal Error", message)
    hello = run(mesh, "e35h", {"mock": mock({"foo": "${{$trigger(foo, 0)}}"})})
    done(hello, "e35h-a1")


def test_e36_mutual_reference(mesh: Mesh) -> None:
    finished = run(mesh, "e36", {"t": mock({"x": "${{$input(y)}}", "y": "${{$input(x)}}"})})
    message = "Bad Config: Detect circular dependency, object: input, field: x"
    assert finished.entry("t")["errorMessage"] == message
    ended(finished, "e36-a1", 500, "Internal Error", message)


def test_e37_unknown_function(mesh: Mesh) -> None:
    finished = run(mesh, "e37", {"t": mock({"x": "${{$foo(1)}}"})})
    ended(finished, "e37-a1", 500, "Internal Error", "Bad Config: invalid function name: 'foo'")


def test_e38_outputs_of_a_stage_that_has_not_run(mesh: Mesh) -> None:
    stages = {"a": mock(None, "b"), "b": mock({"x": "${{$output(c, y)}}"}), "c": mock()}
    finished = run(mesh, "e38", stages)
    message = "Bad Config: step c is not found in output collection"
    assert finished.entry("b")["errorMessage"] == message
    ended(finished, "e38-a1", 500, "Internal Error", message)
    first = run(mesh, "e38c", {"c": mock({"x": "${{$output(zz, y)}}"})})
    assert first.entry("c")["inputs"] == {"x": ""}
    done(first, "e38c-a1")


def test_e39_rejecting_script_without_handler(mesh: Mesh, tmp_path: Path) -> None:
    (tmp_path / "reject.sh").write_text('echo \'{"status": 403}\' > "$2"\n')
    stages: dict[str, dict[str, Any]] = {
        "approval": stage("providers.stage.script", None,
                          "${{$if($equal($output(approval,status), 200),'deploy','end')}}",
                          config={"script": "reject.sh", "scriptFolder": str(tmp_path)}),
        "deploy": mock(),
        "end": mock(),
    }  # fmt: skip
    finished = run(mesh, "e39", stages)
    assert finished.entry("approval")["outputs"] == {
        "status": 403,
        "error": "Forbidden: stage returned unsuccessful status without an error",
    }
    assert entries(finished.document) == [("approval", 1, 403, "")]
    ended(finished, "e39-a1", 403, "Forbidden", "stage approval failed")


# --- D. Starting activations and apply ----------------------------------------------------------


def test_e40_initial_stage_override(mesh: Mesh) -> None:
    finished = run(mesh, "e40", PREVIOUS, activation_spec={"stage": "test2"})
    assert entries(finished.document) == [("test2", 1, 9996, "")]
    assert finished.entry("test2")["inputs"] == {"stcheck": "", "stfoo": ""}
    done(finished, "e40-a1")
    # `__previousStage` is test2 itself.
    prev = {"test": mock({}, "test2"), "test2": mock({"prev": "${{$input(__previousStage)}}"})}
    probed = run(mesh, "e40p", prev, activation_spec={"stage": "test2"})
    assert probed.entry("test2")["outputs"] == {"prev": "test2", "status": 200}


def test_e41_invalid_initial_stage(mesh: Mesh) -> None:
    assert apply(mesh, campaign("e41", PREVIOUS)).code == 0
    applied = apply(mesh, activation("e41-a1", "e41:1", stage="nope"))
    assert applied.code == 1
    assert applied.stderr.splitlines() == [
        'error: activation/e41-a1: spec.stage: stage "nope" is not defined in campaignversion '
        "e41-v-1"
    ]
    assert mesh.cli("get", "activation", "e41-a1").code == 1


def test_e42_missing_campaign_version(mesh: Mesh) -> None:
    applied = apply(mesh, activation("e42-a1", "ghost:1"))
    assert applied.code == 1
    assert applied.stderr.splitlines() == [
        'error: activation/e42-a1: spec.campaignversion: campaignversion "ghost:1" does not exist'
    ]


def test_e43_all_or_nothing(mesh: Mesh) -> None:
    applied = apply(mesh, campaign("e43", PREVIOUS), activation("e43-a1", "e43:1", stage="nope"))
    assert applied.code == 1
    assert applied.stdout == ""
    assert applied.stderr.splitlines() == [
        'error: activation/e43-a1: spec.stage: stage "nope" is not defined in campaignversion '
        "e43-v-1"
    ]
    missing = mesh.cli("get", "campaigns", "e43")
    assert missing.code == 1
    assert missing.stderr.strip() == 'error: campaign "e43" not found (CAMPAIGN_NOT_FOUND)'


LOOP = {"test": mock({"foo": "${{$output(test,foo)}}"},
                     "${{$if($lt($output(test,foo), 5), test, '')}}")}  # fmt: skip


def _parallel(name: str) -> list[Any]:
    return [
        campaign(name, LOOP),
        activation(f"{name}-a1", f"{name}:1"),
        activation(f"{name}-a2", f"{name}:1"),
    ]


def test_e44_parallel_activations(mesh: Mesh) -> None:
    applied = apply(mesh, *_parallel("e44"))
    assert applied.code == 0, applied.stderr
    assert applied.stdout.splitlines() == [
        "campaign/e44 created",
        "campaignversion/e44-v-1 created",
        "activation/e44-a1 created",
        "activation/e44-a2 created",
    ]
    uids = set()
    for name in ("e44-a1", "e44-a2"):
        terminal(mesh, name)
        waited = mesh.cli("wait", "activation", name, "--timeout", "10s")
        assert (waited.code, waited.stdout.strip()) == (0, f"activation/{name} Done (9996)")
        document = get(mesh, name)
        assert document["status"]["historyTotal"] == 5
        assert document["status"]["stageHistory"][-1]["outputs"]["foo"] == 5
        uids.add(document["metadata"]["uid"])
    assert len(uids) == 2  # `__runId` is `<uid>/<stage>/<iteration>/<context>`


def test_e45_re_apply(mesh: Mesh) -> None:
    documents = _parallel("e45")
    assert apply(mesh, *documents).code == 0
    for name in ("e45-a1", "e45-a2"):
        assert terminal(mesh, name)["status"]["status"] == 9996
    again = apply(mesh, *documents)
    assert again.code == 0
    assert again.stdout.splitlines() == [
        "campaign/e45 unchanged",
        "campaignversion/e45-v-1 unchanged",
        "activation/e45-a1 unchanged",
        "activation/e45-a2 unchanged",
    ]
    assert get(mesh, "e45-a1")["status"]["historyTotal"] == 5  # no new run
    changed = activation("e45-a1", "e45:1", {"foo": 1})
    refused = apply(mesh, changed)
    assert refused.code == 1
    assert refused.stderr.splitlines() == [
        "error: activation/e45-a1: spec: an activation's spec cannot be changed "
        "(delete and re-create it)"
    ]


def test_e46_self_driving_omitted(mesh: Mesh) -> None:
    stages = {"A": mock({"foo": 1}, "B"), "B": mock({"foo": "${{$output(A,foo)}}"})}
    applied = apply(mesh, campaign("e46", stages, self_driving=None),
                    activation("e46-a1", "e46:1"))  # fmt: skip
    assert applied.code == 0
    assert applied.stderr.splitlines() == [
        "warning: campaignversion/e46-v-1: spec.selfDriving: not set; defaulting to false "
        "(stepped mode: the activation pauses after every stage until it is stepped)"
    ]

    # Stepped mode (section E): Paused after A, waiting for a Step to B.
    def paused() -> dict[str, Any] | None:
        status: dict[str, Any] = get(mesh, "e46-a1")["status"]
        return status if status["status"] == 9995 else None

    status = eventually_sync(paused, what="e46-a1 to pause")
    assert status["nextStage"] == "B"
    assert status["waitingFor"] == [{"kind": "step", "nextStage": "B"}]
