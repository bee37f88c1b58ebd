"""The lexer: expression text to tokens (expressions.md 4).

The lexer never fails: every character belongs to some token (characters that start nothing else
are one-character identifiers), so hostile text only ever produces more tokens. Token positions
are offsets in the whole template, which is what error positions refer to.
"""

from __future__ import annotations

from typing import NamedTuple

from symphony_mesh.expr.values import INT64_MAX

__all__ = ["END", "FLOAT", "IDENT", "INT", "PUNCT", "STRING", "Token", "tokenize"]

INT = 0
"""A run of decimal digits whose value fits in int64: `value` is the int."""
FLOAT = 1
"""A run of decimal digits beyond int64: `value` is the nearest double."""
STRING = 2
"""A quoted string: `value` is its text (single quotes removed, double quotes kept)."""
IDENT = 3
"""An identifier, a non-decimal number token (`0x1F`) or a stray character: `value` is its text."""
PUNCT = 4
"""One of `$ ( ) [ ] { } + - * / \\ , . : ? = & ~`: `value` is the character."""
END = 5
"""The end of the expression text."""


class Token(NamedTuple):
    """One token of an expression."""

    kind: int
    """INT, FLOAT, STRING, IDENT, PUNCT or END."""
    text: str
    """The token as written (empty for END)."""
    value: int | float | str
    """What the token stands for as a value (see the kinds)."""
    pos: int
    """Offset of its first character in the template."""


_SKIPPED = frozenset(" \t\r\n")
_PUNCTUATION = frozenset("$()[]{}+-*/\\,.:?=&~")
_DIGITS = frozenset("0123456789")
_DIGITS_UNDERSCORE = frozenset("0123456789_")
_HEX_UNDERSCORE = frozenset("0123456789abcdefABCDEF_")


def _is_ident_char(char: str) -> bool:
    # Unicode letters (isalpha: categories L*), Unicode decimal digits (isdecimal: Nd) and `_`.
    return char.isalpha() or char.isdecimal() or char == "_"


def _number(source: str, start: int, end: int) -> tuple[int, Token]:
    """Scan the number token starting with an ASCII digit at `start`."""
    j = start + 1
    marker = source[j] if j < end else ""
    if source[start] == "0" and marker in ("x", "X"):
        allowed = _HEX_UNDERSCORE
        j += 1
    elif source[start] == "0" and marker in ("b", "B", "o", "O"):
        allowed = _DIGITS_UNDERSCORE
        j += 1
    else:
        allowed = _DIGITS_UNDERSCORE
    while j < end and source[j] in allowed:
        j += 1
    raw = source[start:j]
    if not (raw.isascii() and raw.isdecimal()):
        return j, Token(IDENT, raw, raw, start)
    significant = raw.lstrip("0")
    # More than 19 significant digits is always beyond int64; checking first also keeps int()
    # away from Python's limit on the length of integer strings.
    if len(significant) <= 19:
        number = int(significant or "0")
        if number <= INT64_MAX:
            return j, Token(INT, raw, number, start)
    return j, Token(FLOAT, raw, float(significant or "0"), start)


def _string(source: str, start: int, end: int) -> tuple[int, Token]:
    """Scan a quoted string starting at `start`; an unterminated one stops before a line feed."""
    quote = source[start]
    j = start + 1
    while j < end:
        char = source[j]
        if char == "\\":
            j += 2  # the backslash and the character it makes part of the string
            continue
        if char == quote:
            j += 1
            break
        if char == "\n":
            break
        j += 1
    j = min(j, end)
    raw = source[start:j]
    value = raw
    if quote == "'" and len(raw) >= 2 and raw[-1] == "'":
        value = raw[1:-1]
    return j, Token(STRING, raw, value, start)


def tokenize(source: str, start: int = 0, end: int | None = None) -> list[Token]:
    """The tokens of `source[start:end]`, ending with an END token."""
    if end is None:
        end = len(source)
    tokens: list[Token] = []
    append = tokens.append
    i = start
    while i < end:
        char = source[i]
        if char in _SKIPPED:
            i += 1
        elif char in _DIGITS:
            i, token = _number(source, i, end)
            append(token)
        elif char == "'" or char == '"':
            i, token = _string(source, i, end)
            append(token)
        elif char in _PUNCTUATION:
            append(Token(PUNCT, char, char, i))
            i += 1
        elif char == "_" or char.isalpha():
            j = i + 1
            while j < end and _is_ident_char(source[j]):
                j += 1
            word = source[i:j]
            append(Token(IDENT, word, word, i))
            i = j
        else:
            # Any other character (`<`, `!`, a backtick, other whitespace...) is an identifier.
            append(Token(IDENT, char, char, i))
            i += 1
    append(Token(END, "", "", end))
    return tokens
