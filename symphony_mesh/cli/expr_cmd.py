"""`symphony-mesh expr`: evaluate a `${{ }}` template locally (expressions.md 15).

Single mode prints one JSON line, `{"value": ...}` (exit 0) or `{"error": {"code": ...,
"message": ...}}` (exit 1). `--batch` reads JSON lines from stdin and answers each with one line
of the same shape, flushed at once so the command can run as a co-process; a bad line gets a 400
answer and processing goes on, and the exit code is 0 once stdin is exhausted. The command never
contacts a server: the global connection options are accepted and ignored.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import IO, NoReturn

import click

from symphony_mesh.cli.options import global_options
from symphony_mesh.expr import (
    ConfigResolver,
    ExpressionError,
    JsonValue,
    LocalSources,
    Scope,
    decode_json,
    evaluate_template,
)

__all__ = ["expr"]

_BAD_LINE_CODE = 400


class _UsageError(Exception):
    """A bad option: reported as one `error: ...` line on stderr, exit 2."""


class _BadLine(Exception):
    """A batch line that cannot be evaluated; the message is the spec's reason."""


def _usage_error(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(2)


def _json_line(document: Mapping[str, object]) -> bytes:
    """One output line. Non-ASCII stays readable; a lone surrogate (possible in JSON input)
    cannot be UTF-8 encoded and is written as the `\\udxxx` escape JSON itself would use."""
    line = json.dumps(document, ensure_ascii=False, allow_nan=False)
    return line.encode("utf-8", "backslashreplace") + b"\n"


def _result_line(template: str, scope: Scope) -> tuple[bytes, bool]:
    """The answer to one evaluation and whether it is a value (not an error)."""
    try:
        value = evaluate_template(template, scope)
    except ExpressionError as exc:
        return _json_line({"error": {"code": exc.code, "message": exc.message}}), False
    try:
        return _json_line({"value": value}), True
    except (ValueError, RecursionError):
        # A float that overflowed to infinity (`1e300*1e300` in double precision) has no JSON
        # form, nor has absurdly deep input data: the line stays valid JSON either way.
        error = {"code": 500, "message": "the result cannot be written as JSON"}
        return _json_line({"error": error}), False


def _as_map(value: JsonValue) -> dict[str, JsonValue] | None:
    """`value` as a JSON map, None when it is something else."""
    return value if isinstance(value, dict) else None


def _as_map_of_maps(value: JsonValue) -> dict[str, dict[str, JsonValue]] | None:
    """`value` as a map whose values are maps, None when it is something else."""
    if not isinstance(value, dict):
        return None
    maps: dict[str, dict[str, JsonValue]] = {}
    for key, item in value.items():
        if not isinstance(item, dict):
            return None
        maps[key] = item
    return maps


def _decode_option(source: str | None, message: str) -> JsonValue:
    """The JSON value of an option (None when not given); a usage error when not JSON."""
    if source is None:
        return None
    try:
        return decode_json(source)
    except ValueError as exc:
        raise _UsageError(message) from exc


def _single_scope(
    inputs_json: str | None,
    triggers_json: str | None,
    outputs_json: str | None,
    value_json: str | None,
    resolver: ConfigResolver,
) -> Scope:
    """The scope of single mode from its options (15.2), or `_UsageError`."""
    inputs_message = "--inputs is not a valid JSON map"
    triggers_message = "--triggers is not a valid JSON map"
    outputs_message = "--outputs is not a valid JSON map of maps"
    inputs = _as_map(_decode_option(inputs_json, inputs_message))
    if inputs_json is not None and inputs is None:
        raise _UsageError(inputs_message)
    triggers = _as_map(_decode_option(triggers_json, triggers_message))
    if triggers_json is not None and triggers is None:
        raise _UsageError(triggers_message)
    outputs = _as_map_of_maps(_decode_option(outputs_json, outputs_message))
    if outputs_json is not None and outputs is None:
        raise _UsageError(outputs_message)
    value = _decode_option(value_json, "--value is not valid JSON")
    return Scope(inputs=inputs, triggers=triggers, outputs=outputs, value=value, resolver=resolver)


def _batch_scope(line: bytes, resolver: ConfigResolver) -> tuple[str, Scope]:
    """The template and scope of one batch line (15.3), or `_BadLine` with the reason."""
    if not line:
        raise _BadLine("empty line")
    try:
        document = decode_json(line.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise _BadLine("not valid JSON") from exc
    if not isinstance(document, dict):
        raise _BadLine("not a JSON object")
    template = document.get("template")
    if not isinstance(template, str):
        raise _BadLine("template must be a string")
    # A missing key and `null` both mean "absent".
    inputs = _as_map(document.get("inputs"))
    if inputs is None and document.get("inputs") is not None:
        raise _BadLine("inputs must be a map")
    triggers = _as_map(document.get("triggers"))
    if triggers is None and document.get("triggers") is not None:
        raise _BadLine("triggers must be a map")
    outputs = _as_map_of_maps(document.get("outputs"))
    if outputs is None and document.get("outputs") is not None:
        raise _BadLine("outputs must be a map of maps")
    scope = Scope(
        inputs=inputs,
        triggers=triggers,
        outputs=outputs,
        value=document.get("value"),
        resolver=resolver,
    )
    return template, scope


def _run_batch(stdin: IO[bytes], stdout: IO[bytes], resolver: ConfigResolver) -> None:
    """Answer every line of `stdin`, in order, one flushed line each."""
    while True:
        line = stdin.readline()
        if not line:
            return
        if line.endswith(b"\n"):
            line = line[:-1]
        try:
            template, scope = _batch_scope(line, resolver)
        except _BadLine as exc:
            error = {"code": _BAD_LINE_CODE, "message": f"invalid batch line: {exc}"}
            answer = _json_line({"error": error})
        else:
            answer, _ = _result_line(template, scope)
        stdout.write(answer)
        stdout.flush()


@click.command("expr")
@click.argument("template", required=False)
@click.option(
    "--inputs", "inputs_json", metavar="JSON", help="Stage inputs: a JSON map of templates."
)
@click.option("--triggers", "triggers_json", metavar="JSON", help="Activation inputs: a JSON map.")
@click.option(
    "--outputs", "outputs_json", metavar="JSON", help="Stage outputs: a JSON map of maps."
)
@click.option("--value", "value_json", metavar="JSON", help="What $val() returns: any JSON.")
@click.option("--batch", is_flag=True, help="Evaluate JSON lines from stdin, one answer each.")
@global_options
def expr(
    template: str | None,
    inputs_json: str | None,
    triggers_json: str | None,
    outputs_json: str | None,
    value_json: str | None,
    batch: bool,
) -> None:
    """Evaluate TEMPLATE locally and print {"value": ...} or {"error": ...} as JSON.

    With --batch, read lines {"template", "inputs", "triggers", "outputs", "value"} from stdin
    and write one result line per input line.

    $config and $secret read SYMPHONY_MESH_CONFIG_DIR, SYMPHONY_MESH_SECRET_DIR and the
    SYMPHONY_MESH_CONFIG__<OBJECT>__<FIELD> / SYMPHONY_MESH_SECRET__<OBJECT>__<FIELD> variables.
    """
    resolver = LocalSources.from_environment(os.environ)
    stdout = sys.stdout.buffer
    if batch:
        if template is not None:
            _usage_error("--batch reads templates from stdin and takes no TEMPLATE argument")
        sources = (inputs_json, triggers_json, outputs_json, value_json)
        if any(option is not None for option in sources):
            _usage_error("--inputs, --triggers, --outputs and --value cannot be used with --batch")
        try:
            _run_batch(sys.stdin.buffer, stdout, resolver)
        except BrokenPipeError:
            # The reader went away: nobody is left to answer. Silence the final flush too.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stdout.fileno())
            raise click.exceptions.Exit(1) from None
        return
    if template is None:
        _usage_error("missing TEMPLATE (or use --batch to read templates from stdin)")
    try:
        scope = _single_scope(inputs_json, triggers_json, outputs_json, value_json, resolver)
    except _UsageError as exc:
        _usage_error(str(exc))
    answer, ok = _result_line(template, scope)
    stdout.write(answer)
    stdout.flush()
    if not ok:
        raise click.exceptions.Exit(1)
