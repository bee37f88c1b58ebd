"""`providers.stage.approval` (campaigns.md 8.2, 9.11): wait for a yes or no from a person.

An approval is a signal wait (`SignalWait`, shared with the signal provider) on signal `approval`
or the one named by input `signal`, whose payload `{approved, by, comment}` decides: approved
succeeds, anything else fails 403 so that a selector can route to a `handleErrors` stage. Input
`message` is shown in the status while the approval is pending.
"""

from __future__ import annotations

from symphony_mesh.model.durations import DurationError
from symphony_mesh.model.jsonvalues import JsonValue
from symphony_mesh.model.names import is_signal_name
from symphony_mesh.model.status import StateCode
from symphony_mesh.providers.base import Completed, Failed, Outcome, ProviderCall
from symphony_mesh.providers.params import as_text
from symphony_mesh.providers.signal import SignalWait, invalid_timeout, parse_timeout

__all__ = ["DEFAULT_SIGNAL", "decide", "run"]

DEFAULT_SIGNAL = "approval"
"""The signal awaited when input `signal` is absent or `null`."""


async def run(call: ProviderCall) -> Outcome:
    """Wait for the approval signal and decide on its payload; fail 11004 after `timeout`."""
    if call.resume is not None:
        wait = SignalWait.from_state(call.resume)
        if wait.received(call.wake):
            assert call.wake is not None  # narrowed by received()
            return decide(call.wake.payload)
        if wait.timed_out(call.wake):
            message = f"no approval received within {wait.timeout}"
            return Failed(StateCode.TIMED_OUT, message, {"approved": False})
        return wait.waiting()
    signal = call.inputs.get("signal")
    if signal is None:
        signal = DEFAULT_SIGNAL
    if not isinstance(signal, str) or not is_signal_name(signal):
        return Failed(StateCode.BAD_REQUEST, "input signal must be a signal name")
    try:
        timeout = parse_timeout(call.inputs.get("timeout"))
    except DurationError:
        return invalid_timeout(call.inputs.get("timeout"))
    message = as_text(call.inputs.get("message"))
    return SignalWait.start(signal, timeout, call.environment.now(), message).waiting()


def decide(payload: JsonValue) -> Outcome:
    """Approved iff the payload is a map whose `approved` is `true` or `"true"` (9.11)."""
    fields = payload if isinstance(payload, dict) else {}
    approved = fields.get("approved")
    by = as_text(fields.get("by"))
    comment = as_text(fields.get("comment"))
    if approved is True or approved == "true":
        return Completed({"approved": True, "by": by, "comment": comment, "status": 200})
    message = "approval rejected"
    if by:
        message += f" by {by}"
    if comment:
        message += f": {comment}"
    return Failed(StateCode.FORBIDDEN, message, {"approved": False, "by": by, "comment": comment})
