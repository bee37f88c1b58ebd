"""`providers.stage.script` (campaigns.md 9.6): run a bash script from the node's script folder.

A call confines the script to `scriptFolder` (after resolving `..` and symbolic links), gives it a
fresh staging directory holding its inputs as JSON, and runs
`bash <script> <dir>/<uuid>.json <dir>/<uuid>-output.json` as an argument list, never through a
shell string, with a scrubbed environment. The JSON object the script writes to the second path is
the call's outputs. Scripts written for Symphony, which derive the output path from `$1`, work too.

The script runs in its own session, so its whole process group can be stopped: on `timeout`, and
when the call is cancelled (Cancel, a stage timeout, node shutdown), the group receives SIGTERM,
then SIGKILL after `KILL_GRACE_SECONDS`; a second cancellation during that grace kills at once.
Whatever the script leaves running in its group when it exits is killed as well, because the
staging directory it could be using is removed when the call ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from symphony_mesh.expr import decode_json
from symphony_mesh.model.durations import Duration, DurationError
from symphony_mesh.model.jsonvalues import compact_json
from symphony_mesh.model.status import StateCode
from symphony_mesh.providers.base import Completed, Failed, Outcome, ProviderCall
from symphony_mesh.providers.params import ParamError, as_json, as_text

__all__ = [
    "DEFAULT_TIMEOUT",
    "KILL_GRACE_SECONDS",
    "STDERR_TAIL_BYTES",
    "Script",
    "run",
    "script_environment",
]

DEFAULT_TIMEOUT = "5m"
"""Config `timeout` when absent."""

KILL_GRACE_SECONDS = 10.0
"""Between SIGTERM and SIGKILL to the script's process group (8.5, 9.6)."""

STDERR_TAIL_BYTES = 4096
"""How much of the end of stderr a failure keeps."""

_DRAIN_SECONDS = 1.0
"""How long stderr is still read after the group is gone (a process that left the group with
`setsid` may hold the pipe open forever; its output is not waited for)."""

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class Script:
    """The checked configuration of one call."""

    name: str
    """Config `script` as written (messages repeat it)."""
    path: Path
    """The resolved file, inside the resolved script folder."""
    timeout: Duration

    @classmethod
    def locate(cls, call: ProviderCall) -> Script:
        """Check the config and find the script; raise `ParamError` with the texts of 9.6."""
        config = call.config
        name = config.get("script")
        if name is None or name == "":
            raise ParamError(StateCode.BAD_REQUEST, "script is required")
        name = as_text(name)
        folder_value = config.get("scriptFolder")
        folder = call.environment.script_dir
        if folder_value is not None and folder_value != "":
            folder_text = as_text(folder_value)
            if _URL.match(folder_text):
                message = "remote scriptFolder is not supported by symphony-mesh"
                raise ParamError(StateCode.BAD_REQUEST, message)
            folder = folder / folder_text  # an absolute folder replaces the script directory
        engine = config.get("scriptEngine")
        if engine is not None and engine != "" and engine != "bash":
            message = f"scriptEngine {as_text(engine)} is not supported by symphony-mesh"
            raise ParamError(StateCode.BAD_REQUEST, message)
        timeout_value = config.get("timeout", DEFAULT_TIMEOUT)
        try:
            timeout = Duration.parse(timeout_value, positive=True)
        except DurationError:
            raise ParamError(
                StateCode.BAD_CONFIG, f"invalid timeout {as_json(timeout_value)}"
            ) from None
        return cls(name, _confined(folder, name), timeout)


def _confined(folder: Path, name: str) -> Path:
    """`folder/name` resolved; it must be a file inside the resolved folder."""
    try:
        root = folder.resolve()
        path = (root / name).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte in the name
        raise ParamError(StateCode.BAD_REQUEST, f"script {name} not found") from None
    if not path.is_relative_to(root):
        raise ParamError(StateCode.BAD_REQUEST, f"script {name} is outside scriptFolder")
    try:
        found = path.is_file()
    except OSError:  # a folder the node may not read
        found = False
    if not found:
        raise ParamError(StateCode.BAD_REQUEST, f"script {name} not found")
    return path


