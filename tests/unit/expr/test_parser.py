"""Segments, grammar corners, evaluation order of errors, positions and the parse cache
(expressions.md 3, 5)."""

from __future__ import annotations

import pytest

from symphony_mesh.expr import (
    ExpressionError,
    ExpressionSyntaxError,
    Scope,
    clear_template_cache,
    compile_template,
    evaluate_template,
    parse_template,
)
from symphony_mesh.expr.nodes import Const
from symphony_mesh.expr.parser import Program
from symphony_mesh.expr.template import split_segments


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("abc", ["abc"]),
        ("", []),
        ("${{a}}", [(3, 4)]),
        ("x${{a}}y", ["x", (4, 5), "y"]),
        ("${{half-open", ["${{half-open"]),
        ("${{'abc def}}", [(3, 11)]),  # the quote never closes, but it ends with }}
        ("${{{a:1}}}", [(3, 7), "}"]),
        ("${{'}}'}}", [(3, 7)]),
        ('${{"a\\"}}"}}', [(3, 10)]),  # a backslash escapes inside double quotes
        ("${{`}}`}}", [(3, 7)]),
        ("${{`a\\`}}", [(3, 7)]),  # ...but not inside backticks: the backtick closes
        ("${{a}}${{b}}", [(3, 4), (9, 10)]),
    ],
)
def test_split_segments(template: str, expected: list[object]) -> None:
    assert split_segments(template) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${{trigger(foo,0)}}", "foo,0"),  # the counter sample's missing `$`
        ("${{a(b)c}}", "b"),  # after the group the expression ends; `c` is skipped
        ("${{1)2}}", "12"),
        ("${{(())}}", None),
        ("${{a()}}", None),  # the group replaces the expression with EMPTY
        ("${{-()}}", "-"),
        ("${{+()}}", ""),
        ("${{[()]}}", "[]"),
        ("${{$str(a(b))}}", "b"),
        ("${{$str((a,b))}}", "a,b"),
        ("${{$str([a,b])}}", "[a,b]"),
        ("${{$str(a b)}}", "$str() expects 1 argument, found 2"),
        ("${{$foo()(1)}}", 1),  # the call is discarded, never evaluated
        ("${{a\u00a0b}}", "ab"),  # a no-break space is a token, skipped like any other
        ("${{\u2003abc\u2003}}", "abc"),  # Unicode white space is trimmed
        ("${{\x1cabc}}", "\x1c"),  # U+001C is not white space
        ("${{$val()x$val()}}", None),  # null combined with null stays null
        ("${{$val() x abc}}", "abc"),
        ("${{'a'.b}}", "a.b"),
        ("${{-'5'}}", "-5"),
        ("${{-(2)}}", -2),
        ("${{9223372036854775807+0}}", 2.0**63),  # computed in double precision
        ("${{-9223372036854775807-1}}", -9223372036854775808),
        ("${{99999999999999999999*99999999999999999999}}", 1e40),
    ],
)
def test_grammar_corners(template: str, expected: object) -> None:
    try:
        result: object = evaluate_template(template)
    except ExpressionError as exc:
        result = exc.message
    assert result == expected
    assert type(result) is type(expected)


def test_first_error_in_evaluation_order_wins() -> None:
    # The first expression evaluates (and fails) before the second is even parsed.
    with pytest.raises(ExpressionError, match="invalid function name: 'foo'"):
        evaluate_template("${{$foo() $bar(}}")
    # When the first expression is fine, the syntax error of the second is reported.
    with pytest.raises(ExpressionSyntaxError, match="invalid argument"):
        evaluate_template("${{$str(a) x $bar(}}")
    # Segments go left to right.
    with pytest.raises(ExpressionError, match="invalid function name: 'a'"):
        evaluate_template("${{$a()}}${{$b()}}")


@pytest.mark.parametrize(
    ("template", "message", "position"),
    [
        ("${{$foo(1)}}", "invalid function name: 'foo'", 3),
        ("x ${{ (a }}", "expected ')' but found end of expression", 8),
        ("${{[a)}}", "expected ']' but found ')'", 5),
        ("${{$ (x)}}", "expected a function name after '$' but found '('", 5),
        ("${{$f x}}", "expected '(' after $f but found 'x'", 6),
        ("${{$f(,a)}}", "invalid argument", 6),
        ("${{ $str(1) + $not(x) }}", "x is not a boolean value", 14),
        (
            "${{" + "(" * 65 + "1" + ")" * 65 + "}}",
            "expression is nested more than 64 levels deep",
            67,
        ),
    ],
)
def test_errors_carry_the_position_in_the_template(
    template: str, message: str, position: int
) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate_template(template)
    assert caught.value.message == message
    assert caught.value.position == position
    assert caught.value.template == template
    assert str(caught.value) == message
    assert caught.value.display_text == f"Bad Config: {message}"
    assert f"at offset {position}" in caught.value.describe()


def test_errors_inside_inputs_name_the_input_chain() -> None:
    scope = Scope(inputs={"a": "${{$input(b)}}", "b": "xx ${{$nope()}}"})
    with pytest.raises(ExpressionError) as caught:
        evaluate_template("${{$input(a)}}", scope)
    assert caught.value.input_path == ("a", "b")
    assert caught.value.template == "xx ${{$nope()}}"
    assert caught.value.position == 6
    assert caught.value.describe() == (
        "Bad Config: invalid function name: 'nope' (in input 'a' -> 'b', at offset 6, "
        "near '$nope()}}')"
    )


def test_cached_errors_are_fresh_exceptions() -> None:
    template = "${{$str(}}"
    with pytest.raises(ExpressionError) as first:
        evaluate_template(template)
    with pytest.raises(ExpressionError) as second:
        evaluate_template(template)
    assert first.value is not second.value
    assert first.value.message == second.value.message == "invalid argument"


def test_parse_cache_returns_the_same_tree_and_can_be_cleared() -> None:
    clear_template_cache()
    template = "${{$str(cache-test)}}"
    first = parse_template(template)
    assert parse_template(template) is first
    assert compile_template(template) is not first
    clear_template_cache()
    assert parse_template(template) is not first


def test_constant_subtrees_are_folded_but_still_cost_their_steps() -> None:
    template = compile_template("${{roll-back}}")
    (program,) = template.segments
    assert isinstance(program, Program)
    (node,) = program.expressions
    assert isinstance(node, Const)
    assert (node.value, node.steps) == ("roll-back", 3)
