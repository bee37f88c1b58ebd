"""The worked examples of campaigns.md section 12, H to L (E72-E96), on a real node.

E79 (cancel during a remote stage) needs child sites and federation, like section G, and is not
here. Durations are shortened where the example's point allows (each test says so).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

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
    terminal,
    until,
)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _seconds(start: str, end: str) -> float:
    return (_time(end) - _time(start)).total_seconds()


def delay(value: Any, selector: str | None = None, **fields: Any) -> dict[str, Any]:
    """A `providers.stage.delay` stage waiting `value`."""
    return stage("providers.stage.delay", {"delay": value}, selector, **fields)


# --- H. Signals and approvals -------------------------------------------------------------------

ROUTE = "${{$if($equal($output(approval,status),200),'deploy','end')}}"


def _approval(timeout: str, handled: bool, **inputs: Any) -> dict[str, dict[str, Any]]:
    end = mock({}, handleErrors=True) if handled else mock({})
    return {
        "approval": stage("providers.stage.approval", {"timeout": timeout, **inputs}, ROUTE),
        "deploy": mock({}),
        "end": end,
    }


def test_e72_approved(mesh: Mesh) -> None:
    start(mesh, "e72", _approval("1h", True, message="Deploy v2?"))
    waiting = until(mesh, "e72-a1", 9995)["status"]
    assert waiting["statusMessage"] == "Paused"
    [item] = waiting["waitingFor"]
    assert set(item) == {"kind", "signal", "stage", "context", "message", "until"}
    assert {k: v for k, v in item.items() if k != "until"} == {
        "kind": "signal", "signal": "approval", "stage": "approval", "context": "hub",
        "message": "Deploy v2?",
    }  # fmt: skip
    signalled = mesh.cli("activation", "signal", "e72-a1", "approval",
                         "--payload", '{"approved": true, "by": "alice"}')  # fmt: skip
    assert signalled.code == 0, signalled.stderr
    assert signalled.stdout.strip() == "activation/e72-a1: signal approval delivered"
    finished = finish(mesh, "e72-a1")
    assert finished.entry("approval")["outputs"] == {
        "approved": True, "by": "alice", "comment": "", "status": 200,
    }  # fmt: skip
    assert entries(finished.document) == [("approval", 1, 9996, "deploy"),
                                          ("deploy", 1, 9996, "")]  # fmt: skip
    done(finished, "e72-a1")


REJECTION = '{"approved": false, "by": "bob", "comment": "not today"}'


def test_e73_rejected_handled(mesh: Mesh) -> None:
    start(mesh, "e73", _approval("1h", True))
    until(mesh, "e73-a1", 9995)
    signalled = mesh.cli("activation", "signal", "e73-a1", "approval", "--payload", REJECTION)
    assert signalled.stdout.strip() == "activation/e73-a1: signal approval delivered"
    finished = finish(mesh, "e73-a1")
    assert finished.entry("approval")["outputs"] == {
        "approved": False, "by": "bob", "comment": "not today", "status": 403,
        "error": "Forbidden: approval rejected by bob: not today",
    }  # fmt: skip
    assert entries(finished.document) == [("approval", 1, 403, "end"), ("end", 1, 9996, "")]
    done(finished, "e73-a1")


def test_e74_rejected_not_handled(mesh: Mesh) -> None:
    start(mesh, "e74", _approval("1h", False))
    until(mesh, "e74-a1", 9995)
    signalled = mesh.cli("activation", "signal", "e74-a1", "approval", "--payload", REJECTION)
    assert signalled.code == 0
    terminal(mesh, "e74-a1")
    waited = mesh.cli("wait", "activation", "e74-a1", "--timeout", "10s")
    assert waited.stdout.strip() == "activation/e74-a1 Forbidden (403): stage approval failed"
    assert waited.code == 1
    finished = finish(mesh, "e74-a1")
    assert finished.final == (403, "Forbidden", "stage approval failed")
    assert entries(finished.document) == [("approval", 1, 403, "")]


def test_e75_approval_timeout(mesh: Mesh) -> None:
    # Both variants at once (1 s each): with and without the `handleErrors` stage `end`.
    assert apply(mesh, campaign("e75", _approval("1s", True)), activation("e75-a1", "e75:1"),
                 campaign("e75n", _approval("1s", False)),
                 activation("e75n-a1", "e75n:1")).code == 0  # fmt: skip
    handled = finish(mesh, "e75-a1")
    outputs = {"approved": False, "status": 11004,
               "error": "Timed Out: no approval received within 1s"}  # fmt: skip
    assert handled.entry("approval")["outputs"] == outputs
    lasted = _seconds(
        handled.entry("approval")["startedAt"], handled.entry("approval")["finishedAt"]
    )
    assert lasted >= 1.0
    assert entries(handled.document) == [("approval", 1, 11004, "end"), ("end", 1, 9996, "")]
    done(handled, "e75-a1")
    unhandled = finish(mesh, "e75n-a1")
    assert unhandled.entry("approval")["outputs"] == outputs
    ended(unhandled, "e75n-a1", 11004, "Timed Out", "stage approval failed")


def test_e76_signal_sent_before_anyone_waits(mesh: Mesh) -> None:
    # `delay: 1s` instead of 2s: the signal only has to arrive before `s` starts waiting.
    stages = {"d": delay("1s", "s"), "s": stage("providers.stage.signal", {"name": "go"})}
    start(mesh, "e76", stages)
    until(mesh, "e76-a1", 9997)
    queued = mesh.cli("activation", "signal", "e76-a1", "go", "--payload", '{"v": 1}')
    assert queued.code == 0, queued.stderr
    assert queued.stdout.strip() == "activation/e76-a1: signal go queued"
    finished = finish(mesh, "e76-a1")
    outputs = finished.entry("s")["outputs"]
    assert set(outputs) == {"signal", "payload", "receivedAt", "status"}
    assert (outputs["signal"], outputs["payload"], outputs["status"]) == ("go", {"v": 1}, 200)
    assert _time(outputs["receivedAt"]) >= _time(finished.entry("s")["startedAt"])
    done(finished, "e76-a1")


def test_e77_signal_to_a_finished_activation(mesh: Mesh) -> None:
    done(run(mesh, "e77", {"a": mock()}), "e77-a1")
    refused = mesh.cli("activation", "signal", "e77-a1", "go")
    assert refused.code == 1
    assert refused.stderr.strip() == (
        'error: activation "e77-a1" has finished (Done) (ACTIVATION_TERMINAL)'
    )


# --- I. Cancel ----------------------------------------------------------------------------------


def test_e78_cancel_with_compensation(mesh: Mesh) -> None:
    stages = {
        "wait": delay("1h", "deploy"),
        "deploy": mock({}),
        "rollback": mock({"prev": "${{$input(__previousStage)}}"}),
    }
    start(mesh, "e78", stages, onCancel="rollback")
    until(mesh, "e78-a1", 9997)  # the 1h delay runs ("after 1 s" in the spec)
    cancelling = mesh.cli("activation", "cancel", "e78-a1", "--reason", "abort")
    assert cancelling.code == 0, cancelling.stderr
    assert cancelling.stdout.strip() == "activation/e78-a1 cancelling"
    terminal(mesh, "e78-a1")
    waited = mesh.cli("wait", "activation", "e78-a1", "--timeout", "10s")
    assert waited.code == 1
    assert (
        waited.stdout.strip() == "activation/e78-a1 Cancelled (9990): activation cancelled: abort"
    )
    document = get(mesh, "e78-a1")
    status = document["status"]
    assert (status["status"], status["statusMessage"]) == (9990, "Cancelled")
    assert status["errorMessage"] == "activation cancelled: abort"
    assert (status["cancelRequested"], status["cancelReason"]) == (True, "abort")
    assert entries(document) == [("wait", 1, 9990, ""), ("rollback", 1, 9996, "")]
    wait_entry, rollback = status["stageHistory"]
    assert wait_entry["statusMessage"] == "Cancelled"
    assert wait_entry["errorMessage"] == "activation cancelled: abort"
    assert rollback["outputs"] == {"prev": "wait", "status": 200}


def _queued_pair(name: str, **concurrency: Any) -> list[Any]:
    # `delay: 1s` instead of 2s: long enough for a2 to be seen queued.
    return [
        campaign(name, {"d": delay("1s")}, concurrency={"max": 1, **concurrency}),
        activation(f"{name}-a1", f"{name}:1"),
        activation(f"{name}-a2", f"{name}:1"),
    ]


def test_e80_cancel_a_queued_activation(mesh: Mesh) -> None:
    assert apply(mesh, *_queued_pair("e80")).code == 0
    assert get(mesh, "e80-a2")["status"]["status"] == 9991
    cancelled = mesh.cli("activation", "cancel", "e80-a2")
    assert cancelled.stdout.strip() == "activation/e80-a2 cancelled"
    status = get(mesh, "e80-a2")["status"]
    assert (status["status"], status["statusMessage"]) == (9990, "Cancelled")
    assert (status["stageHistory"], status["historyTotal"]) == ([], 0)


def test_e81_cancel_a_finished_activation(mesh: Mesh) -> None:
    done(run(mesh, "e81", {"a": mock()}), "e81-a1")
    refused = mesh.cli("activation", "cancel", "e81-a1")
    assert refused.code == 1
    assert refused.stderr.strip() == (
        'error: activation "e81-a1" has finished (Done) (ACTIVATION_TERMINAL)'
    )


# --- J. Concurrency limits ----------------------------------------------------------------------


def test_e82_queueing(mesh: Mesh) -> None:
    assert apply(mesh, *_queued_pair("e82")).code == 0
    first = until(mesh, "e82-a1", 9997)["status"]
    assert first["statusMessage"] == "Delayed"
    second = get(mesh, "e82-a2")["status"]
    assert (second["status"], second["statusMessage"]) == (9991, "Pending")
    assert (second["stageHistory"], second["historyTotal"]) == ([], 0)
    assert second["waitingFor"] == [{"kind": "queue", "position": 1}]
    one, two = finish(mesh, "e82-a1"), finish(mesh, "e82-a2")
    done(one, "e82-a1")
    done(two, "e82-a2")
    assert _time(two.status["startedAt"]) >= _time(one.status["finishedAt"])


def test_e83_rejecting(mesh: Mesh) -> None:
    assert apply(mesh, campaign("e83", {"d": delay("1s")},
                                concurrency={"max": 1, "policy": "reject"}),
                 activation("e83-a1", "e83:1")).code == 0  # fmt: skip
    until(mesh, "e83-a1", 9997)
    refused = apply(mesh, activation("e83-a2", "e83:1"))
    assert refused.code == 1
    assert refused.stderr.splitlines() == [
        "error: activation/e83-a2: spec.campaignversion: concurrency limit reached for campaign "
        'version "e83-v-1" (max 1)'
    ]
    assert mesh.cli("get", "activation", "e83-a2").code == 1


# --- K. Retries ---------------------------------------------------------------------------------

FLAKY = """\
# Fails (exit 1) on its first {fails} runs for a run id, then writes {{"ok": true}}.
key=$(printf '%s' "$SYMPHONY_MESH_RUN_ID" | tr '/' '_')
echo "$SYMPHONY_MESH_RUN_ID" >> {log}
n=$(cat {state}/"$key" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > {state}/"$key"
if [ "$n" -le {fails} ]; then
  echo "attempt $n failed" >&2
  exit 1
fi
echo '{{"ok": true}}' > "$2"
"""


def _flaky(folder: Path, fails: int) -> Path:
    """`folder/flaky.sh`; returns the log file of the run ids it saw."""
    log = folder / "runs.log"
    (folder / "flaky.sh").write_text(FLAKY.format(fails=fails, log=log, state=folder))
    return log


def _script_stage(folder: Path, **fields: Any) -> dict[str, Any]:
    config = {"script": "flaky.sh", "scriptFolder": str(folder)}
    return stage("providers.stage.script", config=config, **fields)


def test_e84_retry_succeeds(mesh: Mesh, tmp_path: Path) -> None:
    log = _flaky(tmp_path, 2)
    stages = {"s": _script_stage(tmp_path, retry={"maxRetries": 2, "interval": "10ms"})}
    finished = run(mesh, "e84", stages)
    entry = finished.entry("s")
    assert (entry["status"], entry["attempts"]) == (9996, 3)
    assert entry["outputs"] == {"ok": True, "status": 200}
    run_ids = log.read_text().splitlines()
    assert len(run_ids) == 3
    assert len(set(run_ids)) == 1
    assert run_ids[0] == f"{finished.document['metadata']['uid']}/s/1/hub"
    done(finished, "e84-a1")


def test_e85_retries_exhausted(mesh: Mesh, tmp_path: Path) -> None:
    log = _flaky(tmp_path, 5)
    stages = {"s": _script_stage(tmp_path, retry={"maxRetries": 2, "interval": "10ms"})}
    finished = run(mesh, "e85", stages)
    entry = finished.entry("s")
    assert entry["outputs"] == {
        "exitCode": 1, "stderr": "attempt 3 failed\n", "status": 500,
        "error": "Internal Error: script flaky.sh exited with code 1",
    }  # fmt: skip
    assert (entry["status"], entry["attempts"]) == (500, 3)
    assert len(log.read_text().splitlines()) == 3
    ended(finished, "e85-a1", 500, "Internal Error", "stage s failed")


def test_e86_failing_status_is_retried(mesh: Mesh) -> None:
    retried = mock({"status": 503}, retry={"maxRetries": 1, "interval": "1ms"})
    finished = run(mesh, "e86", {"m": retried})
    entry = finished.entry("m")
    assert entry["attempts"] == 2
    assert entry["outputs"] == {
        "status": 503, "error": "HTTP 503: stage returned unsuccessful status without an error",
    }  # fmt: skip
    ended(finished, "e86-a1", 503, "HTTP 503", "stage m failed")
    once = run(mesh, "e86b", {"m": mock({"status": 503})})
    assert once.entry("m")["attempts"] == 1


def test_e87_default_back_off(mesh: Mesh) -> None:
    # The real back-off (2 s then 4 s): the durations are the point of the example.
    start(mesh, "e87", {"m": mock({"status": 500}, retry={"maxRetries": 2})})
    first = until(mesh, "e87-a1", 9997)["status"]
    [wait1] = first["waitingFor"]
    assert (wait1["kind"], wait1["reason"]) == ("timer", "retry")
    opened = first["stageHistory"][0]["startedAt"]
    assert _seconds(opened, wait1["until"]) >= 2.0

    def second_wait() -> dict[str, Any] | None:
        status = get(mesh, "e87-a1")["status"]
        items: list[dict[str, Any]] = status["waitingFor"]
        again = status["status"] == 9997 and items and items[0]["until"] != wait1["until"]
        return items[0] if again else None

    wait2 = eventually_sync(second_wait, timeout=15, what="the second retry back-off")
    assert (wait2["kind"], wait2["reason"]) == ("timer", "retry")
    assert _seconds(wait1["until"], wait2["until"]) >= 4.0
    finished = finish(mesh, "e87-a1")
    assert finished.entry("m")["attempts"] == 3
    ended(finished, "e87-a1", 500, "Internal Error", "stage m failed")


# --- L. Delay, schedule and timeouts ------------------------------------------------------------


def test_e88_dormant_delay(mesh: Mesh) -> None:
    # `delay: 1s` instead of 2s: long enough to see the dormant state.
    start(mesh, "e88", {"d": delay("1s")})
    waiting = until(mesh, "e88-a1", 9997)["status"]
    assert waiting["statusMessage"] == "Delayed"
    assert waiting["stageHistory"][0]["status"] == 9997
    [item] = waiting["waitingFor"]
    assert {k: v for k, v in item.items() if k != "until"} == {
        "kind": "timer", "reason": "delay", "stage": "d", "context": "hub",
    }  # fmt: skip
    assert _seconds(waiting["stageHistory"][0]["startedAt"], item["until"]) >= 1.0
    finished = finish(mesh, "e88-a1")
    entry = finished.entry("d")
    assert entry["outputs"] == {"status": 200}
    assert _seconds(entry["startedAt"], entry["finishedAt"]) >= 1.0
    done(finished, "e88-a1")


def test_e89_invalid_delay(mesh: Mesh) -> None:
    finished = run(mesh, "e89", {"d": delay("abc")})
    assert finished.entry("d")["outputs"] == {
        "status": 1000, "error": 'Bad Config: invalid delay "abc"',
    }  # fmt: skip
    ended(finished, "e89-a1", 1000, "Bad Config", "stage d failed")


def test_e90_fractional_delay(mesh: Mesh) -> None:
    # `delay: 0.5` instead of 1.5: still a float number of seconds, which is the point.
    # The status shows whole seconds, so the length is measured here.
    began = time.monotonic()
    finished = run(mesh, "e90", {"d": delay(0.5)})
    assert time.monotonic() - began >= 0.5
    assert finished.entry("d")["outputs"] == {"status": 200}
    done(finished, "e90-a1")


def test_e91_schedules_in_the_past(mesh: Mesh) -> None:
    past = "2020-01-01T12:00:00-08:00"
    stages = {
        "stage1": mock({}, "stage2", schedule=past),
        "stage2": mock({}, "stage3", schedule=past),
        "stage3": mock({"sched": "${{$output(stage1, __schedule)}}"}, schedule=past),
    }
    finished = run(mesh, "e91", stages)
    assert entries(finished.document) == [
        ("stage1", 1, 9996, "stage2"),
        ("stage2", 1, 9996, "stage3"),
        ("stage3", 1, 9996, ""),
    ]
    assert finished.entry("stage3")["inputs"] == {"sched": "2020-01-01T20:00:00Z"}
    done(finished, "e91-a1")


def test_e92_relative_schedule(mesh: Mesh) -> None:
    # `schedule: 1s` instead of 3s.
    start(mesh, "e92", {"s": mock({}, schedule="1s")})
    waiting = until(mesh, "e92-a1", 9997)["status"]
    assert waiting["stageHistory"][0]["status"] == 9997
    assert waiting["stageHistory"][0]["statusMessage"] == "Delayed"
    [item] = waiting["waitingFor"]
    assert (item["kind"], item["reason"]) == ("timer", "schedule")
    finished = finish(mesh, "e92-a1")
    entry = finished.entry("s")
    assert entry["status"] == 9996
    assert _seconds(entry["startedAt"], entry["finishedAt"]) >= 1.0
    done(finished, "e92-a1")


def test_e93_invalid_schedule(mesh: Mesh) -> None:
    refused = apply(mesh, campaign("e93", {"s": mock({}, schedule="tomorrow")}))
    assert refused.code == 1
    assert refused.stderr.splitlines() == [
        'error: campaignversion/e93-v-1: spec.stages.s.schedule: invalid schedule "tomorrow" '
        "(expected an RFC 3339 time or a duration)"
    ]


def test_e94_stage_timeout(mesh: Mesh) -> None:
    finished = run(mesh, "e94", {"d": delay("10s", timeout="1s")})
    entry = finished.entry("d")
    assert (entry["status"], entry["statusMessage"]) == (11004, "Timed Out")
    assert entry["errorMessage"] == "stage d timed out after 1s"
    assert entry["outputs"] == {"status": 11004, "error": "Timed Out: stage d timed out after 1s"}
    assert _seconds(entry["startedAt"], entry["finishedAt"]) >= 1.0
    ended(finished, "e94-a1", 11004, "Timed Out", "stage d timed out after 1s")


def test_e95_stage_timeout_handled(mesh: Mesh) -> None:
    stages = {"d": delay("10s", "h", timeout="1s"), "h": mock({}, handleErrors=True)}
    finished = run(mesh, "e95", stages)
    assert entries(finished.document) == [("d", 1, 11004, "h"), ("h", 1, 9996, "")]
    done(finished, "e95-a1")


def test_e96_activation_timeout(mesh: Mesh) -> None:
    # `spec.timeout: 1s` instead of 2s.
    finished = run(mesh, "e96", {"d": delay("10s")}, activation_spec={"timeout": "1s"})
    entry = finished.entry("d")
    assert entry["status"] == 11004
    assert entry["errorMessage"] == "activation timed out after 1s"
    assert _seconds(finished.status["startedAt"], finished.status["finishedAt"]) >= 1.0
    ended(finished, "e96-a1", 11004, "Timed Out", "activation timed out after 1s")
    assert json.dumps(entries(finished.document)) == json.dumps([["d", 1, 11004, ""]])
