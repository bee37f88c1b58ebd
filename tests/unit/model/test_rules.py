"""Every validation rule V1-V35 of campaigns.md 3.2, with its exact error line."""

from __future__ import annotations

from typing import Any

import pytest

from symphony_mesh.model import InMemoryObjects
from tests.unit.model.helpers import (
    DROP,
    activation,
    campaign,
    errors,
    plan,
    stage,
    store,
    version,
)

CV = "campaignversion/c-v-1"
LIMIT = 'concurrency limit reached for campaign version "c-v-1" (max {})'
NAME_RULE = (
    "must be 1-61 characters of a-z, 0-9, '-' and '.', starting and ending with a letter or digit"
)


def with_stage(**fields: Any) -> list[Any]:
    """Campaign c and version c-v-1 whose stage `a` has extra fields."""
    return [campaign(), version(stages={"a": stage(**fields), "b": stage()})]


def with_task(**task: Any) -> list[Any]:
    """A version whose stage `a` has one task."""
    fields = {"name": "t", "provider": "mock", **task}
    return with_stage(tasks=[{key: value for key, value in fields.items() if value is not DROP}])


CASES: list[tuple[str, list[Any], list[str] | None]] = [
    # V1
    (
        "V1 required",
        [{"kind": "Campaign", "metadata": {"name": "c"}}],
        ["campaign/c: apiVersion: required"],
    ),
    (
        "V1 wrong",
        [{**campaign(), "apiVersion": "v1"}],
        ["campaign/c: apiVersion: must be workflow.symphony/v1"],
    ),
    # V2
    (
        "V2 required",
        [{"apiVersion": "workflow.symphony/v1", "metadata": {"name": "c"}}],
        ["document 1: kind: required"],
    ),
    (
        "V2 unknown",
        [{**campaign(), "kind": "Solution"}],
        [
            'solution/c: kind: unknown kind "Solution" '
            "(expected Campaign, CampaignVersion or Activation)"
        ],
    ),
    ("V2 not a string", [{**campaign(), "kind": 3}], ["document 1: kind: must be a string"]),
    # V3
    (
        "V3 required",
        [{"apiVersion": "workflow.symphony/v1", "kind": "Campaign", "metadata": {}}],
        ["document 1: metadata.name: required"],
    ),
    (
        "V3 metadata missing",
        [{"apiVersion": "workflow.symphony/v1", "kind": "Campaign"}],
        ["document 1: metadata.name: required"],
    ),
    ("V3 pattern", [campaign("Bad_Name")], [f"campaign/Bad_Name: metadata.name: {NAME_RULE}"]),
    ("V3 too long", [campaign("a" * 62)], [f"campaign/{'a' * 62}: metadata.name: {NAME_RULE}"]),
    ("V3 trailing dash", [campaign("abc-")], [f"campaign/abc-: metadata.name: {NAME_RULE}"]),
    # V4, V4b
    (
        "V4",
        [campaign(), campaign()],
        ["campaign/c: metadata.name: duplicate object in this file"],
    ),
    (
        "V4b",
        [campaign(namespace="prod")],
        ['campaign/c: metadata.namespace: must be "default"'],
    ),
    # V5
    ("V5 top level", [{**campaign(), "extra": 1}], ["campaign/c: extra: unknown field"]),
    ("V5 metadata", [campaign(owner="me")], ["campaign/c: metadata.owner: unknown field"]),
    (
        "V5 spec",
        [campaign(), version(stageselector="a")],
        [f"{CV}: spec.stageselector: unknown field"],
    ),
    (
        "V5 stage (misspelt stageSelector)",
        with_stage(stageselector="b"),
        [f"{CV}: spec.stages.a.stageselector: unknown field"],
    ),
    ("V5 task", with_task(retry=1), [f"{CV}: spec.stages.a.tasks[0].retry: unknown field"]),
    (
        "V5 retry",
        with_stage(retry={"count": 1}),
        [f"{CV}: spec.stages.a.retry.count: unknown field"],
    ),
    (
        "V5 taskOption and errorAction",
        with_stage(taskOption={"x": 1, "errorAction": {"y": 2}}),
        [
            f"{CV}: spec.stages.a.taskOption.x: unknown field",
            f"{CV}: spec.stages.a.taskOption.errorAction.y: unknown field",
        ],
    ),
    (
        "V5 contextPolicy",
        with_stage(contexts=["x"], contextPolicy={"z": 1}),
        [f"{CV}: spec.stages.a.contextPolicy.z: unknown field"],
    ),
    (
        "V5 concurrency",
        [campaign(), version(concurrency={"max": 1, "burst": 2})],
        [f"{CV}: spec.concurrency.burst: unknown field"],
    ),
    (
        "V5 proxy",
        with_stage(proxy={"provider": "p", "via": 1}),
        [f"{CV}: spec.stages.a.proxy.via: unknown field"],
    ),
    (
        "V5 activation spec",
        [campaign(), version(), activation(input={"a": 1})],
        ["activation/a1: spec.input: unknown field"],
    ),
    # V6
    (
        "V6 boolean",
        [campaign(), version(selfDriving="yes")],
        [f"{CV}: spec.selfDriving: must be a boolean"],
    ),
    (
        "V6 string",
        with_stage(stageSelector=5),
        [f"{CV}: spec.stages.a.stageSelector: must be a string"],
    ),
    (
        "V6 map",
        [campaign(labels=["x"])],
        ["campaign/c: metadata.labels: must be a map"],
    ),
    (
        "V6 label value",
        [campaign(labels={"tier": 1})],
        ["campaign/c: metadata.labels.tier: must be a string"],
    ),
    ("V6 list", with_stage(tasks={"t": 1}), [f"{CV}: spec.stages.a.tasks: must be a list"]),
    (
        "V6 list of strings",
        with_stage(contexts=5),
        [f"{CV}: spec.stages.a.contexts: must be a list of strings"],
    ),
    (
        "V6 stage map",
        [campaign(), version(stages={"a": 1})],
        [f"{CV}: spec.stages.a: must be a map"],
    ),
    ("V6 spec map", [campaign(), {**version(), "spec": []}], [f"{CV}: spec: must be a map"]),
    ("V6 document", ["not a document"], ["document 1: must be a map"]),
    (
        "V6 config",
        with_stage(config="x"),
        [f"{CV}: spec.stages.a.config: must be a map"],
    ),
    # V7
    (
        "V7",
        [{**campaign(), "spec": {"firstStage": "a", "stages": {}}}],
        [
            "campaign/c: spec.firstStage: unknown field (a Campaign only groups versions; "
            "stages belong in a CampaignVersion)",
            "campaign/c: spec.stages: unknown field (a Campaign only groups versions; "
            "stages belong in a CampaignVersion)",
        ],
    ),
    # V8
    (
        "V8 required",
        [campaign(), version(rootResource=DROP)],
        [f"{CV}: spec.rootResource: required"],
    ),
    (
        "V8 does not exist",
        [version()],
        [f'{CV}: spec.rootResource: campaign "c" does not exist'],
    ),
    # V9, V10
    (
        "V9 root mismatch",
        [campaign(), campaign("d"), version(rootResource="d")],
        [f'{CV}: metadata.name: must be "d-v-<version>"'],
    ),
    (
        "V9 no separator",
        [campaign(), version(name="c1")],
        ['campaignversion/c1: metadata.name: must be "c-v-<version>"'],
    ),
    (
        "V9 version starts with v-",
        [campaign(), version(name="c-v-v-1", version="v-1")],
        ['campaignversion/c-v-v-1: metadata.name: must be "c-v-<version>"'],
    ),
    (
        "V10",
        [campaign(), version(version="2")],
        [f'{CV}: spec.version: "2" does not match the version "1" in metadata.name'],
    ),
    # V11
    ("V11 required", [campaign(), version(stages=DROP, firstStage=DROP)], None),  # see below
    (
        "V11 empty",
        [campaign(), version(stages={})],
        [
            f"{CV}: spec.stages: must contain at least one stage",
            f'{CV}: spec.firstStage: stage "a" is not defined in spec.stages',
        ],
    ),
    # V12, V13
    (
        "V12",
        [campaign(), version(stages={"a": stage(), "bad stage": stage()})],
        [f"{CV}: spec.stages.bad stage: invalid stage name"],
    ),
    (
        "V13",
        with_stage(name="x"),
        [f'{CV}: spec.stages.a.name: must equal the stage key "a"'],
    ),
    # V14
    ("V14 required", [campaign(), version(firstStage="")], [f"{CV}: spec.firstStage: required"]),
    (
        "V14 undefined",
        [campaign(), version(firstStage="zzz")],
        [f'{CV}: spec.firstStage: stage "zzz" is not defined in spec.stages'],
    ),
    # V15
    (
        "V15",
        with_stage(stageSelector="nope"),
        [f'{CV}: spec.stages.a.stageSelector: stage "nope" is not defined in spec.stages'],
    ),
    ("V15 templates are not checked", with_stage(stageSelector="${{nope}}"), []),
    # V16
    (
        "V16",
        [campaign(), version(onCancel="undo")],
        [f'{CV}: spec.onCancel: stage "undo" is not defined in spec.stages'],
    ),
    # V17
    (
        "V17",
        with_stage(schedule="tomorrow"),
        [
            f'{CV}: spec.stages.a.schedule: invalid schedule "tomorrow" '
            "(expected an RFC 3339 time or a duration)"
        ],
    ),
    (
        "V17 non-string",
        with_stage(schedule=True),
        [
            f"{CV}: spec.stages.a.schedule: invalid schedule true "
            "(expected an RFC 3339 time or a duration)"
        ],
    ),
    ("V17 templates are not checked", with_stage(schedule="${{$trigger(at, '')}}"), []),
    # V18
    (
        "V18 string",
        [campaign(), version(timeout="abc")],
        [f'{CV}: spec.timeout: invalid duration "abc"'],
    ),
    (
        "V18 negative",
        with_stage(timeout="-1s"),
        [f'{CV}: spec.stages.a.timeout: invalid duration "-1s"'],
    ),
    (
        "V18 space",
        with_stage(timeout="10 s"),
        [f'{CV}: spec.stages.a.timeout: invalid duration "10 s"'],
    ),
    (
        "V18 non-string",
        with_stage(retry={"interval": True}),
        [f"{CV}: spec.stages.a.retry.interval: invalid duration true"],
    ),
    (
        "V18 zero timeout",
        with_stage(timeout=0),
        [f"{CV}: spec.stages.a.timeout: invalid duration 0"],
    ),
    (
        "V18 contextPolicy",
        with_stage(contexts=["x"], contextPolicy={"timeout": "5x"}),
        [f'{CV}: spec.stages.a.contextPolicy.timeout: invalid duration "5x"'],
    ),
    (
        "V18 activation",
        [campaign(), version(), activation(timeout="soon")],
        ['activation/a1: spec.timeout: invalid duration "soon"'],
    ),
    # V19
    (
        "V19",
        with_stage(retry={"maxRetries": 101}),
        [f"{CV}: spec.stages.a.retry.maxRetries: must be an integer between 0 and 100"],
    ),
    # V20, V21
    (
        "V20",
        with_stage(contexts=["x"], contextPolicy={"maxConcurrency": "0%"}),
        [
            f"{CV}: spec.stages.a.contextPolicy.maxConcurrency: "
            'must be an integer >= 1 or a percentage "N%" with 1 <= N <= 100'
        ],
    ),
    (
        "V21",
        with_stage(contexts=["x"], contextPolicy={"maxFailures": "101%"}),
        [
            f"{CV}: spec.stages.a.contextPolicy.maxFailures: "
            'must be an integer >= 0 or a percentage "N%" with 0 <= N <= 100'
        ],
    ),
    # V22, V23, V24
    (
        "V22",
        with_stage(contexts=["tokyo", "a b", "x/y", ""]),
        [
            f"{CV}: spec.stages.a.contexts: "
            "list elements must be non-empty names without '/' or whitespace"
        ],
    ),
    (
        "V23",
        with_stage(provider="remote", inputs={"operation": "mock"}),
        [f"{CV}: spec.stages.a.contexts: required for providers.stage.remote"],
    ),
    (
        "V24",
        with_stage(
            provider="providers.stage.remote",
            contexts=["tokyo"],
            tasks=[{"name": "t", "provider": "mock"}],
        ),
        [f"{CV}: spec.stages.a.tasks: tasks cannot be combined with providers.stage.remote"],
    ),
    # V25, V26
    ("V25 required", with_task(name=DROP), None),
    (
        "V25 invalid",
        with_task(name="-t"),
        [f"{CV}: spec.stages.a.tasks[0].name: invalid task name"],
    ),
    (
        "V25 duplicate",
        with_stage(tasks=[{"name": "t", "provider": "mock"}, {"name": "t", "provider": "mock"}]),
        [f'{CV}: spec.stages.a.tasks[1].name: duplicate task name "t"'],
    ),
    ("V26 required", with_task(provider=""), [f"{CV}: spec.stages.a.tasks[0].provider: required"]),
    (
        "V26 remote",
        with_task(provider="remote"),
        [f"{CV}: spec.stages.a.tasks[0].provider: providers.stage.remote cannot run as a task"],
    ),
    # V27, V28
    (
        "V27",
        with_stage(taskOption={"errorAction": {"mode": "sometimes"}}),
        [
            f"{CV}: spec.stages.a.taskOption.errorAction.mode: "
            "must be one of stopOnAnyFailure, stopOnNFailures, silentlyContinue"
        ],
    ),
    (
        "V27 case-insensitive",
        with_stage(taskOption={"errorAction": {"mode": "STOPONANYFAILURE"}}),
        [],
    ),
    (
        "V28",
        with_stage(taskOption={"concurrency": -1, "errorAction": {"maxToleratedFailures": "x"}}),
        [
            f"{CV}: spec.stages.a.taskOption.concurrency: must be an integer >= 0",
            f"{CV}: spec.stages.a.taskOption.errorAction.maxToleratedFailures: "
            "must be an integer >= 0",
        ],
    ),
    # V29
    (
        "V29",
        [campaign(), version(concurrency={"max": 0, "policy": "drop"})],
        [
            f"{CV}: spec.concurrency.max: must be an integer >= 1",
            f"{CV}: spec.concurrency.policy: must be queue or reject",
        ],
    ),
    # V30
    (
        "V30",
        with_stage(inputs={"big": "é" * 32769}),
        [f"{CV}: spec.stages.a.inputs.big: template is longer than 65536 bytes"],
    ),
    # V31, V32, V33
    (
        "V31 required",
        [campaign(), version(), activation(campaignversion=DROP)],
        ["activation/a1: spec.campaignversion: required"],
    ),
    (
        "V31 does not exist (E42)",
        [campaign(), version(), activation(campaignversion="ghost:1")],
        ['activation/a1: spec.campaignversion: campaignversion "ghost:1" does not exist'],
    ),
    (
        "V32 (E41)",
        [campaign(), version(), activation(stage="nope")],
        ['activation/a1: spec.stage: stage "nope" is not defined in campaignversion c-v-1'],
    ),
    (
        "V33 map",
        [campaign(), version(), activation(inputs=["x"])],
        ["activation/a1: spec.inputs: must be a map"],
    ),
    (
        "V33 size",
        [campaign(), version(), activation(inputs={"big": "x" * (1024 * 1024)})],
        ["activation/a1: spec.inputs: larger than 1 MiB"],
    ),
]


