"""Planning an apply: all-or-nothing, actions, typed objects and the ValidationError."""

from __future__ import annotations

import json

import pytest

from symphony_mesh.errors import ValidationError
from symphony_mesh.model import (
    Activation,
    ApplyAction,
    CampaignVersion,
    ContextLimit,
    DocumentKind,
    ErrorMode,
    InMemoryObjects,
    activation_document,
    campaign_version_document,
    plan_apply,
    prefetch_names,
    raise_if_invalid,
    read_documents,
)
from symphony_mesh.model.durations import Duration, DurationError
from symphony_mesh.model.status import ActivationStatus
from tests.unit.model.helpers import NOW, activation, campaign, dump, plan, stage, store, version


def test_all_or_nothing_e43() -> None:
    result = plan(campaign(), version(), activation(stage="nope"))
    assert not result.valid
    assert result.objects == ()
    with pytest.raises(ValidationError) as caught:
        raise_if_invalid(result)
    error = caught.value
    assert error.message == "1 validation error(s) in f.yaml"
    assert error.reason == "VALIDATION_FAILED"
    assert [(v.field, v.description) for v in error.violations] == [
        (
            "activation/a1: spec.stage",
            'stage "nope" is not defined in campaignversion c-v-1',
        )
    ]


def test_raise_if_invalid_counts_every_violation() -> None:
    result = plan(campaign("A"), campaign("B"))
    with pytest.raises(ValidationError, match=r"^2 validation error\(s\) in f.yaml$"):
        raise_if_invalid(result)
    raise_if_invalid(plan(campaign()))  # valid: no exception


def test_created_in_document_order_and_store_order() -> None:
    result = plan(activation("a1"), activation("a2"), version(), campaign())
    assert [item.line for item in result.objects] == [
        "activation/a1 created",
        "activation/a2 created",
        "campaignversion/c-v-1 created",
        "campaign/c created",
    ]
    assert [item.kind for item in result.in_store_order()] == [
        DocumentKind.CAMPAIGN,
        DocumentKind.CAMPAIGN_VERSION,
        DocumentKind.ACTIVATION,
        DocumentKind.ACTIVATION,
    ]
    assert all(item.uid is None and item.generation == 1 for item in result.objects)


def test_reapply_is_unchanged_e45() -> None:
    stored = InMemoryObjects()
    docs = (campaign(), version(), activation("a1"), activation("a2"))
    store(stored, plan(*docs).objects)
    again = plan(*docs, stored=stored)
    assert [item.action for item in again.objects] == [ApplyAction.UNCHANGED] * 4
    assert [item.uid for item in again.objects] == ["uid-c", "uid-c-v-1", "uid-a1", "uid-a2"]


def test_configured_version_bumps_generation() -> None:
    stored = InMemoryObjects()
    store(stored, plan(campaign(), version()).objects)
    changed = plan(version(timeout="1h"), stored=stored)
    (item,) = changed.objects
    assert item.line == "campaignversion/c-v-1 configured"
    assert item.generation == 2
    assert item.uid == "uid-c-v-1"
    store(stored, changed.objects)
    relabelled = version(timeout="1h")
    relabelled["metadata"]["labels"] = {"team": "x"}
    (item,) = plan(relabelled, stored=stored).objects
    assert (item.action, item.generation) == (ApplyAction.CONFIGURED, 3)


def test_configured_campaign_and_activation_labels() -> None:
    stored = InMemoryObjects()
    store(stored, plan(campaign(), version(), activation()).objects)
    labelled = activation()
    labelled["metadata"]["annotations"] = {"note": "hi"}
    result = plan(campaign(labels={"a": "b"}), labelled, stored=stored)
    assert [item.line for item in result.objects] == [
        "campaign/c configured",
        "activation/a1 configured",
    ]
    assert result.objects[0].generation == 1
    kept = result.objects[1].document
    assert isinstance(kept, Activation)
    assert kept.metadata.annotations == {"note": "hi"}


def test_system_labels_of_activations_are_ignored() -> None:
    stored = InMemoryObjects()
    store(stored, plan(campaign(), version(), activation()).objects)
    labelled = activation()
    labelled["metadata"]["labels"] = {"campaignversion": "c-v-1", "statusMessage": "Done"}
    (item,) = plan(labelled, stored=stored).objects
    assert item.action == ApplyAction.UNCHANGED


def test_unchanged_ignores_key_order_and_integral_floats() -> None:
    stored = InMemoryObjects()
    docs = (campaign(), version(stages={"a": stage(retry={"maxRetries": 3})}))
    store(stored, plan(*docs).objects)
    reordered = version(
        stages={"a": {"retry": {"maxRetries": 3.0}, "provider": "providers.stage.mock"}}
    )
    reordered["spec"] = dict(reversed(list(reordered["spec"].items())))
    (item,) = plan(reordered, stored=stored).objects
    assert item.action == ApplyAction.UNCHANGED


def test_booleans_are_not_numbers_when_comparing() -> None:
    stored = InMemoryObjects()
    store(stored, plan(campaign(), version(stages={"a": stage(inputs={"x": 1})})).objects)
    (item,) = plan(version(stages={"a": stage(inputs={"x": True})}), stored=stored).objects
    assert item.action == ApplyAction.CONFIGURED


