"""The node's SQLite database: one writer, one reader, WAL, `synchronous=FULL`.

Every write is a *unit of work*: a plain function that receives the `sqlite3.Connection` and runs
its statements inside one `BEGIN IMMEDIATE` ... `COMMIT`. The whole function runs on the
connection's worker thread in one hop, so a transition costs one thread round trip however many
statements it has (the engine's throughput depends on it). Reads work the same way on a second
connection, which under WAL sees the last committed state without blocking the writer.

aiosqlite only exposes statement-level calls publicly; `_run` below is the one place that hands a
whole function to its worker thread (`Connection._execute`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from symphony_mesh.errors import StoreBusyError, StoreFullError
from symphony_mesh.store.migrations import MIGRATIONS, migrate

__all__ = ["Database", "UnitOfWork"]

T = TypeVar("T")
UnitOfWork = Callable[[sqlite3.Connection], T]

BUSY_TIMEOUT_MS = 5000
BUSY_RETRIES = 3


def _configure(connection: sqlite3.Connection) -> None:
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA foreign_keys = ON")


def _in_transaction(work: UnitOfWork[T], connection: sqlite3.Connection) -> T:
    connection.execute("BEGIN IMMEDIATE")
    try:
        result = work(connection)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return result


class Database:
    """An open store file. Use `await Database.open(path, site_id)` and `await db.aclose()`."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = writer
        self._reader = reader
        self._closed = False
        self.site_id = ""
        """Used in the STORE_FULL message; set by the node once it knows its id."""

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (or create) the store at `path` and bring its schema to the newest version."""
        writer = await aiosqlite.connect(path, isolation_level=None)
        try:
            await _run(writer, _configure)
            await _run(writer, migrate)
            reader = await aiosqlite.connect(path, isolation_level=None)
            await _run(reader, _configure)
        except BaseException:
            await writer.close()
            raise
        return cls(path, writer, reader)

    @property
    def schema_version(self) -> int:
        """The newest migration number this code knows."""
        return len(MIGRATIONS)

    async def write(self, work: UnitOfWork[T]) -> T:
        """Run `work` in one `BEGIN IMMEDIATE` transaction; retry a busy store a few times."""
        for attempt in range(BUSY_RETRIES + 1):
            try:
                return await _run(self._writer, _in_transaction, work)
            except sqlite3.OperationalError as exc:
                if _is_busy(exc) and attempt < BUSY_RETRIES:
                    continue
                raise self._translate(exc) from exc
        raise StoreBusyError()  # pragma: no cover - the loop always returns or raises

    async def read(self, work: UnitOfWork[T]) -> T:
        """Run `work` on the reader connection (a consistent snapshot per statement batch)."""
        try:
            return await _run(self._reader, _read_snapshot, work)
        except sqlite3.OperationalError as exc:
            raise self._translate(exc) from exc

    def _translate(self, exc: sqlite3.OperationalError) -> Exception:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return StoreFullError(self.site_id)
        if _is_busy(exc):
            return StoreBusyError()
        return exc

    async def aclose(self) -> None:
        """Checkpoint the WAL and close both connections; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            await _run(self._writer, _checkpoint)
        finally:
            await self._reader.close()
            await self._writer.close()


def _read_snapshot(work: UnitOfWork[T], connection: sqlite3.Connection) -> T:
    # A deferred transaction pins one WAL snapshot for all statements of `work`.
    connection.execute("BEGIN")
    try:
        return work(connection)
    finally:
        connection.execute("COMMIT")


def _checkpoint(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


async def _run(connection: aiosqlite.Connection, fn: Callable[..., T], *args: Any) -> T:
    """Run `fn(*args, sqlite_connection)` on the connection's worker thread in one hop."""
    raw: sqlite3.Connection = connection._conn  # private: see the module docstring
    result: T = await connection._execute(fn, *args, raw)  # type: ignore[no-untyped-call]
    return result
