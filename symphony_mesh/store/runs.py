"""The workflow engine's rows: per-activation state, history entries, and transitions with CAS.

A transition is one unit of work (run by the group committer): it checks and bumps the
activation's `revision` (compare-and-set, campaigns.md 4.12), writes the activation's status and
engine state, and upserts the history entries it touched. A unit computed from a stale revision
raises `StaleRevision` and writes nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from symphony_mesh.model.status import StateCode

__all__ = [
    "RunRow",
    "StaleRevision",
    "Transition",
    "admission",
    "delete_run",
    "load_history",
    "load_run",
    "purge_finished",
    "unfinished",
]

_UNFINISHED = (
    int(StateCode.PENDING),
    int(StateCode.RUNNING),
    int(StateCode.PAUSED),
    int(StateCode.DELAYED),
)


class StaleRevision(Exception):
    """The activation changed since the transition was computed; recompute it."""


def _dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class RunRow:
    """What the engine needs to continue one activation."""

    uid: str
    name: str
    campaign_version: str
    spec: str
    """The activation's spec JSON as applied."""
    snapshot: str
    """The campaign version's spec JSON when the activation was created."""
    snapshot_generation: int
    status: int
    revision: int
    created_at: str
    state: str | None
    """Engine state JSON; None before the activation started."""


def load_run(connection: sqlite3.Connection, uid: str) -> RunRow | None:
    """The activation with this uid, or None when it was deleted."""
    row = connection.execute(
        "SELECT a.uid, a.name, a.campaign_version, a.spec, a.snapshot, a.snapshot_generation, "
        "a.status, a.revision, a.created_at, r.state FROM activation a "
        "LEFT JOIN activation_run r ON r.uid = a.uid WHERE a.uid = ?",
        (uid,),
    ).fetchone()
    return None if row is None else RunRow(*row)


def unfinished(connection: sqlite3.Connection) -> list[tuple[str, int, str]]:
    """(uid, status, campaign version) of every activation that is not terminal, in creation
    order (Pending ones keep their queue order)."""
    marks = ",".join(str(code) for code in _UNFINISHED)
    rows = connection.execute(
        f"SELECT uid, status, campaign_version FROM activation WHERE status IN ({marks}) "
        "ORDER BY created_at, name"
    ).fetchall()
    return [(row[0], int(row[1]), row[2]) for row in rows]


def load_history(connection: sqlite3.Connection, uid: str, limit: int | None) -> list[str]:
    """History entry JSON, oldest first; the last `limit` entries (all when None)."""
    if limit is None:
        rows = connection.execute(
            "SELECT entry FROM stage_history WHERE uid = ? ORDER BY seq", (uid,)
        ).fetchall()
    else:
        rows = connection.execute(
            "SELECT entry FROM (SELECT seq, entry FROM stage_history WHERE uid = ? "
            "ORDER BY seq DESC LIMIT ?) ORDER BY seq",
            (uid, limit),
        ).fetchall()
    return [row[0] for row in rows]


@dataclass(frozen=True)
class Transition:
    """One committed step of one activation."""

    uid: str
    expected_revision: int
    status: int
    status_doc: dict[str, object]
    state: dict[str, object]
    entries: Sequence[tuple[int, dict[str, object]]] = ()
    """History entries to insert or replace, by sequence number."""

    def __call__(self, connection: sqlite3.Connection) -> int:
        """Apply it; return the new revision or raise `StaleRevision`."""
        updated = connection.execute(
            "UPDATE activation SET status = ?, status_doc = ?, revision = revision + 1, "
            "updated_at = ? WHERE uid = ? AND revision = ?",
            (
                self.status,
                _dump(self.status_doc),
                str(self.status_doc.get("updateTime", "")),
                self.uid,
                self.expected_revision,
            ),
        )
        if updated.rowcount != 1:
            raise StaleRevision(self.uid)
        connection.execute(
            "INSERT INTO activation_run(uid, state) VALUES (?, ?) "
            "ON CONFLICT(uid) DO UPDATE SET state = excluded.state",
            (self.uid, _dump(self.state)),
        )
        if self.entries:
            connection.executemany(
                "INSERT INTO stage_history(uid, seq, entry) VALUES (?, ?, ?) "
                "ON CONFLICT(uid, seq) DO UPDATE SET entry = excluded.entry",
                [(self.uid, seq, _dump(entry)) for seq, entry in self.entries],
            )
        return self.expected_revision + 1


def delete_run(connection: sqlite3.Connection, uid: str) -> None:
    """Forget an activation's engine rows (with the activation itself, 3.5)."""
    connection.execute("DELETE FROM activation_run WHERE uid = ?", (uid,))
    connection.execute("DELETE FROM stage_history WHERE uid = ?", (uid,))


def admission(
    connection: sqlite3.Connection, campaign_version: str
) -> tuple[int | None, int, list[str]]:
    """The version's current concurrency limit (None: unlimited), how many of its activations
    have started and not ended, and its Pending activations in creation order (8.7)."""
    row = connection.execute(
        "SELECT spec FROM campaign_version WHERE name = ?", (campaign_version,)
    ).fetchone()
    limit = None
    if row is not None:
        concurrency = json.loads(row[0]).get("concurrency") or {}
        if isinstance(concurrency, dict) and isinstance(concurrency.get("max"), int | float):
            limit = int(concurrency["max"])
    started = [int(code) for code in _UNFINISHED if code != int(StateCode.PENDING)]
    marks = ",".join(str(code) for code in started)
    running = connection.execute(
        f"SELECT COUNT(*) FROM activation WHERE campaign_version = ? AND status IN ({marks})",
        (campaign_version,),
    ).fetchone()[0]
    pending = connection.execute(
        "SELECT uid FROM activation WHERE campaign_version = ? AND status = ? "
        "ORDER BY created_at, name",
        (campaign_version, int(StateCode.PENDING)),
    ).fetchall()
    return limit, int(running), [row[0] for row in pending]


def purge_finished(connection: sqlite3.Connection, finished_before: str) -> list[str]:
    """Delete terminal activations that finished before this time (8.9); return their uids.

    `finished_before` is an engine time (`isoformat` in UTC), comparable as text with the
    `finishedAt` the engine stores.
    """
    marks = ",".join(str(code) for code in _UNFINISHED)
    rows = connection.execute(
        f"SELECT uid FROM activation WHERE status NOT IN ({marks}) "
        "AND json_extract(status_doc, '$.finishedAt') < ?",
        (finished_before,),
    ).fetchall()
    uids = [row[0] for row in rows]
    for uid in uids:
        connection.execute("DELETE FROM activation WHERE uid = ?", (uid,))
        delete_run(connection, uid)
    return uids
