"""Properties checked with hypothesis: on any text the language only ever raises its own errors,
within its limits of time and size; literals and data round-trip."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symphony_mesh.expr import (
    MAX_STRING_BYTES,
    MAX_TEMPLATE_BYTES,
    ExpressionError,
    JsonValue,
    Scope,
    StaticSources,
    evaluate_template,
    utf8_len,
)
from symphony_mesh.expr.values import json_size

_FUNCTION_NAMES = [
    *("if", "and", "or", "not", "equal", "gt", "ge", "lt", "le", "between", "in", "str", "json"),
    *("base64encode", "base64decode", "jsonpath", "input", "output", "trigger", "val", "context"),
    *("config", "secret", "len", "default", "contains", "keys", "property", "foo", "IF"),
]

FRAGMENTS = [
    *"$()[]{}+-*/\\,.:?=&~'\"` \n\t<!",
    "a",
    "b",
    "1",
    "0",
    "12",
    "0x1F",
    "99999999999999999999",
    "é",
    "\u00a0",
    "true",
    "'$.a'",
    "'$[0]'",
    "'$..*'",
    "${{",
    "}}",
    *(f"${name}(" for name in _FUNCTION_NAMES),
]
"""Pieces of expressions: random text made of them reaches every corner of the grammar."""

_pieces = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
_expression_text = st.one_of(
    _pieces.map(lambda body: "${{" + body + "}}"),
    st.tuples(st.text(max_size=5), _pieces, st.text(max_size=5), _pieces).map(
        lambda parts: f"{parts[0]}${{{{{parts[1]}}}}}{parts[2]}${{{{{parts[3]}}}}}"
    ),
    st.text(max_size=60),
    st.text(alphabet=st.sampled_from([piece for piece in FRAGMENTS if len(piece) == 1])),
)
# Repetitions of a piece up to (and past) the template size limit: long chains, deep nesting,
# huge segment counts.
_repeated = st.tuples(
    _pieces.filter(bool), st.sampled_from([2, 100, 1_000, 5_000, 20_000]) | st.integers(1, 20_000)
).map(lambda parts: "${{" + (parts[0] * parts[1])[: MAX_TEMPLATE_BYTES + 100] + "}}")

SOURCES = StaticSources(configs={"app": {"port": 1}}, secrets={"db": {"pw": "x"}})


def _scope(inputs: Mapping[str, JsonValue]) -> Scope:
    return Scope(
        inputs=inputs,
        triggers={"a": [1, "x"], "t": "${{1}}", "n": 5},
        outputs={"a": {"b": {"c": [1, 2]}}, "s": {"k": "v"}},
        value={"a": [{"b": 1}], "c": "d"},
        resolver=SOURCES,
    )


def _is_json(value: object) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif not (item is None or isinstance(item, bool | int | float | str)):
            return False
    return True


def _check_outcome(template: str, scope: Scope) -> None:
    start = time.perf_counter()
    error: ExpressionError | None = None
    result: JsonValue = None
    try:
        result = evaluate_template(template, scope)
    except ExpressionError as exc:  # anything else fails the test
        error = exc
    if error is not None:
        assert error.code in (500, 1000)
        assert isinstance(error.message, str)
        assert error.message
    else:
        assert _is_json(result)
        if isinstance(result, str) and "${{" in template:
            assert utf8_len(result) <= MAX_STRING_BYTES
        # Whatever was built is bounded: rendering it cannot blow up.
        json_size(result, 4 * MAX_STRING_BYTES)
    assert time.perf_counter() - start < 2.0


@settings(max_examples=500, deadline=timedelta(seconds=2))
@given(template=_expression_text, inputs=st.dictionaries(st.sampled_from("abc"), _expression_text))
def test_any_text_evaluates_or_raises_an_expression_error(
    template: str, inputs: dict[str, JsonValue]
) -> None:
    _check_outcome(template, _scope(inputs))


@settings(
    max_examples=200,
    deadline=timedelta(seconds=3),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(template=_repeated)
def test_repeated_pieces_stay_within_the_limits(template: str) -> None:
    _check_outcome(template, _scope({"a": template, "b": "${{$input(a)$input(a)}}"}))


@settings(max_examples=300)
@given(number=st.integers(min_value=0, max_value=2**63 - 1))
def test_integer_literals_round_trip(number: int) -> None:
    result = evaluate_template("${{" + str(number) + "}}")
    assert result == number
    assert type(result) is int
    assert evaluate_template("${{-" + str(number) + "}}") == -number
    assert evaluate_template("${{0" + str(number) + "}}") == number


@settings(max_examples=200)
@given(number=st.integers(min_value=2**63, max_value=10**40))
def test_integer_literals_beyond_64_bits_are_doubles(number: int) -> None:
    result = evaluate_template("${{" + str(number) + "}}")
    assert result == float(number)
    assert type(result) is float


_quotable = st.text(
    alphabet=st.characters(exclude_characters="'\\\n", exclude_categories=["Cs"]),
    max_size=40,
)


@settings(max_examples=300)
@given(content=_quotable)
def test_single_quoted_strings_round_trip(content: str) -> None:
    assert evaluate_template("${{'" + content + "'}}") == content
    assert evaluate_template("${{$str('" + content + "')}}") == content


_letter = st.characters(categories=["Lu", "Ll", "Lt", "Lm", "Lo"])
_identifier_char = st.one_of(_letter, st.characters(categories=["Nd"]), st.just("_"))
_identifier = st.tuples(
    st.one_of(_letter, st.just("_")), st.text(alphabet=_identifier_char, max_size=20)
).map("".join)


@settings(max_examples=300)
@given(word=_identifier)
def test_identifiers_are_strings(word: str) -> None:
    assert evaluate_template("${{" + word + "}}") == word
    assert evaluate_template("${{ " + word + "\t}}") == word


@settings(max_examples=300)
@given(text=st.text(max_size=200).filter(lambda text: "${{" not in text))
def test_text_without_expressions_is_returned_as_is(text: str) -> None:
    assert evaluate_template(text) == (text if text else None)


_json_without_integral_floats = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer())
    | st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=15,
)


@settings(max_examples=300)
@given(data=_json_without_integral_floats)
def test_json_is_compact_json(data: JsonValue) -> None:
    scope = Scope(triggers={"x": data})
    expected = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    assert evaluate_template("${{$json($trigger(x, ''))}}", scope) == expected
    rendered = evaluate_template("v=${{$trigger(x, '')}}", scope)
    assert rendered == "v=" + ("" if data is None else data if isinstance(data, str) else expected)


@settings(max_examples=300)
@given(text=st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=100))
def test_base64_round_trips(text: str) -> None:
    scope = Scope(triggers={"s": text})
    assert evaluate_template("${{$base64decode($base64encode($trigger(s, '')))}}", scope) == text


@settings(max_examples=300)
@given(a=st.integers(-(10**6), 10**6), b=st.integers(-(10**6), 10**6).filter(bool))
def test_arithmetic_matches_double_precision(a: int, b: int) -> None:
    scope = Scope(triggers={"a": a, "b": b})
    assert evaluate_template("${{$trigger(a,0)+$trigger(b,0)}}", scope) == a + b
    assert evaluate_template("${{$trigger(a,0)*$trigger(b,0)}}", scope) == a * b
    quotient = evaluate_template("${{$trigger(a,0)/$trigger(b,0)}}", scope)
    assert quotient == a / b
    assert isinstance(quotient, int) == (a % b == 0)
    assert evaluate_template("${{$trigger(a,0)}}:${{$trigger(b,0)}}", scope) == f"{a}:{b}"
