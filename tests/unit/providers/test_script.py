"""The script provider (9.6) with real bash scripts."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from symphony_mesh.model.jsonvalues import JsonMap
from symphony_mesh.providers import script
from symphony_mesh.providers.base import Completed, Failed
from tests.helpers.waiting import eventually
from tests.unit.providers.fakes import RUN_ID, FakeEnvironment, call

SCRIPT = "providers.stage.script"
BASH_VARIABLES = {"PWD", "SHLVL", "_", "OLDPWD"}
"""Variables bash sets by itself, whatever its environment."""


def write(folder: Path, name: str, body: str) -> Path:
    """A bash script (it needs no execute bit: it runs as `bash <path>`)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("set -u\n" + body + "\n")
    return path


def group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process of that process group exists (Linux /proc)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def staged(env: FakeEnvironment) -> list[Path]:
    """What is left in the staging directory."""
    return list(env.staging_dir.iterdir()) if env.staging_dir.exists() else []


async def test_the_output_file_is_the_outcome(env: FakeEnvironment) -> None:
    write(env.script_dir, "copy.sh", 'cp "$1" "$2"')
    inputs: JsonMap = {"token": "s3cret", "nested": {"list": [1, 2.5, None, "é"]}}
    first = call(env, SCRIPT, inputs, {"script": "copy.sh"}, injected=True)
    outcome = await script.run(first)
    assert outcome == Completed(first.inputs)
    assert staged(env) == []


async def test_symphony_scripts_derive_the_output_path_from_the_input_path(
    env: FakeEnvironment,
) -> None:
    body = 'out="${1%.json}-output.json"\necho \'{"from": "symphony", "status": 403}\' > "$out"'
    write(env.script_dir, "symphony.sh", body)
    outcome = await script.run(call(env, SCRIPT, {}, {"script": "symphony.sh"}))
    assert outcome == Completed({"from": "symphony", "status": 403})


async def test_arguments_working_directory_and_scrubbed_environment(
    env: FakeEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYMPHONY_MESH_SECRET__DB__PASSWORD", "s3cret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "nope")
    dump = tmp_path / "dump"
    body = f"""
printf '%s\\n' "$#" "$1" "$2" "$(pwd)" > {dump}.args
env > {dump}.env
echo '{{}}' > "$2"
"""
    write(env.script_dir, "env.sh", body)
    inputs: JsonMap = {"evil": "$(touch {dump}.pwned)", "x": "; rm -rf /"}
    outcome = await script.run(call(env, SCRIPT, inputs, {"script": "env.sh"}))
    assert outcome == Completed({})
    count, first, second, cwd = (dump.parent / "dump.args").read_text().splitlines()
    variables = dict(
        line.split("=", 1) for line in (dump.parent / "dump.env").read_text().splitlines()
    )
    assert count == "2"
    staging = Path(first).parent
    assert staging.parent == env.staging_dir
    assert Path(first).name == f"{staging.name}.json"
    assert Path(second) == staging / f"{staging.name}-output.json"
    assert cwd == str(staging)
    assert set(variables) - BASH_VARIABLES == {
        "PATH",
        "HOME",
        "LANG",
        "SYMPHONY_MESH_INPUT",
        "SYMPHONY_MESH_OUTPUT",
        "SYMPHONY_MESH_RUN_ID",
        "SYMPHONY_MESH_ACTIVATION",
        "SYMPHONY_MESH_STAGE",
    }
    assert variables["SYMPHONY_MESH_INPUT"] == first
    assert variables["SYMPHONY_MESH_OUTPUT"] == second
    assert variables["SYMPHONY_MESH_RUN_ID"] == RUN_ID
    assert variables["SYMPHONY_MESH_ACTIVATION"] == "a1"
    assert variables["SYMPHONY_MESH_STAGE"] == "deploy"
    assert variables["PATH"] == os.environ["PATH"]
    assert not (dump.parent / "dump.pwned").exists()
    assert staged(env) == []