def test_typed_campaign_version() -> None:
    spec_stage = stage(
        provider="http",
        config={"url": "http://x"},
        contexts=["tokyo", 7],
        contextPolicy={"maxConcurrency": "50%", "maxFailures": 1, "timeout": 30, "failFast": True},
        retry={"maxRetries": 2, "interval": "1s"},
        timeout="4m20s",
        schedule="2026-03-01T12:00:00Z",
        target="t",
        handleErrors=True,
        taskOption={
            "concurrency": 2,
            "errorAction": {"mode": "STOPONNFAILURES", "maxToleratedFailures": 1},
        },
        tasks=[{"name": "t1", "provider": "mock", "inputs": {"x": 1}, "target": "z"}],
    )
    docs = (campaign(), version(stages={"a": spec_stage}, onCancel="a", concurrency={"max": 2}))
    (_, item) = plan(*docs).objects
    typed = item.document
    assert isinstance(typed, CampaignVersion)
    assert (typed.root_resource, typed.version, typed.first_stage) == ("c", "1", "a")
    assert typed.self_driving is True
    assert typed.on_cancel == "a"
    assert typed.concurrency is not None
    assert typed.concurrency.policy == "queue"
    a = typed.stages["a"]
    assert a.provider_type == "providers.stage.http"
    assert not a.is_remote
    assert a.contexts == ("tokyo", "7")
    assert a.context_policy.max_concurrency == ContextLimit(50, percent=True)
    assert a.context_policy.max_concurrency.concurrency(3) == 2
    assert a.context_policy.max_failures.failures(10) == 1
    assert a.context_policy.timeout is not None
    assert a.context_policy.timeout.text == "30s"
    assert a.retry.max_retries == 2
    assert a.retry.interval is not None
    assert a.timeout is not None
    assert (a.timeout.seconds, a.timeout.text) == (260.0, "4m20s")
    assert a.task_option.error_action.mode is ErrorMode.STOP_ON_N_FAILURES
    assert a.tasks[0].provider_type == "providers.stage.mock"
    assert a.tasks[0].target == "z"
    # The spec as applied keeps what was written, with the mode in its stored spelling.
    applied = typed.spec["stages"]
    assert isinstance(applied, dict)
    assert json.dumps(applied["a"]).count("stopOnNFailures") == 1


def test_typed_activation_and_defaults() -> None:
    (_, _, item) = plan(campaign(), version(), activation(timeout=90)).objects
    typed = item.document
    assert isinstance(typed, Activation)
    assert typed.campaign_version == "c:1"
    assert typed.campaign_version_name == "c-v-1"
    assert typed.stage == ""
    assert typed.inputs == {}
    assert typed.timeout is not None
    assert typed.timeout.text == "90s"
    assert typed.spec == {"campaignversion": "c:1", "stage": "", "inputs": {}, "timeout": 90}


def test_null_optional_fields_are_absent() -> None:
    docs = (
        {**campaign(), "spec": None},
        version(stages={"a": {"provider": None, "stageSelector": None, "retry": None}}),
        activation(stage=None, inputs=None),
    )
    result = plan(*docs)
    assert result.valid
    typed = result.objects[1].document
    assert isinstance(typed, CampaignVersion)
    assert typed.spec["stages"] == {"a": {}}


def test_rendered_documents_reapply_unchanged() -> None:
    stored = InMemoryObjects()
    docs = (campaign(), version(stages={"a": stage(retry={"maxRetries": 1})}), activation())
    planned = plan(*docs).objects
    store(stored, planned)
    cv = stored.campaign_version("c-v-1")
    act = stored.activation("a1")
    assert cv is not None
    assert act is not None
    rendered = [
        campaign_version_document(cv.meta, cv.version, 0),
        activation_document(act.meta, act.activation, ActivationStatus.pending(NOW)),
    ]
    # Through JSON (as `get -o json` prints them) and back through apply.
    content = json.dumps({"items": rendered}).encode()
    result = plan_apply(read_documents(content, "-"), "-", stored)
    assert [item.line for item in result.objects] == [
        "campaignversion/c-v-1 unchanged",
        "activation/a1 unchanged",
    ]


def test_prefetch_names() -> None:
    docs = read_documents(dump(campaign(), version(), activation(campaignversion="x:2")), "f")
    names = prefetch_names(docs)
    assert names.campaigns == {"c"}
    assert names.campaign_versions == {"c-v-1", "x-v-2"}
    assert names.activations == {"a1"}


def test_applied_spec_writes_integers_as_integers() -> None:
    docs = (
        campaign(),
        version(stages={"a": stage(retry={"maxRetries": 3.0})}, concurrency={"max": 2.0}),
    )
    (_, item) = plan(*docs).objects
    typed = item.document
    assert isinstance(typed, CampaignVersion)
    assert json.dumps(typed.spec["concurrency"]) == '{"max": 2}'
    assert typed.stages["a"].retry.max_retries == 3
    stages = typed.spec["stages"]
    assert isinstance(stages, dict)
    assert (
        json.dumps(stages["a"])
        == '{"provider": "providers.stage.mock", "retry": {"maxRetries": 3}}'
    )


def test_durations_out_of_range() -> None:
    with pytest.raises(DurationError):
        Duration.parse(10**400)
    assert Duration.parse("4m20s") == Duration(260.0, "4m20s")
    lines = [p.line for p in plan(campaign(), version(timeout=10**400)).problems]
    assert lines == [f"campaignversion/c-v-1: spec.timeout: invalid duration {10**400}"]
