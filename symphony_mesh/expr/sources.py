"""The local `$config`/`$secret` resolver: a config directory, a secret directory and the
`SYMPHONY_MESH_CONFIG__…`/`SYMPHONY_MESH_SECRET__…` environment variables (expressions.md 8.5).

This is the only module of the expression language that reads files or the environment. A node
builds it from its `engine.configDir`/`engine.secretDir` settings; `symphony-mesh expr` builds it
with `LocalSources.from_environment()` (`SYMPHONY_MESH_CONFIG_DIR`, `SYMPHONY_MESH_SECRET_DIR`).
Nothing is cached: each call sees the files and variables as they are at that moment. Every value
read is data and is never evaluated.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from symphony_mesh.expr.errors import ExpressionError
from symphony_mesh.expr.resolver import (
    check_name,
    config_field_not_found,
    environment_name,
    not_configured,
    secret_field_not_found,
)
from symphony_mesh.expr.values import JsonValue, decode_json

__all__ = [
    "CONFIG_DIR_VARIABLE",
    "CONFIG_PREFIX",
    "SECRET_DIR_VARIABLE",
    "SECRET_PREFIX",
    "LocalSources",
]

CONFIG_PREFIX = "SYMPHONY_MESH_CONFIG__"
"""Prefix of the variables that hold config fields (and make the config provider configured)."""
SECRET_PREFIX = "SYMPHONY_MESH_SECRET__"
"""Prefix of the variables that hold secrets (and make the secret provider configured)."""
CONFIG_DIR_VARIABLE = "SYMPHONY_MESH_CONFIG_DIR"
"""The config directory of `symphony-mesh expr`."""
SECRET_DIR_VARIABLE = "SYMPHONY_MESH_SECRET_DIR"
"""The secret directory of `symphony-mesh expr`."""

_CONFIG_SUFFIXES = (".json", ".yaml", ".yml")


class _NoAliasLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses aliases (a billion-laughs file stays harmless)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("YAML aliases are not allowed")
        return super().compose_node(parent, index)


def _as_json(value: object) -> JsonValue:
    """A YAML value as JSON: non-string keys and timestamps become strings."""
    if isinstance(value, dict):
        return {_key(key): _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _key(key: object) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return "" if key is None else str(key)


class LocalSources:
    """Config and secrets from local directories and environment variables.

    `config_dir` / `secret_dir` may be None (no directory) or name a directory that does not
    exist; the provider is configured when its directory exists or one variable with its prefix
    is set. `environ` defaults to the process environment, read at each call.
    """

    def __init__(
        self,
        config_dir: Path | None = None,
        secret_dir: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.config_dir = config_dir
        self.secret_dir = secret_dir
        self._environ = environ

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> LocalSources:
        """The sources of `symphony-mesh expr`: directories named by the `…_DIR` variables."""
        env = os.environ if environ is None else environ
        config_dir = env.get(CONFIG_DIR_VARIABLE) or None
        secret_dir = env.get(SECRET_DIR_VARIABLE) or None
        return cls(
            Path(config_dir) if config_dir else None,
            Path(secret_dir) if secret_dir else None,
            environ,
        )

    @property
    def environ(self) -> Mapping[str, str]:
        """The variables consulted (the live process environment unless others were given)."""
        return os.environ if self._environ is None else self._environ

    def _configured(self, directory: Path | None, prefix: str) -> bool:
        if directory is not None and directory.is_dir():
            return True
        return any(name.startswith(prefix) for name in self.environ)

    def config(self, object_name: str, field: str, overlays: Sequence[str]) -> JsonValue:
        """Overlays in order, then the object: its variable first, then its file."""
        for name in (object_name, field, *overlays):
            check_name("config", name)  # again here: these names become file names
        if not self._configured(self.config_dir, CONFIG_PREFIX):
            raise not_configured("config")
        environ = self.environ
        for candidate in (*overlays, object_name):
            variable = environment_name(CONFIG_PREFIX, candidate, field)
            if variable in environ:
                return environ[variable]
            entries = self._config_file(candidate)
            if entries is not None and field in entries:
                return entries[field]
        raise config_field_not_found(field, object_name)

    def _config_file(self, candidate: str) -> dict[str, JsonValue] | None:
        """The map in the first existing `<candidate>.json|.yaml|.yml`, or None if none exists."""
        if self.config_dir is None:
            return None
        for suffix in _CONFIG_SUFFIXES:
            path = self.config_dir / f"{candidate}{suffix}"
            if not path.is_file():
                continue
            invalid = ExpressionError(f"config object {candidate} is not a valid map")
            try:
                source = path.read_text(encoding="utf-8")
                if suffix == ".json":
                    data: object = decode_json(source)
                else:
                    data = _as_json(yaml.load(source, Loader=_NoAliasLoader))
            except (OSError, ValueError, yaml.YAMLError, RecursionError) as exc:
                raise invalid from exc
            if not isinstance(data, dict):
                raise invalid
            return data
        return None

    def secret(self, object_name: str, field: str) -> str:
        """The variable first, then the file `<secret dir>/<object>/<field>`."""
        check_name("secret", object_name)
        check_name("secret", field)
        if not self._configured(self.secret_dir, SECRET_PREFIX):
            raise not_configured("secret")
        variable = environment_name(SECRET_PREFIX, object_name, field)
        environ = self.environ
        if variable in environ:
            return environ[variable]
        if self.secret_dir is not None:
            path = self.secret_dir / object_name / field
            if path.is_file():
                try:
                    content = path.read_bytes().decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ExpressionError(
                        f"secret field {field} of object {object_name} is not UTF-8 text"
                    ) from exc
                except OSError as exc:
                    raise secret_field_not_found(field, object_name) from exc
                return content[:-1] if content.endswith("\n") else content
        raise secret_field_not_found(field, object_name)
