"""The vocabulary of validation: rules, problems, warnings and a per-document collector.

campaigns.md 3.2 reports the violations of a file "in document order, then in the order of this
table". Every problem therefore carries its `Rule`, whose value is its row in the table; a
document's problems are sorted by rule (stably, so that problems of one rule keep the order in
which the document was walked). Warnings (3.3) keep the order in which they were found.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from symphony_mesh.errors import FieldViolation
from symphony_mesh.model.durations import Duration, DurationError
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue

__all__ = [
    "DocumentReport",
    "Notice",
    "Problem",
    "Rule",
    "as_integer",
    "child",
    "item",
    "json_text",
]


class Rule(IntEnum):
    """The rows of the table in 3.2, in table order."""

    V1 = 1
    V2 = 2
    V3 = 3
    V4 = 4
    V4B = 5
    V5 = 6
    V6 = 7
    V7 = 8
    V8 = 9
    V9 = 10
    V10 = 11
    V11 = 12
    V12 = 13
    V13 = 14
    V14 = 15
    V15 = 16
    V16 = 17
    V17 = 18
    V18 = 19
    V19 = 20
    V20 = 21
    V21 = 22
    V22 = 23
    V23 = 24
    V24 = 25
    V25 = 26
    V26 = 27
    V27 = 28
    V28 = 29
    V29 = 30
    V30 = 31
    V31 = 32
    V32 = 33
    V33 = 34
    V34 = 35
    V35 = 36


@dataclass(frozen=True)
class Problem:
    """One validation error: the CLI prints `error: <doc>: <path>: <reason>`."""

    doc: str
    """`<kind>/<name>` or `document <n>`."""
    path: str
    """The field path; `""` when the problem concerns the whole document."""
    reason: str
    """The reason text of 3.2."""
    rule: Rule

    @property
    def field(self) -> str:
        """`<doc>: <path>` (or just `<doc>`), the `FieldViolation.field` of API-10."""
        return f"{self.doc}: {self.path}" if self.path else self.doc

    @property
    def line(self) -> str:
        """`<doc>: <path>: <reason>`, the error line without its `error: ` prefix."""
        return f"{self.field}: {self.reason}"

    def violation(self) -> FieldViolation:
        """As a `google.rpc.BadRequest` field violation."""
        return FieldViolation(field=self.field, description=self.reason)


@dataclass(frozen=True)
class Notice:
    """One apply warning: the CLI prints `warning: <doc>: <path>: <text>`."""

    doc: str
    path: str
    text: str

    @property
    def line(self) -> str:
        """`<doc>: <path>: <text>`, the form `AppliedObject.warnings` carries."""
        return f"{self.doc}: {self.path}: {self.text}"

    def __str__(self) -> str:
        return self.line


def child(path: str, key: str) -> str:
    """The path of a map entry: dots join keys."""
    return f"{path}.{key}" if path else key


def item(path: str, index: int) -> str:
    """The path of a list element: `[i]`, 0-based."""
    return f"{path}[{index}]"


def json_text(value: object) -> str:
    """A value as JSON in a message (`true`, `[1]`, `"abc"`)."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except ValueError:
        return str(value)


def as_integer(value: object) -> int | None:
    """An integer field's value: an int (not a bool) or a float with an integral value.

    Integral floats are accepted because documents re-applied from `get -o json` may have passed
    through a protobuf `Struct`, whose numbers are all doubles.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


@dataclass
class DocumentReport:
    """Collects the problems and warnings of one document while it is walked."""

    doc: str
    """How messages name the document."""
    problems: list[Problem] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def error(self, rule: Rule, path: str, reason: str) -> None:
        """Record a violation."""
        self.problems.append(Problem(self.doc, path, reason, rule))

    def warn(self, path: str, text: str) -> None:
        """Record a warning."""
        self.notices.append(Notice(self.doc, path, text))

    def sorted_problems(self) -> list[Problem]:
        """The problems in table order (stable within one rule)."""
        return sorted(self.problems, key=lambda problem: problem.rule)

    # --- readers of typed fields ---------------------------------------------------------

    def unknown_fields(self, obj: Mapping[str, object], allowed: frozenset[str], path: str) -> None:
        """V5 for every key of `obj` that is not in `allowed`."""
        for key in obj:
            if key not in allowed:
                self.error(Rule.V5, child(path, key), "unknown field")

    def map_field(
        self, obj: Mapping[str, JsonValue], key: str, path: str, rule: Rule = Rule.V6
    ) -> JsonMap | None:
        """A map field; None when absent or null, or (after an error) when not a map."""
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error(rule, child(path, key), "must be a map")
            return None
        return value

    def string_field(
        self, obj: Mapping[str, JsonValue], key: str, path: str, rule: Rule = Rule.V6
    ) -> str | None:
        """A string field; None when absent or null, or (after an error) when not a string."""
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(rule, child(path, key), "must be a string")
            return None
        return value

    def bool_field(self, obj: Mapping[str, JsonValue], key: str, path: str) -> bool | None:
        """A boolean field; None when absent or null, or (after an error) when not a boolean."""
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.error(Rule.V6, child(path, key), "must be a boolean")
            return None
        return value

    def duration_field(
        self, obj: Mapping[str, JsonValue], key: str, path: str, *, positive: bool = True
    ) -> Duration | None:
        """A duration field (V18); None when absent, null or invalid."""
        value = obj.get(key)
        if value is None:
            return None
        try:
            return Duration.parse(value, positive=positive)
        except DurationError:
            written = f'"{value}"' if isinstance(value, str) else json_text(value)
            self.error(Rule.V18, child(path, key), f"invalid duration {written}")
            return None

    def string_map(self, obj: Mapping[str, JsonValue], key: str, path: str) -> dict[str, str]:
        """A map string -> string (labels, annotations); problems are V6."""
        value = self.map_field(obj, key, path)
        if value is None:
            return {}
        result: dict[str, str] = {}
        for name, text in value.items():
            if isinstance(text, str):
                result[name] = text
            else:
                self.error(Rule.V6, child(child(path, key), name), "must be a string")
        return result