async def run(call: ProviderCall) -> Outcome:
    """Run the script; its output object is the outcome, or fail as 9.6 lists."""
    try:
        script = Script.locate(call)
    except ParamError as exc:
        return Failed(exc.code, exc.message)
    run_name = str(uuid4())
    staging = call.environment.staging_dir / run_name
    # The staging work is a few small local file operations, done inline rather than in a
    # thread so that the directory is removed exactly once, whenever the call ends.
    try:
        staging.mkdir(parents=True, mode=0o700)
        input_path = staging / f"{run_name}.json"
        output_path = staging / f"{run_name}-output.json"
        input_path.write_text(compact_json(call.inputs), encoding="utf-8")
        return await _execute(call, script, staging, input_path, output_path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def script_environment(
    call: ProviderCall, staging: Path, input_path: Path, output_path: Path
) -> dict[str, str]:
    """The only variables a script sees (9.6); PATH, HOME and LANG come from the node."""
    return {
        "PATH": os.environ.get("PATH") or os.defpath,
        "HOME": os.environ.get("HOME") or str(staging),
        "LANG": os.environ.get("LANG") or "C.UTF-8",
        "SYMPHONY_MESH_INPUT": str(input_path),
        "SYMPHONY_MESH_OUTPUT": str(output_path),
        "SYMPHONY_MESH_RUN_ID": call.run_id,
        "SYMPHONY_MESH_ACTIVATION": call.activation,
        "SYMPHONY_MESH_STAGE": call.stage,
    }


async def _execute(
    call: ProviderCall, script: Script, staging: Path, input_path: Path, output_path: Path
) -> Outcome:
    environment = script_environment(call, staging, input_path, output_path)
    try:
        process = await asyncio.create_subprocess_exec(
            "bash",
            str(script.path),
            str(input_path),
            str(output_path),
            cwd=staging,
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:  # no bash on PATH, out of processes
        message = f"script {script.name} could not be started: {exc}"
        return Failed(StateCode.INTERNAL_ERROR, message)
    stderr = _Tail()
    assert process.stderr is not None  # stderr=PIPE
    reader = asyncio.create_task(stderr.read(process.stderr))
    timed_out = False
    try:
        try:
            async with asyncio.timeout(script.timeout.seconds):
                await process.wait()
        except TimeoutError:
            timed_out = True
            await _stop(process)
    except BaseException:  # cancellation above all: the script must not outlive its call
        await _stop(process)
        raise
    finally:
        await _reap(process, reader)
    if timed_out:
        message = f"script {script.name} timed out after {script.timeout.text}"
        return Failed(StateCode.TIMED_OUT, message)
    code = _exit_code(process.returncode)
    if code != 0:
        message = f"script {script.name} exited with code {code}"
        return Failed(
            StateCode.INTERNAL_ERROR, message, {"exitCode": code, "stderr": stderr.text()}
        )
    return _read_outputs(script, output_path)


def _read_outputs(script: Script, output_path: Path) -> Outcome:
    if not output_path.is_file():
        return Failed(
            StateCode.INTERNAL_ERROR, f"script {script.name} did not write its output file"
        )
    try:
        value = decode_json(output_path.read_bytes().decode("utf-8"))
    except (OSError, ValueError):  # UnicodeDecodeError is a ValueError
        value = None
    if not isinstance(value, dict):
        message = f"script {script.name} wrote an output file that is not a JSON object"
        return Failed(StateCode.INTERNAL_ERROR, message)
    return Completed(value)


def _exit_code(returncode: int | None) -> int:
    """The exit code; a death by signal n reads as 128 + n, as shells report it."""
    if returncode is None:
        return -1
    return 128 - returncode if returncode < 0 else returncode


def _signal_group(process: asyncio.subprocess.Process, number: int) -> None:
    """Send a signal to the script's process group (its id is the script's pid)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, number)


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM to the group; SIGKILL after the grace, or at once if cancelled meanwhile."""
    if process.returncode is not None:
        return
    _signal_group(process, signal.SIGTERM)
    try:
        async with asyncio.timeout(KILL_GRACE_SECONDS):
            await process.wait()
    except TimeoutError:
        pass
    finally:
        _signal_group(process, signal.SIGKILL)


async def _reap(process: asyncio.subprocess.Process, reader: asyncio.Task[None]) -> None:
    """Kill what is left of the group, collect the exit status, finish reading stderr."""
    try:
        _signal_group(process, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            process.kill()  # in case the script left its own group
        await process.wait()
        await asyncio.wait({reader}, timeout=_DRAIN_SECONDS)
    finally:
        reader.cancel()


class _Tail:
    """The last `STDERR_TAIL_BYTES` bytes of a stream, read until its end."""

    def __init__(self) -> None:
        self._data = bytearray()

    async def read(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            self._data += chunk
            del self._data[:-STDERR_TAIL_BYTES]

    def text(self) -> str:
        """The tail as text; a character cut at the start shows as U+FFFD."""
        return self._data.decode("utf-8", "replace")
