"""Built-in functions beyond the spec's example table (expressions.md 8)."""

from __future__ import annotations

from typing import Any

import pytest

from symphony_mesh.expr import (
    ExpressionError,
    ExpressionLookupError,
    JsonValue,
    Scope,
    StaticSources,
    evaluate_template,
)


def _run(template: str, **scope: Any) -> object:
    """The value, or ("error", code, message)."""
    try:
        return evaluate_template(template, Scope(**scope))
    except ExpressionError as exc:
        return ("error", exc.code, exc.message)


def _error(message: str, code: int = 1000) -> tuple[str, int, str]:
    return ("error", code, message)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${{$not()}}", _error("$not() expects 1 argument, found 0")),
        ("${{$if(a, b)}}", _error("$if() expects 3 arguments, found 2")),
        ("${{$context(a, b)}}", _error("$context() expects 0 or 1 argument, found 2")),
        ("${{$config(a)}}", _error("$config() expects at least 2 arguments, found 1")),
        ("${{$len()}}", _error("$len() expects 1 argument, found 0")),
        ("${{$keys(a, b)}}", _error("$keys() expects 1 argument, found 2")),
        # Arity is checked before any argument is evaluated.
        ("${{$if($foo(), a)}}", _error("$if() expects 3 arguments, found 2")),
        # Unsupported functions fail whatever their arguments, which are not evaluated.
        ("${{$param($foo(), 1, 2)}}", _error("$param() is not supported in workflows")),
        ("${{$instance(x)}}", _error("$instance() is not supported in workflows")),
    ],
)
def test_arity_and_unsupported(template: str, expected: object) -> None:
    assert _run(template) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${{$in(a, a, $foo())}}", True),  # stops at the first match
        ("${{$in(a, b, $foo())}}", _error("invalid function name: 'foo'")),
        ("${{$and(true, maybe)}}", _error("maybe is not a boolean value")),
        ("${{$or(false, 1)}}", _error("1 is not a boolean value")),
        ("${{$or(false, '1')}}", True),
        ("${{$or(true, nonsense)}}", True),
        ("${{$not($val())}}", _error("null is not a boolean value")),
        ("${{$not($equal(1, 2))}}", True),
        ("${{$gt('1e3', 999)}}", True),
        ("${{$gt('-2.5', '-3')}}", True),
        ("${{$gt('.5', 0)}}", True),
        ("${{$gt(' 5', 1)}}", _error(" 5 is not a valid number")),
        ("${{$gt($equal(1,1), 0)}}", _error("true is not a valid number")),
        ("${{$gt(inf, 0)}}", _error("inf is not a valid number")),
        ("${{$gt(1, $val())}}", _error("null is not a valid number")),
        ("${{$lt(abc, $foo())}}", _error("invalid function name: 'foo'")),  # all evaluated
        ("${{$lt(abc, def)}}", _error("abc is not a valid number")),  # first offender
        ("${{$between(5, 5, 5)}}", True),
        ("${{$between(x, 1, 2)}}", _error("x is not a valid number")),
        ("${{$if($equal(1,1), then, else)}}", "then"),
        ("${{$if(1, then, else)}}", "else"),
        ("${{$if(yes, then, else)}}", "else"),
        ("${{$str($json(abc))}}", '"abc"'),
        ("${{$json(5)}}", "5"),
        ("${{$json($val())}}", "null"),
        ("${{$str($val())}}", ""),
        ("${{$len(héllo)}}", 5),
        ("${{$len($json(abc))}}", 5),
        ("${{$contains(a1b, 1)}}", True),
        ("${{$contains(abc, $val())}}", True),  # text(null) is "", found everywhere
        ("${{$keys($keys(abc))}}", _error("$keys() needs a map, got string")),
        ("${{$default('', d)}}", "d"),
        ("${{$default($val(), d)}}", "d"),
        ("${{$default(abc, $foo())}}", "abc"),  # the default is not evaluated
        ("${{$default($val(), $foo())}}", _error("invalid function name: 'foo'")),
        (
            "${{$default($input(a), d)}}",
            _error("an input collection is needed to evaluate $input()"),
        ),
        ("${{$base64decode(abc)}}", _error("failed to decode base64 string: abc", 500)),
        ("${{$base64encode(é)}}", "w6k="),
        ("${{$jsonpath(abc, '$')}}", "abc"),  # not JSON: the string itself
        ("${{$jsonpath('  [1, 2] ', '$[1]')}}", 2),
        ("${{$jsonpath('[1]', 'a.b')}}", _error("invalid JsonPath query 'a.b'")),
        ("${{$jsonpath('[1]', '$[')}}", _error("invalid JsonPath query '$['")),
        ("${{$jsonpath('[5.0]', '$[0]')}}", 5),
        ("${{$jsonpath('5.5', '$')}}", 5.5),
    ],
)
def test_functions(template: str, expected: object) -> None:
    result = _run(template)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("template", "triggers", "expected"),
    [
        # Both arguments of $trigger are evaluated, the key first.
        ("${{$trigger(x, $foo())}}", {"x": 1}, _error("invalid function name: 'foo'")),
        ("${{$equal($trigger(a, ''), 1)}}", {"a": 1.0000000001}, True),
        ("${{$equal($trigger(a, ''), 1)}}", {"a": True}, False),
        ("${{$equal($trigger(l, ''), '[1,2]')}}", {"l": [1, 2]}, True),
        ("${{$contains($trigger(l, ''), '2')}}", {"l": [1, 2]}, True),
        ("${{$contains($trigger(l, ''), 3)}}", {"l": [1, 2]}, False),
        ("${{$len($trigger(m, ''))}}", {"m": {"a": 1, "b": 2}}, 2),
        ("${{$keys($trigger(m, ''))}}", {"m": {"b": 1, "a": 2}}, ["b", "a"]),
        ("${{$base64decode($trigger(s, ''))}}", {"s": "SGVs\r\nbG8="}, "Hello"),
        (
            "${{$base64decode($trigger(s, ''))}}",
            {"s": "/w=="},
            _error("failed to decode base64 string: /w==", 500),
        ),
        # A JSON string holding JSON text is decoded twice.
        ("${{$jsonpath($trigger(s, ''), '$.a')}}", {"s": '"{\\"a\\": 7}"'}, 7),
        # One pair of surrounding quotes, backticks included, is removed from the path.
        ("${{$jsonpath($trigger(m, ''), $trigger(p, ''))}}", {"m": {"a": 1}, "p": "`$.a`"}, 1),
        (
            "${{$jsonpath($trigger(m, ''), '$.z')}}",
            {"m": {"a": 1}},
            _error("no matches found by JsonPath query '$.z'", 500),
        ),
        ("${{$default($jsonpath($trigger(m, ''), '$.z'), none)}}", {"m": {"a": 1}}, "none"),
    ],
)
def test_functions_on_data(template: str, triggers: dict[str, JsonValue], expected: object) -> None:
    result = _run(template, triggers=triggers)
    assert result == expected
    assert type(result) is type(expected)


