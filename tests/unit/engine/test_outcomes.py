"""The success rule and the recorded context result (campaigns.md 4.6, 4.7)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symphony_mesh.engine.outcomes import (
    NO_ERROR_TEXT,
    ContextResult,
    activation_timed_out,
    as_state_code,
    cancelled,
    classify_outputs,
    context_timed_out,
    fail_fast_cancelled,
    failure,
    from_record,
    saved_state,
    stage_timed_out,
    unexpected_exception,
)
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.model.status import is_success, status_message

# (status as returned, succeeded, recorded status, error text or None)
CLASSIFICATION: list[tuple[JsonValue, bool, int, str | None]] = [
    (200, True, 200, None),
    (201, True, 201, None),
    (204, True, 204, None),
    (299, True, 299, None),
    (9996, True, 9996, None),
    (200.0, True, 200, None),
    ("200", True, 200, None),
    ("+202", True, 202, None),
    ("0200", True, 200, None),
    (400, False, 400, f"Bad Request: {NO_ERROR_TEXT}"),
    ("400", False, 400, f"Bad Request: {NO_ERROR_TEXT}"),
    (400.0, False, 400, f"Bad Request: {NO_ERROR_TEXT}"),
    (199, False, 199, f"HTTP 199: {NO_ERROR_TEXT}"),
    (300, False, 300, f"HTTP 300: {NO_ERROR_TEXT}"),
    (503, False, 503, f"HTTP 503: {NO_ERROR_TEXT}"),
    (1000, False, 1000, f"Bad Config: {NO_ERROR_TEXT}"),
    (9990, False, 9990, f"Cancelled: {NO_ERROR_TEXT}"),
    (11004, False, 11004, f"Timed Out: {NO_ERROR_TEXT}"),
    ("-1", False, -1, f"Unknown State: -1: {NO_ERROR_TEXT}"),
    (0, False, 0, f"Unknown State: 0: {NO_ERROR_TEXT}"),
    ("OK", False, 500, "Internal Error: invalid state OK"),
    (True, False, 500, "Internal Error: invalid state true"),
    (False, False, 500, "Internal Error: invalid state false"),
    (200.5, False, 500, "Internal Error: invalid state 200.5"),
    ([200], False, 500, "Internal Error: invalid state [200]"),
    ({"code": 200}, False, 500, 'Internal Error: invalid state {"code":200}'),
    ("", False, 500, "Internal Error: invalid state "),
    (" 200", False, 500, "Internal Error: invalid state  200"),
    ("2e2", False, 500, "Internal Error: invalid state 2e2"),
    ("٢٠٠", False, 500, "Internal Error: invalid state ٢٠٠"),
    (2**40, False, 500, f"Internal Error: invalid state {2**40}"),
    ("9" * 5000, False, 500, f"Internal Error: invalid state {'9' * 5000}"),
]


@pytest.mark.parametrize(("status", "succeeded", "code", "error"), CLASSIFICATION)
def test_the_status_key_decides(
    status: JsonValue, succeeded: bool, code: int, error: str | None
) -> None:
    result = classify_outputs({"foo": 1, "status": status})
    assert result.succeeded is succeeded
    assert result.status == code
    assert result.result["status"] == code
    assert type(result.result["status"]) is int
    assert result.result["foo"] == 1
    assert result.result.get("error") == error
    prefix = f"{status_message(code)}: "
    assert result.message == ("" if error is None else error.removeprefix(prefix))


@pytest.mark.parametrize("outputs", [{}, {"status": None}, {"foo": "bar"}])
def test_no_status_is_success_with_200_added(outputs: JsonMap) -> None:
    result = classify_outputs(outputs)
    assert result == ContextResult(True, 200, {**outputs, "status": 200}, "")


def test_success_keeps_every_output_key() -> None:
    outputs: JsonMap = {"__site": "hub", "header.Date": "x", "__state": {"n": 1}}
    assert classify_outputs(outputs).result == {**outputs, "status": 200}


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ("bad", "bad"),
        ("", NO_ERROR_TEXT),
        (None, NO_ERROR_TEXT),
        (42, "42"),
        (["a", 1], '["a",1]'),
        (False, "false"),
    ],
)
def test_the_error_key_gives_the_message(error: JsonValue, message: str) -> None:
    result = classify_outputs({"status": 400, "error": error})
    assert result.message == message
    assert result.result == {"status": 400, "error": f"Bad Request: {message}"}


def test_mock_example_of_4_6() -> None:
    result = classify_outputs({"foo": 2, "status": 400, "error": "bad"})
    assert result.result == {"foo": 2, "status": 400, "error": "Bad Request: bad"}


def test_invalid_state_message_wins_over_an_error_key() -> None:
    result = classify_outputs({"status": "OK", "error": "mine"})
    assert result.result["error"] == "Internal Error: invalid state OK"
    assert result.message == "invalid state OK"


def test_classification_does_not_change_its_argument() -> None:
    outputs: JsonMap = {"status": "400"}
    classify_outputs(outputs)
    assert outputs == {"status": "400"}


def test_failure_formats_once_and_keeps_outputs() -> None:
    result = failure(404, "site gone", {"body": "x", "status": 200, "error": "old"})
    assert result == ContextResult(
        False, 404, {"body": "x", "status": 404, "error": "Not Found: site gone"}, "site gone"
    )
    assert failure(500, "boom").result == {"status": 500, "error": "Internal Error: boom"}


def test_unexpected_exception() -> None:
    result = unexpected_exception("providers.stage.mock", KeyError("foo"))
    assert result.status == 500
    assert result.message == "provider \"providers.stage.mock\" raised KeyError: 'foo'"
    assert result.result["error"] == f"Internal Error: {result.message}"
    assert unexpected_exception("p", ValueError()).message == 'provider "p" raised ValueError: '


@pytest.mark.parametrize(
    ("result", "status", "error"),
    [
        (cancelled("abort"), 9990, "Cancelled: cancelled: abort"),
        (cancelled(), 9990, "Cancelled: cancelled"),
        (
            fail_fast_cancelled(1, 0),
            9990,
            "Cancelled: cancelled: fail-fast after 1 failed contexts (maxFailures 0)",
        ),
        (stage_timed_out("d", "1s"), 11004, "Timed Out: stage d timed out after 1s"),
        (context_timed_out("a", "30s"), 11004, "Timed Out: context a did not finish within 30s"),
        (activation_timed_out("2s"), 11004, "Timed Out: activation timed out after 2s"),
    ],
)
def test_engine_outcomes(result: ContextResult, status: int, error: str) -> None:
    assert not result.succeeded
    assert result.result == {"status": status, "error": error}


@pytest.mark.parametrize(
    ("record", "succeeded", "status", "message"),
    [
        ({"status": 200, "foo": 1}, True, 200, ""),
        ({"status": 200.0}, True, 200, ""),
        (
            {"status": 404, "error": 'Not Found: site "x" is not known'},
            False,
            404,
            'site "x" is not known',
        ),
        ({"status": 500, "error": "raw text from a site"}, False, 500, "raw text from a site"),
        ({"status": 9990, "error": "Cancelled: cancelled"}, False, 9990, "cancelled"),
        ({"foo": 1}, True, 200, ""),
    ],
)
def test_from_record_keeps_the_text(
    record: JsonMap, succeeded: bool, status: int, message: str
) -> None:
    result = from_record(record)
    assert (result.succeeded, result.status, result.message) == (succeeded, status, message)
    assert result.result.get("error") == record.get("error")
    assert result.result["status"] == status


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"status": 200}, (False, None)),
        ({"status": 200, "__state": {"foo": 5}}, (True, {"foo": 5})),
        ({"status": 500, "__state": None}, (True, None)),
        ({"__state": 0}, (True, 0)),
    ],
)
def test_saved_state(result: JsonMap, expected: tuple[bool, JsonValue]) -> None:
    assert saved_state(result) == expected


def test_state_codes() -> None:
    assert as_state_code(True) is None
    assert as_state_code(float("inf")) is None
    assert as_state_code(float("nan")) is None
    assert as_state_code(-(2**31)) == -(2**31)
    assert as_state_code(2**31) is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=10,
)
_status = _json | st.from_regex(r"[+-]?[0-9]{1,12}", fullmatch=True) | st.integers(0, 12000)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _json, max_size=4), _status, _json)
def test_classification_never_raises(outputs: JsonMap, status: JsonValue, error: JsonValue) -> None:
    outputs = {**outputs, "status": status, "error": error}
    result = classify_outputs(outputs)
    assert result.result["status"] == result.status
    assert result.succeeded == is_success(result.status)
    if not result.succeeded:
        assert isinstance(result.result["error"], str)
        assert result.message
        assert result.result["error"].endswith(result.message)
