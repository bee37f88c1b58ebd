"""Real nodes for tests: `symphony-mesh node run` subprocesses and CLI runs.

`NodeProcess.start()` launches the node on port 0 and waits for its readiness line
(`symphony-mesh node "ID" serving on HOST:PORT (...)`, CFG-41), which carries the real port. A
reader thread drains stderr into `lines` so the pipe never fills; `wait_for_line` waits on it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CliResult", "NodeProcess", "run_cli"]

READY = re.compile(r'symphony-mesh node "([^"]+)" serving on (\S+) \(')
START_TIMEOUT = 30.0


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYMPHONY_MESH_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


@dataclass
class NodeProcess:
    """One node process; use `start()` then `stop()` (SIGTERM) or `kill()` (SIGKILL)."""

    data_dir: Path
    tls_dir: Path | None = None
    args: Sequence[str] = ()
    env: dict[str, str] | None = None
    listen: str = "127.0.0.1:0"
    lines: list[str] = field(default_factory=list)
    address: str = ""
    site_id: str = ""
    process: subprocess.Popen[str] | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _reader: threading.Thread | None = None

    def command(self) -> list[str]:
        """The full command line."""
        command = [
            sys.executable, "-m", "symphony_mesh", "node", "run",
            "--data-dir", str(self.data_dir), "--listen", self.listen, "--log-format", "json",
        ]  # fmt: skip
        if self.tls_dir is not None:
            command += ["--tls-dir", str(self.tls_dir)]
        return command + list(self.args)

    def spawn(self) -> NodeProcess:
        """Start the process without waiting for readiness."""
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(self.env),
        )
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        return self

    def start(self) -> NodeProcess:
        """Start and wait until the readiness line names the address."""
        self.spawn()
        line = self.wait_for_line(READY, START_TIMEOUT)
        match = READY.search(line)
        assert match is not None
        self.site_id, self.address = match.group(1), match.group(2)
        return self

    def _drain(self) -> None:
        assert self.process is not None
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for_line(self, pattern: re.Pattern[str] | str, timeout: float = 10.0) -> str:
        """The first stderr line matching `pattern`; fail if the process exits or time runs out."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        seen = 0
        with self._changed:
            while True:
                for line in self.lines[seen:]:
                    if regex.search(line):
                        return line
                seen = len(self.lines)
                remaining = deadline - time.monotonic()
                exited = self.process is not None and self.process.poll() is not None
                if remaining <= 0 or (exited and seen == len(self.lines)):
                    text = "\n".join(self.lines[-30:])
                    raise AssertionError(f"no line matching {regex.pattern!r}; stderr:\n{text}")
                self._changed.wait(min(remaining, 0.2))

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait; return the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self._close()
        return code

    def kill(self) -> None:
        """SIGKILL and reap."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        self._close()

    def _close(self) -> None:
        # The reader ends at EOF once the process is gone; then the pipe can be closed.
        if self._reader is not None:
            self._reader.join(10)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()

    def cli(self, *args: str, tls_dir: Path | None = None, stdin: str | None = None) -> CliResult:
        """Run the CLI against this node."""
        transport = ["--tls-dir", str(tls_dir)] if tls_dir is not None else []
        return run_cli("--server", self.address, *transport, *args, stdin=stdin)


@dataclass(frozen=True)
class CliResult:
    """What one CLI run printed and returned."""

    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> CliResult:
    """Run `python -m symphony_mesh ARGS` to completion."""
    done = subprocess.run(
        [sys.executable, "-m", "symphony_mesh", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(env),
        timeout=60,
        check=False,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)