def test_val_reads_paths_keys_and_the_braced_form() -> None:
    value = {"a": {"b": [10, 20]}, "k": "v"}
    assert _run("${{$val(k)}}", value=value) == "v"
    assert _run("${{$val('{$.a.b[1]}')}}", value=value) == 20
    assert _run("${{$val('$.a.b[*]')}}", value=value) == [10, 20]
    assert _run("${{$default($val('$.nope'), d)}}", value=value) == "d"
    assert _run("${{$default($val(nope), d)}}", value=value) == "d"
    # Not a lookup error: the value is not a map, so $default lets it through.
    assert _run("${{$default($val(a), d)}}", value=[1]) == _error(
        "context value '[1]' is not a map"
    )


def test_output_lookups() -> None:
    outputs: Any = {"s": {"k": None}, "odd": "not a map"}  # a careless caller's outputs
    assert _run("${{$output(s, k)}}", outputs=outputs) is None
    assert _run("${{$output(odd, k)}}", outputs=outputs) == _error("property k is not found")
    assert _run("${{$output(s, $foo())}}", outputs=outputs) == _error(
        "invalid function name: 'foo'"
    )
    assert _run("${{$output(s, k)}}", outputs={}) == ""


def test_config_and_secret_through_a_static_resolver() -> None:
    resolver = StaticSources(
        configs={"app": {"port": 8080}, "prod": {"port": 9090}},
        secrets={"db": {"password": "pw"}},
    )
    assert _run("${{$config(app, port)}}", resolver=resolver) == 8080
    assert _run("${{$config(app, port, nope, prod)}}", resolver=resolver) == 9090
    assert _run("${{$config(app, port, ..)}}", resolver=resolver) == _error(
        "invalid config name .."
    )
    assert _run("${{$config(a\\b, port)}}", resolver=resolver) == _error("invalid config name a\\b")
    assert _run("${{$config(app, '')}}", resolver=resolver) == _error("invalid config name ")
    assert _run("${{$secret(db, password)}}", resolver=resolver) == "pw"
    assert _run("${{$default($secret(db, user), anon)}}", resolver=resolver) == "anon"
    assert _run("${{$default($config(app, user), 1)}}", resolver=resolver) == 1
    # Names are checked before the provider is asked whether it is configured.
    assert _run("${{$secret(., x)}}") == _error("invalid secret name .")
    assert _run("${{$config(a, b)}}", resolver=StaticSources()) == _error(
        "config provider is not configured"
    )


def test_lookup_errors_are_the_ones_default_replaces() -> None:
    with pytest.raises(ExpressionLookupError):
        evaluate_template("${{$output(a, b)}}", Scope(outputs={"x": {}}))
    with pytest.raises(ExpressionError) as caught:
        evaluate_template("${{$not(x)}}")
    assert not isinstance(caught.value, ExpressionLookupError)
