"""The apply warnings of campaigns.md 3.3 (and clarification 13.3), with their exact texts."""

from __future__ import annotations

from typing import Any

from symphony_mesh.model import ProviderScope, canonical_provider, provider_scope
from symphony_mesh.model.providers_catalog import known_config_keys
from tests.unit.model.helpers import DROP, activation, campaign, plan, stage, version, warnings

CV = "campaignversion/c-v-1"


def stage_warnings(**fields: Any) -> list[str]:
    return warnings(campaign(), version(stages={"a": stage(**fields)}))


def test_self_driving_omitted() -> None:
    assert warnings(campaign(), version(selfDriving=DROP)) == [
        f"{CV}: spec.selfDriving: not set; defaulting to false (stepped mode: the activation "
        "pauses after every stage until it is stepped)"
    ]


def test_valid_documents_have_no_warnings() -> None:
    assert warnings(campaign(), version(), activation()) == []


def test_unknown_provider() -> None:
    assert stage_warnings(provider="providers.stage.teleport", config={"x": 1}) == [
        f'{CV}: spec.stages.a.provider: unknown provider "providers.stage.teleport"; '
        "the stage will fail when it runs"
    ]


def test_out_of_scope_provider_gets_one_warning_and_no_config_warnings() -> None:
    assert stage_warnings(provider="patch", config={"baseUrl": "http://x", "user": "u"}) == [
        f'{CV}: spec.stages.a.provider: provider "patch" is not supported by symphony-mesh; '
        "the stage will fail when it runs"
    ]


def test_task_provider_warnings() -> None:
    tasks = [
        {"name": "t1", "provider": "flaky"},
        {"name": "t2", "provider": "nothing"},
        {"name": "t3", "provider": "http", "config": {"url": "u", "verb": "GET"}},
    ]
    assert stage_warnings(provider="", tasks=tasks) == [
        f'{CV}: spec.stages.a.tasks[0].provider: provider "flaky" is not supported by '
        "symphony-mesh; the task will fail when it runs",
        f'{CV}: spec.stages.a.tasks[1].provider: unknown provider "nothing"; '
        "the task will fail when it runs",
        f"{CV}: spec.stages.a.tasks[2].config.verb: unknown config key for "
        "providers.stage.http (ignored)",
    ]


def test_unknown_config_keys_of_in_scope_providers() -> None:
    config = {"url": "http://x", "wait.url": "http://y", "wait": {"url": 1}, "baseUrl": "b"}
    assert stage_warnings(provider="http", config=config) == [
        f"{CV}: spec.stages.a.config.wait: unknown config key for providers.stage.http (ignored)",
        f"{CV}: spec.stages.a.config.baseUrl: unknown config key for providers.stage.http "
        "(ignored)",
    ]


def test_script_and_wait_accept_their_ignored_keys_silently() -> None:
    assert stage_warnings(provider="script", config={"script": "a.sh", "stagingFolder": "x"}) == []
    assert stage_warnings(provider="wait", config={"user": "u", "password": ""}) == []


def test_remote_stage_config_is_always_unknown() -> None:
    assert stage_warnings(provider="remote", contexts=["tokyo"], config={"id": 1}) == [
        f"{CV}: spec.stages.a.config.id: unknown config key for providers.stage.remote (ignored)"
    ]


def test_proxy() -> None:
    assert stage_warnings(proxy={"provider": "providers.stage.proxy.http"}) == [
        f"{CV}: spec.stages.a.proxy: stage proxies are not supported by symphony-mesh; "
        "the stage will fail when it runs"
    ]


def test_reserved_input_names() -> None:
    assert stage_warnings(inputs={"__site": "x", "__mine": 1, "site": 2}) == [
        f"{CV}: spec.stages.a.inputs.__site: reserved input name; the injected value is used "
        "instead"
    ]


def test_context_policy_without_contexts() -> None:
    assert stage_warnings(contextPolicy={"maxFailures": 1}) == [
        f"{CV}: spec.stages.a.contextPolicy: has no effect without contexts"
    ]
    assert stage_warnings(contexts="", contextPolicy={"maxFailures": 1}) == [
        f"{CV}: spec.stages.a.contextPolicy: has no effect without contexts"
    ]
    assert stage_warnings(contexts="${{$trigger(sites, '')}}", contextPolicy={}) == []


def test_ignored_kubernetes_fields() -> None:
    named = version()
    named["spec"]["name"] = "canary"
    assert warnings(campaign(), named) == [f"{CV}: spec.name: ignored"]
    assert stage_warnings(triggeringStage="x") == [f"{CV}: spec.stages.a.triggeringStage: ignored"]


def test_rest_body_kind_inference() -> None:
    bodies = [
        {"metadata": {"name": "c"}, "spec": {}},
        {"metadata": {"name": "c-v-1"}, "spec": version()["spec"]},
        {"metadata": {"name": "a1"}, "spec": {"campaignversion": "c:1"}},
    ]
    result = plan(*bodies)
    assert result.valid
    assert [notice.line for notice in result.warnings] == [
        "campaign/c: kind: not set; inferred Campaign from the document's spec "
        "(a Symphony REST body)",
        f"{CV}: kind: not set; inferred CampaignVersion from the document's spec "
        "(a Symphony REST body)",
        "activation/a1: kind: not set; inferred Activation from the document's spec "
        "(a Symphony REST body)",
    ]
    assert [item.line for item in result.objects] == [
        "campaign/c created",
        "campaignversion/c-v-1 created",
        "activation/a1 created",
    ]


def test_rest_body_inference_by_stages_only() -> None:
    body = {"metadata": {"name": "c-v-1"}, "spec": {"stages": {"a": {}}}}
    lines = [problem.line for problem in plan(body).problems]
    assert lines == [f"{CV}: spec.rootResource: required", f"{CV}: spec.firstStage: required"]


def test_warnings_are_attached_to_their_object() -> None:
    result = plan(campaign(), version(selfDriving=DROP), activation())
    assert [len(item.warnings) for item in result.objects] == [0, 1, 0]
    assert result.objects[1].warning_lines == [notice.line for notice in result.warnings]


def test_warnings_are_reported_for_invalid_files_too() -> None:
    result = plan(version(selfDriving=DROP))
    assert not result.valid
    assert len(result.warnings) == 1


def test_catalog() -> None:
    assert canonical_provider("http") == "providers.stage.http"
    assert canonical_provider("providers.stage.http") == "providers.stage.http"
    assert canonical_provider("") == ""
    assert provider_scope("") is ProviderScope.NONE
    assert provider_scope("proxy.mqtt") is ProviderScope.OUT_OF_SCOPE
    assert provider_scope("providers.stage.create") is ProviderScope.OUT_OF_SCOPE
    assert provider_scope("test.effect") is ProviderScope.UNKNOWN
    assert provider_scope("test.effect", test_hooks=True) is ProviderScope.IN_SCOPE
    for short in ("mock", "counter", "http", "delay", "script", "list", "wait", "remote"):
        assert provider_scope(short) is ProviderScope.IN_SCOPE
    assert provider_scope("signal") is provider_scope("approval") is ProviderScope.IN_SCOPE
    assert known_config_keys("patch") is None
    assert "wait.expressionType" in (known_config_keys("http") or ())


def test_test_provider_is_known_only_with_test_hooks() -> None:
    docs = [campaign(), version(stages={"a": stage(provider="providers.stage.test.effect")})]
    assert len(plan(*docs).warnings) == 1
    assert plan(*docs, test_hooks=True).warnings == ()
