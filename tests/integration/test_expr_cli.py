"""`symphony-mesh expr` run as a real process (expressions.md 15)."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

CANARY = (
    "${{$if($le($output(weight-counter,weight),0), roll-back, "
    "$if($ge($output(weight-counter, weight), 100), finalize,adjust-weight))}}"
)


def _env(**extra: str) -> dict[str, str]:
    """The current environment without any expression sources, plus `extra`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SYMPHONY_MESH_CONFIG", "SYMPHONY_MESH_SECRET"))
    }
    env.update(extra)
    return env


def _expr(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "symphony_mesh", "expr", *args],
        input=stdin,
        capture_output=True,
        env=env if env is not None else _env(),
        timeout=60,
        check=False,
    )


def _lines(output: bytes) -> list[Any]:
    return [json.loads(line) for line in output.decode("utf-8").splitlines()]


# --- single mode -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected", "code"),
    [
        (["${{1+2}}"], b'{"value": 3}\n', 0),
        (["x${{9/2}}"], b'{"value": "x4.5"}\n', 0),
        (
            ["${{$if($lt($output(test,foo),5),test,done)}}", "--outputs", '{"test":{"foo":4}}'],
            b'{"value": "test"}\n',
            0,
        ),
        (
            ["${{$foo(1)}}"],
            b'{"error": {"code": 1000, "message": "invalid function name: \'foo\'"}}\n',
            1,
        ),
    ],
)
def test_the_spec_examples(args: list[str], expected: bytes, code: int) -> None:
    result = _expr(*args)
    assert result.stdout == expected
    assert result.returncode == code
    assert result.stderr == b""


@pytest.mark.parametrize(
    ("args", "expected", "code"),
    [
        (["${{$input(a)}}", "--inputs", '{"a":"${{1+1}}"}'], {"value": 2}, 0),
        (["${{$input(a)}}"], None, 1),
        (["${{$trigger(x, 0)}}", "--triggers", '{"x":[1,"é"]}'], {"value": [1, "é"]}, 0),
        (["${{$val(k)}}", "--value", '{"k":null}'], {"value": None}, 0),
        (["${{$val()}}", "--value", "2.5"], {"value": 2.5}, 0),
        (["${{$output(a, b)}}"], {"value": ""}, 0),
        (["${{99999999999999999999}}"], {"value": 1e20}, 0),
        (["${{héllo}}"], {"value": "héllo"}, 0),
        ([""], {"value": None}, 0),
        (
            ["${{$base64decode(x)}}"],
            {"error": {"code": 500, "message": "failed to decode base64 string: x"}},
            1,
        ),
        (
            ["${{$trigger(t, '')}}", "--triggers", '{"t":"${{$secret(a,b)}}"}'],
            {"value": "${{$secret(a,b)}}"},
            0,
        ),
        # The global connection options are accepted and ignored: nothing is contacted.
        (
            [
                "--server",
                "192.0.2.1:1",
                "--insecure",
                "-o",
                "yaml",
                "--tls-dir",
                "/nowhere",
                "${{1}}",
            ],
            {"value": 1},
            0,
        ),
    ],
)
def test_single_mode(args: list[str], expected: Any, code: int) -> None:
    result = _expr(*args)
    (line,) = _lines(result.stdout)
    if expected is None:
        assert line == {
            "error": {"code": 1000, "message": "an input collection is needed to evaluate $input()"}
        }
    else:
        assert line == expected
    assert result.returncode == code


def test_results_without_a_json_form_are_errors() -> None:
    huge = "*".join(["99999999999999999999"] * 20)  # 1e400 overflows to infinity
    result = _expr("${{" + huge + "}}")
    assert _lines(result.stdout) == [
        {"error": {"code": 500, "message": "the result cannot be written as JSON"}}
    ]
    assert result.returncode == 1
    assert _lines(_expr("x${{" + huge + "}}").stdout) == [{"value": "xinf"}]


def test_root_options_before_the_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "symphony_mesh", "--server", "192.0.2.1:1", "expr", "${{2*3}}"],
        capture_output=True,
        env=_env(),
        timeout=60,
        check=False,
    )
    assert result.stdout == b'{"value": 6}\n'
    assert result.returncode == 0


