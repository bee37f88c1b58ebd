"""`providers.stage.http` (campaigns.md 9.4): one HTTP request, optionally followed by polling.

The call sends one request (inputs `header.<Name>` become headers, input `body` a JSON body, and
`Idempotency-Key: <__runId>` lets the server recognise a repeated call after a retry or a
restart, 4.15). The response's code, text and headers are the outputs. In wait mode (`wait.url`)
the provider then polls that URL with GET, immediately and then every `wait.interval`, until a
poll code in `wait.success` satisfies `wait.expression`, a code in `wait.fail` ends it, or
`wait.count` polls are spent. The polling loop lives inside the call on purpose: the context is
`Running` meanwhile, and a restart simply runs the whole call again (9.4).

Every request is bounded by `timeout`, counted from sending to the last byte of the body.
Redirects are followed, as Go's HTTP client (Symphony's) does. `HttpProvider(transport=...)`
accepts an httpx transport, the seam for tests and for nodes that need special TLS or proxies.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from symphony_mesh.expr import ExpressionError, Scope, decode_json, evaluate_template
from symphony_mesh.expr import jsonpath_query as run_jsonpath
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue, compact_json
from symphony_mesh.model.status import StateCode
from symphony_mesh.providers.base import Completed, Failed, Outcome, Provider, ProviderCall
from symphony_mesh.providers.http_settings import HttpSettings, merge_settings
from symphony_mesh.providers.params import ParamError, as_text

__all__ = ["HEADER_PREFIX", "JSON_CONTENT_TYPE", "HttpProvider", "canonical_header", "run"]

HEADER_PREFIX = "header."
"""Inputs `header.<Name>` are request headers; outputs `header.<Name>` response headers."""

JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
"""The content type of a request whose body comes from input `body`."""

_TRANSPORT_ERRORS = (httpx.HTTPError, httpx.InvalidURL, UnicodeError)
"""What a failed exchange raises: httpx's errors, and a header value that is not ASCII."""


class _RequestTimeout(Exception):
    """A request got no complete response within `timeout`."""


class _RequestFailed(Exception):
    """A request failed in transport; the text is the reason."""


@dataclass(frozen=True)
class HttpProvider:
    """The http provider; `transport` replaces httpx's network transport (None: the network)."""

    transport: httpx.AsyncBaseTransport | None = None

    async def __call__(self, call: ProviderCall) -> Outcome:
        """Send the request (and poll in wait mode); fail with the codes of 9.4."""
        try:
            settings = HttpSettings.read(merge_settings(call.config, call.inputs))
        except ParamError as exc:
            return Failed(exc.code, exc.message)
        headers = _request_headers(call)
        content: bytes | None = None
        if "body" in call.inputs:
            content = compact_json(call.inputs["body"]).encode("utf-8", "surrogatepass")
            if not any(name.lower() == "content-type" for name, _ in headers):
                headers.append(("Content-Type", JSON_CONTENT_TYPE))
        client = httpx.AsyncClient(
            transport=self.transport,
            timeout=httpx.Timeout(settings.timeout.seconds),
            follow_redirects=True,
        )
        async with client:
            exchange = _Exchange(client, settings, headers)
            try:
                response = await exchange.send(settings.method, settings.url, content)
            except _RequestTimeout:
                message = f"request to {settings.url} timed out after {settings.timeout.text}"
                return Failed(StateCode.TIMED_OUT, message)
            except _RequestFailed as exc:
                return Failed(StateCode.INTERNAL_ERROR, f"request to {settings.url} failed: {exc}")
            outputs = _response_outputs(response)
            code = response.status_code
            allowed = settings.may_wait(code) if settings.wait_url else settings.is_success(code)
            if not allowed:
                failure_code = StateCode.BAD_CONFIG if 200 <= code <= 299 else code
                return Failed(failure_code, f"unexpected status code {code}", _kept(outputs))
            if not settings.wait_url:
                return Completed(outputs)
            return await exchange.wait(outputs)


def _request_headers(call: ProviderCall) -> list[tuple[str, str]]:
    """Inputs `header.<Name>` (values by their text) plus `Idempotency-Key` unless given."""
    headers = [
        (key.removeprefix(HEADER_PREFIX), as_text(value))
        for key, value in call.inputs.items()
        if key.startswith(HEADER_PREFIX) and key != HEADER_PREFIX
    ]
    if not any(name.lower() == "idempotency-key" for name, _ in headers):
        headers.append(("Idempotency-Key", call.run_id))
    return headers


