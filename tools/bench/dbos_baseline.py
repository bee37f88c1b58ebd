"""The DBOS baseline of the engine benchmark: workflow steps per second on SQLite.

    .venv-dbos/bin/python tools/bench/dbos_baseline.py --db PATH [--workflows 200] [--runs 5]

Runs in its own virtualenv (`.venv-dbos`, made by `bench_engine` from `requirements-dbos.txt`):
DBOS is never a dependency of symphony-mesh. Each run starts `--workflows` workflows of three
steps at once and waits for all of them; steps/s is 3 x workflows over that time. DBOS
checkpoints every step's output (and the workflow's status at start and end) in its system
database; the database is put in the same durability mode as the engine's store, WAL and
`synchronous=FULL`, so both pay one fsync per commit.

Both DBOS execution models are measured: asyncio workflows started with `start_workflow_async`
on one event loop (the engine's model) and thread workflows started with `start_workflow` on
DBOS's executor pool. The printed JSON line holds the median steps/s of each and `best`, the
faster of the two, which is what the engine is compared against.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import time
import uuid
from importlib.metadata import version
from pathlib import Path
from typing import Any

# Both modules exist only in .venv-dbos (DBOS must never be a dependency of the project), so the
# project's mypy sees neither; they are used untyped and registered by call, not by decorator.
import sqlalchemy as sa  # type: ignore[import-not-found]
from dbos import DBOS, DBOSConfig, SetWorkflowID  # type: ignore[import-not-found]

STEPS = 3


def _durability(dbapi_connection: Any, _record: Any) -> None:
    """Every SQLite connection DBOS opens: fsync each commit, as the engine's store does."""
    dbapi_connection.execute("PRAGMA synchronous = FULL")


sa.event.listen(sa.engine.Engine, "connect", _durability)


async def _async_step(n: int) -> int:
    return n + 1


async_step = DBOS.step()(_async_step)


async def _async_workflow(n: int) -> int:
    for _ in range(STEPS):
        n = await async_step(n)
    return n


async_workflow = DBOS.workflow()(_async_workflow)


def _thread_step(n: int) -> int:
    return n + 1


thread_step = DBOS.step()(_thread_step)


def _thread_workflow(n: int) -> int:
    for _ in range(STEPS):
        n = thread_step(n)
    return n


thread_workflow = DBOS.workflow()(_thread_workflow)


async def _async_runs(workflows: int, runs: int) -> list[float]:
    """Seconds of each of `runs` rounds of asyncio workflows, on one event loop."""
    await _async_run(10)  # warm-up: first-use costs of the loop and the thread pool
    return [await _async_run(workflows) for _ in range(runs)]


async def _async_run(workflows: int) -> float:
    """Seconds for `workflows` asyncio workflows started together to finish."""
    started = time.perf_counter()
    handles = []
    for i in range(workflows):
        with SetWorkflowID(f"a-{uuid.uuid4()}"):
            handles.append(await DBOS.start_workflow_async(async_workflow, i))
    results = await asyncio.gather(*(handle.get_result() for handle in handles))
    elapsed = time.perf_counter() - started
    assert results == [i + STEPS for i in range(workflows)]
    return elapsed


def _thread_run(workflows: int) -> float:
    """Seconds for `workflows` thread workflows started together to finish."""
    started = time.perf_counter()
    handles = []
    for i in range(workflows):
        with SetWorkflowID(f"t-{uuid.uuid4()}"):
            handles.append(DBOS.start_workflow(thread_workflow, i))
    results = [handle.get_result() for handle in handles]
    elapsed = time.perf_counter() - started
    assert results == [i + STEPS for i in range(workflows)]
    return elapsed


def _wal(path: Path) -> None:
    """WAL is a property of the file: set it before DBOS creates its schema."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="DBOS workflow steps/s on SQLite")
    parser.add_argument("--db", type=Path, required=True, help="the SQLite file to create")
    parser.add_argument("--workflows", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    _wal(args.db)
    config: DBOSConfig = {
        "name": "symphony-mesh-bench",
        "system_database_url": f"sqlite:///{args.db}",
        "run_admin_server": False,
        "log_level": "WARNING",
    }
    DBOS(config=config)
    DBOS.launch()
    try:
        steps = STEPS * args.workflows
        asyncio_rates = [steps / s for s in asyncio.run(_async_runs(args.workflows, args.runs))]
        _thread_run(10)  # warm-up: the executor's threads
        thread_rates = [steps / _thread_run(args.workflows) for _ in range(args.runs)]
    finally:
        DBOS.destroy()
    asyncio_median = statistics.median(asyncio_rates)
    thread_median = statistics.median(thread_rates)
    print(
        json.dumps(
            {
                "dbos": version("dbos"),
                "workflows": args.workflows,
                "steps_per_workflow": STEPS,
                "asyncio_steps_per_s": asyncio_median,
                "thread_steps_per_s": thread_median,
                "best": max(asyncio_median, thread_median),
            }
        )
    )


if __name__ == "__main__":
    main()
