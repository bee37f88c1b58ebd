"""Scopes, inputs and evaluations (expressions.md 7, 11, 12; campaigns.md 4.4)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from symphony_mesh.expr import (
    ExpressionError,
    ExpressionLookupError,
    JsonValue,
    Scope,
    evaluate_fields,
    evaluate_inputs,
    evaluate_template,
    evaluate_value,
)

NESTED = "expression is nested more than 64 levels deep"
STEPS = "expression evaluation exceeded 100000 steps"


class RecordingSources:
    """A resolver that records the order of `$config` calls and can fail the first ones."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[str] = []
        self.failures = failures

    def config(self, object_name: str, field: str, overlays: Sequence[str]) -> JsonValue:
        self.calls.append(field)
        if self.failures > 0:
            self.failures -= 1
            raise ExpressionLookupError(f"config field {field} is not found in object o")
        return field.upper()

    def secret(self, object_name: str, field: str) -> str:
        raise AssertionError("not used")


def _big(terms: int) -> str:
    """A template of about 2 * terms steps."""
    return "${{" + "+".join(["1"] * terms) + "}}"


def test_inputs_are_evaluated_in_document_order_and_once() -> None:
    sources = RecordingSources()
    scope = Scope(
        inputs={
            "y": "${{$config(o, y)}}",
            "m": {"k2": "${{$config(o, a)}}", "k1": ["${{$config(o, b)}}"]},
            "x": "${{$config(o, x)}}-${{$input(y)}}",
        },
        resolver=sources,
    )
    assert evaluate_inputs(scope) == {"y": "Y", "m": {"k2": "A", "k1": ["B"]}, "x": "X-Y"}
    assert sources.calls == ["y", "a", "b", "x"]
    assert scope.input("x") == "X-Y"
    assert sources.calls == ["y", "a", "b", "x"]  # cached: nothing evaluated again


def test_failed_evaluations_are_not_cached() -> None:
    sources = RecordingSources(failures=1)
    scope = Scope(inputs={"a": "${{$config(o, f)}}"}, resolver=sources)
    with pytest.raises(ExpressionLookupError):
        scope.input("a")
    assert scope.input("a") == "F"
    assert sources.calls == ["f", "f"]


def test_an_input_started_by_the_engine_is_in_progress() -> None:
    scope = Scope(inputs={"a": "${{$input(a)}}"})
    with pytest.raises(
        ExpressionError, match="Detect circular dependency, object: input, field: a"
    ):
        scope.input("a")


def test_longer_cycles_report_the_key_requested_twice() -> None:
    scope = Scope(inputs={"a": "${{$input(b)}}", "b": ["${{$input(c)}}"], "c": "${{$input(b)}}"})
    with pytest.raises(ExpressionError) as caught:
        scope.input("a")
    assert caught.value.message == "Detect circular dependency, object: input, field: b"
    assert caught.value.input_path == ("a", "b", "c")
    # The failed evaluation left nothing behind: a fixed scope works.
    scope2 = Scope(inputs={"a": "${{$input(b)}}", "b": "${{$input(c)}}", "c": "end"})
    assert scope2.input("a") == "end"


def test_data_inputs_are_never_evaluated_and_win() -> None:
    scope = Scope(
        inputs={"a": "${{$input(__stage)}}", "__stage": "${{1+1}}"},
        data_inputs={"__stage": "${{1+1}}", "__site": "tokyo"},
    )
    assert scope.input("a") == "${{1+1}}"
    assert scope.input_keys() == ["a", "__stage", "__site"]
    assert evaluate_inputs(scope) == {"a": "${{1+1}}", "__stage": "${{1+1}}", "__site": "tokyo"}
    assert evaluate_template("${{$input(__site)}}", Scope(data_inputs={"__site": "x"})) == "x"


def test_val_reads_the_context_input_when_asked() -> None:
    scope = Scope(inputs={"context": "${{1+1}}", "x": "${{$val()}}"}, value_input="context")
    assert scope.input("x") == 2
    assert evaluate_template("${{$val()}}", Scope(value="v", value_input="context")) == "v"
    looping = Scope(inputs={"context": "${{$val()}}"}, value_input="context")
    with pytest.raises(ExpressionError, match="field: context"):
        looping.input("context")