@dataclass
class _Exchange:
    """The requests of one call: the client, the settings and the headers every request carries."""

    client: httpx.AsyncClient
    settings: HttpSettings
    headers: list[tuple[str, str]]

    async def send(self, method: str, url: str, content: bytes | None) -> httpx.Response:
        """One request, its body read; raise `_RequestTimeout` or `_RequestFailed`."""
        try:
            # httpx bounds each phase (connect, write, read) on its own; this bounds the whole.
            async with asyncio.timeout(self.settings.timeout.seconds):
                return await self.client.request(method, url, headers=self.headers, content=content)
        except (TimeoutError, httpx.TimeoutException):
            raise _RequestTimeout from None
        except _TRANSPORT_ERRORS as exc:
            raise _RequestFailed(str(exc) or type(exc).__name__) from None

    async def wait(self, outputs: JsonMap) -> Outcome:
        """Poll `wait.url` until success, a failing code, or `wait.count` polls (9.4)."""
        settings = self.settings
        polls = 0
        while True:
            polls += 1
            try:
                poll = await self.send("GET", settings.wait_url, None)
            except _RequestTimeout:
                reason = f"timed out after {settings.timeout.text}"
                return _wait_request_failed(settings.wait_url, reason, outputs)
            except _RequestFailed as exc:
                return _wait_request_failed(settings.wait_url, str(exc), outputs)
            code = poll.status_code
            progress: JsonMap = {"waitStatus": code, "waitBody": _text(poll)}
            if code in settings.wait_fail:
                failure_code = StateCode.BAD_CONFIG if 200 <= code <= 299 else code
                message = f"wait failed with status code {code}"
                return Failed(failure_code, message, _kept(outputs) | progress)
            if code in settings.wait_success:
                holds, result = _condition(settings, _text(poll))
                if holds:
                    if settings.wait_expression:
                        progress["waitResult"] = result
                    return Completed(outputs | progress)
            if settings.wait_count and polls >= settings.wait_count:
                message = f"wait did not succeed after {polls} polls"
                return Failed(StateCode.TIMED_OUT, message, _kept(outputs) | progress)
            await asyncio.sleep(settings.wait_interval)


def _condition(settings: HttpSettings, body: str) -> tuple[bool, JsonValue]:
    """Whether a successful poll ends the wait, and the expression's value.

    Without an expression every poll in `wait.success` ends it. Otherwise the body must be JSON
    and the expression must hold: a JSONPath query with at least one match, or a template whose
    value's text is `true`. A body that is not JSON or an expression error means "keep polling".
    """
    if not settings.wait_expression:
        return True, None
    try:
        value = decode_json(body)
    except ValueError:
        return False, None
    try:
        if settings.wait_expression_type == "jsonpath":
            # No match raises; any match (whatever its value) satisfies the condition.
            return True, run_jsonpath(value, settings.wait_expression)
        result = evaluate_template(settings.wait_expression, Scope(value=value))
    except ExpressionError:
        return False, None
    return as_text(result) == "true", result


def _text(response: httpx.Response) -> str:
    """The response body as UTF-8 text, invalid bytes replaced (whatever the charset says)."""
    return response.content.decode("utf-8", "replace")


def _response_outputs(response: httpx.Response) -> JsonMap:
    """`status`, `body` and one `header.<Name>` list per response header (9.4)."""
    headers: dict[str, list[JsonValue]] = {}
    for name, value in response.headers.multi_items():
        headers.setdefault(HEADER_PREFIX + canonical_header(name), []).append(value)
    outputs: JsonMap = {"status": response.status_code, "body": _text(response)}
    outputs.update(headers)
    return outputs


def _kept(outputs: JsonMap) -> JsonMap:
    """What a failure keeps of the first response: `body` and `header.*` (the engine sets the
    `status` of a failure to the failure's code)."""
    return {key: value for key, value in outputs.items() if key != "status"}


def _wait_request_failed(url: str, reason: str, outputs: JsonMap) -> Failed:
    return Failed(
        StateCode.INTERNAL_ERROR, f"wait request to {url} failed: {reason}", _kept(outputs)
    )


def canonical_header(name: str) -> str:
    """A header name in canonical form, as Go writes it: `content-type` -> `Content-Type`."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


run: Provider = HttpProvider()
"""The http provider on the network."""
