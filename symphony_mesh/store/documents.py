"""Campaigns, campaign versions and activations in SQLite (campaigns.md 3.4, 3.5, 10.5).

Rows keep each document's metadata and spec as applied; the typed object is rebuilt from them
with the model's own checks (`check_document`), so what is read back is exactly what apply
accepted. Apply plans *inside* its write transaction: the stored objects the file refers to are
read, the plan is made, and every object is written in the same `BEGIN IMMEDIATE`, so a file is
all-or-nothing and never planned against a state another writer is changing.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from symphony_mesh.errors import FailedPreconditionError, NotFoundError
from symphony_mesh.model import (
    Activation,
    ApplyAction,
    ApplyPlan,
    Campaign,
    CampaignVersion,
    Document,
    DocumentKind,
    InMemoryObjects,
    RawDocument,
    StoredActivation,
    StoredCampaign,
    StoredCampaignVersion,
    plan_apply,
    prefetch_names,
)
from symphony_mesh.model.names import API_VERSION
from symphony_mesh.model.status import ActivationStatus, StateCode
from symphony_mesh.model.validation import check_document
from symphony_mesh.store.activation_status import activation_status
from symphony_mesh.store.database import Database
from symphony_mesh.store.runs import delete_run, load_history

__all__ = ["DocumentStore", "StoredActivationRow", "decode_document"]

DEFAULT_HISTORY = 50
"""History entries shown by default (10.4)."""

_UNFINISHED = tuple(
    int(code)
    for code in (StateCode.PENDING, StateCode.RUNNING, StateCode.PAUSED, StateCode.DELAYED)
)
_UNFINISHED_SQL = ",".join(str(code) for code in _UNFINISHED)


def _now() -> datetime:
    return datetime.now(UTC)


def _dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def decode_document(kind: str, name: str, spec: str) -> Document:
    """The typed document of a stored spec (labels and annotations left empty)."""
    return _decode(kind, name, "{}", "{}", spec)


@lru_cache(maxsize=4096)
def _decode(kind: str, name: str, labels: str, annotations: str, spec: str) -> Document:
    """The typed document of a row (cached: rows are immutable per their text)."""
    body = {
        "apiVersion": API_VERSION,
        "kind": DocumentKind(kind).kind_name,
        "metadata": {
            "name": name,
            "labels": json.loads(labels),
            "annotations": json.loads(annotations),
        },
        "spec": json.loads(spec),
    }
    checked = check_document(RawDocument(1, body), test_hooks=True)
    if checked.document is None:  # pragma: no cover - rows are written from valid documents
        raise RuntimeError(f"stored {kind}/{name} no longer validates")
    return checked.document


def _campaign(row: sqlite3.Row | tuple[Any, ...]) -> StoredCampaign:
    name, uid, generation, created_at, labels, annotations = row
    document = _decode("campaign", name, labels, annotations, "{}")
    assert isinstance(document, Campaign)
    return StoredCampaign(document, uid, datetime.fromisoformat(created_at), generation)


def _campaign_version(row: sqlite3.Row | tuple[Any, ...]) -> StoredCampaignVersion:
    name, uid, generation, created_at, labels, annotations, spec = row
    document = _decode("campaignversion", name, labels, annotations, spec)
    assert isinstance(document, CampaignVersion)
    return StoredCampaignVersion(document, uid, datetime.fromisoformat(created_at), generation)


@dataclass(frozen=True)
class StoredActivationRow:
    """A stored activation with its status and revision."""

    stored: StoredActivation
    status: ActivationStatus
    revision: int


def _activation(
    row: sqlite3.Row | tuple[Any, ...],
    connection: sqlite3.Connection | None = None,
    history_limit: int | None = DEFAULT_HISTORY,
) -> StoredActivationRow:
    """A stored activation; its history is read only when a connection is given."""
    name, uid, generation, created_at, labels, annotations, spec, status_doc, revision = row
    document = _decode("activation", name, labels, annotations, spec)
    assert isinstance(document, Activation)
    stored = StoredActivation(document, uid, datetime.fromisoformat(created_at), generation)
    history = load_history(connection, uid, history_limit) if connection is not None else []
    return StoredActivationRow(stored, activation_status(status_doc, history), revision)


_CAMPAIGN_COLUMNS = "name, uid, generation, created_at, labels, annotations"
_VERSION_COLUMNS = "name, uid, generation, created_at, labels, annotations, spec"
_ACTIVATION_COLUMNS = (
    "name, uid, generation, created_at, labels, annotations, spec, status_doc, revision"
)


def _load(
    connection: sqlite3.Connection, names: Iterable[str], table: str, columns: str
) -> list[Any]:
    wanted = sorted(names)
    if not wanted:
        return []
    marks = ",".join("?" * len(wanted))
    return connection.execute(
        f"SELECT {columns} FROM {table} WHERE name IN ({marks})", wanted
    ).fetchall()


def _prefetch(connection: sqlite3.Connection, documents: Sequence[RawDocument]) -> InMemoryObjects:
    names = prefetch_names(documents)
    objects = InMemoryObjects()
    objects.put(
        _campaign(r) for r in _load(connection, names.campaigns, "campaign", _CAMPAIGN_COLUMNS)
    )
    objects.put(
        _campaign_version(r)
        for r in _load(connection, names.campaign_versions, "campaign_version", _VERSION_COLUMNS)
    )
    objects.put(
        _activation(r).stored
        for r in _load(connection, names.activations, "activation", _ACTIVATION_COLUMNS)
    )
    return objects


def _active_activations(connection: sqlite3.Connection) -> Callable[[str], int]:
    def count(version: str) -> int:
        row = connection.execute(
            f"SELECT COUNT(*) FROM activation WHERE campaign_version = ? "
            f"AND status IN ({_UNFINISHED_SQL})",
            (version,),
        ).fetchone()
        return int(row[0])

    return count


class DocumentStore:
    """Typed access to the documents of one node's store."""

    def __init__(self, db: Database, *, test_hooks: bool = False) -> None:
        self._db = db
        self._test_hooks = test_hooks

    # --- apply ---------------------------------------------------------------------------------

    async def apply(
        self, documents: Sequence[RawDocument], source: str, *, dry_run: bool = False
    ) -> ApplyPlan:
        """Plan a file; when valid (and not a dry run) store all of it in one transaction."""

        def plan(connection: sqlite3.Connection) -> ApplyPlan:
            return plan_apply(
                documents,
                source,
                _prefetch(connection, documents),
                test_hooks=self._test_hooks,
                active_activations=_active_activations(connection),
            )

        def plan_and_write(connection: sqlite3.Connection) -> ApplyPlan:
            planned = plan(connection)
            if planned.valid:
                _write_plan(connection, planned, _now())
            return planned

        if dry_run:
            return await self._db.read(plan)
        return await self._db.write(plan_and_write)

    # --- campaigns -----------------------------------------------------------------------------

    async def get_campaign(self, name: str) -> tuple[StoredCampaign, list[str]]:
        """The campaign and the names of its versions; NotFoundError when missing."""

        def read(connection: sqlite3.Connection) -> tuple[StoredCampaign, list[str]]:
            rows = _load(connection, [name], "campaign", _CAMPAIGN_COLUMNS)
            if not rows:
                raise _not_found("campaign", name)
            return _campaign(rows[0]), _version_names(connection, name)

        return await self._db.read(read)

    async def list_campaigns(
        self, after: str, limit: int
    ) -> list[tuple[StoredCampaign, list[str]]]:
        """Up to `limit` campaigns named after `after`, by name."""

        def read(connection: sqlite3.Connection) -> list[tuple[StoredCampaign, list[str]]]:
            rows = connection.execute(
                f"SELECT {_CAMPAIGN_COLUMNS} FROM campaign WHERE name > ? ORDER BY name LIMIT ?",
                (after, limit),
            ).fetchall()
            return [(_campaign(row), _version_names(connection, row[0])) for row in rows]

        return await self._db.read(read)

    async def delete_campaign(self, name: str) -> None:
        """Delete a campaign without versions (CAMPAIGN_NOT_EMPTY otherwise)."""

        def write(connection: sqlite3.Connection) -> None:
            if not connection.execute("SELECT 1 FROM campaign WHERE name = ?", (name,)).fetchone():
                raise _not_found("campaign", name)
            versions = _version_names(connection, name)
            if versions:
                raise FailedPreconditionError(
                    f'campaign "{name}" still has versions: {", ".join(versions)}',
                    "CAMPAIGN_NOT_EMPTY",
                )
            connection.execute("DELETE FROM campaign WHERE name = ?", (name,))

        await self._db.write(write)

    # --- campaign versions ---------------------------------------------------------------------

    async def get_campaign_version(self, name: str) -> tuple[StoredCampaignVersion, int]:
        """The campaign version (by object name) and its unfinished activation count."""

        def read(connection: sqlite3.Connection) -> tuple[StoredCampaignVersion, int]:
            rows = _load(connection, [name], "campaign_version", _VERSION_COLUMNS)
            if not rows:
                raise _not_found("campaign version", name)
            return _campaign_version(rows[0]), _active_activations(connection)(name)

        return await self._db.read(read)

    async def list_campaign_versions(
        self, campaign: str, after: str, limit: int
    ) -> list[tuple[StoredCampaignVersion, int]]:
        """Up to `limit` versions (of `campaign`, when given) named after `after`, by name."""

        def read(connection: sqlite3.Connection) -> list[tuple[StoredCampaignVersion, int]]:
            rows = connection.execute(
                f"SELECT {_VERSION_COLUMNS} FROM campaign_version "
                "WHERE name > ? AND (? = '' OR campaign = ?) ORDER BY name LIMIT ?",
                (after, campaign, campaign, limit),
            ).fetchall()
            count = _active_activations(connection)
            return [(_campaign_version(row), count(row[0])) for row in rows]

        return await self._db.read(read)

    async def delete_campaign_version(self, name: str) -> None:
        """Delete a version no unfinished activation uses (CAMPAIGN_VERSION_IN_USE otherwise)."""

        def write(connection: sqlite3.Connection) -> None:
            found = connection.execute("SELECT 1 FROM campaign_version WHERE name = ?", (name,))
            if not found.fetchone():
                raise _not_found("campaign version", name)
            active = _active_activations(connection)(name)
            if active:
                raise FailedPreconditionError(
                    f'campaign version "{name}" is used by {active} unfinished activation(s)',
                    "CAMPAIGN_VERSION_IN_USE",
                    metadata={"campaignVersion": name},
                )
            connection.execute("DELETE FROM campaign_version WHERE name = ?", (name,))

        await self._db.write(write)

    # --- activations ---------------------------------------------------------------------------

    async def get_activation(
        self, name: str, history_limit: int | None = DEFAULT_HISTORY
    ) -> StoredActivationRow:
        """The activation with its status and last `history_limit` entries (None: all)."""

        def read(connection: sqlite3.Connection) -> StoredActivationRow:
            rows = _load(connection, [name], "activation", _ACTIVATION_COLUMNS)
            if not rows:
                raise _not_found("activation", name)
            return _activation(rows[0], connection, history_limit)

        return await self._db.read(read)

    async def list_activations(
        self, campaign_version: str, statuses: Sequence[int], after: str, limit: int
    ) -> list[StoredActivationRow]:
        """Up to `limit` activations named after `after`, by name, optionally filtered."""

        def read(connection: sqlite3.Connection) -> list[StoredActivationRow]:
            sql = f"SELECT {_ACTIVATION_COLUMNS} FROM activation WHERE name > ?"
            args: list[Any] = [after]
            if campaign_version:
                sql += " AND campaign_version = ?"
                args.append(campaign_version)
            if statuses:
                sql += f" AND status IN ({','.join('?' * len(statuses))})"
                args += list(statuses)
            rows = connection.execute(sql + " ORDER BY name LIMIT ?", [*args, limit]).fetchall()
            return [_activation(row, connection) for row in rows]

        return await self._db.read(read)

    async def delete_activation(self, name: str) -> str:
        """Delete an activation with its engine state and history; return its uid."""

        def write(connection: sqlite3.Connection) -> str:
            found = connection.execute("SELECT uid FROM activation WHERE name = ?", (name,))
            row = found.fetchone()
            if row is None:
                raise _not_found("activation", name)
            connection.execute("DELETE FROM activation WHERE name = ?", (name,))
            delete_run(connection, row[0])
            return str(row[0])

        return await self._db.write(write)