async def test_a_non_zero_exit_fails_with_the_end_of_stderr(env: FakeEnvironment) -> None:
    write(env.script_dir, "fail.sh", "echo oops >&2\nexit 3")
    outcome = await script.run(call(env, SCRIPT, {}, {"script": "fail.sh"}))
    assert outcome == Failed(
        500, "script fail.sh exited with code 3", {"exitCode": 3, "stderr": "oops\n"}
    )
    write(
        env.script_dir,
        "noisy.sh",
        "head -c 10000 /dev/zero | tr '\\0' x >&2\nprintf END >&2\nexit 1",
    )
    outcome = await script.run(call(env, SCRIPT, {}, {"script": "noisy.sh"}))
    assert isinstance(outcome, Failed)
    stderr = outcome.outputs["stderr"]
    assert isinstance(stderr, str)
    assert len(stderr) == 4096
    assert stderr.endswith("xxxEND")
    assert staged(env) == []


async def test_a_script_killed_by_a_signal_reports_128_plus_n(env: FakeEnvironment) -> None:
    write(env.script_dir, "killed.sh", "kill -9 $$")
    outcome = await script.run(call(env, SCRIPT, {}, {"script": "killed.sh"}))
    assert isinstance(outcome, Failed)
    assert outcome.message == "script killed.sh exited with code 137"


async def test_no_output_file(env: FakeEnvironment) -> None:
    write(env.script_dir, "quiet.sh", "exit 0")
    outcome = await script.run(call(env, SCRIPT, {}, {"script": "quiet.sh"}))
    assert outcome == Failed(500, "script quiet.sh did not write its output file")


@pytest.mark.parametrize("content", ["[1]", '"x"', "null", "not json", "", "{", "{}{}"])
async def test_an_output_that_is_not_a_json_object(env: FakeEnvironment, content: str) -> None:
    (env.script_dir / "content.txt").write_text(content)
    write(env.script_dir, "bad.sh", f'cp {env.script_dir / "content.txt"} "$2"')
    outcome = await script.run(call(env, SCRIPT, {}, {"script": "bad.sh"}))
    assert outcome == Failed(500, "script bad.sh wrote an output file that is not a JSON object")


