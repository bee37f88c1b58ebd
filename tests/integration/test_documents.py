"""Applying, reading and deleting documents on a real node over mTLS (campaigns.md 3, 10.5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.helpers.paths import SAMPLES
from tests.helpers.waiting import eventually_sync
from tests.integration.conftest import Mesh


def _sample_order(path: Path) -> tuple[int, str]:
    # Each file applies on its own: campaigns, then versions, then the activations using them.
    rank = 2 if "activation" in path.name else 1 if "version" in path.name else 0
    return (rank, path.name)


def test_every_symphony_sample_applies_unchanged(mesh: Mesh) -> None:
    files = sorted(
        (p for p in SAMPLES.iterdir() if p.suffix in {".yaml", ".json"}), key=_sample_order
    )
    assert len(files) == 21
    warnings: dict[str, str] = {}
    for path in files:
        result = mesh.cli("apply", "-f", str(path))
        assert result.code == 0, f"{path.name}: {result.stderr}"
        assert all(line.startswith("warning: ") for line in result.stderr.splitlines())
        warnings[path.name] = result.stderr
        for line in result.stdout.splitlines():
            assert line.split(" ")[1] in {"created", "unchanged", "configured"}, line
    assert (
        'spec.stages.deploy-v2.provider: provider "providers.stage.patch" is not supported by '
        "symphony-mesh; the stage will fail when it runs" in warnings["canary-campaign.yaml"]
    )
    assert (
        "warning: campaignversion/site-apps-v-version1: spec.stages.list.config.baseUrl: "
        "unknown config key for providers.stage.list (ignored)"
        in warnings["multisite-campaign.yaml"]
    )
    assert "inferred CampaignVersion" in warnings["campaigns-counter-campaignversion.json"]
    # Re-applying a file changes nothing.
    again = mesh.cli("apply", "-f", str(SAMPLES / "canary-campaign.yaml"))
    assert again.stdout.splitlines() == [
        "campaign/canary unchanged",
        "campaignversion/canary-v-version1 unchanged",
    ]


def test_get_returns_symphony_shaped_documents(mesh: Mesh) -> None:
    assert mesh.cli("apply", "-f", str(SAMPLES / "campaigns-mock-campaign.yaml")).code == 0
    assert mesh.cli("apply", "-f", str(SAMPLES / "campaigns-mock-activation.yaml")).code == 0

    def finished() -> dict[str, Any] | None:
        got = json.loads(mesh.cli("get", "activation", "mock-activation", "-o", "json").stdout)
        return got if got["status"]["finishedAt"] else None

    activation = eventually_sync(finished, what="mock-activation to finish")
    assert list(activation) == ["apiVersion", "kind", "metadata", "spec", "status"]
    assert activation["kind"] == "Activation"
    assert activation["metadata"]["labels"] == {
        "campaignversion": "mock-campaign-v-version1",
        "statusMessage": "Done",
    }
    status = activation["status"]
    # Symphony's own mock sample loops on its selector until foo reaches 5.
    assert (status["status"], status["statusMessage"]) == (9996, "Done")
    assert status["historyTotal"] == 5
    history = status["stageHistory"]
    assert [entry["iteration"] for entry in history] == [1, 2, 3, 4, 5]
    assert [entry["outputs"]["foo"] for entry in history] == [1, 2, 3, 4, 5]
    assert [entry["nextStage"] for entry in history] == ["mock"] * 4 + [""]
    assert all(entry["status"] == 9996 for entry in history)
    assert "__runId" not in history[0]["outputs"]  # injected keys are hidden (10.3)
    version = json.loads(
        mesh.cli("-o", "json", "get", "campaignversion", "mock-campaign:version1").stdout
    )
    assert version["spec"]["rootResource"] == "mock-campaign"
    assert version["status"] == {"activeActivations": 0}
    campaigns = yaml.safe_load(mesh.cli("get", "campaigns", "-o", "yaml").stdout)
    names = [item["metadata"]["name"] for item in campaigns["items"]]
    assert "mock-campaign" in names
    assert names == sorted(names)
    table = mesh.cli("get", "activations").stdout.splitlines()
    assert table[0].split() == ["NAME", "CAMPAIGNVERSION", "STATUS", "STAGE", "AGE"]


def test_validation_errors_name_the_field_and_store_nothing(mesh: Mesh, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: workflow.symphony/v1\nkind: Campaign\nmetadata: {name: fresh}\n---\n"
        "apiVersion: workflow.symphony/v1\nkind: CampaignVersion\nmetadata: {name: fresh-v-1}\n"
        "spec:\n  rootResource: fresh\n  firstStage: nope\n  selfDriving: true\n  stages:\n"
        "    a: {provider: providers.stage.mock, stageselector: b}\n"
    )
    result = mesh.cli("apply", "-f", str(bad))
    assert result.code == 1
    assert result.stderr.splitlines() == [
        "error: campaignversion/fresh-v-1: spec.stages.a.stageselector: unknown field",
        'error: campaignversion/fresh-v-1: spec.firstStage: stage "nope" is not defined in '
        "spec.stages",
    ]
    assert result.stdout == ""
    missing = mesh.cli("get", "campaign", "fresh")
    assert missing.code == 1
    assert missing.stderr == 'error: campaign "fresh" not found (CAMPAIGN_NOT_FOUND)\n'


def test_read_errors_are_one_line(mesh: Mesh, tmp_path: Path) -> None:
    aliases = tmp_path / "aliases.yaml"
    aliases.write_text("a: &x 1\nb: *x\n")
    result = mesh.cli("apply", "-f", str(aliases))
    assert (result.code, result.stderr) == (1, "error: document 1: YAML aliases are not allowed\n")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (4 * 1024 * 1024 + 1))
    result = mesh.cli("apply", "-f", str(big))
    assert (result.code, result.stderr) == (1, f"error: {big}: file is larger than 4 MiB\n")
    broken = mesh.cli("apply", "-f", "-", stdin="kind: [unclosed\n")
    assert broken.code == 1
    assert broken.stderr.startswith("error: -: cannot parse: ")
    assert len(broken.stderr.splitlines()) == 1


WAITING = """
apiVersion: workflow.symphony/v1
kind: Campaign
metadata: {name: gate}
---
apiVersion: workflow.symphony/v1
kind: CampaignVersion
metadata: {name: gate-v-1}
spec:
  rootResource: gate
  firstStage: hold
  selfDriving: true
  stages:
    hold: {provider: providers.stage.signal, inputs: {name: go}}
