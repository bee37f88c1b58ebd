"""The list provider (9.7, federation.md T-12)."""

from __future__ import annotations

import pytest

from symphony_mesh.model.jsonvalues import JsonMap
from symphony_mesh.providers import list as list_provider
from symphony_mesh.providers.base import Completed, Failed
from tests.unit.providers.fakes import FakeEnvironment, call, site

LIST = "providers.stage.list"


@pytest.fixture
def sites(env: FakeEnvironment) -> FakeEnvironment:
    """Children tokyo (asia, connected) and munich (eu, disconnected); paris below tokyo."""
    env.registry = [
        site("tokyo", labels={"region": "asia"}),
        site("paris", via="tokyo", labels={"region": "eu"}),
        site("munich", connected=False, labels={"region": "eu"}),
    ]
    return env


@pytest.mark.parametrize(
    ("inputs", "names"),
    [
        ({}, ["munich", "tokyo"]),
        ({"selector": "region=eu"}, ["munich"]),
        ({"selector": "region!=eu"}, ["tokyo"]),
        ({"selector": ""}, ["munich", "tokyo"]),
        ({"selector": None}, ["munich", "tokyo"]),
        ({"connectedOnly": True}, ["tokyo"]),
        ({"connectedOnly": "true"}, ["tokyo"]),
        ({"connectedOnly": False}, ["munich", "tokyo"]),
        ({"scope": "children"}, ["munich", "tokyo"]),
        ({"scope": "subtree"}, ["munich", "paris", "tokyo"]),
        ({"scope": "subtree", "selector": "region=eu"}, ["munich", "paris"]),
        ({"scope": "subtree", "connectedOnly": True}, ["paris", "tokyo"]),
        ({"selector": "region=mars"}, []),
    ],
)
async def test_list_site_names(sites: FakeEnvironment, inputs: JsonMap, names: list[str]) -> None:
    outcome = await list_provider.run(
        call(sites, LIST, {"objectType": "sites", "namesOnly": True, **inputs}, injected=True)
    )
    assert outcome == Completed({"objectType": "sites", "items": list(names)})


@pytest.mark.parametrize("names_only", [False, "false", None])
async def test_list_site_documents(sites: FakeEnvironment, names_only: bool | str | None) -> None:
    outcome = await list_provider.run(
        call(sites, LIST, {"objectType": "sites", "namesOnly": names_only})
    )
    assert isinstance(outcome, Completed)
    items = outcome.outputs["items"]
    assert isinstance(items, list)
    assert items == [sites.registry[2].document, sites.registry[0].document]


async def test_list_ignores_symphony_config(sites: FakeEnvironment) -> None:
    config: JsonMap = {"baseUrl": "http://symphony:8080/v1alpha2/", "user": "admin", "password": ""}
    outcome = await list_provider.run(
        call(sites, LIST, {"objectType": "sites", "namesOnly": True}, config)
    )
    assert outcome == Completed({"objectType": "sites", "items": ["munich", "tokyo"]})


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "objectType is required"),
        ({"objectType": None}, "objectType is required"),
        ({"objectType": ""}, "objectType is required"),
        ({"objectType": "instance"}, "objectType instance is not supported by symphony-mesh"),
        (
            {"objectType": "catalogversions"},
            "objectType catalogversions is not supported by symphony-mesh",
        ),
        ({"objectType": 3}, "objectType 3 is not supported by symphony-mesh"),
        (
            {"objectType": "sites", "selector": "=eu"},
            'invalid label selector "=eu": missing key',
        ),
        (
            {"objectType": "sites", "selector": "a b"},
            'invalid label selector "a b": invalid key "a b"',
        ),
        ({"objectType": "sites", "scope": "all"}, "invalid scope all"),
        ({"objectType": "sites", "scope": 1}, "invalid scope 1"),
        ({"objectType": "sites", "namesOnly": "yes"}, 'invalid namesOnly "yes"'),
        ({"objectType": "sites", "connectedOnly": 1}, "invalid connectedOnly 1"),
    ],
)
async def test_list_failures(sites: FakeEnvironment, inputs: JsonMap, message: str) -> None:
    outcome = await list_provider.run(call(sites, LIST, inputs))
    assert outcome == Failed(400, message)
