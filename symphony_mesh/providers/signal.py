"""`providers.stage.signal` (campaigns.md 8.1, 9.10): wait dormant for a named signal.

The first call validates the inputs and returns `Waiting` on the signal (status 9995 `Paused`),
with a timer when input `timeout` is given. The engine delivers a matching signal, or a queued one
at once (8.1), by calling the provider again with a `signal` wake; a `timer` wake means the timeout
passed first. `SignalWait` holds these mechanics for the approval provider (9.11) too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from symphony_mesh.model.durations import Duration, DurationError, format_time
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.model.names import is_signal_name
from symphony_mesh.model.status import StateCode
from symphony_mesh.providers.base import (
    Completed,
    Failed,
    Outcome,
    ProviderCall,
    Waiting,
    Wake,
)
from symphony_mesh.providers.params import as_json, parse_state_time, state_time

__all__ = ["SignalWait", "invalid_timeout", "parse_timeout", "run"]


def parse_timeout(value: JsonValue) -> Duration | None:
    """Input `timeout`: None when absent or `null`; `DurationError` unless a duration > 0."""
    if value is None:
        return None
    return Duration.parse(value, positive=True)


def invalid_timeout(value: JsonValue) -> Failed:
    """fail 1000 `invalid timeout <value as JSON>` (9.10, 9.11)."""
    return Failed(StateCode.BAD_CONFIG, f"invalid timeout {as_json(value)}")


@dataclass(frozen=True)
class SignalWait:
    """One dormant wait for a signal, as kept in the resume state between calls."""

    signal: str
    """The awaited signal name."""
    timeout: str = ""
    """The timeout as written (`1h`, `90s`); `""` without a timeout."""
    until: datetime | None = None
    """When the timeout expires; None without a timeout."""
    message: str = ""
    """Shown as `waitingFor[].message` when not empty (approvals)."""

    @classmethod
    def start(
        cls, signal: str, timeout: Duration | None, now: datetime, message: str = ""
    ) -> SignalWait:
        """A wait beginning `now`."""
        if timeout is None:
            return cls(signal, message=message)
        return cls(signal, timeout.text, now + timedelta(seconds=timeout.seconds), message)

    @classmethod
    def from_state(cls, state: JsonMap) -> SignalWait:
        """The wait a previous call saved (`Waiting.state`)."""
        return cls(
            signal=str(state.get("signal", "")),
            timeout=str(state.get("timeout", "")),
            until=parse_state_time(state, "until"),
            message=str(state.get("message", "")),
        )

    def waiting(self) -> Waiting:
        """The `Waiting` outcome of this wait (also returned again after an unrelated wake)."""
        state: JsonMap = {"signal": self.signal}
        waiting_for: JsonMap = {"kind": "signal", "signal": self.signal}
        if self.message:
            state["message"] = self.message
            waiting_for["message"] = self.message
        if self.until is not None:
            state["timeout"] = self.timeout
            state["until"] = state_time(self.until)
            waiting_for["until"] = format_time(self.until)
        return Waiting(
            state=state,
            status=StateCode.PAUSED,
            waiting_for=waiting_for,
            until=self.until,
            signal=self.signal,
        )

    def received(self, wake: Wake | None) -> bool:
        """Whether `wake` delivers the awaited signal."""
        return wake is not None and wake.kind == "signal" and wake.signal == self.signal

    def timed_out(self, wake: Wake | None) -> bool:
        """Whether `wake` is the timeout's timer."""
        return wake is not None and wake.kind == "timer" and self.until is not None


async def run(call: ProviderCall) -> Outcome:
    """Wait for signal `name`; succeed with its payload, or fail 11004 after `timeout`."""
    if call.resume is not None:
        wait = SignalWait.from_state(call.resume)
        if wait.received(call.wake):
            assert call.wake is not None  # narrowed by received()
            return Completed(
                {
                    "signal": wait.signal,
                    "payload": call.wake.payload,
                    "receivedAt": format_time(call.wake.at),
                    "status": 200,
                }
            )
        if wait.timed_out(call.wake):
            message = f"no signal {wait.signal} received within {wait.timeout}"
            return Failed(StateCode.TIMED_OUT, message)
        return wait.waiting()
    name = call.inputs.get("name")
    if not isinstance(name, str) or not is_signal_name(name):
        return Failed(StateCode.BAD_REQUEST, "input name must be a signal name")
    try:
        timeout = parse_timeout(call.inputs.get("timeout"))
    except DurationError:
        return invalid_timeout(call.inputs.get("timeout"))
    return SignalWait.start(name, timeout, call.environment.now()).waiting()
