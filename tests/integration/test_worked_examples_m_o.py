"""The worked examples of campaigns.md section 12, M to O (E97-E112), on real nodes.

Restarts (M) and node settings (E105, E108) need a node of their own (`own_node`); the rest
uses the module's shared node. E111 and E112 (remote stages) and the parts of E106 and E107 that
need child sites need federation, like section G, and are not here; E110's remote variant fails
before any dispatch and is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.helpers.nodes import NodeProcess
from tests.helpers.pki import TestPki
from tests.helpers.waiting import eventually_sync
from tests.integration.conftest import Mesh
from tests.integration.test_worked_examples import (
    activation,
    apply,
    campaign,
    done,
    ended,
    entries,
    finish,
    get,
    mock,
    run,
    stage,
    start,
    until,
)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


@contextmanager
def own_node(root: Path, env: dict[str, str] | None = None) -> Iterator[Mesh]:
    """A hub of this test only (its data directory survives `restart`)."""
    pki = TestPki(root / "pki")
    node = NodeProcess(root / "hub-data", tls_dir=pki.site("hub"), env=env).start()
    mesh = Mesh(pki, node, pki.operator("alice"))
    try:
        yield mesh
    finally:
        mesh.hub.kill()


def restart(mesh: Mesh, *, kill: bool = False) -> datetime:
    """Stop the hub (SIGTERM, or SIGKILL with `kill`), start it again; return when it was ready."""
    if kill:
        mesh.hub.kill()
    else:
        assert mesh.hub.stop() == 0
    old = mesh.hub
    mesh.hub = NodeProcess(old.data_dir, tls_dir=old.tls_dir, env=old.env).start()
    return datetime.now(UTC)


def _after(moment: datetime) -> Callable[[], bool]:
    return lambda: datetime.now(UTC) > moment


# --- M. Restart ---------------------------------------------------------------------------------


def test_e97_restart_during_a_delay(tmp_path: Path) -> None:
    # `delay: 2s` instead of 5s, and the node stays down until the delay is due instead of 10 s:
    # the point is that a timer due while the node was down fires at once after the restart.
    with own_node(tmp_path) as mesh:
        start(mesh, "e97", {"d": stage("providers.stage.delay", {"delay": "2s"})})
        due = _time(until(mesh, "e97-a1", 9997)["status"]["waitingFor"][0]["until"])
        assert mesh.hub.stop() == 0
        # `until` shows whole seconds: one more second makes sure the real due time passed.
        later = due + timedelta(seconds=1)
        eventually_sync(_after(later), timeout=10, what="the delay to be due while down")
        mesh.hub = NodeProcess(mesh.hub.data_dir, tls_dir=mesh.hub.tls_dir).start()
        ready = datetime.now(UTC)
        finished = finish(mesh, "e97-a1")
        entry = finished.entry("d")
        assert entries(finished.document) == [("d", 1, 9996, "")]
        assert entry["attempts"] == 1
        assert (_time(entry["finishedAt"]) - ready).total_seconds() <= 1.0
        done(finished, "e97-a1")


SLOW = """\
echo "$SYMPHONY_MESH_RUN_ID" >> {log}
sleep 1
echo '{{}}' > "$2"
"""


def test_e98_crash_during_a_script(tmp_path: Path) -> None:
    # `sleep 1` instead of 3: the node is killed as soon as the script has started.
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    log = tmp_path / "runs.log"
    (scripts / "slow.sh").write_text(SLOW.format(log=log))
    config = {"script": "slow.sh", "scriptFolder": str(scripts)}
    with own_node(tmp_path) as mesh:
        start(mesh, "e98", {"s": stage("providers.stage.script", config=config)})
        eventually_sync(lambda: log.exists() and log.read_text(), what="slow.sh to start")
        restart(mesh, kill=True)
        finished = finish(mesh, "e98-a1")
        lines = log.read_text().splitlines()
        assert len(lines) >= 2
        assert set(lines) == {f"{finished.document['metadata']['uid']}/s/1/hub"}
        assert entries(finished.document) == [("s", 1, 9996, "")]
        assert finished.entry("s")["attempts"] == 1
        done(finished, "e98-a1")


def test_e99_restart_while_waiting_for_approval(tmp_path: Path) -> None:
    stages = {
        "approval": stage("providers.stage.approval", {"timeout": "1h", "message": "Deploy v2?"},
                          "${{$if($equal($output(approval,status),200),'deploy','end')}}"),
        "deploy": mock({}),
        "end": mock({}, handleErrors=True),
    }  # fmt: skip
    with own_node(tmp_path) as mesh:
        start(mesh, "e99", stages)
        until(mesh, "e99-a1", 9995)
        restart(mesh)
        assert until(mesh, "e99-a1", 9995)["status"]["waitingFor"][0]["signal"] == "approval"
        signalled = mesh.cli("activation", "signal", "e99-a1", "approval",
                             "--payload", '{"approved": true, "by": "alice"}')  # fmt: skip
        assert signalled.stdout.strip() == "activation/e99-a1: signal approval delivered"
        finished = finish(mesh, "e99-a1")
        assert entries(finished.document) == [("approval", 1, 9996, "deploy"),
                                              ("deploy", 1, 9996, "")]  # fmt: skip
        done(finished, "e99-a1")


def test_e100_restart_with_a_queued_activation(tmp_path: Path) -> None:
    # `delay: 1s` instead of 2s (E82 setup).
    with own_node(tmp_path) as mesh:
        applied = apply(
            mesh,
            campaign("e100", {"d": stage("providers.stage.delay", {"delay": "1s"})},
                     concurrency={"max": 1}),
            activation("e100-a1", "e100:1"),
            activation("e100-a2", "e100:1"),
        )  # fmt: skip
        assert applied.code == 0
        assert get(mesh, "e100-a2")["status"]["status"] == 9991
        restart(mesh)
        queued = get(mesh, "e100-a2")["status"]
        assert queued["status"] == 9991
        assert queued["waitingFor"] == [{"kind": "queue", "position": 1}]
        one, two = finish(mesh, "e100-a1"), finish(mesh, "e100-a2")
        done(one, "e100-a1")
        done(two, "e100-a2")
        assert _time(two.status["startedAt"]) >= _time(one.status["finishedAt"])


def test_e100_restart_with_a_stepped_activation(tmp_path: Path) -> None:
    stages = {"A": mock({"foo": 1}, "B"), "B": mock({"foo": "${{$output(A,foo)}}"})}
    with own_node(tmp_path) as mesh:
        start(mesh, "e100s", stages, self_driving=False)
        until(mesh, "e100s-a1", 9995)
        restart(mesh)
        assert until(mesh, "e100s-a1", 9995)["status"]["nextStage"] == "B"
        stepped = mesh.cli("activation", "step", "e100s-a1", "-o", "json")
        assert stepped.code == 0, stepped.stderr
        assert json.loads(stepped.stdout)["inputs"] == {"foo": 2}
        finished = finish(mesh, "e100s-a1")
        assert finished.entry("B")["outputs"] == {"foo": 3, "status": 200}
        done(finished, "e100s-a1")


# --- N. Tasks -----------------------------------------------------------------------------------

MOCK = "providers.stage.mock"
PARALLEL_TASKS = [
    {"name": "t1", "provider": MOCK,
     "inputs": {"taskInput1": "value1", "input1": "value1", "foo": 1}},
    {"name": "t2", "provider": MOCK, "inputs": {"taskInput2": "value2", "foo": 2}},
]  # fmt: skip
PARALLEL_OUTPUTS = {
    "t1": {"taskInput1": "value1", "input1": "value1", "foo": 2, "status": 200},
    "t2": {"taskInput2": "value2", "input1": "stageValue1", "foo": 3, "status": 200},
    "status": 200,
}


def _router(**fields: Any) -> dict[str, Any]:
    return {"inputs": {"input1": "stageValue1"}, **fields}


def test_e101_parallel_tasks(mesh: Mesh) -> None:
    stages = {"t": _router(tasks=PARALLEL_TASKS, taskOption={"concurrency": 2})}
    finished = run(mesh, "e101", stages)
    entry = finished.entry("t")
    assert entry["outputs"] == PARALLEL_OUTPUTS
    assert entry["inputs"] == {
        "input1": "stageValue1",
        "t1": {"taskInput1": "value1", "input1": "value1", "foo": 1},
        "t2": {"taskInput2": "value2", "foo": 2},
    }
    done(finished, "e101-a1")


BAD_TASK = "Bad Config: task provider providers.stage.invalid is not found, skipping task bad " \
    "for site hub"  # fmt: skip
TWO_TASKS = [{"name": "bad", "provider": "providers.stage.invalid", "inputs": {}},
             {"name": "ok", "provider": MOCK, "inputs": {}}]  # fmt: skip


def test_e102_stop_on_any_failure(mesh: Mesh) -> None:
    option = {"concurrency": 1, "errorAction": {"mode": "stopOnAnyFailure"}}
    finished = run(mesh, "e102", {"t": {"tasks": TWO_TASKS, "taskOption": option}})
    outputs = finished.entry("t")["outputs"]
    assert outputs["bad"] == {"status": 1000, "error": BAD_TASK}
    assert "ok" not in outputs
    assert outputs["status"] == 500
    assert outputs["error"] == (
        "Internal Error: Task failed 1 times, error action is stop on any failure"
    )
    ended(finished, "e102-a1", 500, "Internal Error", "stage t failed")


def test_e103_silently_continue(mesh: Mesh) -> None:
    expected = {"bad": {"status": 1000, "error": BAD_TASK}, "ok": {"status": 200}, "status": 200}
    options = {
        "e103": {"concurrency": 1, "errorAction": {"mode": "silentlyContinue"}},
        "e103n": {"concurrency": 1,
                  "errorAction": {"mode": "stopOnNFailures", "maxToleratedFailures": 1}},
    }  # fmt: skip
    for name, option in options.items():
        finished = run(mesh, name, {"t": {"tasks": TWO_TASKS, "taskOption": option}})
        assert finished.entry("t")["outputs"] == expected
        done(finished, f"{name}-a1")


def test_e104_unlimited_task_concurrency(mesh: Mesh) -> None:
    finished = run(mesh, "e104", {"t": _router(tasks=PARALLEL_TASKS)})
    assert finished.entry("t")["outputs"] == PARALLEL_OUTPUTS
    done(finished, "e104-a1")


# --- O. Retention, providers, secrets, large values ---------------------------------------------


def test_e105_retention(tmp_path: Path) -> None:
    env = {"SYMPHONY_MESH_NODE_ENGINE__RETENTION": "2s",
           "SYMPHONY_MESH_NODE_ENGINE__RETENTION_INTERVAL": "1s"}  # fmt: skip
    with own_node(tmp_path, env) as mesh:
        start(mesh, "e105s", {"A": mock({}, "B"), "B": mock({})}, self_driving=False)
        until(mesh, "e105s-a1", 9995)
        done(run(mesh, "e105", {"mock": mock({"foo": "${{$trigger(foo, 0)}}"})}), "e105-a1")
        ended_at = time.monotonic()

        def deleted() -> bool:
            return mesh.cli("get", "activations", "e105-a1").code == 1

        eventually_sync(deleted, timeout=5, what="e105-a1 to be deleted by retention")
        assert time.monotonic() - ended_at <= 4.0
        gone = mesh.cli("get", "activations", "e105-a1")
        assert gone.stderr.strip() == 'error: activation "e105-a1" not found (ACTIVATION_NOT_FOUND)'
        assert get(mesh, "e105s-a1")["status"]["status"] == 9995  # a Paused one is kept


def test_e106_list_refuses_object_type_instance(mesh: Mesh) -> None:
    # Only this part of E106 works without child sites.
    listing = stage("providers.stage.list", {"objectType": "instance"})
    finished = run(mesh, "e106", {"l": listing})
    error = "Bad Request: objectType instance is not supported by symphony-mesh"
    assert finished.entry("l")["outputs"] == {"status": 400, "error": error}
    ended(finished, "e106-a1", 400, "Bad Request", "stage l failed")


def test_e107_wait_for_a_site_that_never_connects(mesh: Mesh) -> None:
    # Only this part of E107 works without child sites (`paris` never connects); 0.3 s polls
    # instead of 1 s: what matters is that the wait ends after `wait.count` intervals.
    waiting = stage("providers.stage.wait", {"objectType": "sites", "names": ["paris"]},
                    config={"wait.interval": 0.3, "wait.count": 3})  # fmt: skip
    began = time.monotonic()
    finished = run(mesh, "e107", {"w": waiting})
    assert time.monotonic() - began >= 0.9  # measured here: the status shows whole seconds
    entry = finished.entry("w")
    assert entry["outputs"] == {"status": 404, "error": "Not Found: failed to wait for sites paris"}
    ended(finished, "e107-a1", 404, "Not Found", "stage w failed")


OK_SCRIPT = """\
cp "$1" {copy}
echo '{{}}' > "$2"
"""


def test_e108_secret_masking(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    copy = tmp_path / "input.json"
    (scripts / "ok.sh").write_text(OK_SCRIPT.format(copy=copy))
    config = {"script": "ok.sh", "scriptFolder": str(scripts)}
    script = stage("providers.stage.script", {"token": "${{$secret(db, password)}}"},
                   config=config)  # fmt: skip
    with own_node(tmp_path, {"SYMPHONY_MESH_SECRET__DB__PASSWORD": "s3cret"}) as mesh:
        finished = run(mesh, "e108", {"s": script})
        assert json.loads(copy.read_text())["token"] == "s3cret"
        assert finished.entry("s")["inputs"] == {"token": "***"}
        done(finished, "e108-a1")


def test_e109_large_values(mesh: Mesh) -> None:
    stages = {
        "m": mock({"big": "${{$trigger(big, '')}}"}, "n"),
        "n": mock({"len": "${{$len($output(m, big))}}"}),
    }
    finished = run(mesh, "e109", stages, {"big": "x" * 100_000})
    shown = finished.entry("m")["outputs"]["big"]
    assert len(shown) == 65_539
    assert shown == '"' + "x" * 65_535 + "..."
    assert finished.entry("n")["outputs"] == {"len": 100_000, "status": 200}
    done(finished, "e109-a1")


def test_e110_duplicate_contexts(mesh: Mesh) -> None:
    finished = run(mesh, "e110", {"t": mock({}, contexts=["a", "b", "a"])})
    entry = finished.entry("t")
    message = 'duplicate context "a" in stage "t"'
    assert (entry["status"], entry["errorMessage"], entry["attempts"]) == (1000, message, 0)
    ended(finished, "e110-a1", 1000, "Bad Config", message)


def test_e110_duplicate_remote_contexts(mesh: Mesh) -> None:
    # Decided before any dispatch, so no child site is needed.
    remote = stage("providers.stage.remote", {"provider": "mock"}, contexts=["tokyo", "tokyo"])
    finished = run(mesh, "e110r", {"deploy": remote})
    entry = finished.entry("deploy")
    message = 'duplicate context "tokyo" in remote stage "deploy"'
    assert (entry["status"], entry["errorMessage"], entry["attempts"]) == (1000, message, 0)
    ended(finished, "e110r-a1", 1000, "Bad Config", message)