@pytest.mark.parametrize(
    ("docs", "expected"),
    [
        pytest.param(docs, expected, id=name)
        for name, docs, expected in CASES
        if expected is not None
    ],
)
def test_rule_reports_exact_line(docs: list[Any], expected: list[str]) -> None:
    assert errors(*docs) == expected


def test_v11_required() -> None:
    assert errors(campaign(), version(stages=DROP)) == [f"{CV}: spec.stages: required"]


def test_v25_required() -> None:
    assert errors(*with_task(name=DROP)) == [f"{CV}: spec.stages.a.tasks[0].name: required"]


def test_v8_cannot_be_changed() -> None:
    stored = InMemoryObjects()
    store(stored, plan(campaign(), campaign("d"), version()).objects)
    # V8 comes before V9 in the table.
    assert errors(version(rootResource="d", name="c-v-1"), stored=stored) == [
        f'{CV}: spec.rootResource: cannot be changed (was "c")',
        f'{CV}: metadata.name: must be "d-v-<version>"',
    ]


def test_v8_stored_campaign_is_a_valid_reference() -> None:
    stored = InMemoryObjects()
    store(stored, plan(campaign()).objects)
    assert errors(version(), stored=stored) == []


def test_v31_stored_version_is_a_valid_reference() -> None:
    stored = InMemoryObjects()
    store(stored, plan(campaign(), version()).objects)
    assert errors(activation(campaignversion="c-v-1", stage="b"), stored=stored) == []
    assert errors(activation(stage="zz"), stored=stored) == [
        'activation/a1: spec.stage: stage "zz" is not defined in campaignversion c-v-1'
    ]


