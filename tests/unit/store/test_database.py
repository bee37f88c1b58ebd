"""The store: pragmas, units of work, migrations from every earlier version, the data-dir lock."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from symphony_mesh.store.database import Database
from symphony_mesh.store.lock import DataDirInUseError, DataDirLock
from symphony_mesh.store.meta import SiteMismatchError, claim_site
from symphony_mesh.store.migrations import MIGRATIONS, SchemaTooNewError, _statements


async def test_open_sets_wal_and_full_sync(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "mesh.db")
    try:
        mode = await db.read(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0])
        sync = await db.write(lambda c: c.execute("PRAGMA synchronous").fetchone()[0])
        version = await db.read(lambda c: c.execute("PRAGMA user_version").fetchone()[0])
    finally:
        await db.aclose()
    assert mode == "wal"
    assert sync == 2  # FULL
    assert version == len(MIGRATIONS) == db.schema_version


async def test_unit_of_work_is_atomic(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "mesh.db")

    def half_then_fail(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO node_meta(key, value) VALUES ('a', '1')")
        raise RuntimeError("boom")

    try:
        with pytest.raises(RuntimeError, match="boom"):
            await db.write(half_then_fail)
        rows = await db.read(lambda c: c.execute("SELECT * FROM node_meta").fetchall())
        await db.write(lambda c: c.execute("INSERT INTO node_meta VALUES ('b', '2')"))
        after = await db.read(lambda c: c.execute("SELECT key FROM node_meta").fetchall())
    finally:
        await db.aclose()
        await db.aclose()  # idempotent
    assert rows == []
    assert after == [("b",)]


@pytest.mark.parametrize("start", range(len(MIGRATIONS)))
async def test_upgrades_from_every_earlier_version(tmp_path: Path, start: int) -> None:
    path = tmp_path / "mesh.db"
    raw = sqlite3.connect(path, isolation_level=None)
    for number in range(1, start + 1):
        for statement in _statements(MIGRATIONS[number - 1]):
            raw.execute(statement)
        raw.execute(f"PRAGMA user_version = {number}")
    if start >= 1:
        raw.execute("INSERT INTO node_meta(key, value) VALUES ('site_id', 'hub')")
    raw.close()
    db = await Database.open(path)
    try:
        version = await db.read(lambda c: c.execute("PRAGMA user_version").fetchone()[0])
        check = await db.read(lambda c: c.execute("PRAGMA integrity_check").fetchone()[0])
        kept = await db.read(lambda c: c.execute("SELECT value FROM node_meta").fetchall())
    finally:
        await db.aclose()
    assert version == len(MIGRATIONS)
    assert check == "ok"
    assert kept == ([("hub",)] if start >= 1 else [])


async def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "mesh.db"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    raw.close()
    with pytest.raises(SchemaTooNewError, match="upgrade symphony-mesh"):
        await Database.open(path)


def test_lock_refuses_a_second_holder_and_names_the_pid(tmp_path: Path) -> None:
    first, second = DataDirLock(tmp_path), DataDirLock(tmp_path)
    first.acquire()
    try:
        with pytest.raises(DataDirInUseError) as caught:
            second.acquire()
    finally:
        first.release()
        first.release()  # idempotent
    assert str(caught.value) == (
        f"data directory {tmp_path} is in use by another node (pid {os.getpid()})"
    )
    second.acquire()  # free again once released
    second.release()


async def test_site_id_is_claimed_once(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "mesh.db")
    try:
        first = await db.write(lambda c: claim_site(c, "hub"))
        again = await db.write(lambda c: claim_site(c, "hub"))
        with pytest.raises(SiteMismatchError) as caught:
            await db.write(lambda c: claim_site(c, "tokyo"))
    finally:
        await db.aclose()
    assert first == again
    assert str(caught.value) == 'belongs to site "hub"; refusing to start as "tokyo"'
