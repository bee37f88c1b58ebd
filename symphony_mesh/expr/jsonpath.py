"""The JSONPath subset of expressions.md 9, used by `$val(path)`, `$jsonpath` and the http
provider's `wait.expressionType: jsonpath`.

A query is compiled once into a tuple of selectors (compiled queries are cached by text) and run
over the value: each selector maps the current list of matches to the next one. Selecting what
does not exist yields no match, never an error; only a query that does not follow the syntax is
an error. Walks are iterative, so deep data cannot exhaust the Python stack.
"""

from __future__ import annotations

import operator as operator_module
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from symphony_mesh.expr.errors import INTERNAL_ERROR, ExpressionError, ExpressionLookupError
from symphony_mesh.expr.values import JsonValue, is_number, normalize_number

__all__ = ["jsonpath_query"]


@dataclass(frozen=True, slots=True)
class _Name:
    """`.name` or `['name']`: the entry of a map."""

    name: str


@dataclass(frozen=True, slots=True)
class _Wildcard:
    """`.*` or `[*]`: every entry of a map or element of a list."""


@dataclass(frozen=True, slots=True)
class _Index:
    """`[n]`: element n of a list, negative from the end."""

    index: int


@dataclass(frozen=True, slots=True)
class _Slice:
    """`[start:end]`: a list slice with optional, possibly negative, bounds."""

    start: int | None
    end: int | None


@dataclass(frozen=True, slots=True)
class _Filter:
    """`[?(@path op literal)]` or `[?(@path)]`: the list elements that pass."""

    path: tuple[str, ...]
    operator: str | None
    literal: JsonValue


@dataclass(frozen=True, slots=True)
class _Descend:
    """`..selector`: the selector applied to the node and everything below it."""

    selector: _Name | _Wildcard | _Index | _Slice | _Filter


_Selector = _Name | _Wildcard | _Index | _Slice | _Filter | _Descend

_NAME = re.compile(r"[\w-]+")
_QUOTED = re.compile(r"\s*(?:'([^']*)'|\"([^\"]*)\")\s*\]")
_WILDCARD = re.compile(r"\s*\*\s*\]")
_INDEX = re.compile(r"\s*(-?\d+)\s*\]")
_SLICE = re.compile(r"\s*(-?\d+)?\s*:\s*(-?\d+)?\s*\]")
_FILTER = re.compile(
    r"\s*\?\(\s*@((?:\.[\w-]+)*)\s*"
    r"(?:(==|!=|<=|>=|<|>)\s*"
    r"('[^']*'|\"[^\"]*\"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)\s*)?"
    r"\)\s*\]"
)


class _QuerySyntaxError(ValueError):
    """The query does not follow the syntax of section 9."""


def _filter_literal(source: str) -> JsonValue:
    if source[0] in "'\"":
        return source[1:-1]
    if source == "true":
        return True
    if source == "false":
        return False
    if source == "null":
        return None
    if re.fullmatch(r"-?\d+", source):
        return int(source)
    return float(source)


def _bracket(query: str, i: int) -> tuple[int, _Name | _Wildcard | _Index | _Slice | _Filter]:
    """Parse the bracket selector whose `[` is at `i - 1`; returns the position after `]`."""
    if match := _QUOTED.match(query, i):
        name = match.group(1) if match.group(1) is not None else match.group(2)
        return match.end(), _Name(name)
    if match := _WILDCARD.match(query, i):
        return match.end(), _Wildcard()
    if match := _INDEX.match(query, i):
        return match.end(), _Index(int(match.group(1)))
    if match := _SLICE.match(query, i):
        start, end = match.group(1), match.group(2)
        return match.end(), _Slice(
            int(start) if start is not None else None, int(end) if end is not None else None
        )
    if match := _FILTER.match(query, i):
        path = tuple(part for part in match.group(1).split(".") if part)
        literal = _filter_literal(match.group(3)) if match.group(2) else None
        return match.end(), _Filter(path, match.group(2), literal)
    raise _QuerySyntaxError(query)


def _member(query: str, i: int) -> tuple[int, _Name | _Wildcard]:
    """Parse `name` or `*` after a dot at `i - 1`."""
    if query.startswith("*", i):
        return i + 1, _Wildcard()
    match = _NAME.match(query, i)
    if match is None:
        raise _QuerySyntaxError(query)
    return match.end(), _Name(match.group())


@lru_cache(maxsize=512)
def _compile(query: str) -> tuple[_Selector, ...] | None:
    """The selectors of `query`, or None when it does not follow the syntax."""
    body = query.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1].strip()
    if body.startswith("$"):
        body = body[1:]
    selectors: list[_Selector] = []
    i = 0
    try:
        while i < len(body):
            if body.startswith("..", i):
                i += 2
                inner: _Name | _Wildcard | _Index | _Slice | _Filter
                if body.startswith("[", i):
                    i, inner = _bracket(body, i + 1)
                else:
                    i, inner = _member(body, i)
                selectors.append(_Descend(inner))
            elif body.startswith(".", i):
                i, member = _member(body, i + 1)
                selectors.append(member)
            elif body.startswith("[", i):
                i, selector = _bracket(body, i + 1)
                selectors.append(selector)
            else:
                return None
    except _QuerySyntaxError:
        return None
    return tuple(selectors)


