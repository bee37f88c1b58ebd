"""Durations and times as campaigns.md section 2.8 writes them.

A duration is a Go-style string of `<number><unit>` parts (`"4m20s"`, `"1.5h"`, `"2d"`), a number
of seconds (`30`, `1.5`) or a string holding a plain number of seconds (`"30"`). Messages repeat a
duration *as written*: a string verbatim, a number followed by `s`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "MAX_DURATION_SECONDS",
    "Duration",
    "DurationError",
    "as_written",
    "format_time",
    "parse_duration",
    "parse_time",
]

MAX_DURATION_SECONDS = 3650 * 86400.0
"""The longest duration the spec accepts: 3650 days."""

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)")
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")


class DurationError(ValueError):
    """A value is not a duration (or a time) of section 2.8."""


def as_written(value: object) -> str:
    """The duration as a message repeats it: strings verbatim, numbers with an `s` suffix."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return f"{int(value)}s"
    return f"{value}s"


def parse_duration(value: object, *, positive: bool = False) -> float:
    """Seconds of a duration value; raise `DurationError` for anything else.

    `positive` demands a value > 0 (timeouts and intervals); every duration must be >= 0 and at
    most 3650 days.
    """
    seconds: float
    if isinstance(value, bool):
        raise DurationError("a boolean is not a duration")
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:  # an integer too large for a float
            raise DurationError("out of range") from None
    elif isinstance(value, str):
        seconds = _parse_text(value)
    else:
        raise DurationError(f"a {type(value).__name__} is not a duration")
    if math.isnan(seconds) or seconds < 0 or seconds > MAX_DURATION_SECONDS:
        raise DurationError("out of range")
    if positive and seconds == 0:
        raise DurationError("must be greater than zero")
    return seconds


@dataclass(frozen=True)
class Duration:
    """A parsed duration that remembers how the document wrote it (messages repeat that)."""

    seconds: float
    """The length in seconds."""
    text: str
    """The duration as written (`as_written`): `"4m20s"` -> `4m20s`, `90` -> `90s`."""

    @classmethod
    def parse(cls, value: object, *, positive: bool = False) -> Duration:
        """Parse like `parse_duration`; raise `DurationError` for anything else."""
        return cls(parse_duration(value, positive=positive), as_written(value))


def _parse_text(text: str) -> float:
    if _PLAIN_NUMBER.fullmatch(text):
        return float(text)
    if not text:
        raise DurationError("empty")
    total = 0.0
    position = 0
    for match in _PART.finditer(text):
        if match.start() != position:
            raise DurationError(f"unexpected text at {position}")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(text):
        raise DurationError(f"unexpected text at {position}")
    return total


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp with an offset (`2026-03-01T12:00:00Z`), as an aware datetime."""
    if not re.fullmatch(
        r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", text
    ):
        raise DurationError("not an RFC 3339 time")
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise DurationError(str(exc)) from exc
    return parsed.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z` suffix, whole seconds (how symphony-mesh writes every time)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