def test_v32_sees_the_version_of_the_file_over_the_stored_one() -> None:
    stored = InMemoryObjects()
    store(stored, plan(campaign(), version()).objects)
    renamed = version(stages={"x": stage()}, firstStage="x")
    assert errors(renamed, activation(stage="a"), stored=stored) == [
        'activation/a1: spec.stage: stage "a" is not defined in campaignversion c-v-1'
    ]


def test_v34_spec_cannot_change() -> None:
    stored = InMemoryObjects()
    store(stored, plan(campaign(), version(), activation(inputs={"foo": 1})).objects)
    assert errors(activation(inputs={"foo": 2}), stored=stored) == [
        "activation/a1: spec: an activation's spec cannot be changed (delete and re-create it)"
    ]


def reject_version(maximum: int) -> dict[str, Any]:
    return version(concurrency={"max": maximum, "policy": "reject"})


def test_v35_is_checked_only_with_the_hook() -> None:
    docs = [campaign(), reject_version(1), activation("a1"), activation("a2")]
    assert errors(*docs) == []
    running = {"c-v-1": 0}
    assert errors(*docs, active_activations=running.__getitem__) == [
        "activation/a2: spec.campaignversion: " + LIMIT.format(1)
    ]


def test_v35_counts_running_activations() -> None:
    stored = InMemoryObjects()
    store(stored, plan(campaign(), reject_version(2)).objects)
    assert errors(activation(), stored=stored, active_activations=lambda name: 2) == [
        "activation/a1: spec.campaignversion: " + LIMIT.format(2)
    ]
    assert errors(activation(), stored=stored, active_activations=lambda name: 1) == []


