"""The `symphony-mesh` command: the root group and the registration of every command group."""

from __future__ import annotations

import itertools
import os
import sys

import click

from symphony_mesh import __version__
from symphony_mesh.cli.options import GlobalOptions, root_options

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="symphony-mesh")
@root_options
@click.pass_context
def cli(ctx: click.Context) -> None:
    """symphony-mesh: run Symphony campaigns on a federated tree of nodes."""
    if not isinstance(ctx.obj, GlobalOptions):
        ctx.obj = GlobalOptions()


def _register() -> None:
    """Add every command group; each lives in its own module."""
    from symphony_mesh.cli import commands

    for command in commands.all_commands():
        cli.add_command(command)


def _quiet_grpc_core(argv: list[str]) -> None:
    """Keep gRPC core's INFO lines (handshake failures) out of CLI output.

    The CLI turns every failure into one `error:` line, so core's own log would only repeat it
    in a less readable form. A node (`node run`) keeps them: the server side of a refused client
    certificate is visible only there (federation.md SEC-45). Must run before grpc is imported.
    """
    words = [word for word in argv if not word.startswith("-")]
    running_node = ("node", "run") in itertools.pairwise(words)
    if not running_node:
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


def main() -> None:
    """Entry point of the console script and of `python -m symphony_mesh`."""
    _quiet_grpc_core(sys.argv[1:])
    _register()
    cli(prog_name="symphony-mesh")
