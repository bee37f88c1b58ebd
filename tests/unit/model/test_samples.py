"""Every Symphony sample applies unchanged, with exactly the specified warnings.

The samples live in the shared folder beside the repository (`../shared/samples/symphony`). Each
file is applied on its own against a dict-backed store, campaign files before version files
before activation files, as an operator would apply them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from symphony_mesh.model import ApplyAction, InMemoryObjects, plan_apply, read_documents
from tests.helpers.paths import SAMPLES
from tests.unit.model.helpers import store

PATCH = (
    'provider "providers.stage.patch" is not supported by symphony-mesh; '
    "the stage will fail when it runs"
)
CANARY_PATCH_STAGES = [
    "deploy-v2",
    "canary-ingress",
    "roll-back",
    "roll-back-2",
    "finalize",
    "finalize-2",
    "finalize-3",
    "adjust-weight",
]
REST = "not set; inferred {} from the document's spec (a Symphony REST body)"

# file name -> (object lines, warning lines) when applied after the files before it.
EXPECTED: dict[str, tuple[list[str], list[str]]] = {
    "approval-script-campaign.yaml": (
        [
            "campaign/approval-campaign created",
            "campaignversion/approval-campaign-v-version1 created",
        ],
        [
            "campaignversion/approval-campaign-v-version1: spec.stages.deploy.provider: "
            'provider "providers.stage.materialize" is not supported by symphony-mesh; '
            "the stage will fail when it runs"
        ],
    ),
    "campaigns-counter-campaign.yaml": (["campaign/counter-campaign created"], []),
    "campaigns-counter-campaign.json": (
        ["campaign/counter-campaign unchanged"],
        [f"campaign/counter-campaign: kind: {REST.format('Campaign')}"],
    ),
    "campaigns-hello-world-campaign.yaml": (["campaign/hello-world created"], []),
    "campaigns-mock-campaign.yaml": (
        ["campaign/mock-campaign created", "campaignversion/mock-campaign-v-version1 created"],
        [],
    ),
    "campaigns-remote-schedule-campaign.yaml": (
        [
            "campaign/scheduled-campaign created",
            "campaignversion/scheduled-campaign-v-version1 created",
        ],
        [],
    ),
    # The same campaign; the version differs in its stages' providers and schedules.
    "campaigns-scheduled-campaign.yaml": (
        [
            "campaign/scheduled-campaign unchanged",
            "campaignversion/scheduled-campaign-v-version1 configured",
        ],
        [],
    ),
    "canary-campaign.yaml": (
        ["campaign/canary created", "campaignversion/canary-v-version1 created"],
        [
            f"campaignversion/canary-v-version1: spec.stages.{name}.provider: {PATCH}"
            for name in CANARY_PATCH_STAGES
        ],
    ),
    "multisite-campaign.yaml": (
        ["campaign/site-apps created", "campaignversion/site-apps-v-version1 created"],
        [
            f"campaignversion/site-apps-v-version1: spec.stages.list.config.{key}: "
            "unknown config key for providers.stage.list (ignored)"
            for key in ("baseUrl", "user", "password")
        ],
    ),
    "campaigns-counter-campaignversion.json": (
        ["campaignversion/counter-campaign-v-version1 created"],
        [f"campaignversion/counter-campaign-v-version1: kind: {REST.format('CampaignVersion')}"],
    ),
    "campaigns-counter-campaign-version.yaml": (
        ["campaignversion/counter-campaign-v-version1 configured"],
        [],
    ),
    "campaigns-hello-world-campaign-version.yaml": (
        ["campaignversion/hello-world-v-version1 created"],
        [],
    ),
    "approval-script-activation.yaml": (["activation/approval-activation created"], []),
    "campaigns-counter-activation.yaml": (["activation/counter-activation created"], []),
    "campaigns-counter-activation.json": (
        ["activation/counter-campaign-activation created"],
        [f"activation/counter-campaign-activation: kind: {REST.format('Activation')}"],
    ),
    "campaigns-hello-world-activation.yaml": (["activation/hello-world-activation created"], []),
    "campaigns-mock-activation.yaml": (["activation/mock-activation created"], []),
    "campaigns-remote-schedule-activation.yaml": (["activation/scheduled-activation created"], []),
    # The same activation as the remote-schedule sample: same spec, so unchanged.
    "campaigns-scheduled-activation.yaml": (["activation/scheduled-activation unchanged"], []),
    "canary-activation.yaml": (["activation/canary-deployment created"], []),
    "multisite-activation.yaml": (["activation/multisite-deploy created"], []),
}


def test_every_sample_is_covered() -> None:
    files = {path.name for path in SAMPLES.iterdir() if path.suffix in (".yaml", ".json")}
    assert files == set(EXPECTED)


def test_samples_apply_in_order() -> None:
    stored = InMemoryObjects()
    for name, (objects, warnings) in EXPECTED.items():
        path = SAMPLES / name
        result = plan_apply(read_documents(path.read_bytes(), name), name, stored)
        assert [problem.line for problem in result.problems] == [], name
        assert [item.line for item in result.objects] == objects, name
        assert [notice.line for notice in result.warnings] == warnings, name
        store(stored, result.objects)


@pytest.mark.parametrize("name", [name for name in EXPECTED if "activation" not in name])
def test_each_definition_file_reapplies_unchanged(name: str) -> None:
    stored = InMemoryObjects()
    content = (SAMPLES / name).read_bytes()
    documents = read_documents(content, name)
    # A version file's campaign is in another file: store it first.
    roots: list[Any] = []
    for document in documents:
        body: Any = document.body
        if "rootResource" in (body.get("spec") or {}):
            roots.append(body["spec"]["rootResource"])
    campaigns = json.dumps([{"metadata": {"name": root}} for root in roots]).encode()
    store(stored, plan_apply(read_documents(campaigns, "c"), "c", stored).objects)
    first = plan_apply(documents, name, stored)
    assert first.valid
    store(stored, first.objects)
    again = plan_apply(read_documents(content, name), name, stored)
    assert {item.action for item in again.objects} == {ApplyAction.UNCHANGED}


def test_activation_without_its_campaign_is_refused() -> None:
    content = (SAMPLES / "canary-activation.yaml").read_bytes()
    result = plan_apply(read_documents(content, "a.yaml"), "a.yaml", InMemoryObjects())
    assert [problem.line for problem in result.problems] == [
        'activation/canary-deployment: spec.campaignversion: campaignversion "canary:version1" '
        "does not exist"
    ]
