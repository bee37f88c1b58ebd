"""The settings of one http provider call (campaigns.md 9.4, clarification 13.4).

The http provider is the only one whose inputs override its config: every key of the settings
table may be written in `config` or in `inputs`, and an input that is present and not `null` wins.
The wait settings are flat dotted keys (`wait.url`, `wait.interval`, ...), as in Symphony. Reading
them checks every value once, before any request is sent, so a bad value fails the call with 1000
instead of surfacing halfway through a polling loop.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from symphony_mesh.model.durations import Duration, DurationError
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.model.providers_catalog import HTTP_SETTINGS
from symphony_mesh.model.status import StateCode
from symphony_mesh.providers.params import ParamError, as_integer, as_json, as_text

__all__ = ["EXPRESSION_TYPES", "SETTING_KEYS", "HttpSettings", "merge_settings"]

SETTING_KEYS = HTTP_SETTINGS
"""The keys of the settings table; each may come from config or inputs."""

EXPRESSION_TYPES = ("symphony", "jsonpath")
"""Values of `wait.expressionType`; the first is the default."""

_DEFAULT_TIMEOUT = Duration(30.0, "30s")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token: what a method may be


def merge_settings(config: JsonMap, inputs: JsonMap) -> JsonMap:
    """Config overlaid by the inputs of the same names (9.4); other inputs are not settings."""
    merged = {key: config[key] for key in SETTING_KEYS if key in config}
    merged.update(
        {key: inputs[key] for key in SETTING_KEYS if key in inputs and inputs[key] is not None}
    )
    return merged


@dataclass(frozen=True)
class HttpSettings:
    """Checked settings of one call."""

    url: str
    method: str = "GET"
    success_codes: frozenset[int] | None = None
    """None: every 2xx code."""
    timeout: Duration = _DEFAULT_TIMEOUT
    """Of every request made by the call (the first one and each poll)."""
    wait_url: str = ""
    """Empty: no wait mode."""
    wait_interval: float = 5.0
    wait_count: int = 0
    """0: no limit."""
    wait_start: frozenset[int] | None = None
    """None: the success codes."""
    wait_success: frozenset[int] = frozenset({200})
    wait_fail: frozenset[int] = frozenset()
    wait_expression: str = ""
    """Empty: no condition on the poll body."""
    wait_expression_type: str = EXPRESSION_TYPES[0]

    def is_success(self, code: int) -> bool:
        """Whether the first response's code counts as success."""
        if self.success_codes is None:
            return 200 <= code <= 299
        return code in self.success_codes

    def may_wait(self, code: int) -> bool:
        """Whether the first response's code allows waiting (`wait.start`)."""
        return self.is_success(code) if self.wait_start is None else code in self.wait_start

    @classmethod
    def read(cls, settings: Mapping[str, JsonValue]) -> HttpSettings:
        """Check merged settings; raise `ParamError` (1000) for the first unusable value."""
        url = settings.get("url")
        if url is None or url == "":
            raise ParamError(StateCode.BAD_CONFIG, "url is required")
        wait_url = settings.get("wait.url")
        wait_start = settings.get("wait.start")
        # Keyword arguments are evaluated in order: the first unusable value is the one reported.
        return cls(
            url=_url(url),
            method=_method(settings.get("method", "GET")),
            success_codes=_codes(settings, "successCodes", None),
            timeout=_duration(settings, "timeout", "30s"),
            wait_url="" if wait_url is None or wait_url == "" else _url(wait_url),
            wait_interval=_duration(settings, "wait.interval", "5s").seconds,
            wait_count=_count(settings.get("wait.count", 0)),
            wait_start=None if wait_start is None else _codes(settings, "wait.start", None),
            wait_success=_codes(settings, "wait.success", frozenset({200})) or frozenset(),
            wait_fail=_codes(settings, "wait.fail", frozenset()) or frozenset(),
            wait_expression=_expression(settings.get("wait.expression")),
            wait_expression_type=_expression_type(settings.get("wait.expressionType")),
        )


def _invalid(key: str, value: JsonValue) -> ParamError:
    return ParamError(StateCode.BAD_CONFIG, f"invalid {key} {as_json(value)}")


def _url(value: JsonValue) -> str:
    """An absolute `http://` or `https://` URL with a host."""
    if isinstance(value, str):
        try:
            parsed = httpx.URL(value)
        except httpx.InvalidURL:
            parsed = None
        if parsed is not None and parsed.scheme in ("http", "https") and parsed.host:
            return value
    raise ParamError(StateCode.BAD_CONFIG, f"invalid url {as_text(value)}")


def _method(value: JsonValue) -> str:
    # Methods are case-sensitive on the wire; a campaign's `get` means GET, as in Symphony's
    # samples, so the name is upper-cased.
    if isinstance(value, str) and _TOKEN.fullmatch(value):
        return value.upper()
    raise _invalid("method", value)


def _duration(settings: Mapping[str, JsonValue], key: str, default: str) -> Duration:
    value = settings.get(key, default)
    try:
        return Duration.parse(value, positive=True)
    except DurationError:
        raise _invalid(key, value) from None


def _expression(value: JsonValue) -> str:
    # Never a template for the engine (9.4): the provider evaluates it on every poll.
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise _invalid("wait.expression", value)


def _expression_type(value: JsonValue) -> str:
    if value is None:
        return EXPRESSION_TYPES[0]
    if isinstance(value, str) and value in EXPRESSION_TYPES:
        return value
    raise _invalid("wait.expressionType", value)


def _count(value: JsonValue) -> int:
    count = as_integer(value)
    if count is None or count < 0:
        raise _invalid("wait.count", value)
    return count


def _codes(
    settings: Mapping[str, JsonValue], key: str, default: frozenset[int] | None
) -> frozenset[int] | None:
    """A list of status codes; a single code is a list of one, an empty list the default."""
    value = settings.get(key)
    if value is None or value == []:
        return default
    items = value if isinstance(value, list) else [value]
    codes = [as_integer(item) for item in items]
    if any(code is None for code in codes):
        raise _invalid(key, value)
    return frozenset(code for code in codes if code is not None)
