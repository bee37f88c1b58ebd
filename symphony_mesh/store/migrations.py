"""Numbered schema migrations, tracked with `PRAGMA user_version`.

Migration `n` (1-based) brings a store from version `n - 1` to `n`. Migrations are append-only:
a released migration is never edited, a change is a new entry. Each runs in its own transaction
together with the `user_version` bump, so a crash leaves the store at a whole version.
"""

from __future__ import annotations

import sqlite3

__all__ = ["MIGRATIONS", "SchemaTooNewError", "migrate"]


MIGRATIONS: tuple[str, ...] = (
    # 1: node identity and the documents of campaigns.md section 2.
    """
    CREATE TABLE node_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE campaign (
        name        TEXT PRIMARY KEY,
        uid         TEXT NOT NULL,
        generation  INTEGER NOT NULL,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        labels      TEXT NOT NULL,
        annotations TEXT NOT NULL
    );

    CREATE TABLE campaign_version (
        name        TEXT PRIMARY KEY,
        campaign    TEXT NOT NULL REFERENCES campaign(name),
        version     TEXT NOT NULL,
        uid         TEXT NOT NULL,
        generation  INTEGER NOT NULL,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        labels      TEXT NOT NULL,
        annotations TEXT NOT NULL,
        spec        TEXT NOT NULL
    );
    CREATE INDEX campaign_version_by_campaign ON campaign_version(campaign, name);

    CREATE TABLE activation (
        name                TEXT PRIMARY KEY,
        uid                 TEXT NOT NULL UNIQUE,
        campaign_version    TEXT NOT NULL,
        generation          INTEGER NOT NULL,
        created_at          TEXT NOT NULL,
        updated_at          TEXT NOT NULL,
        labels              TEXT NOT NULL,
        annotations         TEXT NOT NULL,
        spec                TEXT NOT NULL,
        snapshot            TEXT NOT NULL,
        snapshot_generation INTEGER NOT NULL,
        status              INTEGER NOT NULL,
        revision            INTEGER NOT NULL,
        status_doc          TEXT NOT NULL
    );
    CREATE INDEX activation_by_version ON activation(campaign_version, status);
    """,
    # 2: the workflow engine. One row of engine state per started activation (cursor, inputs,
    # outputs context, provider state, pending contexts, waits, timers, step keys, queued
    # signals) and one row per history entry (campaigns.md 4.12, 10.4).
    """
    CREATE TABLE activation_run (
        uid   TEXT PRIMARY KEY,
        state TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE stage_history (
        uid   TEXT NOT NULL,
        seq   INTEGER NOT NULL,
        entry TEXT NOT NULL,
        PRIMARY KEY (uid, seq)
    ) WITHOUT ROWID;
    """,
)


class SchemaTooNewError(RuntimeError):
    """The store was written by a newer symphony-mesh than this one."""


def migrate(connection: sqlite3.Connection) -> int:
    """Apply every missing migration; return the resulting version."""
    current = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if current > len(MIGRATIONS):
        raise SchemaTooNewError(
            f"the store has schema version {current}; this symphony-mesh knows up to "
            f"{len(MIGRATIONS)} (upgrade symphony-mesh)"
        )
    for number in range(current + 1, len(MIGRATIONS) + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[number - 1]):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    return len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    # executescript() would commit implicitly; split so the bump shares the transaction.
    return [part.strip() for part in script.split(";") if part.strip()]
