"""The top-level commands, each imported only when it runs.

`symphony-mesh health` need not import the certificate or expression code, and a node process
(`node run`) carries no CLI rendering code in its memory: the group knows each command by the
module that defines it and imports that module on first use.
"""

from __future__ import annotations

import importlib

import click

__all__ = ["COMMANDS", "LazyGroup"]

COMMANDS: dict[str, tuple[str, str]] = {
    "apply": ("symphony_mesh.cli.documents", "apply"),
    "get": ("symphony_mesh.cli.documents", "get"),
    "delete": ("symphony_mesh.cli.documents", "delete"),
    "wait": ("symphony_mesh.cli.activation", "wait"),
    "activation": ("symphony_mesh.cli.activation", "activation"),
    "health": ("symphony_mesh.cli.health", "health"),
    "node": ("symphony_mesh.cli.node", "node"),
    "certs": ("symphony_mesh.cli.certs", "certs"),
    "expr": ("symphony_mesh.cli.expr_cmd", "expr"),
    "demo": ("symphony_mesh.cli.demo", "demo"),
}
"""Command name -> (module, attribute), in help order."""


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command
