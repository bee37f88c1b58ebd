"""`providers.stage.delay` (campaigns.md 8.4, 9.5): wait as a dormant timer, then succeed.

The first call parses input `delay` and returns `Waiting` with a timer: no coroutine sleeps, the
engine keeps the due time and calls the provider again when it fires (status 9997 `Delayed`
meanwhile). A zero or absent delay succeeds at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from symphony_mesh.model.durations import DurationError, format_time, parse_duration
from symphony_mesh.model.status import StateCode
from symphony_mesh.providers.base import Completed, Failed, Outcome, ProviderCall, Waiting
from symphony_mesh.providers.params import as_json, parse_state_time, state_time

__all__ = ["DELAY_INPUT", "run"]

DELAY_INPUT = "delay"
"""The input holding the duration (2.8)."""


async def run(call: ProviderCall) -> Outcome:
    """Wait `delay`, then return `{status: 200}`; fail 1000 for a value that is no duration."""
    if call.resume is not None:
        until = parse_state_time(call.resume, "until")
        if until is None or (call.wake is not None and call.wake.kind == "timer"):
            return Completed({"status": 200})
        # Woken by something other than the timer: keep waiting for the same due time.
        return _waiting(until)
    value = call.inputs.get(DELAY_INPUT)
    if value is None:
        return Completed({"status": 200})
    try:
        seconds = parse_duration(value)
    except DurationError:
        return Failed(StateCode.BAD_CONFIG, f"invalid delay {as_json(value)}")
    if seconds == 0:
        return Completed({"status": 200})
    return _waiting(call.environment.now() + timedelta(seconds=seconds))


def _waiting(until: datetime) -> Waiting:
    return Waiting(
        state={"until": state_time(until)},
        status=StateCode.DELAYED,
        waiting_for={"kind": "timer", "reason": "delay", "until": format_time(until)},
        until=until,
    )
