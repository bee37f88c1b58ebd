"""Values of the expression language and how they turn into text (expressions.md 2).

Values are plain decoded JSON: `None`, `bool`, `int`, `float`, `str`, `list` and `dict`. Booleans
are never numbers here, although Python treats them as integers, so every numeric test goes
through `is_number`.

Rendering is bounded: `compact_json` stops as soon as its output passes the string-size limit, so
a value that would render to gigabytes (for instance a list that holds the same big list many
times) costs at most about one limit's worth of work before the error. Walks over values are
iterative, so no value, however deep, can exhaust the Python stack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from json.encoder import encode_basestring
from typing import TypeAlias, cast

from symphony_mesh.expr.errors import ExpressionLimitError
from symphony_mesh.expr.limits import MAX_STRING_BYTES, string_too_long, utf8_len

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "WHITESPACE",
    "JsonValue",
    "compact_json",
    "decode_json",
    "display",
    "is_number",
    "json_size",
    "normalize_number",
    "number_text",
    "text",
    "type_name",
]

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"
"""A value of the language: decoded JSON, maps keep their insertion order."""

WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Unicode white space (the White_Space property), trimmed around expression texts and JSON
text. Python's `str.strip()` would also remove U+001C..U+001F, which are not white space."""

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_TWO_63 = 9223372036854775808.0  # 2**63 as a float: integral floats below it fit in int64
_TWO_53 = 9007199254740992.0  # 2**53: integral floats below it print without an exponent


def is_number(value: object) -> bool:
    """Whether `value` is an integer or a float (booleans are not numbers, 2.1)."""
    kind = type(value)
    if kind is int or kind is float:
        return True
    if kind is bool:
        return False
    return isinstance(value, int | float) and not isinstance(value, bool)


def type_name(value: object) -> str:
    """The type name used in messages: null, boolean, integer, float, string, list or map."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map"
    return "list"


def normalize_number(result: float) -> int | float:
    """An arithmetic result: an integer when integral and within int64, else the float (2.5)."""
    if result.is_integer() and -_TWO_63 <= result < _TWO_63:
        return int(result)
    return result


def number_text(number: int | float) -> str:
    """The number text of 2.2: `5`, `-5`, `5.0` => `5`, `2.5`, `1e+20`."""
    if isinstance(number, int):
        if INT64_MIN <= number <= INT64_MAX:
            return str(number)
        # Not a language integer (only data could hold one): shown as the double it stands for.
        try:
            number = float(number)
        except OverflowError:
            return "inf" if number > 0 else "-inf"
    if number.is_integer() and -_TWO_53 < number < _TWO_53:
        return str(int(number))
    return repr(number)


def text(value: JsonValue) -> str:
    """The text rendering of 2.3: strings as they are, `null` => "", containers as JSON."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]  # narrowed by the exact type test above
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return number_text(value)  # type: ignore[arg-type]  # narrowed by the type test above
    if isinstance(value, str):
        return str(value)
    return compact_json(value)


def display(value: JsonValue) -> str:
    """How a value appears inside an error message: its text, but `null` as `null`."""
    if value is None:
        return "null"
    try:
        return text(value)
    except ExpressionLimitError:
        return f"<{type_name(value)} longer than {MAX_STRING_BYTES} bytes>"


def compact_json(value: JsonValue, limit: int = MAX_STRING_BYTES) -> str:
    """The compact JSON of 2.4; raises the string-size error once it passes `limit` bytes."""
    out: list[str] = []
    _walk(value, limit, out)
    return "".join(out)


def json_size(value: JsonValue, limit: int = MAX_STRING_BYTES) -> int:
    """Bytes of `compact_json(value)`, computed without building it; stops past `limit`."""
    return _walk(value, limit, None)


class _Frame:
    """An open list or map during a walk: its remaining children and how it closes."""

    __slots__ = ("closer", "first", "is_map", "items")

    def __init__(self, items: Iterator[object], closer: str, is_map: bool) -> None:
        self.items = items
        self.closer = closer
        self.is_map = is_map
        self.first = True


_DONE = object()


def _scalar_json(value: object) -> str | None:
    """The JSON of a scalar, or None for a container."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)  # type: ignore[arg-type]  # exact type tested
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return number_text(value)  # type: ignore[arg-type]  # exact type tested
    if isinstance(value, str):
        return encode_basestring(str(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, Mapping | list | tuple):
        return None
    # Not a JSON value (only a careless caller could pass one): rendered as its string.
    return encode_basestring(str(value))


def _walk(value: object, limit: int, out: list[str] | None) -> int:
    """Render (into `out`, when given) or measure `value`; returns the size in bytes."""
    size = 0
    stack: list[_Frame] = []
    current: object = value
    while True:
        piece = _scalar_json(current)
        if piece is not None:
            size += utf8_len(piece)
            if out is not None:
                out.append(piece)
        elif isinstance(current, Mapping):
            size += 1
            if out is not None:
                out.append("{")
            stack.append(_Frame(iter(current.items()), "}", True))
        else:
            assert isinstance(current, Sequence)
            size += 1
            if out is not None:
                out.append("[")
            stack.append(_Frame(iter(current), "]", False))
        if size > limit:
            raise string_too_long()
        # Move to the next value to render, closing every container that is exhausted.
        while stack:
            frame = stack[-1]
            child = next(frame.items, _DONE)
            if child is _DONE:
                stack.pop()
                size += 1
                if out is not None:
                    out.append(frame.closer)
                continue
            prefix = "" if frame.first else ","
            frame.first = False
            if frame.is_map:
                pair = cast("tuple[object, object]", child)  # map frames iterate (key, value)
                current = pair[1]
                prefix += encode_basestring(str(pair[0])) + ":"
            else:
                current = child
            size += utf8_len(prefix)
            if out is not None:
                out.append(prefix)
            break
        else:
            if size > limit:
                raise string_too_long()
            return size


def _int64_or_float(digits: str) -> int | float:
    """JSON integers beyond int64 become doubles, as the language's integers are 64-bit."""
    stripped = digits.lstrip("-").lstrip("0")
    if len(stripped) <= 19:
        number = int(digits)
        if INT64_MIN <= number <= INT64_MAX:
            return number
    return float(digits)


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def decode_json(source: str) -> JsonValue:
    """Decode strict JSON text (no NaN/Infinity); raises ValueError when it is not JSON."""
    try:
        value: JsonValue = json.loads(
            source, parse_int=_int64_or_float, parse_constant=_reject_constant
        )
    except RecursionError as exc:
        # Python's decoder recurses per nesting level; absurdly deep text is simply not usable.
        raise ValueError("JSON nested too deeply") from exc
    return value
