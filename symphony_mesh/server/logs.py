"""Structured logs of a node (federation.md DIAG-7).

JSON lines on stderr when stderr is not a terminal, readable text on a terminal; `--log-format`
overrides. Every JSON line has `ts` (RFC 3339 UTC, milliseconds), `level`, `event` and `msg`, plus
the event's own fields. Tests read times from these lines, so the event names are fixed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ["configure_logging"]

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
_LEVELS["error"] = logging.ERROR


def _add_msg(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event_dict.setdefault("msg", event_dict["event"])
    return event_dict


def configure_logging(level: str = "info", fmt: str | None = None) -> None:
    """Route structlog to stderr as JSON lines (not a TTY / `json`) or console text."""
    if fmt is None:
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%Y-%m-%dT%H:%M:%S.%fZ", utc=True, key="ts"),
            _trim_micros,
            _add_msg,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def _trim_micros(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # strftime has no millisecond directive: cut `.ffffffZ` to `.fffZ`.
    ts = event_dict.get("ts")
    if isinstance(ts, str) and len(ts) == 27:
        event_dict["ts"] = ts[:23] + "Z"
    return event_dict
