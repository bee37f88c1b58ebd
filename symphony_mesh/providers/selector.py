"""Label selectors of federation.md T-6 (the list provider's `selector`, `ListSites`).

A selector is a comma-separated list of terms that must all hold: `key=value`, `key!=value`,
`key` (the label exists) and `!key` (it does not). Whitespace around terms, keys and values is
ignored; the empty selector matches every site. Keys and values follow the label syntax of T-5,
so a selector that could never name a real label is refused rather than silently matching nothing:

    >>> LabelSelector.parse("region=eu, !canary").matches({"region": "eu"})
    True

A malformed selector raises `SelectorError`, whose text is the message T-6 prescribes:
`invalid label selector "<selector>": <reason>`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from symphony_mesh.model.jsonvalues import JsonValue
from symphony_mesh.providers.params import as_text

__all__ = ["LabelSelector", "Operator", "SelectorError", "Term"]

_KEY = re.compile(
    r"([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?"
)
_VALUE = re.compile(r"([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?")


class SelectorError(ValueError):
    """A selector that does not follow T-6; `str()` is the complete message."""

    selector: str
    """The selector as given."""
    reason: str
    """What is wrong with it."""

    def __init__(self, selector: str, reason: str) -> None:
        self.selector = selector
        self.reason = reason
        super().__init__(f'invalid label selector "{selector}": {reason}')


class Operator(Enum):
    """What one term requires of a label."""

    EQUALS = "="
    NOT_EQUALS = "!="
    EXISTS = "exists"
    ABSENT = "!"


@dataclass(frozen=True)
class Term:
    """One condition of a selector."""

    key: str
    operator: Operator
    value: str = ""
    """The compared value (`EQUALS`, `NOT_EQUALS`)."""

    def matches(self, labels: Mapping[str, JsonValue]) -> bool:
        """Whether the labels satisfy this term (`key!=value` holds when the key is absent)."""
        if self.operator is Operator.EXISTS:
            return self.key in labels
        if self.operator is Operator.ABSENT:
            return self.key not in labels
        present = self.key in labels and as_text(labels[self.key]) == self.value
        return present if self.operator is Operator.EQUALS else not present


@dataclass(frozen=True)
class LabelSelector:
    """A parsed selector: all terms must hold."""

    terms: tuple[Term, ...] = ()

    @classmethod
    def parse(cls, selector: str) -> LabelSelector:
        """Parse `selector`; raise `SelectorError` when it is malformed."""
        if not selector.strip():
            return cls()
        return cls(tuple(_term(selector, part.strip()) for part in selector.split(",")))

    def matches(self, labels: Mapping[str, JsonValue]) -> bool:
        """Whether every term holds for `labels` (the site's effective labels, T-5)."""
        return all(term.matches(labels) for term in self.terms)


def _term(selector: str, source: str) -> Term:
    if not source:
        raise SelectorError(selector, "empty term")
    if "!=" in source:
        key, value = (part.strip() for part in source.split("!=", 1))
        return Term(_key(selector, key), Operator.NOT_EQUALS, _value(selector, key, value))
    if "=" in source:
        key, value = (part.strip() for part in source.split("=", 1))
        return Term(_key(selector, key), Operator.EQUALS, _value(selector, key, value))
    if source.startswith("!"):
        return Term(_key(selector, source[1:].strip()), Operator.ABSENT)
    return Term(_key(selector, source), Operator.EXISTS)


def _key(selector: str, key: str) -> str:
    if not key:
        raise SelectorError(selector, "missing key")
    if _KEY.fullmatch(key) is None:
        raise SelectorError(selector, f'invalid key "{key}"')
    return key


def _value(selector: str, key: str, value: str) -> str:
    if _VALUE.fullmatch(value) is None:
        raise SelectorError(selector, f'invalid value "{value}" for key "{key}"')
    return value
