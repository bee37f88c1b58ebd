"""The node's identity in its store: the site id (T-2) and the store incarnation (F-14)."""

from __future__ import annotations

import sqlite3
import uuid

__all__ = ["SiteMismatchError", "claim_site"]


class SiteMismatchError(Exception):
    """The store belongs to another site id; `str()` completes `data directory DIR ...`."""


def claim_site(connection: sqlite3.Connection, site_id: str) -> str:
    """Record `site_id` on first start, refuse another one later; return the incarnation."""
    rows = dict(connection.execute("SELECT key, value FROM node_meta").fetchall())
    stored = rows.get("site_id")
    if stored is not None and stored != site_id:
        raise SiteMismatchError(f'belongs to site "{stored}"; refusing to start as "{site_id}"')
    incarnation = rows.get("incarnation") or str(uuid.uuid4())
    connection.executemany(
        "INSERT OR IGNORE INTO node_meta(key, value) VALUES (?, ?)",
        [("site_id", site_id), ("incarnation", incarnation)],
    )
    return incarnation
