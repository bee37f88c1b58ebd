"""Hostile and random documents: reading and planning never fail with anything but ValidationError.

Hypothesis builds documents from the known field names with random values (scalars, lists, maps,
and values that are almost right), plus random bytes and random YAML/JSON text. Whatever comes
in, `read_documents` either returns documents or raises `ValidationError`, `plan_apply` returns a
plan, and a valid plan renders and re-applies as `unchanged`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symphony_mesh.errors import ValidationError
from symphony_mesh.model import (
    ActivationStatus,
    ApplyAction,
    InMemoryObjects,
    activation_document,
    campaign_document,
    campaign_version_document,
    plan_apply,
    raise_if_invalid,
    read_documents,
)
from tests.unit.model.helpers import NOW, activation, campaign, stage, store, version

FIELDS = [
    "apiVersion", "kind", "metadata", "spec", "status", "name", "namespace", "labels",
    "annotations", "uid", "rootResource", "version", "firstStage", "stages", "selfDriving",
    "onCancel", "concurrency", "timeout", "provider", "config", "inputs", "stageSelector",
    "contexts", "contextPolicy", "handleErrors", "schedule", "retry", "target", "tasks",
    "taskOption", "proxy", "triggeringStage", "maxRetries", "interval", "maxConcurrency",
    "maxFailures", "failFast", "errorAction", "mode", "maxToleratedFailures", "max", "policy",
    "campaignversion", "stage", "items", "__site", "url", "wait.url",
]  # fmt: skip
WORDS = [
    "", "a", "b", "c", "c-v-1", "c:1", "x:y", "mock", "remote", "providers.stage.http", "patch",
    "workflow.symphony/v1", "Campaign", "CampaignVersion", "Activation", "default", "1s", "-1s",
    "0", "50%", "101%", "queue", "reject", "stopOnAnyFailure", "${{$trigger(x, 1)}}",
    "2026-03-01T12:00:00Z", "tokyo", "a b", "x/y", "Bad_Name", "c-v-v-1",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(WORDS)
)
keys = st.sampled_from(FIELDS) | st.sampled_from(WORDS) | st.text(max_size=6)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)


@st.composite
def documents(draw: st.DrawFn) -> Any:
    """Documents that are mostly well-formed at the top, random below."""
    kind = draw(st.sampled_from(["Campaign", "CampaignVersion", "Activation", None, "Foo", 3]))
    name = draw(st.sampled_from(["c", "c-v-1", "a1", "", None, "Bad", 5]))
    stage_names = st.sampled_from(["a", "b", "bad stage", "-x"]) | st.text(max_size=4)
    stage = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6)
    spec = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "rootResource": st.sampled_from(["c", "d", ""]) | values,
                "firstStage": st.sampled_from(["a", "b"]) | values,
                "stages": st.dictionaries(stage_names, stage, max_size=3) | values,
                "selfDriving": st.booleans() | values,
                "campaignversion": st.sampled_from(["c:1", "c-v-1", "ghost:1"]) | values,
                "stage": st.sampled_from(["", "a", "zz"]) | values,
                "inputs": values,
                "timeout": st.sampled_from(["1h", "x", 0, 5]) | values,
                "concurrency": st.dictionaries(st.sampled_from(["max", "policy"]), values),
                "extra": values,
            },
        )
        | values
    )
    document: dict[str, Any] = {
        "metadata": draw(st.fixed_dictionaries({"name": st.just(name)}) | values),
        "spec": spec,
    }
    if draw(st.booleans()):
        document["apiVersion"] = draw(st.sampled_from(["workflow.symphony/v1", "v1"]) | scalars)
    if kind is not None:
        document["kind"] = kind
    return document


BASE = [
    campaign(labels={"team": "a"}),
    version(
        stages={
            "a": stage(
                provider="http",
                config={"url": "http://x", "wait.count": 2},
                inputs={"n": "${{$trigger(n, 0)}}", "list": [1, {"k": "v"}]},
                contexts=["tokyo", "paris"],
                contextPolicy={"maxConcurrency": "50%", "maxFailures": 1, "timeout": "1m"},
                retry={"maxRetries": 2, "interval": 1.5},
                timeout="10m",
                schedule="2026-03-01T12:00:00Z",
                stageSelector="b",
                taskOption={"concurrency": 1, "errorAction": {"mode": "stopOnNFailures"}},
                tasks=[{"name": "t", "provider": "mock", "inputs": {"x": 1}}],
            ),
            "b": stage(stageSelector="${{$output(a, status)}}", handleErrors=True),
            "r": stage(provider="remote", contexts="${{$trigger(sites, '')}}", target="t"),
        },
        onCancel="b",
        concurrency={"max": 2, "policy": "reject"},
        timeout=3600,
        version="1",
    ),
    activation(stage="b", inputs={"n": 1, "s": "${{not evaluated}}"}, timeout="2h"),
]


@st.composite
def mutated_files(draw: st.DrawFn) -> Any:
    """The valid BASE file with 0 to 3 random changes (a set, a new key or a deletion)."""
    docs = copy.deepcopy(BASE)
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 3]))):
        node: Any = draw(st.sampled_from(docs))
        while True:
            if isinstance(node, list) and node:
                index = draw(st.integers(min_value=0, max_value=len(node) - 1))
                if isinstance(node[index], dict | list) and draw(st.booleans()):
                    node = node[index]
                    continue
                node[index] = draw(values)
            elif isinstance(node, dict) and node and draw(st.integers(0, 3)) > 0:
                key = draw(st.sampled_from(sorted(node)))
                if isinstance(node[key], dict | list) and draw(st.booleans()):
                    node = node[key]
                    continue
                if draw(st.booleans()):
                    del node[key]
                else:
                    node[key] = draw(values)
            elif isinstance(node, dict):
                node[draw(keys)] = draw(values)
            break
    return docs


def check(content: bytes, stored: InMemoryObjects | None = None) -> None:
    """Read, plan, raise; a valid plan must render and re-apply unchanged."""
    stored = stored if stored is not None else InMemoryObjects()
    try:
        docs = read_documents(content, "fuzz")
    except ValidationError:
        return
    plan = plan_apply(docs, "fuzz", stored, active_activations=lambda name: 0)
    if not plan.valid:
        with pytest.raises(ValidationError) as caught:
            raise_if_invalid(plan)
        assert len(caught.value.violations) == len(plan.problems)
        return
    store(stored, plan.objects)
    rendered: list[Any] = []
    for item in plan.objects:
        if item.kind == "campaign":
            found_campaign = stored.campaign(item.name)
            assert found_campaign is not None
            rendered.append(campaign_document(found_campaign.meta, []))
        elif item.kind == "campaignversion":
            found_version = stored.campaign_version(item.name)
            assert found_version is not None
            rendered.append(campaign_version_document(found_version.meta, found_version.version, 0))
        else:
            found = stored.activation(item.name)
            assert found is not None
            rendered.append(
                activation_document(found.meta, found.activation, ActivationStatus.pending(NOW))
            )
    text = json.dumps({"items": rendered}, allow_nan=False).encode()
    again = plan_apply(read_documents(text, "again"), "again", stored)
    assert again.valid, [problem.line for problem in again.problems]
    assert {item.action for item in again.objects} <= {ApplyAction.UNCHANGED}


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_files(), st.booleans())
def test_mutated_valid_files(docs: list[Any], as_json: bool) -> None:
    content = json.dumps(docs) if as_json else yaml.safe_dump_all(docs, sort_keys=False)
    check(content.encode())


def test_base_file_is_valid_and_round_trips() -> None:
    check(json.dumps(BASE).encode())


@FUZZ
@given(st.lists(documents(), min_size=1, max_size=4))
def test_random_documents_as_json(docs: list[Any]) -> None:
    check(json.dumps(docs).encode())


@FUZZ
@given(st.lists(documents(), min_size=1, max_size=3))
def test_random_documents_as_yaml(docs: list[Any]) -> None:
    check(yaml.safe_dump_all(docs, sort_keys=False).encode())


@settings(max_examples=800, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_random_bytes(content: bytes) -> None:
    check(content)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "{",
                "[",
                "]",
                "}",
                "a:",
                " ",
                "\n",
                "- ",
                "&x",
                "*x",
                "!t",
                '"',
                "---\n",
                "1",
                ",",
                "items:",
            ]
        ),
        max_size=40,
    )
)
def test_random_syntax(pieces: list[str]) -> None:
    check("".join(pieces).encode())


def test_model_is_pure() -> None:
    """The model imports neither grpc nor aiosqlite (design.md layering)."""
    import subprocess
    import sys

    code = (
        "import sys, symphony_mesh.model; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('grpc', 'aiosqlite')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
