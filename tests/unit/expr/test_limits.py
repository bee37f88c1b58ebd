"""Hostile templates end with the specified errors, quickly and without a crash
(expressions.md 12). Each test also bounds the time it takes, generously."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from symphony_mesh.expr import (
    MAX_STRING_BYTES,
    ExpressionError,
    ExpressionLimitError,
    JsonValue,
    Scope,
    evaluate_template,
    evaluate_value,
)

TOO_LONG = "template is longer than 65536 bytes"
NESTED = "expression is nested more than 64 levels deep"
STEPS = "expression evaluation exceeded 100000 steps"
STRING = "string result is longer than 1048576 bytes"
SECONDS = 3.0
"""Far more than any of these takes (milliseconds), still proof that nothing runs away."""


@contextmanager
def _quick() -> Iterator[None]:
    start = time.perf_counter()
    yield
    assert time.perf_counter() - start < SECONDS


def _fails(message: str, template: str, scope: Scope | None = None) -> ExpressionError:
    with _quick(), pytest.raises(ExpressionLimitError) as caught:
        evaluate_template(template, scope)
    assert caught.value.message == message
    assert caught.value.code == 1000
    return caught.value


@pytest.mark.parametrize(
    "template",
    [
        "x" * (1024 * 1024),
        "${{" + "(" * (1024 * 1024) + "}}",
        "${{" + "1+" * (512 * 1024) + "1}}",
    ],
    ids=["plain", "parentheses", "chain"],
)
def test_one_mebibyte_template(template: str) -> None:
    _fails(TOO_LONG, template)


@pytest.mark.parametrize(
    ("opener", "closer"),
    [("(", ")"), ("[", "]"), ("{", "}"), ("$str(", ")"), ("-", ""), ("+", ""), ("a(", ")")],
)
def test_ten_thousand_nested_levels(opener: str, closer: str) -> None:
    _fails(NESTED, "${{" + opener * 10_000 + "1" + closer * 10_000 + "}}")


def test_nesting_error_comes_after_earlier_expressions() -> None:
    # The first expression is evaluated before the deep second one is met (`x` is skipped).
    with pytest.raises(ExpressionError, match="invalid function name"):
        evaluate_template("${{$foo() x " + "(" * 10_000 + "}}")
    # A group right after an operand belongs to the first expression (`a(b)` is `b`).
    _fails(NESTED, "${{$foo() " + "(" * 10_000 + "}}")


def _doubling(levels: int, base: str, joiner: str) -> dict[str, JsonValue]:
    """Inputs where each level is the next one twice: 2**levels copies of `base`."""
    inputs: dict[str, JsonValue] = {
        f"l{i}": "${{" + f"$input(l{i + 1}){joiner}$input(l{i + 1})" + "}}" for i in range(levels)
    }
    inputs[f"l{levels}"] = base
    return inputs


@pytest.mark.parametrize(
    ("joiner", "base"),
    [("+", "ab"), (" x ", "ab"), (".", "ab"), (",", "ab"), (" x ", "${{$trigger(l, '')}}")],
    ids=["plus", "program", "dot", "comma", "list"],
)
def test_exponential_growth_through_inputs(joiner: str, base: str) -> None:
    scope = Scope(inputs=_doubling(60, base, joiner), triggers={"l": ["item"] * 4})
    error = _fails(STRING, "${{$input(l0)}}", scope)
    assert len(error.input_path) > 10


def test_exponential_growth_through_segments() -> None:
    inputs: dict[str, JsonValue] = {
        f"l{i}": f"${{{{$input(l{i + 1})}}}}${{{{$input(l{i + 1})}}}}" for i in range(60)
    }
    inputs["l60"] = "abc"
    _fails(STRING, "${{$input(l0)}}", Scope(inputs=inputs))


def test_exponential_sharing_through_list_inputs() -> None:
    # Each level is a list holding the next level twice: a few objects, 2**60 leaves.
    inputs: dict[str, JsonValue] = {
        f"l{i}": [f"${{{{$input(l{i + 1})}}}}", f"${{{{$input(l{i + 1})}}}}"] for i in range(60)
    }
    inputs["l60"] = "x" * 64
    _fails(STRING, "${{$input(l0)}}", Scope(inputs=inputs))


@pytest.mark.parametrize(
    "wrap",
    [
        lambda inner: f"$json({inner})",  # every level escapes the quotes again
        lambda inner: f"$base64encode({inner})",  # 4/3 longer at every level
    ],
    ids=["json", "base64"],
)
def test_growth_through_nested_functions(wrap: Callable[[str], str]) -> None:
    inner = "$trigger(s, '')"
    for _ in range(40):
        inner = wrap(inner)
    _fails(STRING, "${{" + inner + "}}", Scope(triggers={"s": 'x"\\' * 1000}))


def test_string_limit_is_exact() -> None:
    half = "x" * (MAX_STRING_BYTES // 2)
    assert evaluate_template("${{$trigger(a, '')+$trigger(a, '')}}", Scope(triggers={"a": half}))
    _fails(STRING, "${{$trigger(a, '')+$trigger(a, '')+b}}", Scope(triggers={"a": half}))
    # Data passed through unchanged is not checked, whatever its size.
    big = "y" * (2 * MAX_STRING_BYTES)
    assert evaluate_template("${{$trigger(a, '')}}", Scope(triggers={"a": big})) == big


def test_step_limit_through_repeated_work() -> None:
    # A 60 000-step input, evaluated fresh in each of two scopes sharing one evaluation budget.
    chain = "${{" + "+".join(["1"] * 30_000) + "}}"
    scope = Scope(inputs={"a": chain, "b": chain})
    _fails(STEPS, "${{$input(a)}}${{$input(b)}}", scope)
    # The failure cached nothing wrong: a fresh evaluation of one of them works.
    assert scope.input("a") == 30_000


def test_long_text_chains_stay_linear() -> None:
    with _quick():
        result = evaluate_template("${{" + "+".join(["ab"] * 20_000) + "}}")
    assert result == "ab" * 20_000
    with _quick():
        result = evaluate_template("${{$str(x)" + "+ab" * 15_000 + "}}")
    assert result == "x" + "ab" * 15_000


def test_big_data_is_handled_in_one_pass() -> None:
    items: JsonValue = [{"id": i, "tags": ["a", "b"]} for i in range(20_000)]
    scope = Scope(triggers={"items": items})
    with _quick():
        assert evaluate_template("${{$len($trigger(items, ''))}}", scope) == 20_000
        assert evaluate_template("${{$jsonpath($trigger(items, ''), '$[-1].id')}}", scope) == 19_999
    _fails(STRING, "${{$json($trigger(items, ''))$json($trigger(items, ''))}}", scope)


def test_deep_data_does_not_exhaust_the_stack() -> None:
    deep: JsonValue = "leaf"
    for _ in range(100_000):
        deep = {"d": deep}
    scope = Scope(triggers={"deep": deep})
    with _quick():
        assert evaluate_template("${{$trigger(deep, '')}}", scope) is deep
        assert evaluate_template("${{$jsonpath($trigger(deep, ''), '$..d')}}", scope) != []
        rendered = evaluate_template("${{$str($trigger(deep, ''))}}", scope)
        assert isinstance(rendered, str)
        assert len(rendered) == 600_006
        assert evaluate_value({"k": ["${{$len($trigger(deep, ''))}}"]}, scope) == {"k": [1]}
