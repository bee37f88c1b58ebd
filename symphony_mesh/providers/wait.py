"""`providers.stage.wait` (campaigns.md 9.8, federation.md T-12): wait until sites are connected.

The wait succeeds as soon as every named site is a known child or descendant of this node and is
connected. Until then the context is dormant: the engine calls the provider again on every
`site_connected` event of a site it still misses (`Waiting.sites`), never by polling. Config
`wait.count > 0` bounds the wait to `wait.interval x wait.count` from the first call, after which
a timer wake fails it with 404; with the default `wait.count: 0` only stage and activation
timeouts end it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from symphony_mesh.model.durations import DurationError, format_time, parse_duration
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.model.status import StateCode
from symphony_mesh.providers.base import (
    Completed,
    Failed,
    Outcome,
    ProviderCall,
    ProviderEnvironment,
    Waiting,
)
from symphony_mesh.providers.params import (
    as_integer,
    as_json,
    parse_state_time,
    state_time,
)

__all__ = ["DEFAULT_INTERVAL", "OBJECT_TYPE", "run"]

OBJECT_TYPE = "sites"
"""The only object type symphony-mesh waits for."""

DEFAULT_INTERVAL = "10s"
"""Config `wait.interval` when absent."""


async def run(call: ProviderCall) -> Outcome:
    """Succeed when every named site is connected; fail 404 when `wait.count` runs out."""
    if call.resume is not None:
        return _resume(call)
    object_type = call.inputs.get("objectType")
    if not isinstance(object_type, str):
        return _bad("objectType is not a valid string")
    if object_type != OBJECT_TYPE:
        return _bad(f"objectType {object_type} is not supported by symphony-mesh")
    names = _names(call.inputs.get("names"))
    if names is None:
        return _bad("input names is not a valid list")
    interval_value = call.config.get("wait.interval", DEFAULT_INTERVAL)
    count_value = call.config.get("wait.count", 0)
    try:
        interval = parse_duration(interval_value, positive=True)
    except DurationError:
        return Failed(StateCode.BAD_CONFIG, f"invalid wait.interval {as_json(interval_value)}")
    count = 0 if count_value is None else as_integer(count_value)
    if count is None or count < 0:
        return Failed(StateCode.BAD_CONFIG, f"invalid wait.count {as_json(count_value)}")
    until = None
    if count > 0:
        until = call.environment.now() + timedelta(seconds=interval * count)
    return _check(names, until, call.environment)


def _resume(call: ProviderCall) -> Outcome:
    """A site connected (re-check) or the deadline passed (re-check, then fail)."""
    saved = call.resume or {}
    names = _names(saved.get("names")) or []
    until = parse_state_time(saved, "until")
    outcome = _check(names, until, call.environment)
    deadline = until is not None and call.wake is not None and call.wake.kind == "timer"
    if isinstance(outcome, Waiting) and deadline:
        missing = ", ".join(outcome.sites)
        return Failed(StateCode.NOT_FOUND, f"failed to wait for sites {missing}")
    return outcome


def _check(
    names: Sequence[str], until: datetime | None, environment: ProviderEnvironment
) -> Outcome:
    """Complete when no named site is missing; otherwise wait for the missing ones."""
    connected = {site.name for site in environment.sites(subtree=True) if site.connected}
    missing = [name for name in names if name not in connected]
    if not missing:
        return Completed({"objectType": OBJECT_TYPE, "names": list(names), "status": 200})
    state: JsonMap = {"names": list(names)}
    waiting_for: JsonMap = {"kind": "sites", "sites": list(missing)}
    if until is not None:
        state["until"] = state_time(until)
        waiting_for["until"] = format_time(until)
    return Waiting(
        state=state,
        status=StateCode.PAUSED,
        waiting_for=waiting_for,
        until=until,
        sites=missing,
    )


def _names(value: JsonValue) -> list[str] | None:
    """Input `names`: a list of site ids or one id, duplicates dropped; None when invalid."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        return None
    names = [name for name in value if isinstance(name, str)]
    if len(names) != len(value):
        return None
    return list(dict.fromkeys(names))


def _bad(message: str) -> Failed:
    return Failed(StateCode.BAD_REQUEST, message)
