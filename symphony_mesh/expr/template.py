"""Templates: cutting a string into segments, evaluating them, and the parse cache
(expressions.md 3, 5.2, 10).

A template string is parsed once into a `Template` (literal segments and expression programs) and
the result is kept in a process-wide cache keyed by the string, bounded by the total length of
the cached templates. Strings without `${{` never reach the parser or the cache.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

from symphony_mesh.expr.errors import ExpressionError
from symphony_mesh.expr.limits import (
    MAX_DEPTH,
    MAX_STRING_BYTES,
    MAX_TEMPLATE_BYTES,
    check_string,
    nesting_exceeded,
    string_too_long,
    template_too_long,
    utf8_len,
)
from symphony_mesh.expr.parser import Program, parse_program
from symphony_mesh.expr.values import WHITESPACE, JsonValue, json_size, text

if TYPE_CHECKING:
    from symphony_mesh.expr.runtime import Run, Scope

__all__ = [
    "Template",
    "clear_template_cache",
    "compile_template",
    "parse_template",
    "run_template",
    "split_segments",
]

_OPEN = "${{"
_SCAN = re.compile(r"\}\}|['\"`]")
_REST_OF_QUOTE = {
    "'": re.compile(r"[^'\\]*(?:\\.[^'\\]*)*'", re.DOTALL),
    '"': re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL),
}


def _segment_end(source: str, start: int) -> int | None:
    """The end (after `}}`) of the expression segment whose `${{` is at `start`, if closed."""
    i = start + 3
    while True:
        match = _SCAN.search(source, i)
        if match is None:
            return None
        found = match.group()
        if found == "}}":
            return match.end()
        # A quoted string: a `}}` inside it does not close the segment (3.1).
        if found == "`":
            close = source.find("`", match.end())
            if close < 0:
                return None
            i = close + 1
        else:
            rest = _REST_OF_QUOTE[found].match(source, match.end())
            if rest is None:
                return None
            i = rest.end()


def split_segments(source: str) -> list[str | tuple[int, int]]:
    """The segments of 3.1: literal strings, and (start, end) of each expression's text."""
    segments: list[str | tuple[int, int]] = []
    pos = 0
    length = len(source)
    while pos < length:
        start = source.find(_OPEN, pos)
        if start < 0:
            segments.append(source[pos:])
            break
        if start > pos:
            segments.append(source[pos:start])
        end = _segment_end(source, start)
        if end is None:
            # Never closed: the rest is one final segment, an expression only if it ends in }}.
            if source.endswith("}}") and length - start >= 5:
                segments.append((start + 3, length - 2))
            else:
                segments.append(source[start:])
            break
        segments.append((start + 3, end - 2))
        pos = end
    return segments


def _trimmed(source: str, start: int, end: int) -> tuple[int, int]:
    """`(start, end)` narrowed past leading and trailing Unicode whitespace."""
    while start < end and source[start] in WHITESPACE:
        start += 1
    while end > start and source[end - 1] in WHITESPACE:
        end -= 1
    return start, end


class Template:
    """A parsed template, evaluated as many times as needed (thread-safe: it holds no state)."""

    __slots__ = ("segments", "source", "too_long")

    def __init__(self, source: str, segments: tuple[str | Program, ...], too_long: bool) -> None:
        self.source = source
        """The template string."""
        self.segments = segments
        """Literal strings and expression programs, in order."""
        self.too_long = too_long
        """Whether the template exceeds the size limit (its evaluation is that error)."""

    def evaluate(self, scope: Scope | None = None) -> JsonValue:
        """The template's value in `scope` (one evaluation: its own step budget)."""
        # Imported here: the runtime module imports this one.
        from symphony_mesh.expr.runtime import Run, Scope

        return self.run(Run(scope if scope is not None else Scope()))

    def run(self, run: Run) -> JsonValue:
        """The template's value within an evaluation in progress."""
        try:
            if self.too_long:
                raise template_too_long()
            segments = self.segments
            if len(segments) == 1:
                only = segments[0]
                if isinstance(only, str):
                    return only
                return _evaluate_program(only, run)
            if not segments:
                return None
            pieces: list[str] = []
            size = 0
            for segment in segments:
                piece = (
                    segment if isinstance(segment, str) else text(_evaluate_program(segment, run))
                )
                pieces.append(piece)
                size += utf8_len(piece)
                if size > MAX_STRING_BYTES:
                    raise string_too_long()
            return "".join(pieces)
        except ExpressionError as exc:
            if exc.template is None:
                exc.template = self.source
            raise


