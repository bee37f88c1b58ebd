"""Values and their text (expressions.md 2)."""

from __future__ import annotations

import pytest

from symphony_mesh.expr import MAX_STRING_BYTES, ExpressionLimitError
from symphony_mesh.expr.values import (
    JsonValue,
    compact_json,
    decode_json,
    display,
    is_number,
    json_size,
    normalize_number,
    number_text,
    text,
    type_name,
)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (-5, "-5"),
        (5.0, "5"),
        (-0.0, "0"),
        (2.5, "2.5"),
        (0.1, "0.1"),
        (1 / 3, "0.3333333333333333"),
        (1e20, "1e+20"),
        (1e-7, "1e-07"),
        (2.0**53, "9007199254740992.0"),
        (float("inf"), "inf"),
        (2**70, "1.1805916207174113e+21"),
    ],
)
def test_number_text(number: float, expected: str) -> None:
    assert number_text(number) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a", "a"),
        (None, ""),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (4.5, "4.5"),
        (["a", 1, None], '["a",1,null]'),
        ({"b": 1, "a": [True, None, "é"]}, '{"b":1,"a":[true,null,"é"]}'),
        ({"k": 5.0}, '{"k":5}'),
        ("\n\x01", "\n\x01"),
    ],
)
def test_text(value: JsonValue, expected: str) -> None:
    assert text(value) == expected


def test_compact_json_escapes_like_python_json() -> None:
    assert compact_json('q"\\\n\t\x01é<>&') == '"q\\"\\\\\\n\\t\\u0001é<>&"'


def test_compact_json_of_deep_data_does_not_recurse() -> None:
    deep: JsonValue = []
    for _ in range(50_000):
        deep = [deep]
    assert compact_json(deep) == "[" * 50_001 + "]" * 50_001


def test_rendering_a_shared_bomb_stops_at_the_limit() -> None:
    bomb: JsonValue = ["x" * 100]
    for _ in range(60):  # 2**60 copies of the leaf once expanded, a few objects in memory
        bomb = [bomb, bomb]
    with pytest.raises(ExpressionLimitError, match="string result is longer than 1048576"):
        text(bomb)
    with pytest.raises(ExpressionLimitError):
        json_size(bomb)


def test_json_size_matches_the_rendering() -> None:
    value: JsonValue = {"a": [1, 2.5, "é\n", None, True], "": {}}
    assert json_size(value) == len(compact_json(value).encode())
    assert json_size("x" * (MAX_STRING_BYTES - 2)) == MAX_STRING_BYTES  # with its quotes
    with pytest.raises(ExpressionLimitError):
        json_size("x" * (MAX_STRING_BYTES - 1))


def test_display_shows_null_and_bounds_huge_values() -> None:
    assert display(None) == "null"
    assert display([1]) == "[1]"
    assert display(["x" * MAX_STRING_BYTES]) == "<list longer than 1048576 bytes>"


def test_type_names_and_numbers() -> None:
    values: list[JsonValue] = [None, True, 1, 1.5, "s", [], {}]
    assert [type_name(value) for value in values] == [
        "null",
        "boolean",
        "integer",
        "float",
        "string",
        "list",
        "map",
    ]
    assert is_number(1)
    assert is_number(1.5)
    assert not is_number(True)
    assert not is_number("1")


@pytest.mark.parametrize(
    ("result", "expected"),
    [(5.0, 5), (-0.0, 0), (4.5, 4.5), (2.0**63, 2.0**63), (-(2.0**63), -(2**63))],
)
def test_integral_results_become_integers(result: float, expected: float) -> None:
    normalized = normalize_number(result)
    assert normalized == expected
    assert type(normalized) is type(expected)


def test_decode_json_is_64_bit() -> None:
    assert decode_json('{"a":[1,2.5]}') == {"a": [1, 2.5]}
    big = decode_json("99999999999999999999")
    assert isinstance(big, float)
    assert big == 1e20


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("NaN", "NaN is not JSON"),
        ("[-Infinity]", "-Infinity is not JSON"),
        ("{", "Expecting property name"),
        ("[" * 100_000, "JSON nested too deeply"),
    ],
)
def test_decode_json_is_strict(source: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        decode_json(source)