def _version_names(connection: sqlite3.Connection, campaign: str) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM campaign_version WHERE campaign = ? ORDER BY name", (campaign,)
    ).fetchall()
    return [row[0] for row in rows]


def _not_found(kind: str, name: str) -> NotFoundError:
    reason = {
        "campaign": "CAMPAIGN_NOT_FOUND",
        "campaign version": "CAMPAIGN_VERSION_NOT_FOUND",
        "activation": "ACTIVATION_NOT_FOUND",
    }[kind]
    key = {"campaign": "campaign", "campaign version": "campaignVersion"}.get(kind, "activation")
    return NotFoundError(f'{kind} "{name}" not found', reason, metadata={key: name})


def _write_plan(connection: sqlite3.Connection, plan: ApplyPlan, now: datetime) -> None:
    """Store every created or configured object, campaigns first (3.4)."""
    stamp = now.isoformat()
    for planned in plan.in_store_order():
        if planned.action is ApplyAction.UNCHANGED:
            continue
        document = planned.document
        labels = _dump(dict(document.metadata.labels))
        annotations = _dump(dict(document.metadata.annotations))
        created = planned.action is ApplyAction.CREATED
        uid = planned.uid or str(uuid.uuid4())
        if isinstance(document, Campaign):
            if created:
                connection.execute(
                    "INSERT INTO campaign VALUES (?, ?, 1, ?, ?, ?, ?)",
                    (document.name, uid, stamp, stamp, labels, annotations),
                )
            else:
                connection.execute(
                    "UPDATE campaign SET labels = ?, annotations = ?, updated_at = ? "
                    "WHERE name = ?",
                    (labels, annotations, stamp, document.name),
                )
        elif isinstance(document, CampaignVersion):
            spec = _dump(document.spec)
            if created:
                connection.execute(
                    "INSERT INTO campaign_version VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (document.name, document.root_resource, document.version, uid,
                     planned.generation, stamp, stamp, labels, annotations, spec),
                )  # fmt: skip
            else:
                connection.execute(
                    "UPDATE campaign_version SET generation = ?, updated_at = ?, labels = ?, "
                    "annotations = ?, spec = ? WHERE name = ?",
                    (planned.generation, stamp, labels, annotations, spec, document.name),
                )
        else:
            _write_activation(connection, document, uid, created, stamp, labels, annotations)


def _write_activation(
    connection: sqlite3.Connection,
    document: Document,
    uid: str,
    created: bool,
    stamp: str,
    labels: str,
    annotations: str,
) -> None:
    assert isinstance(document, Activation)
    if not created:
        connection.execute(
            "UPDATE activation SET labels = ?, annotations = ?, updated_at = ?, "
            "revision = revision + 1 WHERE name = ?",
            (labels, annotations, stamp, document.name),
        )
        return
    version = connection.execute(
        "SELECT spec, generation FROM campaign_version WHERE name = ?",
        (document.campaign_version_name,),
    ).fetchone()
    status = {
        "status": int(StateCode.PENDING),
        "updateTime": stamp,
        "waitingFor": [],
    }
    connection.execute(
        "INSERT INTO activation VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
        (document.name, uid, document.campaign_version_name, stamp, stamp, labels, annotations,
         _dump(document.spec), version[0], version[1], int(StateCode.PENDING), _dump(status)),
    )  # fmt: skip