---
apiVersion: workflow.symphony/v1
kind: Activation
metadata: {name: gated}
spec: {campaignversion: "gate:1"}
"""


def test_deletes_follow_the_reference_rules(mesh: Mesh) -> None:
    assert mesh.cli("apply", "-f", "-", stdin=WAITING).code == 0

    def paused() -> bool:
        got = json.loads(mesh.cli("get", "activation", "gated", "-o", "json").stdout)
        return bool(got["status"]["statusMessage"] == "Paused")

    eventually_sync(paused, what="the gated activation to wait for its signal")
    in_use = mesh.cli("delete", "campaignversion", "gate-v-1")
    assert in_use.stderr == (
        'error: campaign version "gate-v-1" is used by 1 unfinished activation(s) '
        "(CAMPAIGN_VERSION_IN_USE)\n"
    )
    not_empty = mesh.cli("delete", "campaign", "gate")
    assert (
        not_empty.stderr
        == 'error: campaign "gate" still has versions: gate-v-1 (CAMPAIGN_NOT_EMPTY)\n'
    )
    assert mesh.cli("delete", "activation", "gated").stdout == "activation/gated deleted\n"
    assert mesh.cli("delete", "campaignversions", "gate:1").code == 0
    assert mesh.cli("delete", "campaign", "gate").stdout == "campaign/gate deleted\n"
    gone = mesh.cli("delete", "activation", "gated")
    assert (gone.code, gone.stderr) == (
        1,
        'error: activation "gated" not found (ACTIVATION_NOT_FOUND)\n',
    )
