"""The success rule: how one provider call becomes a context result (campaigns.md 4.6, 4.7).

Every way a context can end -- outputs returned, a documented provider error, an unexpected
exception, a cancel or a timeout decided by the engine -- is turned into one `ContextResult` here,
so the formatting `error: "<State name>: <message>"` is applied exactly once and in one place.
A result received from a site, or read back from the store, is already formatted: `from_record`
rebuilds the `ContextResult` without touching its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from symphony_mesh.expr.errors import ExpressionError
from symphony_mesh.expr.values import text, type_name
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.model.status import StateCode, is_success, status_message

__all__ = [
    "NO_ERROR_TEXT",
    "STATE_KEY",
    "ContextResult",
    "activation_timed_out",
    "as_state_code",
    "cancelled",
    "classify_outputs",
    "context_timed_out",
    "error_text",
    "fail_fast_cancelled",
    "failure",
    "from_record",
    "render",
    "saved_state",
    "stage_timed_out",
    "unexpected_exception",
]

NO_ERROR_TEXT = "stage returned unsuccessful status without an error"
"""The failure message of outputs whose failing `status` comes without an `error` (4.6)."""

STATE_KEY = "__state"
"""The output key a provider saves its state under (4.7)."""

_SIGNED_DIGITS = re.compile(r"[+-]?[0-9]+")
# Codes travel as protobuf int32 (activation.proto); a larger "code" cannot be a State code.
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_MAX_EXACT_FLOAT = 2.0**53


@dataclass(frozen=True)
class ContextResult:
    """The recorded end of one context (or one task): the verdict, the code and the result map."""

    succeeded: bool
    """The success rule of 4.6: 200-299 or 9996."""
    status: int
    """The State code, also stored as `result["status"]`."""
    result: JsonMap
    """The context result as recorded: the provider outputs plus `status`, and on failure
    `error: "<State name of code>: <message>"`."""
    message: str
    """The bare failure message (without the State name); `""` on success."""


def error_text(code: int, message: str) -> str:
    """`<State name of code>: <message>`, the recorded `error` of a failure (4.6)."""
    return f"{status_message(code)}: {message}"


def render(value: JsonValue) -> str:
    """A value as text (expressions.md 2.3) for a message; never raises.

    Rendering a container can hit the string-size limit of the expression language; a message
    then names the value's type instead of failing the engine.
    """
    try:
        return text(value)
    except ExpressionError:
        return f"<{type_name(value)} too large to show>"


def as_state_code(value: JsonValue) -> int | None:
    """The State code `value` stands for, or None when it is no code (4.6 rule 1).

    An integer, a float with an integral value, or a string of an optional sign and ASCII digits;
    booleans are never numbers. Values outside the int32 range are not codes: the State code of
    an entry is an int32 on the wire.
    """
    code: int | None = None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        code = value
    elif isinstance(value, float):
        if value.is_integer() and abs(value) <= _MAX_EXACT_FLOAT:
            code = int(value)
    # Leading zeros are allowed ("0400"); more than 10 significant digits is out of range anyway,
    # and skipping int() on them avoids Python's limit on long digit strings.
    elif (
        isinstance(value, str)
        and _SIGNED_DIGITS.fullmatch(value)
        and len(value.lstrip("+-").lstrip("0")) <= 10
    ):
        code = int(value)
    if code is None or not _INT32_MIN <= code <= _INT32_MAX:
        return None
    return code


def classify_outputs(outputs: JsonMap) -> ContextResult:
    """Classify the outputs a provider returned by their `status` key (4.6 rule 1).

    `status` absent or null is success with `status: 200` added; a code keeps its value (as an
    integer) and succeeds iff it is 200-299 or 9996; anything else fails with 500
    `invalid state <value as text>`. A failing code's message is the outputs' non-empty `error`
    (as text), else `stage returned unsuccessful status without an error`.
    """
    raw = outputs.get("status")
    if raw is None:
        return ContextResult(True, int(StateCode.OK), {**outputs, "status": int(StateCode.OK)}, "")
    code = as_state_code(raw)
    if code is None:
        # The spec words this message itself: an `error` the outputs also carry does not
        # replace it (it is overwritten by the recorded text, as in every failure).
        return failure(int(StateCode.INTERNAL_ERROR), f"invalid state {render(raw)}", outputs)
    if is_success(code):
        return ContextResult(True, code, {**outputs, "status": code}, "")
    message = render(outputs.get("error"))
    return failure(code, message or NO_ERROR_TEXT, outputs)


def failure(code: int, message: str, outputs: JsonMap | None = None) -> ContextResult:
    """A failed context: `outputs` plus `status: code` and `error: "<State name>: <message>"`.

    Used for a provider's documented error (`Failed`) and for the outcomes the engine creates
    itself (cancel 9990, timeouts 11004). It is a failure whatever `code` is: a provider that
    raised an error did not succeed, even if it named a success code.
    """
    result: JsonMap = {**(outputs or {}), "status": code, "error": error_text(code, message)}
    return ContextResult(False, code, result, message)


def unexpected_exception(provider: str, exc: BaseException) -> ContextResult:
    """A bug in a provider: 500 `provider "<p>" raised <ExceptionType>: <message>` (4.6 rule 2)."""
    return failure(
        int(StateCode.INTERNAL_ERROR), f'provider "{provider}" raised {type(exc).__name__}: {exc}'
    )


def cancelled(reason: str = "") -> ContextResult:
    """An unfinished context of a cancelled activation: 9990 `cancelled[: <reason>]` (8.5)."""
    message = f"cancelled: {reason}" if reason else "cancelled"
    return failure(int(StateCode.CANCELLED), message)


def fail_fast_cancelled(failed: int, max_failures: int) -> ContextResult:
    """A context stopped by failFast: 9990 `cancelled: fail-fast after <n> failed contexts
    (maxFailures <m>)` (6.2, federation.md F-50)."""
    message = f"cancelled: fail-fast after {failed} failed contexts (maxFailures {max_failures})"
    return failure(int(StateCode.CANCELLED), message)


def stage_timed_out(stage: str, duration: str) -> ContextResult:
    """An unfinished local context when its stage times out: 11004 (8.6)."""
    return failure(int(StateCode.TIMED_OUT), f"stage {stage} timed out after {duration}")


def context_timed_out(context: str, duration: str) -> ContextResult:
    """A local attempt that outlived `contextPolicy.timeout`: 11004 (6.2); it may be retried."""
    return failure(int(StateCode.TIMED_OUT), f"context {context} did not finish within {duration}")


def activation_timed_out(duration: str) -> ContextResult:
    """An unfinished context when the activation times out: 11004 (8.6)."""
    return failure(int(StateCode.TIMED_OUT), f"activation timed out after {duration}")


def from_record(result: JsonMap) -> ContextResult:
    """A context result read back from the store or received from a site, text unchanged.

    The `error` is kept as recorded (it was formatted once by whoever created it); the bare
    message is the error without its `<State name>: ` prefix. A map whose `status` is no code
    is classified as fresh outputs would be.
    """
    code = as_state_code(result.get("status"))
    if code is None:
        return classify_outputs(result)
    recorded: JsonMap = {**result, "status": code}
    if is_success(code):
        return ContextResult(True, code, recorded, "")
    error = render(result.get("error"))
    prefix = f"{status_message(code)}: "
    message = error.removeprefix(prefix) if error.startswith(prefix) else error
    return ContextResult(False, code, recorded, message)


def saved_state(result: JsonMap) -> tuple[bool, JsonValue]:
    """Whether a context result carries provider state, and that state (4.7).

    `(True, value)` when `__state` is present (even `null`): it replaces the saved state of
    (stage, context); `(False, None)` leaves the saved state unchanged.
    """
    if STATE_KEY in result:
        return True, result[STATE_KEY]
    return False, None
