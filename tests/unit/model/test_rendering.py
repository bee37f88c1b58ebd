"""The documents `get` returns (10.5, 13.7), state codes (10.2) and names (2.1.1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from symphony_mesh.model import (
    ActivationStatus,
    Campaign,
    CampaignVersion,
    ContextStatus,
    Metadata,
    ObjectMeta,
    StageStatus,
    StateCode,
    activation_document,
    campaign_document,
    campaign_version_document,
    campaign_version_object_name,
    campaign_version_reference,
    document_list,
    is_context_name,
    is_object_name,
    is_signal_name,
    is_site_id,
    is_stage_name,
    is_success,
    is_terminal,
    split_campaign_version_name,
    status_label,
    status_message,
)
from symphony_mesh.model.documents import Activation
from symphony_mesh.model.rendering import display_value
from tests.unit.model.helpers import NOW, activation, campaign, plan, version

META = ObjectMeta("hello", "u-1", 1, NOW, {"team": "a"}, {})
STAMP = "2026-01-05T10:00:00Z"


def typed(*docs: object) -> list[object]:
    return [item.document for item in plan(*docs).objects]


def test_campaign_document() -> None:
    assert campaign_document(META, ["hello-v-1", "hello-v-2"]) == {
        "apiVersion": "workflow.symphony/v1",
        "kind": "Campaign",
        "metadata": {
            "name": "hello",
            "namespace": "default",
            "uid": "u-1",
            "generation": 1,
            "creationTimestamp": STAMP,
            "labels": {"team": "a"},
            "annotations": {},
        },
        "spec": {},
        "status": {"versions": ["hello-v-1", "hello-v-2"]},
    }


def test_campaign_version_document_has_the_spec_as_applied() -> None:
    (_, cv) = typed(campaign(), version(stages={"a": {"provider": "mock", "retry": None}}))
    assert isinstance(cv, CampaignVersion)
    meta = ObjectMeta("c-v-1", "u-2", 3, NOW)
    document: Any = campaign_version_document(meta, cv, 2)
    assert list(document) == ["apiVersion", "kind", "metadata", "spec", "status"]
    assert document["kind"] == "CampaignVersion"
    assert document["spec"] == {
        "rootResource": "c",
        "firstStage": "a",
        "selfDriving": True,
        "stages": {"a": {"provider": "mock"}},
    }
    assert document["status"] == {"activeActivations": 2}
    assert document["metadata"]["generation"] == 3


def test_activation_document_exact_shape() -> None:
    (_, _, act) = typed(campaign(), version(), activation("hello", inputs={"foo": "bar"}))
    assert isinstance(act, Activation)
    status = ActivationStatus(
        status=StateCode.DONE,
        update_time=NOW,
        started_at=NOW,
        finished_at=NOW + timedelta(seconds=1),
        current_stage="mock",
        history_total=1,
        campaign_version_generation=1,
    )
    meta = ObjectMeta("hello", "u-3", 1, NOW)
    assert activation_document(meta, act, status) == {
        "apiVersion": "workflow.symphony/v1",
        "kind": "Activation",
        "metadata": {
            "name": "hello",
            "namespace": "default",
            "uid": "u-3",
            "generation": 1,
            "creationTimestamp": STAMP,
            "labels": {"campaignversion": "c-v-1", "statusMessage": "Done"},
            "annotations": {},
        },
        "spec": {"campaignversion": "c:1", "stage": "", "inputs": {"foo": "bar"}},
        "status": {
            "status": 9996,
            "statusMessage": "Done",
            "updateTime": STAMP,
            "stageHistory": [],
            "startedAt": STAMP,
            "finishedAt": "2026-01-05T10:00:01Z",
            "errorMessage": "",
            "currentStage": "mock",
            "nextStage": "",
            "waitingFor": [],
            "cancelRequested": False,
            "cancelReason": "",
            "historyTotal": 1,
            "campaignVersionGeneration": 1,
            "stepInputs": {},
        },
    }


def test_pending_activation_keeps_null_times_and_timeout() -> None:
    (_, _, act) = typed(campaign(), version(), activation(timeout="2h"))
    assert isinstance(act, Activation)
    document: Any = activation_document(
        ObjectMeta("a1", "u", 1, NOW, {"x": "y"}), act, ActivationStatus.pending(NOW, 3)
    )
    assert document["spec"] == {
        "campaignversion": "c:1",
        "stage": "",
        "inputs": {},
        "timeout": "2h",
    }
    status = document["status"]
    assert isinstance(status, dict)
    assert (status["status"], status["statusMessage"]) == (9991, "Pending")
    assert status["startedAt"] is None
    assert status["finishedAt"] is None
    assert status["waitingFor"] == [{"kind": "queue", "position": 3}]
    assert document["metadata"]["labels"] == {
        "x": "y",
        "campaignversion": "c-v-1",
        "statusMessage": "Pending",
    }


def test_system_label_removes_spaces() -> None:
    (_, _, act) = typed(campaign(), version(), activation())
    assert isinstance(act, Activation)
    status = ActivationStatus(status=500, update_time=NOW)
    document: Any = activation_document(ObjectMeta("a1", "u", 1, NOW), act, status)
    assert document["metadata"]["labels"]["statusMessage"] == "InternalError"


def test_stage_history_entries() -> None:
    running = StageStatus(
        stage="deploy",
        iteration=2,
        status=StateCode.RUNNING,
        started_at=NOW,
        is_active=True,
        inputs={"foo": 1, "__site": "hub"},
        outputs={"status": 200, "__state": {}, "header.Date": ["x"], "t1": {"a": 1, "__x": 2}},
        tasks=("t1",),
    )
    fanned = StageStatus(
        stage="fan",
        iteration=1,
        status=StateCode.DONE,
        started_at=NOW,
        finished_at=NOW,
        attempts=2,
        outputs={"tokyo.foo": 2, "tokyo.__site": "tokyo", "tokyo.header.X": [], "__total": 1},
        contexts={
            "tokyo": ContextStatus(status=200, outputs={"foo": 2, "__site": "tokyo"}, remote=True),
            "paris": ContextStatus(status=StateCode.UNTOUCHED),
        },
    )
    status = ActivationStatus(
        status=StateCode.RUNNING, update_time=NOW, stage_history=[running, fanned]
    )
    document: Any = activation_document(
        ObjectMeta("a1", "u", 1, NOW), Activation(Metadata("a1"), "c:1", "c-v-1"), status
    )
    history = document["status"]["stageHistory"]
    assert history[0] == {
        "stage": "deploy",
        "nextStage": "",
        "status": 9994,
        "statusMessage": "Running",
        "inputs": {"foo": 1},
        "outputs": {"status": 200, "t1": {"a": 1}},
        "errorMessage": "",
        "isActive": True,
        "iteration": 2,
        "startedAt": STAMP,
        "attempts": 0,
    }
    assert history[1]["outputs"] == {"tokyo.foo": 2}
    assert history[1]["finishedAt"] == STAMP
    assert history[1]["contexts"] == {
        "tokyo": {
            "status": 200,
            "statusMessage": "OK",
            "error": "",
            "inputs": {},
            "outputs": {"foo": 2},
            "attempts": 0,
            "remote": True,
        },
        "paris": {
            "status": 9998,
            "statusMessage": "Untouched",
            "error": "",
            "inputs": {},
            "outputs": {},
            "attempts": 0,
            "remote": False,
        },
    }


def test_display_truncation_e109() -> None:
    shown = display_value("x" * 100_000)
    assert isinstance(shown, str)
    assert len(shown) == 65539
    assert shown.startswith('"xxx')
    assert shown.endswith("x...")
    assert display_value("x" * 100) == "x" * 100
    assert display_value(12) == 12


def test_document_list() -> None:
    assert document_list([]) == {"items": []}


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (200, "OK"),
        (400, "Bad Request"),
        (401, "Unauthorized"),
        (403, "Forbidden"),
        (404, "Not Found"),
        (405, "Method Not Allowed"),
        (409, "Conflict"),
        (500, "Internal Error"),
        (1000, "Bad Config"),
        (1001, "Missing Config"),
        (8001, "Update Failed"),
        (8002, "Delete Failed"),
        (8003, "Validate Failed"),
        (9990, "Cancelled"),
        (9991, "Pending"),
        (9994, "Running"),
        (9995, "Paused"),
        (9996, "Done"),
        (9997, "Delayed"),
        (9998, "Untouched"),
        (9999, "Not Implemented"),
        (11004, "Timed Out"),
        (503, "HTTP 503"),
        (100, "HTTP 100"),
        (599, "HTTP 599"),
        (201, "HTTP 201"),
        (99, "Unknown State: 99"),
        (600, "Unknown State: 600"),
        (9992, "Unknown State: 9992"),
        (-1, "Unknown State: -1"),
    ],
)
def test_status_message_table(code: int, name: str) -> None:
    assert status_message(code) == name


def test_success_and_terminal() -> None:
    assert is_success(200)
    assert is_success(204)
    assert is_success(9996)
    assert not is_success(300)
    assert not is_success(199)
    assert not is_success(9994)
    for code in (9991, 9994, 9995, 9997):
        assert not is_terminal(code)
    for code in (9996, 9990, 11004, 400, 403, 500, 1000):
        assert is_terminal(code)
    assert status_label(11004) == "TimedOut"


def test_names() -> None:
    assert campaign_version_object_name("canary:2.1") == "canary-v-2.1"
    assert campaign_version_object_name("canary-v-2.1") == "canary-v-2.1"
    assert campaign_version_reference("canary-v-2.1") == "canary:2.1"
    parts = split_campaign_version_name("canary-v-2.1")
    assert parts is not None
    assert (parts.root, parts.version) == ("canary", "2.1")
    for bad in ("canary", "a-v-b-v-c", "canary-v-", "canary-v-v-1", "Canary-v-1", "-v-1"):
        assert split_campaign_version_name(bad) is None, bad
    assert is_object_name("a" * 61)
    assert not is_object_name("a" * 62)
    assert is_object_name("a.b-1")
    assert not is_object_name(".a")
    assert not is_object_name("")
    assert is_stage_name("Deploy_2-x")
    assert not is_stage_name("_a")
    assert not is_stage_name("a b")
    assert is_signal_name("approval.v1")
    assert not is_signal_name("-x")
    assert not is_signal_name("a" * 64)
    assert is_site_id("tokyo-1")
    assert not is_site_id("Tokyo")
    assert not is_site_id("a-")
    assert is_context_name("x" * 253)
    assert not is_context_name("x" * 254)
    assert not is_context_name("a/b")
    assert not is_context_name("a b")
    assert not is_context_name("a\x00")


def test_typed_objects_of_campaigns() -> None:
    (c,) = typed(campaign(labels={"k": "v"}))
    assert isinstance(c, Campaign)
    assert c.name == "c"
    assert c.metadata.labels == {"k": "v"}
