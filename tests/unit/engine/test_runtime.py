"""The engine runtime against a real SQLite store: transitions, dormancy, restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from symphony_mesh.engine.commands import SignalCommand
from symphony_mesh.engine.runtime import Engine, start_activation
from symphony_mesh.model import read_documents
from symphony_mesh.model.status import StateCode
from symphony_mesh.providers.base import (
    Completed,
    Outcome,
    Provider,
    ProviderCall,
    SiteView,
    Waiting,
)
from symphony_mesh.store.database import Database
from symphony_mesh.store.documents import DocumentStore


class Environment:
    site_id = "hub"
    script_dir = Path("/nonexistent")
    staging_dir = Path("/nonexistent")

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sites(self, *, subtree: bool) -> Sequence[SiteView]:
        return ()


async def echo(call: ProviderCall) -> Outcome:
    return Completed(dict(call.inputs))


async def hold(call: ProviderCall) -> Outcome:
    if call.wake is None:
        return Waiting(state={}, status=9995, waiting_for={"kind": "signal", "signal": "go"},
                       signal="go")  # fmt: skip
    return Completed({"payload": call.wake.payload})


PROVIDERS: dict[str, Provider] = {"providers.stage.mock": echo, "providers.stage.signal": hold}

CAMPAIGN = """
apiVersion: workflow.symphony/v1
kind: Campaign
metadata: {name: c}
---
apiVersion: workflow.symphony/v1
kind: CampaignVersion
metadata: {name: c-v-1}
spec:
  rootResource: c
  firstStage: a
  selfDriving: true
  stages:
    a:
      provider: providers.stage.mock
      inputs: {n: "${{$trigger(n, 0)}}"}
      stageSelector: b
    b:
      provider: providers.stage.mock
      contexts: [x, y]
      inputs: {who: "${{$input(__site)}}", prev: "${{$output(a, n)}}"}
---
apiVersion: workflow.symphony/v1
kind: Activation
metadata: {name: run1}
spec: {campaignversion: "c:1", inputs: {n: 7}}
"""


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[tuple[Database, DocumentStore]]:
    db = await Database.open(tmp_path / "mesh.db")
    try:
        yield db, DocumentStore(db)
    finally:
        await db.aclose()


def _engine(db: Database) -> Engine:
    return Engine(db, site_id="hub", environment=Environment(), providers=PROVIDERS.get)


async def _uid(documents: DocumentStore, name: str) -> str:
    return (await documents.get_activation(name)).stored.uid


async def test_self_driving_activation_runs_to_done(store: tuple[Database, DocumentStore]) -> None:
    db, documents = store
    plan = await documents.apply(read_documents(CAMPAIGN.encode(), "f"), "f")
    assert plan.valid
    engine = _engine(db)
    uid = await _uid(documents, "run1")
    queue = engine.subscribe(uid)
    await engine.start()  # starts every Pending activation
    try:
        while (await queue.get()).status != StateCode.DONE:
            pass
    finally:
        await engine.aclose()
    row = await documents.get_activation("run1")
    assert row.status.status == StateCode.DONE


async def test_a_signal_wait_is_dormant_and_survives_a_restart(
    store: tuple[Database, DocumentStore],
) -> None:
    db, documents = store
    text = CAMPAIGN.replace("provider: providers.stage.mock\n      inputs: {n:",
                            "provider: providers.stage.signal\n      inputs: {n:")  # fmt: skip
    assert (await documents.apply(read_documents(text.encode(), "f"), "f")).valid
    engine = _engine(db)
    uid = await _uid(documents, "run1")
    queue = engine.subscribe(uid)
    await engine.start()
    await engine.wake(uid, start_activation)  # a second start is a no-op
    while (await queue.get()).status != StateCode.PAUSED:
        pass
    assert engine.run_id_tasks() == 0, engine._calls  # dormant: no provider call in flight
    await engine.aclose()
    restarted = _engine(db)
    await restarted.start()
    try:
        assert restarted.run_id_tasks() == 0
        row = await documents.get_activation("run1")
        assert row.status.status == StateCode.PAUSED
    finally:
        await restarted.aclose()


QUEUED = """
apiVersion: workflow.symphony/v1
kind: Campaign
metadata: {name: q}
---
apiVersion: workflow.symphony/v1
kind: CampaignVersion
metadata: {name: q-v-1}
spec:
  rootResource: q
  firstStage: hold
  selfDriving: true
  concurrency: {max: 1}
  stages:
    hold: {provider: providers.stage.signal, inputs: {name: go}}
---
apiVersion: workflow.symphony/v1
kind: Activation
metadata: {name: first}
spec: {campaignversion: "q:1"}
---
apiVersion: workflow.symphony/v1
kind: Activation
metadata: {name: second}
spec: {campaignversion: "q:1"}
"""


async def test_concurrency_limit_queues_and_frees_slots(
    store: tuple[Database, DocumentStore],
) -> None:
    db, documents = store
    assert (await documents.apply(read_documents(QUEUED.encode(), "f"), "f")).valid
    engine = _engine(db)
    first, second = await _uid(documents, "first"), await _uid(documents, "second")
    queue = engine.subscribe(first)
    await engine.start()
    try:
        while (await queue.get()).status != StateCode.PAUSED:
            pass
        waiting = await documents.get_activation("second")
        assert waiting.status.status == StateCode.PENDING
        assert list(waiting.status.waiting_for) == [{"kind": "queue", "position": 1}]
        later = engine.subscribe(second)
        await engine.wake(first, SignalCommand("go", None))  # first ends: its slot frees
        while (await later.get()).status != StateCode.PAUSED:
            pass
        assert (await documents.get_activation("first")).status.status == StateCode.DONE
    finally:
        await engine.aclose()


async def forever(call: ProviderCall) -> Outcome:
    await asyncio.Event().wait()  # a provider call that never ends on its own
    raise AssertionError("unreachable")


SLOW = """
apiVersion: workflow.symphony/v1
kind: Campaign
metadata: {name: slow}
---
apiVersion: workflow.symphony/v1
kind: CampaignVersion
metadata: {name: slow-v-1}
spec:
  rootResource: slow
  firstStage: fan
  selfDriving: true
  stages:
    fan:
      provider: providers.stage.mock  # served by a provider that never returns
      contexts: [x]
      contextPolicy: {timeout: 0.2s}
      retry: {maxRetries: 1, interval: 0.05s}
---
apiVersion: workflow.symphony/v1
kind: Activation
metadata: {name: slow1}
spec: {campaignversion: "slow:1"}
"""


async def test_context_attempts_time_out_and_are_retried(
    store: tuple[Database, DocumentStore],
) -> None:
    db, documents = store
    plan = await documents.apply(read_documents(SLOW.encode(), "f"), "f")
    assert plan.valid, plan.violations
    providers = {**PROVIDERS, "providers.stage.mock": forever}
    engine = Engine(db, site_id="hub", environment=Environment(), providers=providers.get)
    uid = await _uid(documents, "slow1")
    queue = engine.subscribe(uid)
    await engine.start()
    try:
        while (await queue.get()).status in (9991, 9994, 9995, 9997):
            pass
    finally:
        await engine.aclose()
    row = await documents.get_activation("slow1")
    entry = row.status.stage_history[0]
    assert entry.contexts is not None
    context = entry.contexts["x"]
    assert (context.status, context.attempts) == (11004, 2)
    assert context.error == "Timed Out: context x did not finish within 0.2s"
    assert (row.status.status, row.status.error_message) == (500, "stage fan failed")
