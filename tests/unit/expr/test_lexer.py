"""The lexer (expressions.md 4): token kinds, extents and values."""

from __future__ import annotations

import pytest

from symphony_mesh.expr.lexer import END, FLOAT, IDENT, INT, PUNCT, STRING, tokenize


def _kinds(source: str) -> list[tuple[int, str, object]]:
    return [(token.kind, token.text, token.value) for token in tokenize(source)[:-1]]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("abc", [(IDENT, "abc", "abc")]),
        ("a__b9", [(IDENT, "a__b9", "a__b9")]),
        ("héllo", [(IDENT, "héllo", "héllo")]),
        ("x٣", [(IDENT, "x٣", "x٣")]),  # Arabic-Indic three is a Unicode decimal digit
        ("12", [(INT, "12", 12)]),
        ("012", [(INT, "012", 12)]),
        ("9223372036854775807", [(INT, "9223372036854775807", 9223372036854775807)]),
        ("9223372036854775808", [(FLOAT, "9223372036854775808", 9.223372036854775808e18)]),
        ("0x1F", [(IDENT, "0x1F", "0x1F")]),
        ("0b101", [(IDENT, "0b101", "0b101")]),
        ("0o17", [(IDENT, "0o17", "0o17")]),
        ("0x", [(IDENT, "0x", "0x")]),
        ("1_000", [(IDENT, "1_000", "1_000")]),
        ("'abc def'", [(STRING, "'abc def'", "abc def")]),
        ("'it\\'s'", [(STRING, "'it\\'s'", "it\\'s")]),
        ("'abc", [(STRING, "'abc", "'abc")]),
        ("'", [(STRING, "'", "'")]),
        ('"abc"', [(STRING, '"abc"', '"abc"')]),
        ('"a\\"b"', [(STRING, '"a\\"b"', '"a\\"b"')]),
        ("`", [(IDENT, "`", "`")]),
        ("<", [(IDENT, "<", "<")]),
        ("\u00a0", [(IDENT, "\u00a0", "\u00a0")]),  # only space, tab, CR, LF are skipped
    ],
)
def test_single_tokens(source: str, expected: list[tuple[int, str, object]]) -> None:
    assert _kinds(source) == expected


def test_unterminated_string_stops_before_a_line_feed() -> None:
    assert _kinds("'ab\ncd") == [(STRING, "'ab", "'ab"), (IDENT, "cd", "cd")]


def test_backslash_takes_the_next_character_even_a_line_feed() -> None:
    assert _kinds("'a\\\nb'") == [(STRING, "'a\\\nb'", "a\\\nb")]


def test_every_punctuation_character_is_its_own_token() -> None:
    source = "$()[]{}+-*/\\,.:?=&~"
    assert _kinds(source) == [(PUNCT, char, char) for char in source]


def test_whitespace_separates_and_positions_are_absolute() -> None:
    tokens = tokenize("xx a \t\r\n 6.3", 3)
    assert [(token.kind, token.text, token.pos) for token in tokens] == [
        (IDENT, "a", 3),
        (INT, "6", 9),
        (PUNCT, ".", 10),
        (INT, "3", 11),
        (END, "", 12),
    ]


def test_huge_digit_runs_do_not_hit_the_integer_string_limit() -> None:
    (token,) = tokenize("9" * 5000)[:-1]
    assert token.kind == FLOAT
    assert token.value == float("inf")
    (token,) = tokenize("0" * 5000 + "7")[:-1]
    assert (token.kind, token.value) == (INT, 7)
