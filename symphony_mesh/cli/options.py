"""Global CLI options, accepted before and after the subcommand (campaigns.md 13.1).

`symphony-mesh -o json get activation a1` and `symphony-mesh get activation a1 -o json` are the
same command, as with kubectl. The root group declares the options (with their environment
variables); `@global_options` repeats them on every leaf command, where a value given explicitly
overrides the root's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["GlobalOptions", "get_options", "global_options", "root_options"]

OUTPUT_FORMATS = ("table", "json", "yaml")
DEFAULT_SERVER = "127.0.0.1:7443"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class GlobalOptions:
    """How the CLI reaches a node and prints its answers."""

    server: str = DEFAULT_SERVER
    """`HOST:PORT` of the node (`--server`, env `SYMPHONY_MESH_SERVER`)."""
    tls_dir: Path | None = None
    """Directory with the operator's `ca.pem`, `cert.pem`, `key.pem` (`--tls-dir`)."""
    insecure: bool = False
    """Plaintext, no authentication (`--insecure`)."""
    tls_server_name: str | None = None
    """Name checked in the server certificate; default: the host of `server`."""
    output: str = "table"
    """`table`, `json` or `yaml` (`-o/--output`)."""


_FIELDS = {
    "server": "server",
    "tls_dir": "tls_dir",
    "insecure": "insecure",
    "tls_server_name": "tls_server_name",
    "output": "output",
}


def get_options(ctx: click.Context | None = None) -> GlobalOptions:
    """The effective global options of the running command."""
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, GlobalOptions):
        root.obj = GlobalOptions()
    return root.obj


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Record an explicitly given value (a leaf's value beats the root's)."""
    if value is None or (param.name == "insecure" and value is False):
        return value
    source = ctx.get_parameter_source(param.name or "")
    if source is click.core.ParameterSource.DEFAULT and ctx.parent is not None:
        return value
    options = get_options(ctx)
    assert param.name is not None
    field = _FIELDS[param.name]
    if field == "tls_dir":
        value = Path(value)
    ctx.find_root().obj = replace(options, **{field: value})
    return value


def _option_decorators(with_env: bool) -> list[Callable[[Any], Any]]:
    def env(name: str) -> str | None:
        return name if with_env else None

    return [
        click.option(
            "--server",
            metavar="HOST:PORT",
            envvar=env("SYMPHONY_MESH_SERVER"),
            default=DEFAULT_SERVER if with_env else None,
            callback=_store,
            expose_value=False,
            is_eager=True,
            help="Node to talk to (default 127.0.0.1:7443).",
        ),
        click.option(
            "--tls-dir",
            type=click.Path(file_okay=False),
            envvar=env("SYMPHONY_MESH_TLS_DIR"),
            callback=_store,
            expose_value=False,
            is_eager=True,
            help="Directory with ca.pem, cert.pem and key.pem of an operator.",
        ),
        click.option(
            "--insecure",
            is_flag=True,
            default=False,
            envvar=env("SYMPHONY_MESH_INSECURE"),
            callback=_store,
            expose_value=False,
            is_eager=True,
            help="Talk plaintext without authentication.",
        ),
        click.option(
            "--tls-server-name",
            metavar="NAME",
            envvar=env("SYMPHONY_MESH_TLS_SERVER_NAME"),
            callback=_store,
            expose_value=False,
            is_eager=True,
            help="Name to check in the server certificate (default: the host of --server).",
        ),
        click.option(
            "-o",
            "--output",
            type=click.Choice(OUTPUT_FORMATS),
            default="table" if with_env else None,
            callback=_store,
            expose_value=False,
            is_eager=True,
            help="Output format.",
        ),
    ]


def _apply(decorators: list[Callable[[Any], Any]], f: F) -> F:
    decorated: Any = f
    for decorator in reversed(decorators):
        decorated = decorator(decorated)
    return decorated  # type: ignore[no-any-return]


def root_options(f: F) -> F:
    """The global options on the root group, with their environment variables and defaults."""
    return _apply(_option_decorators(with_env=True), f)


def global_options(f: F) -> F:
    """The global options repeated on a leaf command (explicit values override the root's)."""
    return _apply(_option_decorators(with_env=False), f)
