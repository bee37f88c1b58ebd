"""The hard limits of the expression language (expressions.md 12) and the checks that apply them.

The limits are fixed by the spec, so they are constants rather than settings. Each check raises
an `ExpressionLimitError` with the spec's message; none of them relies on Python's recursion
limit, which is never reached: the parser stops at the nesting limit and long operator chains are
evaluated in loops.
"""

from __future__ import annotations

from symphony_mesh.expr.errors import ExpressionLimitError

__all__ = [
    "MAX_DEPTH",
    "MAX_STEPS",
    "MAX_STRING_BYTES",
    "MAX_TEMPLATE_BYTES",
    "check_string",
    "nesting_exceeded",
    "steps_exceeded",
    "string_too_long",
    "template_too_long",
    "utf8_len",
]

MAX_TEMPLATE_BYTES = 65_536
"""Largest template string, in UTF-8 bytes."""
MAX_DEPTH = 64
"""Deepest nesting of groups, brackets, call argument lists, unary operators and `$input`."""
MAX_STEPS = 100_000
"""Most syntax nodes evaluated by one evaluation (one template field value)."""
MAX_STRING_BYTES = 1_048_576
"""Largest string (in UTF-8 bytes) an operator, a function or a concatenation may produce."""


def utf8_len(text: str) -> int:
    """Length of `text` in UTF-8 bytes (lone surrogates count as the 3 bytes they would take)."""
    # isascii() is O(1) in CPython (a flag of the string object): the common case costs nothing.
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def check_string(text: str, position: int | None = None) -> str:
    """Return `text`, or raise the string-size error if it is longer than the limit."""
    length = len(text)
    # A code point takes 1 to 4 bytes, so most strings are decided without encoding them.
    if length * 4 > MAX_STRING_BYTES and (
        length > MAX_STRING_BYTES or utf8_len(text) > MAX_STRING_BYTES
    ):
        raise string_too_long(position)
    return text


def template_too_long() -> ExpressionLimitError:
    """The error for a template over `MAX_TEMPLATE_BYTES`."""
    return ExpressionLimitError(f"template is longer than {MAX_TEMPLATE_BYTES} bytes", position=0)


def nesting_exceeded(position: int | None) -> ExpressionLimitError:
    """The error for nesting deeper than `MAX_DEPTH`."""
    return ExpressionLimitError(
        f"expression is nested more than {MAX_DEPTH} levels deep", position=position
    )


def steps_exceeded(position: int | None) -> ExpressionLimitError:
    """The error for an evaluation of more than `MAX_STEPS` syntax nodes."""
    return ExpressionLimitError(
        f"expression evaluation exceeded {MAX_STEPS} steps", position=position
    )


def string_too_long(position: int | None = None) -> ExpressionLimitError:
    """The error for a produced string (or container) over `MAX_STRING_BYTES`."""
    return ExpressionLimitError(
        f"string result is longer than {MAX_STRING_BYTES} bytes", position=position
    )
