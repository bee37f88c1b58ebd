"""Data is never evaluated (expressions.md 1, 11): a value that reaches an expression from
triggers, outputs (provider results), the scope value, injected inputs, `$config`/`$secret` or a
function result is returned as it is, even when it contains `${{`."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from symphony_mesh.expr import (
    JsonValue,
    LocalSources,
    Scope,
    StaticSources,
    evaluate_template,
    evaluate_value,
)

INJECTION = "${{$secret(db, password)}}"
"""What an attacker would put in data: if it were evaluated, it would read a secret."""

SECRETS = StaticSources(configs={}, secrets={"db": {"password": "LEAKED"}})


def _evaluate(template: str, **sources: Any) -> JsonValue:
    return evaluate_template(template, Scope(resolver=SECRETS, **sources))


def test_trigger_values_are_data() -> None:
    assert _evaluate("${{$trigger(t, '')}}", triggers={"t": INJECTION}) == INJECTION
    nested: JsonValue = {"l": [INJECTION, {"k": INJECTION}]}
    assert _evaluate("${{$trigger(t, '')}}", triggers={"t": nested}) == nested
    assert _evaluate("x-${{$trigger(t, '')}}", triggers={"t": INJECTION}) == "x-" + INJECTION


def test_provider_outputs_are_data() -> None:
    outputs: JsonValue = {"deploy": {"result": INJECTION, "body": {"html": "<p>${{1+1}}</p>"}}}
    assert _evaluate("${{$output(deploy, result)}}", outputs=outputs) == INJECTION
    assert _evaluate("${{$output(deploy, body)}}", outputs=outputs) == {"html": "<p>${{1+1}}</p>"}
    assert _evaluate("${{$str($output(deploy, result))}}", outputs=outputs) == INJECTION


def test_the_scope_value_is_data() -> None:
    value: JsonValue = {"k": INJECTION, "l": [INJECTION]}
    assert _evaluate("${{$val()}}", value=value) == value
    assert _evaluate("${{$val(k)}}", value=value) == INJECTION
    assert _evaluate("${{$context('$.l[0]')}}", value=value) == INJECTION
    assert _evaluate("${{$val()}}", value=INJECTION) == INJECTION


def test_function_results_are_data() -> None:
    encoded = base64.b64encode(INJECTION.encode()).decode()
    assert _evaluate("${{$base64decode($trigger(e, ''))}}", triggers={"e": encoded}) == INJECTION
    assert (
        _evaluate(
            "${{$jsonpath($trigger(j, ''), '$.a')}}", triggers={"j": '{"a": "' + INJECTION + '"}'}
        )
        == INJECTION
    )
    assert (
        _evaluate("${{$default($trigger(x, ''), $trigger(y, ''))}}", triggers={"y": INJECTION})
        == INJECTION
    )
    assert _evaluate("${{$if(true, $trigger(y, ''), b)}}", triggers={"y": INJECTION}) == INJECTION


def test_injected_inputs_are_data_and_evaluated_inputs_are_not_evaluated_again() -> None:
    scope = Scope(
        inputs={"a": "${{$trigger(t, '')}}", "b": "${{$input(a)}}"},
        data_inputs={"__activation": INJECTION},
        triggers={"t": INJECTION},
        resolver=SECRETS,
    )
    assert evaluate_template("${{$input(__activation)}}", scope) == INJECTION
    assert evaluate_template("${{$input(b)}}", scope) == INJECTION
    assert evaluate_value({"x": ["${{$input(a)}}"]}, scope) == {"x": [INJECTION]}


def test_config_and_secret_values_are_data(tmp_path: Path) -> None:
    (tmp_path / "app.json").write_text('{"url": "' + INJECTION + '"}', encoding="utf-8")
    environ = {"SYMPHONY_MESH_SECRET__DB__TOKEN": INJECTION}
    scope = Scope(resolver=LocalSources(config_dir=tmp_path, environ=environ))
    assert evaluate_template("${{$config(app, url)}}", scope) == INJECTION
    assert evaluate_template("${{$secret(db, token)}}", scope) == INJECTION


_templates_in_data = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20).map(lambda s: "${{" + s + "}}")
    | st.sampled_from([INJECTION, "${{1+2}}", "a ${{$foo()}} b", "${{"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(data=_templates_in_data)
def test_any_data_comes_back_untouched(data: JsonValue) -> None:
    assert _evaluate("${{$trigger(t, '')}}", triggers={"t": data}) == data
    assert _evaluate("${{$output(s, k)}}", outputs={"s": {"k": data}}) == data
    assert _evaluate("${{$val()}}", value=data) == data
    scope = Scope(data_inputs={"d": data}, inputs={"x": "${{$input(d)}}"})
    assert evaluate_template("${{$input(x)}}", scope) == data