def test_v35_ignores_queue_policy_and_existing_activations() -> None:
    stored = InMemoryObjects()
    store(stored, plan(campaign(), reject_version(1), activation()).objects)
    # Re-applying an existing activation admits nothing new.
    assert errors(activation(), stored=stored, active_activations=lambda name: 5) == []
    queued = version(concurrency={"max": 1})
    assert errors(queued, activation("a2"), stored=stored, active_activations=lambda n: 5) == []


def test_every_rule_has_a_case() -> None:
    named = {name.split()[0] for name, _, _ in CASES}
    rules = {f"V{i}" for i in range(1, 34)} | {"V4b"}
    assert rules <= named


def test_violations_are_in_document_then_table_order() -> None:
    bad_version = version(firstStage="zzz", timeout="x", extra=1, version="9")
    bad_version["metadata"]["namespace"] = "other"
    lines = errors(
        campaign(),
        bad_version,
        activation(stage="nope", inputs=[1]),
        {**campaign("d"), "apiVersion": "v2", "kind": "Campaign", "x": 1},
    )
    assert lines == [
        f'{CV}: metadata.namespace: must be "default"',
        f"{CV}: spec.extra: unknown field",
        f'{CV}: spec.version: "9" does not match the version "1" in metadata.name',
        f'{CV}: spec.firstStage: stage "zzz" is not defined in spec.stages',
        f'{CV}: spec.timeout: invalid duration "x"',
        'activation/a1: spec.stage: stage "nope" is not defined in campaignversion c-v-1',
        "activation/a1: spec.inputs: must be a map",
        "campaign/d: apiVersion: must be workflow.symphony/v1",
        "campaign/d: x: unknown field",
    ]


def test_rules_within_one_document_keep_walk_order() -> None:
    docs = [campaign(), version(stages={"a": stage(foo=1), "b": stage(bar=2)})]
    assert errors(*docs) == [
        f"{CV}: spec.stages.a.foo: unknown field",
        f"{CV}: spec.stages.b.foo: unknown field".replace("foo", "bar"),
    ]
