"""The wait provider (9.8, federation.md T-12): dormant until sites connect, never polling."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.providers import wait
from symphony_mesh.providers.base import Completed, Failed, Waiting
from tests.unit.providers.fakes import NOW, FakeEnvironment, call, resumed, site

WAIT = "providers.stage.wait"


@pytest.fixture
def sites(env: FakeEnvironment) -> FakeEnvironment:
    """tokyo connected, munich disconnected, paris (below tokyo) connected."""
    env.registry = [
        site("tokyo"),
        site("munich", connected=False),
        site("paris", via="tokyo"),
    ]
    return env


async def test_wait_succeeds_at_once_when_all_are_connected(sites: FakeEnvironment) -> None:
    outcome = await wait.run(
        call(sites, WAIT, {"objectType": "sites", "names": ["tokyo", "paris", "tokyo"]})
    )
    assert outcome == Completed({"objectType": "sites", "names": ["tokyo", "paris"], "status": 200})


async def test_wait_accepts_one_name_as_a_string(sites: FakeEnvironment) -> None:
    outcome = await wait.run(call(sites, WAIT, {"objectType": "sites", "names": "paris"}))
    assert outcome == Completed({"objectType": "sites", "names": ["paris"], "status": 200})


async def test_wait_for_nothing_succeeds(sites: FakeEnvironment) -> None:
    outcome = await wait.run(call(sites, WAIT, {"objectType": "sites", "names": []}))
    assert outcome == Completed({"objectType": "sites", "names": [], "status": 200})


async def test_wait_is_dormant_until_the_sites_connect(sites: FakeEnvironment) -> None:
    names: JsonValue = ["tokyo", "munich", "lyon"]
    first = call(
        sites, WAIT, {"objectType": "sites", "names": names}, {"user": "u", "password": ""}
    )
    outcome = await wait.run(first)
    assert isinstance(outcome, Waiting)
    assert outcome.status == 9995
    assert list(outcome.sites) == ["munich", "lyon"]
    assert outcome.until is None
    assert outcome.signal is None
    assert outcome.waiting_for == {"kind": "sites", "sites": ["munich", "lyon"]}
    json.dumps(outcome.state)

    sites.set_site(site("munich"))
    still = await wait.run(resumed(first, outcome, "site"))
    assert isinstance(still, Waiting)
    assert list(still.sites) == ["lyon"]

    sites.set_site(site("lyon", via="tokyo"))
    done = await wait.run(resumed(first, still, "site"))
    assert done == Completed(
        {"objectType": "sites", "names": ["tokyo", "munich", "lyon"], "status": 200}
    )


async def test_wait_rechecks_sites_that_disconnected_meanwhile(sites: FakeEnvironment) -> None:
    first = call(sites, WAIT, {"objectType": "sites", "names": ["tokyo", "munich"]})
    outcome = await wait.run(first)
    sites.set_site(site("munich"))
    sites.set_site(site("tokyo", connected=False))
    again = await wait.run(resumed(first, outcome, "site"))
    assert isinstance(again, Waiting)
    assert list(again.sites) == ["tokyo"]


async def test_wait_count_bounds_the_wait(sites: FakeEnvironment) -> None:
    config: JsonMap = {"wait.interval": 1, "wait.count": 3}
    first = call(sites, WAIT, {"objectType": "sites", "names": ["munich", "lyon", "tokyo"]}, config)
    outcome = await wait.run(first)
    assert isinstance(outcome, Waiting)
    assert outcome.until == NOW + timedelta(seconds=3)
    assert outcome.waiting_for == {
        "kind": "sites",
        "sites": ["munich", "lyon"],
        "until": "2026-03-01T12:00:03Z",
    }
    sites.advance(1)
    sites.set_site(site("lyon"))
    later = await wait.run(resumed(first, outcome, "site"))
    assert isinstance(later, Waiting)
    assert later.until == outcome.until  # the deadline counts from the first call
    sites.advance(2)
    failed = await wait.run(resumed(first, later, "timer"))
    assert failed == Failed(404, "failed to wait for sites munich")


async def test_wait_timeout_names_every_missing_site(sites: FakeEnvironment) -> None:
    config: JsonMap = {"wait.interval": "10ms", "wait.count": "2"}
    first = call(sites, WAIT, {"objectType": "sites", "names": ["munich", "lyon"]}, config)
    outcome = await wait.run(first)
    assert isinstance(outcome, Waiting)
    assert outcome.until == NOW + timedelta(milliseconds=20)
    failed = await wait.run(resumed(first, outcome, "timer"))
    assert failed == Failed(404, "failed to wait for sites munich, lyon")


async def test_wait_deadline_met_by_a_late_connection_succeeds(sites: FakeEnvironment) -> None:
    config: JsonMap = {"wait.interval": 1, "wait.count": 1}
    first = call(sites, WAIT, {"objectType": "sites", "names": ["munich"]}, config)
    outcome = await wait.run(first)
    sites.set_site(site("munich"))
    done = await wait.run(resumed(first, outcome, "timer"))
    assert done == Completed({"objectType": "sites", "names": ["munich"], "status": 200})


@pytest.mark.parametrize(
    ("inputs", "config", "failure"),
    [
        ({"names": ["a"]}, {}, Failed(400, "objectType is not a valid string")),
        ({"objectType": 1, "names": ["a"]}, {}, Failed(400, "objectType is not a valid string")),
        (
            {"objectType": "instance", "names": ["a"]},
            {},
            Failed(400, "objectType instance is not supported by symphony-mesh"),
        ),
        ({"objectType": "sites"}, {}, Failed(400, "input names is not a valid list")),
        ({"objectType": "sites", "names": 3}, {}, Failed(400, "input names is not a valid list")),
        (
            {"objectType": "sites", "names": ["a", 1]},
            {},
            Failed(400, "input names is not a valid list"),
        ),
        (
            {"objectType": "sites", "names": ["a"]},
            {"wait.interval": "soon"},
            Failed(1000, 'invalid wait.interval "soon"'),
        ),
        (
            {"objectType": "sites", "names": ["a"]},
            {"wait.interval": 0},
            Failed(1000, "invalid wait.interval 0"),
        ),
        (
            {"objectType": "sites", "names": ["a"]},
            {"wait.count": -1},
            Failed(1000, "invalid wait.count -1"),
        ),
        (
            {"objectType": "sites", "names": ["a"]},
            {"wait.count": "many"},
            Failed(1000, 'invalid wait.count "many"'),
        ),
    ],
)
async def test_wait_failures(
    sites: FakeEnvironment, inputs: JsonMap, config: JsonMap, failure: Failed
) -> None:
    assert await wait.run(call(sites, WAIT, inputs, config)) == failure


async def test_a_timer_without_a_deadline_only_rechecks(sites: FakeEnvironment) -> None:
    first = call(sites, WAIT, {"objectType": "sites", "names": ["munich"]})
    outcome = await wait.run(first)
    assert await wait.run(resumed(first, outcome, "timer")) == outcome