def test_selector_scope_shares_evaluated_inputs() -> None:
    stage = Scope(
        inputs={"w": "${{$output(s, k)}}", "later": "${{$output(s, k)}}"},
        outputs={"s": {"k": 1}},
    )
    assert stage.input("w") == 1
    selector = stage.with_outputs({"s": {"k": 2}})
    assert evaluate_template("${{$input(w)}}:${{$input(later)}}:${{$output(s,k)}}", selector) == (
        "1:2:2"
    )
    assert stage.input("later") == 2  # evaluated once, in whichever scope asked first


def test_evaluate_value_keeps_shape_and_never_evaluates_keys() -> None:
    value: JsonValue = {"${{1}}": "${{1+1}}", "l": [1, "x${{2}}", {"n": None, "b": True}]}
    assert evaluate_value(value) == {"${{1}}": 2, "l": [1, "x2", {"n": None, "b": True}]}
    assert value == {"${{1}}": "${{1+1}}", "l": [1, "x${{2}}", {"n": None, "b": True}]}
    assert evaluate_value(7) == 7
    assert evaluate_value("") is None


def test_deep_document_values_do_not_recurse() -> None:
    deep: JsonValue = "${{1+1}}"
    for _ in range(20_000):
        deep = [deep]
    result = evaluate_value(deep)
    for _ in range(20_000):
        assert isinstance(result, list)
        result = result[0]
    assert result == 2


def test_each_field_is_its_own_evaluation() -> None:
    fields: dict[str, JsonValue] = {"a": _big(30_000), "b": _big(30_000)}
    assert evaluate_fields(fields) == {"a": 30_000, "b": 30_000}
    with pytest.raises(ExpressionError, match=STEPS):
        evaluate_value(fields)


def test_cached_inputs_cost_no_steps() -> None:
    scope = Scope(inputs={"a": _big(30_000), "b": _big(30_000)})
    template = "${{$input(a)+$input(b)}}"
    with pytest.raises(ExpressionError, match=STEPS):
        evaluate_template(template, Scope(inputs={"a": _big(30_000), "b": _big(30_000)}))
    assert evaluate_inputs(scope) == {"a": 30_000, "b": 30_000}
    assert evaluate_template(template, scope) == 60_000


@pytest.mark.parametrize(("links", "ok"), [(64, True), (65, False)])
def test_input_evaluations_in_progress_are_nesting_levels(links: int, ok: bool) -> None:
    # a0 is started by the engine (no level); a1..a64 are started by $input, one level each,
    # and the `$input(...)` argument list inside each is one level more.
    inputs: dict[str, JsonValue] = {f"a{i}": f"${{{{$input(a{i + 1})}}}}" for i in range(links)}
    inputs[f"a{links}"] = "end"
    scope = Scope(inputs=inputs)
    if ok:
        assert scope.input("a0") == "end"
    else:
        with pytest.raises(ExpressionError, match=NESTED):
            scope.input("a0")


@pytest.mark.parametrize(("parens", "ok"), [(63, True), (64, False)])
def test_nesting_inside_an_input_adds_to_the_input_level(parens: int, ok: bool) -> None:
    scope = Scope(inputs={"a": "${{" + "(" * parens + "1" + ")" * parens + "}}"})
    if ok:
        assert evaluate_template("${{$input(a)}}", scope) == 1
    else:
        with pytest.raises(ExpressionError, match=NESTED):
            evaluate_template("${{$input(a)}}", scope)
    # Evaluated by the engine itself (not through $input), 64 levels are fine.
    assert Scope(inputs={"a": "${{" + "(" * 64 + "1" + ")" * 64 + "}}"}).input("a") == 1


def test_absent_and_empty_sources_behave_the_same() -> None:
    for scope in (Scope(), Scope(inputs={}, triggers={}, outputs={})):
        assert evaluate_template("${{$output(a, b)}}", scope) == ""
        assert evaluate_template("${{$trigger(a, d)}}", scope) == "d"
        with pytest.raises(ExpressionError, match="an input collection is needed"):
            evaluate_template("${{$input(a)}}", scope)