async def test_a_timeout_stops_the_whole_process_group(
    env: FakeEnvironment, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pid"
    write(env.script_dir, "slow.sh", f"echo $$ > {pidfile}\nsleep 30 &\nwait")
    started = time.monotonic()
    outcome = await script.run(call(env, SCRIPT, {}, {"script": "slow.sh", "timeout": "200ms"}))
    assert outcome == Failed(11004, "script slow.sh timed out after 200ms")
    assert time.monotonic() - started < 5
    pgid = int(pidfile.read_text())
    await eventually(lambda: not group_alive(pgid), timeout=5, what="the process group to end")
    assert staged(env) == []


async def test_sigkill_follows_when_sigterm_is_ignored(
    env: FakeEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(script, "KILL_GRACE_SECONDS", 0.2)
    pidfile = tmp_path / "pid"
    write(env.script_dir, "stubborn.sh", f"trap '' TERM\necho $$ > {pidfile}\nsleep 30 &\nwait")
    outcome = await script.run(call(env, SCRIPT, {}, {"script": "stubborn.sh", "timeout": 0.2}))
    assert outcome == Failed(11004, "script stubborn.sh timed out after 0.2s")
    pgid = int(pidfile.read_text())
    await eventually(lambda: not group_alive(pgid), timeout=5, what="the process group to end")


async def test_cancellation_kills_the_process_group(env: FakeEnvironment, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    write(env.script_dir, "long.sh", f"sleep 30 &\necho $$ > {pidfile}\nwait")
    task = asyncio.create_task(script.run(call(env, SCRIPT, {}, {"script": "long.sh"})))
    await eventually(lambda: pidfile.exists() and pidfile.read_text().strip(), what="the pid")
    pgid = int(pidfile.read_text())
    assert group_alive(pgid)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await eventually(lambda: not group_alive(pgid), timeout=5, what="the process group to end")
    assert staged(env) == []


async def test_the_script_must_stay_inside_its_folder(env: FakeEnvironment) -> None:
    outside = write(env.script_dir.parent, "outside.sh", "echo '{}' > \"$2\"")
    write(env.script_dir, "ok.sh", 'echo \'{"ok": true}\' > "$2"')
    (env.script_dir / "escape.sh").symlink_to(outside)
    (env.script_dir / "alias.sh").symlink_to(env.script_dir / "ok.sh")
    (env.script_dir / "sub").mkdir()
    for name in ("../outside.sh", str(outside), "escape.sh", "sub/../../outside.sh"):
        outcome = await script.run(call(env, SCRIPT, {}, {"script": name}))
        assert outcome == Failed(400, f"script {name} is outside scriptFolder"), name
    for name in ("alias.sh", "sub/../ok.sh", "./ok.sh"):
        outcome = await script.run(call(env, SCRIPT, {}, {"script": name}))
        assert outcome == Completed({"ok": True}), name


async def test_a_symlinked_folder_is_followed(env: FakeEnvironment, tmp_path: Path) -> None:
    real = tmp_path / "real"
    write(real, "ok.sh", 'echo \'{"ok": 1}\' > "$2"')
    (tmp_path / "linked").symlink_to(real)
    config: JsonMap = {"script": "ok.sh", "scriptFolder": str(tmp_path / "linked")}
    assert await script.run(call(env, SCRIPT, {}, config)) == Completed({"ok": 1})


@pytest.mark.parametrize("name", ["missing.sh", "sub", ".", "sub/missing.sh"])
async def test_a_missing_script(env: FakeEnvironment, name: str) -> None:
    (env.script_dir / "sub").mkdir()
    outcome = await script.run(call(env, SCRIPT, {}, {"script": name}))
    assert outcome == Failed(400, f"script {name} not found")


async def test_script_folder_rules(env: FakeEnvironment, tmp_path: Path) -> None:
    write(env.script_dir / "team", "t.sh", 'echo \'{"where": "team"}\' > "$2"')
    write(tmp_path / "elsewhere", "e.sh", 'echo \'{"where": "elsewhere"}\' > "$2"')
    relative: JsonMap = {"script": "t.sh", "scriptFolder": "team", "scriptEngine": "bash"}
    assert await script.run(call(env, SCRIPT, {}, relative)) == Completed({"where": "team"})
    absolute: JsonMap = {"script": "e.sh", "scriptFolder": str(tmp_path / "elsewhere")}
    assert await script.run(call(env, SCRIPT, {}, absolute)) == Completed({"where": "elsewhere"})


@pytest.mark.parametrize(
    ("config", "failure"),
    [
        ({}, Failed(400, "script is required")),
        ({"script": ""}, Failed(400, "script is required")),
        (
            {"script": "a.sh", "scriptFolder": "https://example.com/scripts"},
            Failed(400, "remote scriptFolder is not supported by symphony-mesh"),
        ),
        (
            {"script": "a.sh", "scriptEngine": "powershell"},
            Failed(400, "scriptEngine powershell is not supported by symphony-mesh"),
        ),
        ({"script": "a.sh", "timeout": "soon"}, Failed(1000, 'invalid timeout "soon"')),
        ({"script": "a.sh", "timeout": 0}, Failed(1000, "invalid timeout 0")),
    ],
)
async def test_config_failures(env: FakeEnvironment, config: JsonMap, failure: Failed) -> None:
    write(env.script_dir, "a.sh", "echo '{}' > \"$2\"")
    assert await script.run(call(env, SCRIPT, {}, config)) == failure
    assert staged(env) == []


async def test_ignored_config_keys(env: FakeEnvironment) -> None:
    write(env.script_dir, "a.sh", "echo '{}' > \"$2\"")
    config: JsonMap = {"script": "a.sh", "name": "x", "stagingFolder": "/somewhere"}
    assert await script.run(call(env, SCRIPT, {}, config)) == Completed({})
