"""The `symphony-mesh` command: the root group and the registration of every command group."""

from __future__ import annotations

import itertools
import os
import sys

import click

from symphony_mesh import __version__
from symphony_mesh.cli.commands import LazyGroup
from symphony_mesh.cli.options import GlobalOptions, root_options

__all__ = ["cli", "main"]


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="symphony-mesh")
@root_options
@click.pass_context
def cli(ctx: click.Context) -> None:
    """symphony-mesh: run Symphony campaigns on a federated tree of nodes."""
    if not isinstance(ctx.obj, GlobalOptions):
        ctx.obj = GlobalOptions()


def _prepare_process(argv: list[str]) -> None:
    """Settings that must be made before grpc (or structlog) is first imported.

    - The CLI turns every failure into one `error:` line, so gRPC core's INFO lines (handshake
      failures) would only repeat it less readably; they are silenced. A node (`node run`) keeps
      them: the server side of a refused client certificate is visible only there (SEC-45).
    - A node never renders rich output, but structlog imports rich's traceback module whenever
      rich is installed; keeping rich out of the node process saves ~4 MiB of resident memory on
      every edge device (structlog then formats exceptions as plain text).
    """
    words = [word for word in argv if not word.startswith("-")]
    if ("node", "run") in itertools.pairwise(words):
        sys.modules.setdefault("rich", None)  # type: ignore[arg-type]
    else:
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


def main() -> None:
    """Entry point of the console script and of `python -m symphony_mesh`."""
    _prepare_process(sys.argv[1:])
    cli(prog_name="symphony-mesh")
