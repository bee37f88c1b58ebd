"""Printing answers: JSON, YAML and tables (campaigns.md 11.2, federation.md API-5).

Documents travel as `google.protobuf.Struct`, whose numbers are doubles; before printing, every
integral number within +-2^53 becomes an integer again (`200`, not `200.0`), as Symphony prints.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import click
import yaml
from google.protobuf import json_format, struct_pb2
from google.protobuf.message import Message

from symphony_mesh.model.jsonvalues import integral_numbers

__all__ = ["age", "emit", "message_to_dict", "struct_to_dict", "table"]

_DOCUMENT_ORDER = ("apiVersion", "kind", "metadata", "spec", "status")
_METADATA_ORDER = (
    "name", "namespace", "uid", "generation", "creationTimestamp", "labels", "annotations",
)  # fmt: skip
_STATUS_ORDER = (
    "status", "statusMessage", "updateTime", "stageHistory", "startedAt", "finishedAt",
    "errorMessage", "currentStage", "nextStage", "waitingFor", "cancelRequested", "cancelReason",
    "historyTotal", "campaignVersionGeneration", "stepInputs", "versions", "activeActivations",
)  # fmt: skip


def _ordered(value: Any, order: tuple[str, ...] = ()) -> Any:
    """Struct maps have no key order: print known keys in spec order, the rest sorted."""
    if isinstance(value, list):
        return [_ordered(item) for item in value]
    if not isinstance(value, dict):
        return value
    known = [key for key in order if key in value]
    rest = sorted(key for key in value if key not in order)
    children = {"metadata": _METADATA_ORDER, "status": _STATUS_ORDER} if order else {}
    return {key: _ordered(value[key], children.get(key, ())) for key in known + rest}


def struct_to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A document Struct as JSON values: integral numbers restored, keys in document order."""
    result: dict[str, Any] = _ordered(
        integral_numbers(json_format.MessageToDict(struct)), _DOCUMENT_ORDER
    )
    return result


def message_to_dict(message: Message) -> dict[str, Any]:
    """A message as its proto3 JSON form (lowerCamelCase, enums as names)."""
    return cast(
        dict[str, Any],
        integral_numbers(json_format.MessageToDict(message, preserving_proto_field_name=False)),
    )


def emit(value: Any, fmt: str) -> None:
    """Print a document (or `{"items": [...]}`) as JSON or YAML on stdout."""
    if fmt == "yaml":
        click.echo(yaml.safe_dump(value, sort_keys=False, allow_unicode=True), nl=False)
    else:
        click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain aligned table (the layout is informative, not normative)."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo(
            "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def age(timestamp: str | None, now: datetime | None = None) -> str:
    """kubectl-style age of an RFC 3339 time: `45s`, `12m`, `3h`, `5d`."""
    if not timestamp:
        return ""
    try:
        then = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return ""
    seconds = max(0, int(((now or datetime.now(UTC)) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
