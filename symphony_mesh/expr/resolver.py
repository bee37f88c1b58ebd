"""Where `$config` and `$secret` get their values: the resolver protocol (expressions.md 8.5).

The evaluator does no I/O. It checks the names (rule 1 of 8.5), then asks the resolver of the
scope, which does the rest: whether a provider is configured, the lookup order and the errors of
a failed lookup. `symphony_mesh.expr.sources.LocalSources` is the real resolver (directories and
environment variables); this module holds the protocol, the helpers every resolver shares, and two
resolvers without I/O: `NO_SOURCES` (nothing configured) and `StaticSources` (values in memory,
for tests and embedders).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol

from symphony_mesh.expr.errors import ExpressionError, ExpressionLookupError
from symphony_mesh.expr.values import JsonValue

__all__ = [
    "NO_SOURCES",
    "ConfigResolver",
    "NoSources",
    "StaticSources",
    "check_name",
    "config_field_not_found",
    "environment_name",
    "not_configured",
    "secret_field_not_found",
]


class ConfigResolver(Protocol):
    """Answers `$config` and `$secret` for the process that evaluates an expression.

    Both methods receive names already checked by `check_name`; they return data (never
    evaluated) or raise `ExpressionError` with the messages of 8.5.
    """

    def config(self, object_name: str, field: str, overlays: Sequence[str]) -> JsonValue:
        """The value of `field`, looked up in each overlay in order, then in `object_name`."""
        ...

    def secret(self, object_name: str, field: str) -> str:
        """The secret `field` of `object_name`."""
        ...


def check_name(kind: str, name: str) -> None:
    """Rule 1 of 8.5: a name is not empty, has no `/` or `\\`, and is not `.` or `..`."""
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ExpressionError(f"invalid {kind} name {name}")


_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


def environment_name(prefix: str, object_name: str, field: str) -> str:
    """`<prefix><OBJECT>__<FIELD>`: upper-cased, every character but A-Z and 0-9 made `_`."""
    return (
        prefix
        + _NOT_ALNUM.sub("_", object_name.upper())
        + "__"
        + _NOT_ALNUM.sub("_", field.upper())
    )


def not_configured(kind: str) -> ExpressionError:
    """`config provider is not configured` / `secret provider is not configured`."""
    return ExpressionError(f"{kind} provider is not configured")


def config_field_not_found(field: str, object_name: str) -> ExpressionLookupError:
    """The lookup error of a `$config` without a hit."""
    return ExpressionLookupError(f"config field {field} is not found in object {object_name}")


def secret_field_not_found(field: str, object_name: str) -> ExpressionLookupError:
    """The lookup error of a `$secret` without a hit."""
    return ExpressionLookupError(f"secret field {field} is not found in object {object_name}")


class NoSources:
    """A resolver with no configuration and no secrets: every call says so."""

    def config(self, object_name: str, field: str, overlays: Sequence[str]) -> JsonValue:
        raise not_configured("config")

    def secret(self, object_name: str, field: str) -> str:
        raise not_configured("secret")


NO_SOURCES = NoSources()
"""The resolver of a scope that was given none."""


class StaticSources:
    """A resolver over values held in memory: `configs[object][field]`, `secrets[object][field]`.

    A mapping left as None means that provider is not configured.
    """

    def __init__(
        self,
        configs: Mapping[str, Mapping[str, JsonValue]] | None = None,
        secrets: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._configs = configs
        self._secrets = secrets

    def config(self, object_name: str, field: str, overlays: Sequence[str]) -> JsonValue:
        if self._configs is None:
            raise not_configured("config")
        for candidate in (*overlays, object_name):
            entries = self._configs.get(candidate)
            if entries is not None and field in entries:
                return entries[field]
        raise config_field_not_found(field, object_name)

    def secret(self, object_name: str, field: str) -> str:
        if self._secrets is None:
            raise not_configured("secret")
        entries = self._secrets.get(object_name)
        if entries is None or field not in entries:
            raise secret_field_not_found(field, object_name)
        return entries[field]
