"""JSON values as documents hold them, and the few operations the model needs on them.

Documents are read from YAML or JSON into plain Python values (dict, list, str, int, float, bool,
None). `json_equal` compares two such values the way "unchanged" needs it: map order is ignored
(a document re-applied from `get -o json`, whose keys went through a protobuf `Struct`, is still
the same), `1 == 1.0`, but `true` is not `1`. Walks are iterative so that no value, however deep,
can exhaust the Python stack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TypeAlias

__all__ = [
    "MAX_NESTING",
    "JsonMap",
    "JsonValue",
    "compact_json",
    "compact_json_size",
    "integral_numbers",
    "iter_strings",
    "json_equal",
    "nesting_depth",
]

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"
"""A value of a decoded JSON document."""

JsonMap: TypeAlias = "dict[str, JsonValue]"
"""A JSON object."""

MAX_NESTING = 100
"""Maximum nesting of maps and lists in a document (a guard against hostile input)."""


def compact_json(value: object) -> str:
    """Compact JSON text (no spaces, UTF-8 kept as is), as size limits and messages use it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def compact_json_size(value: object) -> int:
    """Bytes of the compact UTF-8 JSON encoding of `value`."""
    return len(compact_json(value).encode("utf-8", "surrogatepass"))


def nesting_depth(value: object) -> int:
    """How many maps and lists are nested in `value` (a scalar has depth 0)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            depth += 1
            stack.extend((child, depth) for child in item.values())
        elif isinstance(item, list):
            depth += 1
            stack.extend((child, depth) for child in item)
        deepest = max(deepest, depth)
    return deepest


def iter_strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    """Every string value inside `value` with its field path (dots for keys, `[i]` for items)."""
    stack: list[tuple[object, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            children = [(child, _join(where, str(key))) for key, child in item.items()]
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(child, f"{where}[{i}]") for i, child in enumerate(item)]))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def json_equal(left: object, right: object) -> bool:
    """Equality of two JSON values: map order ignored, booleans distinct from numbers."""
    stack: list[tuple[object, object]] = [(left, right)]
    while stack:
        a, b = stack.pop()
        if isinstance(a, bool) or isinstance(b, bool):
            if not (isinstance(a, bool) and isinstance(b, bool) and a == b):
                return False
        elif isinstance(a, int | float) and isinstance(b, int | float):
            if a != b:
                return False
        elif isinstance(a, Mapping) and isinstance(b, Mapping):
            if a.keys() != b.keys():
                return False
            stack.extend((a[key], b[key]) for key in a)
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                return False
            stack.extend(zip(a, b, strict=True))
        elif type(a) is not type(b) or a != b:
            return False
    return True


_MAX_EXACT = 2**53


def integral_numbers(value: object) -> object:
    """`value` with integral floats within +-2^53 turned into ints, recursively.

    `google.protobuf.Struct` carries every number as a double; Symphony's JSON (and the stored
    inputs, federation.md API-5) keep integers as integers.
    """
    if isinstance(value, float) and value.is_integer() and abs(value) <= _MAX_EXACT:
        return int(value)
    if isinstance(value, dict):
        return {key: integral_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [integral_numbers(item) for item in value]
    return value
