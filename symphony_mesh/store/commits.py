"""Group commit: many activations' transitions in one SQLite transaction.

A durable transition costs one fsync of the WAL (synchronous=FULL). Transitions of different
activations are independent, so the committer gathers whatever units are waiting, runs them on the
writer thread in one `BEGIN IMMEDIATE ... COMMIT` (one hop, one fsync), each inside its own
SAVEPOINT: a unit that raises (a lost compare-and-set, say) is rolled back alone and its caller
gets the exception, while the others commit. A caller's future resolves only after COMMIT
returned, so nothing is acknowledged before it is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from typing import Any

from symphony_mesh.store.database import Database

__all__ = ["GroupCommitter"]

Unit = Callable[[sqlite3.Connection], Any]
MAX_BATCH = 512


class GroupCommitter:
    """Batches units of work into shared transactions; `await commit(unit)` returns its result."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._queue: list[tuple[Unit, asyncio.Future[Any]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        """Start the commit loop (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="group-commit")

    async def commit(self, unit: Unit) -> Any:
        """Run `unit` in the next batch; its result, or its exception, once the batch committed."""
        if self._closed:
            raise RuntimeError("the store is closed")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((unit, future))
        self._wakeup.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._commit_batch(batch)

    async def _commit_batch(self, batch: list[tuple[Unit, asyncio.Future[Any]]]) -> None:
        units = [unit for unit, _ in batch]
        try:
            outcomes = await self._db.write(lambda connection: _run_units(connection, units))
        except BaseException as exc:  # the whole transaction failed: every caller learns why
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(exc))
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    async def aclose(self) -> None:
        """Commit what is queued, then stop the loop (idempotent)."""
        self._closed = True
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            await self._commit_batch(batch)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _run_units(connection: sqlite3.Connection, units: list[Unit]) -> list[tuple[bool, Any]]:
    outcomes: list[tuple[bool, Any]] = []
    for unit in units:
        connection.execute("SAVEPOINT unit")
        try:
            value = unit(connection)
        except Exception as exc:
            connection.execute("ROLLBACK TO unit")
            connection.execute("RELEASE unit")
            outcomes.append((False, exc))
            continue
        connection.execute("RELEASE unit")
        outcomes.append((True, value))
    return outcomes
