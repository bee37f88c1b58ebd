"""`apply`, `get` and `delete` of campaigns, campaign versions, activations and sites.

(campaigns.md 3, 10.5, 11.3; federation.md API-10, API-42.) The CLI checks the 4 MiB file limit
before sending; the server validates and answers with field violations that are printed one
`error: <doc>: <field path>: <reason>` line each.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from symphony_mesh.api.v1 import (
    activation_pb2,
    activation_pb2_grpc,
    campaign_pb2,
    campaign_pb2_grpc,
    site_pb2,
    site_pb2_grpc,
)
from symphony_mesh.cli.client import Client
from symphony_mesh.cli.errors import EXIT_USAGE, CliError
from symphony_mesh.cli.options import get_options, global_options
from symphony_mesh.cli.output import age, emit, message_to_dict, struct_to_dict, table

__all__ = ["apply", "delete", "get"]

MAX_FILE_BYTES = 4 * 1024 * 1024
_RESOURCES = {
    "activation": "activation",
    "activations": "activation",
    "campaign": "campaign",
    "campaigns": "campaign",
    "campaignversion": "campaignversion",
    "campaignversions": "campaignversion",
    "site": "site",
    "sites": "site",
}
_ACTIONS = {
    campaign_pb2.APPLY_ACTION_CREATED: "created",
    campaign_pb2.APPLY_ACTION_UNCHANGED: "unchanged",
    campaign_pb2.APPLY_ACTION_CONFIGURED: "configured",
}


def _resource(word: str, allowed: tuple[str, ...]) -> str:
    resource = _RESOURCES.get(word.lower())
    if resource is None or resource not in allowed:
        choices = " | ".join(allowed)
        raise CliError(f'unknown resource "{word}" (expected {choices})', EXIT_USAGE)
    return resource


def _read_file(path: str) -> bytes:
    if path == "-":
        content = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    else:
        try:
            with open(path, "rb") as handle:
                content = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise CliError(f"{path}: cannot read: {exc.strerror}") from None
    if len(content) > MAX_FILE_BYTES:
        raise CliError(f"{path}: file is larger than 4 MiB")
    return content


@click.command()
@click.option("-f", "--filename", "path", required=True, metavar="FILE|-", help="File to apply.")
@click.option("--dry-run", is_flag=True, help="Validate and report, store nothing.")
@global_options
def apply(path: str, dry_run: bool) -> None:
    """Apply Campaign, CampaignVersion and Activation documents (all or nothing per file)."""
    content = _read_file(path)
    with Client(get_options()) as client:
        stub = campaign_pb2_grpc.CampaignServiceStub(client.channel)
        request = campaign_pb2.ApplyRequest(content=content, source=path, dry_run=dry_run)
        response = client.call(stub.Apply, request)
    assert response is not None
    for applied in response.objects:
        for warning in applied.warnings:
            click.echo(f"warning: {warning}", err=True)
    for applied in response.objects:
        suffix = " (dry run)" if dry_run else ""
        click.echo(f"{applied.kind}/{applied.name} {_ACTIONS[applied.action]}{suffix}")


def _pages(fetch: Callable[[str], tuple[list[Any], str]]) -> Iterator[Any]:
    """Every item of a paginated list (API-4: the CLI fetches all pages)."""
    token = ""
    while True:
        items, token = fetch(token)
        yield from items
        if not token:
            return


@click.command()
@click.argument("resource")
@click.argument("name", required=False)
@click.option("--history", default="50", metavar="N|all", help="Stage runs shown per activation.")
@global_options
def get(resource: str, name: str | None, history: str) -> None:
    """Show activations, campaigns, campaignversions or sites."""
    kind = _resource(resource, ("activation", "campaign", "campaignversion", "site"))
    if history != "all" and not (history.isdigit() and int(history) > 0):
        raise CliError('--history must be a positive number or "all"', EXIT_USAGE)
    history_limit = -1 if history == "all" else int(history)
    options = get_options()
    with Client(options) as client:
        documents = _fetch(client, kind, name, history_limit)
    if options.output != "table":
        emit(documents[0] if name else {"items": documents}, options.output)
        return
    _print_table(kind, documents)


def _fetch(client: Client, kind: str, name: str | None, history_limit: int) -> list[Any]:
    if kind == "site":
        sites = site_pb2_grpc.SiteServiceStub(client.channel)
        if name:
            got = client.call(sites.GetSite, site_pb2.GetSiteRequest(name=name))
            assert got is not None
            return [message_to_dict(got.site)]

        def site_page(token: str) -> tuple[list[Any], str]:
            page = client.call(sites.ListSites, site_pb2.ListSitesRequest(page_token=token))
            assert page is not None
            return [message_to_dict(s) for s in page.sites], page.next_page_token

        return list(_pages(site_page))
    if kind == "activation":
        activations = activation_pb2_grpc.ActivationServiceStub(client.channel)
        if name:
            request = activation_pb2.GetActivationRequest(name=name, history_limit=history_limit)
            found = client.call(activations.GetActivation, request)
            assert found is not None
            return [struct_to_dict(found.activation.document)]

        def activation_page(token: str) -> tuple[list[Any], str]:
            request = activation_pb2.ListActivationsRequest(page_token=token)
            page = client.call(activations.ListActivations, request)
            assert page is not None
            return [struct_to_dict(a.document) for a in page.activations], page.next_page_token

        return list(_pages(activation_page))
    campaigns = campaign_pb2_grpc.CampaignServiceStub(client.channel)
    if kind == "campaign":
        if name:
            one = client.call(campaigns.GetCampaign, campaign_pb2.GetCampaignRequest(name=name))
            assert one is not None
            return [struct_to_dict(one.campaign.document)]

        def campaign_page(token: str) -> tuple[list[Any], str]:
            page = client.call(
                campaigns.ListCampaigns, campaign_pb2.ListCampaignsRequest(page_token=token)
            )
            assert page is not None
            return [struct_to_dict(c.document) for c in page.campaigns], page.next_page_token

        return list(_pages(campaign_page))
    if name:
        cv_request = campaign_pb2.GetCampaignVersionRequest(name=name)
        version = client.call(campaigns.GetCampaignVersion, cv_request)
        assert version is not None
        return [struct_to_dict(version.campaign_version.document)]

    def version_page(token: str) -> tuple[list[Any], str]:
        request = campaign_pb2.ListCampaignVersionsRequest(page_token=token)
        page = client.call(campaigns.ListCampaignVersions, request)
        assert page is not None
        return [struct_to_dict(v.document) for v in page.campaign_versions], page.next_page_token

    return list(_pages(version_page))


def _print_table(kind: str, documents: list[Any]) -> None:
    if kind == "activation":
        table(
            ("NAME", "CAMPAIGNVERSION", "STATUS", "STAGE", "AGE"),
            [
                (
                    d["metadata"]["name"],
                    d["metadata"]["labels"].get("campaignversion", ""),
                    d["status"]["statusMessage"],
                    d["status"]["currentStage"],
                    age(d["metadata"].get("creationTimestamp")),
                )
                for d in documents
            ],
        )
    elif kind == "campaign":
        table(
            ("NAME", "VERSIONS", "AGE"),
            [
                (
                    d["metadata"]["name"],
                    ",".join(d["status"]["versions"]) or "-",
                    age(d["metadata"].get("creationTimestamp")),
                )
                for d in documents
            ],
        )
    elif kind == "campaignversion":
        table(
            ("NAME", "CAMPAIGN", "SELFDRIVING", "STAGES", "ACTIVE", "AGE"),
            [
                (
                    d["metadata"]["name"],
                    d["spec"].get("rootResource", ""),
                    str(bool(d["spec"].get("selfDriving", False))).lower(),
                    len(d["spec"].get("stages") or {}),
                    d["status"]["activeActivations"],
                    age(d["metadata"].get("creationTimestamp")),
                )
                for d in documents
            ],
        )
    else:
        table(
            ("NAME", "CONNECTED", "VIA", "DEPTH", "LAST SEEN"),
            [
                (s["name"], s.get("connected", False), s.get("via", ""), s.get("depth", 0),
                 s.get("lastSeen", ""))
                for s in documents
            ],
        )  # fmt: skip


@click.command()
@click.argument("resource")
@click.argument("name")
@global_options
def delete(resource: str, name: str) -> None:
    """Delete an activation, a campaign version or a campaign."""
    kind = _resource(resource, ("activation", "campaignversion", "campaign"))
    with Client(get_options()) as client:
        if kind == "activation":
            activations = activation_pb2_grpc.ActivationServiceStub(client.channel)
            client.call(
                activations.DeleteActivation,
                activation_pb2.DeleteActivationRequest(name=name),
                not_found_after_retry_ok=True,
            )
        else:
            campaigns = campaign_pb2_grpc.CampaignServiceStub(client.channel)
            method: Any = (
                campaigns.DeleteCampaign if kind == "campaign" else campaigns.DeleteCampaignVersion
            )
            request: Any = (
                campaign_pb2.DeleteCampaignRequest(name=name)
                if kind == "campaign"
                else campaign_pb2.DeleteCampaignVersionRequest(name=name)
            )
            client.call(method, request, not_found_after_retry_ok=True)
    click.echo(f"{kind}/{name} deleted")
