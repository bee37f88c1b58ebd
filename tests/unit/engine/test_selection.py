"""Choosing the next stage and how an activation ends (campaigns.md 4.8-4.10, 5.2)."""

from __future__ import annotations

import pytest

from symphony_mesh.engine.selection import (
    NextStep,
    cancel_ending,
    choose_next,
    stage_error_ending,
    timeout_ending,
)
from symphony_mesh.engine.stage_checks import StageError
from symphony_mesh.expr import Scope
from symphony_mesh.model.documents import StageSpec
from tests.unit.engine.helpers import stage

STAGES: dict[str, StageSpec] = {
    "a": stage("a"),
    "b": stage("b"),
    "handler": stage("handler", handle_errors=True),
    " a": stage(" a"),  # not a valid stage name, but shows that whitespace is kept
}
SCOPE = Scope(
    inputs={"who": "handler"},
    data_inputs={"__stage": "a"},
    triggers={"next": "b", "n": 5, "l": ["x"]},
    outputs={"a": {"status": 200, "foo": 3}},
)


def _choose(
    selector: str,
    *,
    succeeded: bool,
    status: int = 500,
    message: str = "",
) -> NextStep:
    return choose_next(
        "a",
        selector,
        SCOPE,
        succeeded=succeeded,
        failure_status=status,
        failure_message=message,
        stages=STAGES,
    )


def _ends(status: int, message: str) -> NextStep:
    return NextStep("", True, status, message, status, message)


def _goes(stage_name: str, entry_status: int = 9996, entry_error: str = "") -> NextStep:
    return NextStep(stage_name, False, 9994, "", entry_status, entry_error)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", NextStep("", True, 9996, "", 9996, "")),
        ("${{''}}", NextStep("", True, 9996, "", 9996, "")),
        ("${{$trigger(none, $val())}}", NextStep("", True, 9996, "", 9996, "")),
        ("b", _goes("b")),
        ("${{$trigger(next, '')}}", _goes("b")),
        ("${{$if($lt($output(a, foo), 5), b, '')}}", _goes("b")),
        ("${{$if($equal($input(__stage), a), b, '')}}", _goes("b")),
        ("handler", _goes("handler")),
        ("a", _goes("a")),
        ("${{$input(who)}}", _goes("handler")),
        (" a", _goes(" a")),
        ("a ", _ends(400, "stage a  is not found")),
        ("${{'nope'}}", _ends(400, "stage nope is not found")),
        ("${{$trigger(n, 0)}}", _ends(400, "stage 5 is not found")),
        ("${{$trigger(l, 0)}}", _ends(400, 'stage ["x"] is not found')),
        (
            "${{$if($lt($output(a,missing),5),a,'')}}",
            _ends(500, "Bad Config: property missing is not found"),
        ),
        ("${{$foo(1)}}", _ends(500, "Bad Config: invalid function name: 'foo'")),
    ],
)
def test_after_success(selector: str, expected: NextStep) -> None:
    assert _choose(selector, succeeded=True) == expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", _ends(403, "stage a failed")),
        ("b", _ends(403, "stage a failed")),
        ("a", _ends(403, "stage a failed")),
        ("${{'nope'}}", _ends(403, "stage a failed")),
        ("handler", _goes("handler", 403, "stage a failed")),
        ("${{$input(who)}}", _goes("handler", 403, "stage a failed")),
        ("${{$foo(1)}}", _ends(500, "Bad Config: invalid function name: 'foo'")),
    ],
)
def test_after_failure(selector: str, expected: NextStep) -> None:
    assert _choose(selector, succeeded=False, status=403) == expected


def test_a_stage_timeout_passes_its_own_message() -> None:
    message = "stage a timed out after 1s"
    assert _choose("", succeeded=False, status=11004, message=message) == _ends(11004, message)
    assert _choose("handler", succeeded=False, status=11004, message=message) == _goes(
        "handler", 11004, message
    )


def test_handle_errors_is_read_on_the_selected_stage() -> None:
    stages = {"a": stage("a", handle_errors=True), "b": stage("b")}
    step = choose_next(
        "a", "b", SCOPE, succeeded=False, failure_status=500, failure_message="", stages=stages
    )
    assert step == _ends(500, "stage a failed")


def test_a_handler_may_follow_a_success_too() -> None:
    assert _choose("handler", succeeded=True) == _goes("handler")


def test_other_endings() -> None:
    assert cancel_ending("abort") == _ends(9990, "activation cancelled: abort")
    assert cancel_ending() == _ends(9990, "activation cancelled")
    assert timeout_ending("2s") == _ends(11004, "activation timed out after 2s")
    error = StageError(1000, "invalid context ${{1}}")
    assert stage_error_ending(error) == _ends(1000, "invalid context ${{1}}")