def test_config_and_secrets_come_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "app.json").write_text('{"port": 8080}', encoding="utf-8")
    env = _env(
        SYMPHONY_MESH_CONFIG_DIR=str(tmp_path),
        SYMPHONY_MESH_SECRET__DB__PASSWORD="pw",
    )
    result = _expr("${{$config(app, port)}}/${{$secret(db, password)}}", env=env)
    assert _lines(result.stdout) == [{"value": "8080/pw"}]
    unconfigured = _expr("${{$config(app, port)}}")
    assert _lines(unconfigured.stdout) == [
        {"error": {"code": 1000, "message": "config provider is not configured"}}
    ]
    assert unconfigured.returncode == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--inputs", "{", "x"], "error: --inputs is not a valid JSON map"),
        (["--inputs", "[1]", "x"], "error: --inputs is not a valid JSON map"),
        (["--triggers", "3", "x"], "error: --triggers is not a valid JSON map"),
        (["--outputs", '{"a":1}', "x"], "error: --outputs is not a valid JSON map of maps"),
        (["--outputs", "{", "x"], "error: --outputs is not a valid JSON map of maps"),
        (["--value", "nope", "x"], "error: --value is not valid JSON"),
        (["--value", "NaN", "x"], "error: --value is not valid JSON"),
        ([], "error: missing TEMPLATE (or use --batch to read templates from stdin)"),
        (
            ["--batch", "x"],
            "error: --batch reads templates from stdin and takes no TEMPLATE argument",
        ),
        (
            ["--batch", "--value", "1"],
            "error: --inputs, --triggers, --outputs and --value cannot be used with --batch",
        ),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    result = _expr(*args, stdin=b"")
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.decode().splitlines() == [message]


def test_click_usage_errors_exit_2() -> None:
    result = _expr("--no-such-option", "x")
    assert result.returncode == 2
    assert result.stdout == b""
    assert b"No such option" in result.stderr


# --- batch mode --------------------------------------------------------------------------------


def test_batch_spec_example() -> None:
    stdin = "\n".join(
        [
            '{"template": "${{1+2}}"}',
            '{"template": "${{$trigger(x, 0)}}", "triggers": {"x": 5}}',
            '{"template": "${{$input(a)}}", "inputs": {"a": "${{$input(a)}}"}}',
            "not json",
        ]
    )
    result = _expr("--batch", stdin=(stdin + "\n").encode())
    assert result.stdout.decode().splitlines() == [
        '{"value": 3}',
        '{"value": 5}',
        '{"error": {"code": 1000, "message": "Detect circular dependency, object: input, '
        'field: a"}}',
        '{"error": {"code": 400, "message": "invalid batch line: not valid JSON"}}',
    ]
    assert result.returncode == 0


def test_batch_bad_lines_never_stop_it() -> None:
    lines = [
        b"",
        b"[1]",
        b"\xff\xfe",
        b'{"inputs": {}}',
        b'{"template": 1}',
        b'{"template": "x", "inputs": [1]}',
        b'{"template": "x", "triggers": "t"}',
        b'{"template": "x", "outputs": {"s": 1}}',
        b'{"template": "${{$val()}}", "value": null, "inputs": null, "other": 1}',
        b'{"template": "${{$len($val())}}", "value": "\xc3\xa9t\xc3\xa9"}',
    ]
    result = _expr("--batch", stdin=b"\n".join(lines))  # the last line has no line feed
    reasons = [
        "empty line",
        "not a JSON object",
        "not valid JSON",
        "template must be a string",
        "template must be a string",
        "inputs must be a map",
        "triggers must be a map",
        "outputs must be a map of maps",
    ]
    assert _lines(result.stdout) == [
        *({"error": {"code": 400, "message": f"invalid batch line: {r}"}} for r in reasons),
        {"value": None},
        {"value": 3},
    ]
    assert result.returncode == 0


def test_batch_of_ten_thousand_lines_in_one_process() -> None:
    lines: list[str] = []
    expected: list[Any] = []
    for i in range(10_000):
        weight = (i % 7) * 25 - 25  # -25, 0, 25, ..., 125
        if i % 10 == 9:
            lines.append('{"template": "${{$nope()}}"}')
            expected.append({"error": {"code": 1000, "message": "invalid function name: 'nope'"}})
            continue
        lines.append(
            json.dumps({"template": CANARY, "outputs": {"weight-counter": {"weight": weight}}})
        )
        decision = "roll-back" if weight <= 0 else "finalize" if weight >= 100 else "adjust-weight"
        expected.append({"value": decision})
    start = time.perf_counter()
    result = _expr("--batch", stdin=("\n".join(lines) + "\n").encode())
    elapsed = time.perf_counter() - start
    assert result.returncode == 0
    assert _lines(result.stdout) == expected
    assert elapsed < 20.0, f"10 000 lines took {elapsed:.1f} s"


def test_batch_answers_each_line_as_it_comes() -> None:
    # A co-process: the answer to a line arrives before the next line is written.
    process = subprocess.Popen(
        [sys.executable, "-m", "symphony_mesh", "expr", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=_env(),
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        for n in range(3):
            process.stdin.write(b'{"template": "${{%d*2}}"}\n' % n)
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], 30)
            assert ready, "no answer while stdin is still open"
            assert json.loads(process.stdout.readline()) == {"value": n * 2}
        process.stdin.close()
        assert process.wait(timeout=30) == 0
        assert process.stdout.read() == b""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()


# --- hostile input -----------------------------------------------------------------------------


def test_hostile_templates_end_with_the_specified_errors() -> None:
    doubling = {f"l{i}": f"${{{{$input(l{i + 1})+$input(l{i + 1})}}}}" for i in range(60)}
    doubling["l60"] = "ab"
    lines = [
        {"template": "x" * (1024 * 1024)},
        {"template": "${{" + "(" * 10_000 + "1" + ")" * 10_000 + "}}"},
        {"template": "${{$input(l0)}}", "inputs": doubling},
        {"template": "${{" + "+".join(["1"] * 20_000) + "}}"},
    ]
    start = time.perf_counter()
    result = _expr("--batch", stdin="\n".join(json.dumps(line) for line in lines).encode())
    elapsed = time.perf_counter() - start
    assert _lines(result.stdout) == [
        {"error": {"code": 1000, "message": "template is longer than 65536 bytes"}},
        {"error": {"code": 1000, "message": "expression is nested more than 64 levels deep"}},
        {"error": {"code": 1000, "message": "string result is longer than 1048576 bytes"}},
        {"value": 20_000},
    ]
    assert result.returncode == 0
    assert elapsed < 20.0


def test_hostile_template_in_single_mode() -> None:
    result = _expr("${{" + "-" * 10_000 + "1}}")
    assert _lines(result.stdout) == [
        {"error": {"code": 1000, "message": "expression is nested more than 64 levels deep"}}
    ]
    assert result.returncode == 1
    assert result.stderr == b""
