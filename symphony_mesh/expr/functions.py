"""The built-in functions (expressions.md 8) and their binding to call sites.

Each function receives the run and its *unevaluated* arguments, so that it decides what to
evaluate: most evaluate every argument left to right, while `$if`, `$and`, `$or`, `$in`,
`$default`, `$input` and `$output` evaluate only what they need. The parser binds a call to its
function once (`bind`); an unknown name, an unsupported function or a wrong number of arguments
binds to a function that raises the error, so the error still happens at evaluation time, in
evaluation order, as the spec requires.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from symphony_mesh.expr.errors import (
    INTERNAL_ERROR,
    ExpressionError,
    ExpressionLookupError,
)
from symphony_mesh.expr.jsonpath import jsonpath_query
from symphony_mesh.expr.limits import check_string
from symphony_mesh.expr.nodes import FunctionImpl, Node
from symphony_mesh.expr.resolver import check_name
from symphony_mesh.expr.values import (
    WHITESPACE,
    JsonValue,
    compact_json,
    decode_json,
    display,
    is_number,
    text,
    type_name,
)

if TYPE_CHECKING:
    from symphony_mesh.expr.runtime import Run

__all__ = ["FUNCTION_NAMES", "bind", "equal"]


def _values(run: Run, args: tuple[Node, ...]) -> list[JsonValue]:
    """Every argument evaluated, left to right."""
    return [arg.evaluate(run) for arg in args]


# --- data access (8.2) ----------------------------------------------------------------------


def _input(run: Run, args: tuple[Node, ...]) -> JsonValue:
    if not run.scope.has_inputs:
        raise ExpressionError("an input collection is needed to evaluate $input()")
    return run.input(text(args[0].evaluate(run)))


def _output(run: Run, args: tuple[Node, ...]) -> JsonValue:
    outputs = run.scope.outputs
    if not outputs:
        # Lets a loop read its own previous output on its first run; arguments not evaluated.
        return ""
    stage = text(args[0].evaluate(run))
    key = text(args[1].evaluate(run))
    if stage not in outputs:
        raise ExpressionLookupError(f"step {stage} is not found in output collection")
    stage_outputs = outputs[stage]
    if not isinstance(stage_outputs, Mapping) or key not in stage_outputs:
        raise ExpressionLookupError(f"property {key} is not found")
    return stage_outputs[key]


def _trigger(run: Run, args: tuple[Node, ...]) -> JsonValue:
    key = text(args[0].evaluate(run))
    default = args[1].evaluate(run)
    triggers = run.scope.triggers
    if triggers is None or key not in triggers:
        return default
    return triggers[key]


def _val(run: Run, args: tuple[Node, ...]) -> JsonValue:
    value = run.context_value()
    if not args:
        return value
    path = text(args[0].evaluate(run))
    if path.startswith(("$", "{$")):
        return jsonpath_query(value, path)
    if not isinstance(value, Mapping):
        raise ExpressionError(f"context value '{display(value)}' is not a map")
    if path not in value:
        raise ExpressionLookupError(f"key {path} is not found in context value")
    return value[path]


# --- comparison and logic (8.3) -------------------------------------------------------------


def equal(a: JsonValue, b: JsonValue) -> bool:
    """`$equal`: null only equals null, numbers within 1e-9, otherwise equal texts."""
    if a is None or b is None:
        return a is None and b is None
    if is_number(a) and is_number(b):
        if a == b:
            return True
        try:
            return bool(abs(a - b) < 1e-9)  # type: ignore[operator]  # both numbers
        except OverflowError:
            return False
    if (isinstance(a, str) and isinstance(b, str)) or (isinstance(a, bool) and isinstance(b, bool)):
        return a == b
    return text(a) == text(b)


def _equal(run: Run, args: tuple[Node, ...]) -> JsonValue:
    a, b = _values(run, args)
    return equal(a, b)


_TRUE_WORDS = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE_WORDS = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def _boolean(value: JsonValue) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value in _TRUE_WORDS:
            return True
        if value in _FALSE_WORDS:
            return False
    raise ExpressionError(f"{display(value)} is not a boolean value")


def _and(run: Run, args: tuple[Node, ...]) -> JsonValue:
    if not _boolean(args[0].evaluate(run)):
        return False  # short-circuit: the second operand is not evaluated
    return _boolean(args[1].evaluate(run))


def _or(run: Run, args: tuple[Node, ...]) -> JsonValue:
    if _boolean(args[0].evaluate(run)):
        return True
    return _boolean(args[1].evaluate(run))


def _not(run: Run, args: tuple[Node, ...]) -> JsonValue:
    return not _boolean(args[0].evaluate(run))


_NUMERIC_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _numbers(values: list[JsonValue]) -> list[int | float]:
    """The operands of a numeric comparison; the first one that is not a number is the error."""
    numbers: list[int | float] = []
    for value in values:
        if is_number(value):
            numbers.append(value)  # type: ignore[arg-type]  # is_number
        elif isinstance(value, str) and _NUMERIC_TEXT.fullmatch(value):
            numbers.append(float(value))
        else:
            raise ExpressionError(f"{display(value)} is not a valid number")
    return numbers


def _comparison(test: Callable[[int | float, int | float], bool]) -> FunctionImpl:
    def compare(run: Run, args: tuple[Node, ...]) -> JsonValue:
        a, b = _numbers(_values(run, args))
        return test(a, b)

    return compare


def _between(run: Run, args: tuple[Node, ...]) -> JsonValue:
    value, low, high = _numbers(_values(run, args))
    return low <= value <= high


def _in(run: Run, args: tuple[Node, ...]) -> JsonValue:
    value = args[0].evaluate(run)
    # Candidates are evaluated one by one and the first match ends the search.
    return any(equal(value, candidate.evaluate(run)) for candidate in args[1:])


def _if(run: Run, args: tuple[Node, ...]) -> JsonValue:
    # Symphony compares the text of the condition with `true`: `True` or `1` select `else`.
    if text(args[0].evaluate(run)) == "true":
        return args[1].evaluate(run)
    return args[2].evaluate(run)


# --- text, encodings and JSON (8.4) ---------------------------------------------------------


def _str(run: Run, args: tuple[Node, ...]) -> JsonValue:
    return check_string(text(args[0].evaluate(run)))


def _json(run: Run, args: tuple[Node, ...]) -> JsonValue:
    return compact_json(args[0].evaluate(run))


def _base64encode(run: Run, args: tuple[Node, ...]) -> JsonValue:
    raw = text(args[0].evaluate(run)).encode("utf-8", "surrogatepass")
    return check_string(base64.b64encode(raw).decode("ascii"))


def _base64decode(run: Run, args: tuple[Node, ...]) -> JsonValue:
    source = text(args[0].evaluate(run))
    try:
        raw = base64.b64decode(source.replace("\r", "").replace("\n", ""), validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise ExpressionError(
            f"failed to decode base64 string: {source}", code=INTERNAL_ERROR
        ) from exc


# Symphony decodes a JSON string once more when its content looks like JSON itself.
_JSON_STARTS = frozenset('{["tfn-0123456789')
_QUOTES = frozenset("'\"`")


def _prepare_json(value: JsonValue) -> JsonValue:
    if not isinstance(value, str):
        return value
    try:
        decoded = decode_json(value.strip(WHITESPACE))
    except ValueError:
        return value
    if isinstance(decoded, str):
        content = decoded.lstrip(WHITESPACE)
        if content and content[0] in _JSON_STARTS:
            try:
                return decode_json(content)
            except ValueError:
                return decoded
    return decoded


def _jsonpath(run: Run, args: tuple[Node, ...]) -> JsonValue:
    value, path_value = _values(run, args)
    path = text(path_value)
    if len(path) >= 2 and path[0] in _QUOTES and path[-1] == path[0]:
        path = path[1:-1]
    return jsonpath_query(_prepare_json(value), path)


# --- configuration and secrets (8.5) --------------------------------------------------------


def _config(run: Run, args: tuple[Node, ...]) -> JsonValue:
    names = [text(value) for value in _values(run, args)]
    for name in names:
        check_name("config", name)
    return run.scope.resolver.config(names[0], names[1], tuple(names[2:]))


def _secret(run: Run, args: tuple[Node, ...]) -> JsonValue:
    object_name, field = (text(value) for value in _values(run, args))
    check_name("secret", object_name)
    check_name("secret", field)
    return run.scope.resolver.secret(object_name, field)


# --- additions (8.7) ------------------------------------------------------------------------


def _len(run: Run, args: tuple[Node, ...]) -> JsonValue:
    value = args[0].evaluate(run)
    if value is None:
        return 0
    if isinstance(value, str | list | Mapping):
        return len(value)
    raise ExpressionError(f"$len() needs a string, list or map, got {type_name(value)}")


def _default(run: Run, args: tuple[Node, ...]) -> JsonValue:
    try:
        value = args[0].evaluate(run)
    except ExpressionLookupError:
        return args[1].evaluate(run)
    if value is None or value == "":
        return args[1].evaluate(run)
    return value


def _contains(run: Run, args: tuple[Node, ...]) -> JsonValue:
    container, item = _values(run, args)
    if isinstance(container, list):
        return any(equal(element, item) for element in container)
    if isinstance(container, str):
        return text(item) in container
    if container is None:
        return False
    raise ExpressionError(f"$contains() needs a list or string, got {type_name(container)}")


def _keys(run: Run, args: tuple[Node, ...]) -> JsonValue:
    value = args[0].evaluate(run)
    if isinstance(value, Mapping):
        return [str(key) for key in value]
    raise ExpressionError(f"$keys() needs a map, got {type_name(value)}")


# --- the table --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Spec:
    """A function and how many arguments it takes (`most` None: no upper bound)."""

    function: FunctionImpl
    least: int
    most: int | None


_FUNCTIONS: dict[str, _Spec] = {
    "input": _Spec(_input, 1, 1),
    "output": _Spec(_output, 2, 2),
    "trigger": _Spec(_trigger, 2, 2),
    "val": _Spec(_val, 0, 1),
    "context": _Spec(_val, 0, 1),
    "equal": _Spec(_equal, 2, 2),
    "and": _Spec(_and, 2, 2),
    "or": _Spec(_or, 2, 2),
    "not": _Spec(_not, 1, 1),
    "gt": _Spec(_comparison(lambda a, b: a > b), 2, 2),
    "ge": _Spec(_comparison(lambda a, b: a >= b), 2, 2),
    "lt": _Spec(_comparison(lambda a, b: a < b), 2, 2),
    "le": _Spec(_comparison(lambda a, b: a <= b), 2, 2),
    "between": _Spec(_between, 3, 3),
    "in": _Spec(_in, 2, None),
    "if": _Spec(_if, 3, 3),
    "str": _Spec(_str, 1, 1),
    "json": _Spec(_json, 1, 1),
    "base64encode": _Spec(_base64encode, 1, 1),
    "base64decode": _Spec(_base64decode, 1, 1),
    "jsonpath": _Spec(_jsonpath, 2, 2),
    "config": _Spec(_config, 2, None),
    "secret": _Spec(_secret, 2, 2),
    "len": _Spec(_len, 1, 1),
    "default": _Spec(_default, 2, 2),
    "contains": _Spec(_contains, 2, 2),
    "keys": _Spec(_keys, 1, 1),
}

_UNSUPPORTED = frozenset({"property", "param", "instance"})
"""Functions of Symphony's deployment context (8.6): always an error, arguments unevaluated."""

FUNCTION_NAMES: frozenset[str] = frozenset(_FUNCTIONS) | _UNSUPPORTED
"""Every name the language knows, supported or not."""


def _failing(message: str) -> FunctionImpl:
    def fail(run: Run, args: tuple[Node, ...]) -> JsonValue:
        raise ExpressionError(message)

    return fail


def _arity_message(name: str, spec: _Spec, found: int) -> str:
    if spec.most is None:
        return f"${name}() expects at least {spec.least} arguments, found {found}"
    if spec.least != spec.most:
        return f"${name}() expects {spec.least} or {spec.most} argument, found {found}"
    noun = "argument" if spec.least == 1 else "arguments"
    return f"${name}() expects {spec.least} {noun}, found {found}"


def bind(name: str, argument_count: int) -> FunctionImpl:
    """The function a call `$name(...)` with `argument_count` arguments runs."""
    spec = _FUNCTIONS.get(name)
    if spec is None:
        if name in _UNSUPPORTED:
            return _failing(f"${name}() is not supported in workflows")
        return _failing(f"invalid function name: '{name}'")
    if argument_count < spec.least or (spec.most is not None and argument_count > spec.most):
        return _failing(_arity_message(name, spec, argument_count))
    return spec.function
