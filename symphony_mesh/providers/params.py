"""Reading provider parameters: the value rules several providers share (campaigns.md section 9).

Config and inputs reach a provider already evaluated, as plain JSON values. Each provider reads
the few keys it knows through these helpers, so that an integer written as `3`, `3.0` or `"3"`
means the same everywhere, a flag may be `true` or `"true"`, and every message repeats a value the
same way: `<value as JSON>` is the compact JSON of expressions.md 2.4 (`"abc"`, `-1`, `true`).

Waiting providers keep absolute times in their resume state as ISO 8601 text with microseconds
(`state_time`/`parse_state_time`); the status document shows them with `format_time`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from symphony_mesh.expr import ExpressionError, compact_json, text, type_name
from symphony_mesh.model.jsonvalues import JsonValue

__all__ = [
    "MESSAGE_VALUE_LIMIT",
    "ParamError",
    "as_bool",
    "as_integer",
    "as_json",
    "as_text",
    "is_integer_text",
    "parse_state_time",
    "state_time",
]

MESSAGE_VALUE_LIMIT = 4096
"""Bytes of compact JSON a message repeats before it names the value's type instead."""

_SIGNED_DIGITS = re.compile(r"[+-]?[0-9]+")


class ParamError(Exception):
    """A config or input value a provider cannot use: it becomes `fail <code> <message>`."""

    code: int
    """The State code of the failure (400 Bad Request or 1000 Bad Config)."""
    message: str
    """The failure text as section 9 words it."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def is_integer_text(value: str) -> bool:
    """Whether `value` is an optional sign followed by ASCII digits (`"42"`, `"-3"`, `"+7"`)."""
    return _SIGNED_DIGITS.fullmatch(value) is not None


def as_integer(value: JsonValue) -> int | None:
    """An integer, a float with an integral value, or a string of a sign and digits; else None.

    Booleans are never numbers (expressions.md 2.1), although Python counts them as integers.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and is_integer_text(value):
        return int(value)
    return None


def as_bool(value: JsonValue) -> bool | None:
    """A boolean written as `true`/`false` or as the strings `"true"`/`"false"`; else None."""
    if isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    return None


def as_json(value: JsonValue) -> str:
    """`<value as JSON>` in a message: compact JSON, or `<type>` when that would be huge."""
    try:
        return compact_json(value, limit=MESSAGE_VALUE_LIMIT)
    except ExpressionError:
        # A value that is far too long to repeat (an input of megabytes) is named by its type.
        return f"<{type_name(value)}>"


def as_text(value: JsonValue) -> str:
    """The text rendering of expressions.md 2.3 (`null` is `""`, containers are compact JSON).

    A container too large to render (over the 1 MiB string limit) is named by its type instead.
    """
    try:
        return text(value)
    except ExpressionError:
        return f"<{type_name(value)}>"


def state_time(moment: datetime) -> str:
    """An absolute time as a resume state keeps it (ISO 8601, microseconds, offset)."""
    return moment.isoformat()


def parse_state_time(state: Mapping[str, JsonValue], key: str) -> datetime | None:
    """The time `state_time` wrote under `key`, or None when the key is absent or not a time."""
    value = state.get(key)
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
