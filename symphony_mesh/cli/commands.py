"""The list of top-level commands. Each module owns one command or command group."""

from __future__ import annotations

import importlib

import click

__all__ = ["all_commands"]

# (module, attribute) of each top-level command, in help order. A module that is not there yet
# (work in progress on a branch) is skipped rather than breaking the whole CLI.
_COMMANDS: tuple[tuple[str, str], ...] = (
    ("symphony_mesh.cli.documents", "apply"),
    ("symphony_mesh.cli.documents", "get"),
    ("symphony_mesh.cli.documents", "delete"),
    ("symphony_mesh.cli.health", "health"),
    ("symphony_mesh.cli.node", "node"),
    ("symphony_mesh.cli.certs", "certs"),
    ("symphony_mesh.cli.expr_cmd", "expr"),
)


def all_commands() -> list[click.Command]:
    """Every top-level command, imported on demand."""
    found: list[click.Command] = []
    for module_name, attribute in _COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        found.append(getattr(module, attribute))
    return found