def _children(node: JsonValue) -> Iterator[JsonValue]:
    if isinstance(node, Mapping):
        yield from node.values()
    elif isinstance(node, list):
        yield from node


def _self_and_descendants(node: JsonValue, seen: set[int]) -> Iterator[JsonValue]:
    """`node` and every value below it, in document (pre-)order, without recursion.

    Containers whose id is in `seen` were walked already (they were below an earlier match) and
    are skipped with everything below them, so one `..` costs one walk of the data however much
    the matches overlap; otherwise `$..a..a` on nested data would take quadratic time.
    """
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Mapping | list):
            if id(current) in seen:
                continue
            seen.add(id(current))
        yield current
        if isinstance(current, Mapping):
            stack.extend(reversed(list(current.values())))
        elif isinstance(current, list):
            stack.extend(reversed(current))


_MISSING = object()
_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator_module.lt,
    "<=": operator_module.le,
    ">": operator_module.gt,
    ">=": operator_module.ge,
}


def _follow(node: JsonValue, path: tuple[str, ...]) -> object:
    for name in path:
        if not isinstance(node, Mapping) or name not in node:
            return _MISSING
        node = node[name]
    return node


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "container"


def _compare(value: object, operator: str, literal: JsonValue) -> bool:
    """A filter comparison: numbers with numbers, strings with strings, else only `!=` holds."""
    kind = _kind(value)
    if kind != _kind(literal):
        return operator == "!="
    if operator == "==":
        return value == literal
    if operator == "!=":
        return value != literal
    if kind not in ("number", "string"):
        return False  # booleans and null have no order
    # Same kind: both numbers or both strings, which Python orders the way the spec does.
    ordering = _ORDERINGS[operator]
    return bool(ordering(cast(Any, value), cast(Any, literal)))


def _select(
    selector: _Name | _Wildcard | _Index | _Slice | _Filter | _Descend,
    node: JsonValue,
    out: list[JsonValue],
) -> None:
    """Append what `selector` picks in `node` to `out`."""
    if isinstance(selector, _Name):
        if isinstance(node, Mapping) and selector.name in node:
            out.append(node[selector.name])
    elif isinstance(selector, _Wildcard):
        out.extend(_children(node))
    elif isinstance(selector, _Index):
        if isinstance(node, list) and -len(node) <= selector.index < len(node):
            out.append(node[selector.index])
    elif isinstance(selector, _Slice):
        if isinstance(node, list):
            out.extend(node[selector.start : selector.end])
    elif isinstance(selector, _Filter):
        if isinstance(node, list):
            for element in node:
                found = _follow(element, selector.path)
                if found is _MISSING:
                    continue
                if selector.operator is None or _compare(
                    found, selector.operator, selector.literal
                ):
                    out.append(element)
    else:
        raise AssertionError("descent is handled by _run")


def _run(selectors: tuple[_Selector, ...], value: JsonValue) -> list[JsonValue]:
    matches = [value]
    for selector in selectors:
        selected: list[JsonValue] = []
        if isinstance(selector, _Descend):
            seen: set[int] = set()
            for node in matches:
                for below in _self_and_descendants(node, seen):
                    _select(selector.selector, below, selected)
        else:
            for node in matches:
                _select(selector, node, selected)
        matches = selected
        if not matches:
            break
    return matches


def _integral(value: JsonValue, copies: dict[int, JsonValue]) -> JsonValue:
    """`value` with every integral float made an integer (Symphony's JSON numbers are doubles).

    Containers are copied (the data itself is never modified), level by level without recursion.
    `copies` maps the id of each container already copied to its copy: the matches of one query
    overlap (`$..d` matches every level of a nested value), and without it copying them all would
    take quadratic time.
    """
    stack: list[list[JsonValue] | dict[str, JsonValue]] = []

    def fixed(item: JsonValue) -> JsonValue:
        if isinstance(item, float):
            return normalize_number(item)
        if not isinstance(item, list | Mapping):
            return item
        known = copies.get(id(item))
        if known is not None:
            return known
        copied: list[JsonValue] | dict[str, JsonValue] = (
            list(item) if isinstance(item, list) else dict(item)
        )
        copies[id(item)] = copied
        stack.append(copied)
        return copied

    result = fixed(value)
    while stack:
        container = stack.pop()
        if isinstance(container, list):
            for index, child in enumerate(container):
                container[index] = fixed(child)
        else:
            for key, child in container.items():
                container[key] = fixed(child)
    return result


def jsonpath_query(value: JsonValue, query: str) -> JsonValue:
    """Run `query` on `value`: one match is returned as is, several as a list (section 9).

    Raises `ExpressionError` (1000) for a query outside the syntax and `ExpressionLookupError`
    (500) when nothing matches, also after retrying a non-list value as a one-element list.
    """
    selectors = _compile(query)
    if selectors is None:
        raise ExpressionError(f"invalid JsonPath query '{query}'")
    matches = _run(selectors, value)
    if not matches and not isinstance(value, list):
        matches = _run(selectors, [value])
    if not matches:
        raise ExpressionLookupError(
            f"no matches found by JsonPath query '{query}'", code=INTERNAL_ERROR
        )
    # The originals stay alive during the copy, so their ids are unique keys.
    copies: dict[int, JsonValue] = {}
    if len(matches) == 1:
        return _integral(matches[0], copies)
    return [_integral(match, copies) for match in matches]