def _evaluate_program(program: Program, run: Run) -> JsonValue:
    """The value of an expression segment: its expressions combined as 5.2 says."""
    expressions = program.expressions
    depth = run.depth
    if len(expressions) == 1 and program.error is None:
        if program.depths[0] + depth > MAX_DEPTH:
            raise nesting_exceeded(expressions[0].pos)
        return expressions[0].evaluate(run)
    result: JsonValue = None
    size = -1  # compact JSON size of `result` when it is a produced list or map, -1: unknown
    for expression, deepest in zip(expressions, program.depths, strict=True):
        if deepest + depth > MAX_DEPTH:
            raise nesting_exceeded(expression.pos)
        value = expression.evaluate(run)
        if result is None:
            result = value
            continue
        try:
            result, size = _combine(result, size, value)
        except ExpressionError as exc:
            if exc.position is None:
                exc.position = expression.pos
            raise
    error = program.error
    if error is not None:
        if error.depth + depth > MAX_DEPTH:
            raise nesting_exceeded(error.position)
        raise error.raise_error()
    return result


def _combine(result: JsonValue, size: int, value: JsonValue) -> tuple[JsonValue, int]:
    """5.2: lists append, maps merge, anything else joins as text.

    Lists and maps built here are produced values, so their compact JSON is held to the string
    limit like a produced string: without that, `$input` chains could double a list at every
    level. Sizes are tracked incrementally so that many segments stay linear.
    """
    if isinstance(result, list) and isinstance(value, list):
        if size < 0:
            size = json_size(result)
        # Joining two non-empty lists shares one pair of brackets and adds a comma.
        overlap = 1 if result and value else 2
        added = json_size(value, MAX_STRING_BYTES - size + overlap)
        if not result:
            return list(value), added
        return result + value, size + (added - overlap if value else 0)
    if isinstance(result, dict) and isinstance(value, dict):
        if size < 0:
            size = json_size(result)
        added = json_size(value)
        merged = {**result, **value}
        bound = size + added - 1
        # Replaced keys make the merge smaller than the bound; measure only when it matters.
        return merged, bound if bound <= MAX_STRING_BYTES else json_size(merged)
    return check_string(text(result) + text(value)), -1


def compile_template(source: str) -> Template:
    """Parse `source` without the cache (for benchmarks and one-off templates)."""
    if len(source) * 4 > MAX_TEMPLATE_BYTES and utf8_len(source) > MAX_TEMPLATE_BYTES:
        return Template(source, (), too_long=True)
    segments: list[str | Program] = []
    for segment in split_segments(source):
        if isinstance(segment, str):
            segments.append(segment)
        else:
            start, end = _trimmed(source, *segment)
            segments.append(parse_program(source, start, end))
    return Template(source, tuple(segments), too_long=False)


class _TemplateCache:
    """Parsed templates by source, bounded by the total length of their sources.

    Eviction is oldest-first (dicts keep insertion order), which needs no bookkeeping on the hit
    path: a hit is one lock-free dict lookup. Inserts take a lock.
    """

    def __init__(self, budget: int) -> None:
        self.entries: dict[str, Template] = {}
        self.budget = budget
        self.used = 0
        self.lock = threading.Lock()

    def add(self, source: str, template: Template) -> None:
        cost = len(source) + 64
        if cost > self.budget // 8:
            return  # a huge template would push out many useful ones
        with self.lock:
            if source in self.entries:
                return
            while self.used + cost > self.budget and self.entries:
                oldest = next(iter(self.entries))
                self.used -= len(oldest) + 64
                del self.entries[oldest]
            self.entries[source] = template
            self.used += cost

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.used = 0


# 4 Mi characters of template text (the trees take roughly twenty times that in memory).
_CACHE = _TemplateCache(4 * 1024 * 1024)
_cached = _CACHE.entries.get


def parse_template(source: str) -> Template:
    """The parsed `source`, from the cache when it was parsed before."""
    template = _cached(source)
    if template is None:
        template = compile_template(source)
        _CACHE.add(source, template)
    return template


def clear_template_cache() -> None:
    """Forget every parsed template (tests and benchmarks of cold parsing use it)."""
    _CACHE.clear()


def run_template(source: str, run: Run) -> JsonValue:
    """Evaluate the template `source` within `run` (cached parse; fast path without `${{`)."""
    template = _cached(source)
    if template is None:
        if _OPEN not in source:
            if len(source) * 4 > MAX_TEMPLATE_BYTES and utf8_len(source) > MAX_TEMPLATE_BYTES:
                error = template_too_long()
                error.template = source
                raise error
            return source if source else None
        template = compile_template(source)
        _CACHE.add(source, template)
    return template.run(run)
