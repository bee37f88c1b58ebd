"""Run the CLI in-process (fast) with click's runner; `run_cli` in `nodes` runs it as a process."""

from __future__ import annotations

from dataclasses import dataclass

from click.testing import CliRunner

from symphony_mesh.cli import main as cli_main

__all__ = ["Invocation", "invoke"]


@dataclass(frozen=True)
class Invocation:
    """What one in-process CLI run printed and returned."""

    code: int
    stdout: str
    stderr: str


def invoke(*args: str, stdin: str | bytes | None = None) -> Invocation:
    """`symphony-mesh ARGS` in this process; the environment is cleared of SYMPHONY_MESH_*."""
    runner = CliRunner()
    env = {
        "SYMPHONY_MESH_SERVER": None,
        "SYMPHONY_MESH_TLS_DIR": None,
        "SYMPHONY_MESH_INSECURE": None,
        "SYMPHONY_MESH_TLS_SERVER_NAME": None,
    }
    result = runner.invoke(cli_main.cli, list(args), input=stdin, env=env, catch_exceptions=False)
    return Invocation(result.exit_code, result.stdout, result.stderr)
