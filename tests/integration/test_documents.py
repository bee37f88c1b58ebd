"""Applying, reading and deleting documents on a real node over mTLS (campaigns.md 3, 10.5)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.helpers.paths import SAMPLES
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
    activation = json.loads(mesh.cli("get", "activation", "mock-activation", "-o", "json").stdout)
    assert list(activation) == ["apiVersion", "kind", "metadata", "spec", "status"]
    assert activation["kind"] == "Activation"
    assert activation["metadata"]["labels"] == {
        "campaignversion": "mock-campaign-v-version1",
        "statusMessage": "Pending",
    }
    status = activation["status"]
    # Not run yet: stored honestly as Pending, never a fake Done.
    assert (status["status"], status["statusMessage"]) == (9991, "Pending")
    assert status["waitingFor"][0]["kind"] == "engine"
    assert isinstance(status["historyTotal"], int)  # integral Struct numbers print as integers
    version = json.loads(
        mesh.cli("-o", "json", "get", "campaignversion", "mock-campaign:version1").stdout
    )
    assert version["spec"]["rootResource"] == "mock-campaign"
    assert version["status"] == {"activeActivations": 1}
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


def test_deletes_follow_the_reference_rules(mesh: Mesh) -> None:
    assert mesh.cli("apply", "-f", str(SAMPLES / "campaigns-scheduled-campaign.yaml")).code == 0
    assert mesh.cli("apply", "-f", str(SAMPLES / "campaigns-scheduled-activation.yaml")).code == 0
    in_use = mesh.cli("delete", "campaignversion", "scheduled-campaign-v-version1")
    assert in_use.stderr == (
        'error: campaign version "scheduled-campaign-v-version1" is used by 1 unfinished '
        "activation(s) (CAMPAIGN_VERSION_IN_USE)\n"
    )
    not_empty = mesh.cli("delete", "campaign", "scheduled-campaign")
    assert not_empty.stderr == (
        'error: campaign "scheduled-campaign" still has versions: scheduled-campaign-v-version1 '
        "(CAMPAIGN_NOT_EMPTY)\n"
    )
    assert mesh.cli("delete", "activation", "scheduled-activation").stdout == (
        "activation/scheduled-activation deleted\n"
    )
    assert mesh.cli("delete", "campaignversions", "scheduled-campaign:version1").code == 0
    assert mesh.cli("delete", "campaign", "scheduled-campaign").stdout == (
        "campaign/scheduled-campaign deleted\n"
    )
    gone = mesh.cli("delete", "activation", "scheduled-activation")
    assert (gone.code, gone.stderr) == (
        1,
        'error: activation "scheduled-activation" not found (ACTIVATION_NOT_FOUND)\n',
    )
