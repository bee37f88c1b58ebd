"""The http provider (9.4) against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from symphony_mesh.model.jsonvalues import JsonMap
from symphony_mesh.providers import http
from symphony_mesh.providers.base import Completed, Failed
from symphony_mesh.providers.http import canonical_header
from tests.unit.providers.fakes import RUN_ID, FakeEnvironment, call
from tests.unit.providers.httpserver import Reply, Servers, closed_port, ok

HTTP = "providers.stage.http"


async def test_get_returns_status_body_and_headers(env: FakeEnvironment, servers: Servers) -> None:
    server = await servers.start(
        {
            "/x": [
                ok(
                    "hello é",
                    headers=[("X-Custom", "a"), ("x-custom", "b"), ("content-type", "text/plain")],
                )
            ]
        }
    )
    outcome = await http.run(call(env, HTTP, {"url": server.url("/x")}, injected=True))
    assert outcome == Completed(
        {
            "status": 200,
            "body": "hello é",
            "header.X-Custom": ["a", "b"],
            "header.Content-Type": ["text/plain"],
            "header.Content-Length": [str(len("hello é".encode()))],
        }
    )
    [request] = server.requests
    assert request.method == "GET"
    assert request.header("Idempotency-Key") == RUN_ID
    assert request.body == b""
    assert request.header("Content-Type") is None


async def test_post_sends_headers_and_a_json_body(env: FakeEnvironment, servers: Servers) -> None:
    server = await servers.start({"/p": [ok(status=201)]})
    inputs: JsonMap = {
        "url": server.url("/p"),
        "method": "post",
        "body": {"b": 1, "a": [True, None, "é"]},
        "header.X-Token": "t0k",
        "header.X-Number": 2.0,
        "header.X-Empty": None,
        "header.Idempotency-Key": "mine",
    }
    outcome = await http.run(call(env, HTTP, inputs))
    assert isinstance(outcome, Completed)
    assert outcome.outputs["status"] == 201
    [request] = server.requests
    assert request.method == "POST"
    assert request.body == '{"b":1,"a":[true,null,"é"]}'.encode()
    assert request.header("Content-Type") == "application/json; charset=UTF-8"
    assert request.header("X-Token") == "t0k"
    assert request.header("X-Number") == "2"
    assert request.header("X-Empty") == ""
    assert [v for k, v in request.headers if k.lower() == "idempotency-key"] == ["mine"]


@pytest.mark.parametrize(("body", "sent"), [("hello", b'"hello"'), (None, b"null"), (3, b"3")])
async def test_body_is_always_json(
    env: FakeEnvironment, servers: Servers, body: str | None, sent: bytes
) -> None:
    server = await servers.start({"/p": [ok()]})
    await http.run(call(env, HTTP, {"url": server.url("/p"), "method": "PUT", "body": body}))
    assert server.requests[0].body == sent


async def test_an_explicit_content_type_wins(env: FakeEnvironment, servers: Servers) -> None:
    server = await servers.start({"/p": [ok()]})
    inputs: JsonMap = {
        "url": server.url("/p"),
        "method": "POST",
        "body": "x",
        "header.content-type": "text/plain",
    }
    await http.run(call(env, HTTP, inputs))
    assert [v for k, v in server.requests[0].headers if k.lower() == "content-type"] == [
        "text/plain"
    ]


async def test_inputs_override_config(env: FakeEnvironment, servers: Servers) -> None:
    server = await servers.start({"/good": [ok("yes")]})
    config: JsonMap = {"url": "http://invalid.invalid/bad", "method": "DELETE", "id": "ignored"}
    inputs: JsonMap = {"url": server.url("/good"), "method": "GET"}
    outcome = await http.run(call(env, HTTP, inputs, config))
    assert isinstance(outcome, Completed)
    assert outcome.outputs["body"] == "yes"
    assert server.requests[0].method == "GET"


async def test_config_alone_is_enough(env: FakeEnvironment, servers: Servers) -> None:
    server = await servers.start({"/c": [ok("c")]})
    outcome = await http.run(call(env, HTTP, {"url": None}, {"url": server.url("/c")}))
    assert isinstance(outcome, Completed)
    assert outcome.outputs["body"] == "c"


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
async def test_every_2xx_succeeds_by_default(
    env: FakeEnvironment, servers: Servers, status: int
) -> None:
    server = await servers.start({"/": [ok(status=status)]})
    outcome = await http.run(call(env, HTTP, {"url": server.url("/")}))
    assert isinstance(outcome, Completed)
    assert outcome.outputs["status"] == status


async def test_an_error_code_fails_and_keeps_body_and_headers(
    env: FakeEnvironment, servers: Servers
) -> None:
    server = await servers.start({"/": [Reply(503, b"down", [("Retry-After", "5")])]})
    outcome = await http.run(call(env, HTTP, {"url": server.url("/")}))
    assert outcome == Failed(
        503,
        "unexpected status code 503",
        {"body": "down", "header.Retry-After": ["5"], "header.Content-Length": ["4"]},
    )


async def test_success_codes(env: FakeEnvironment, servers: Servers) -> None:
    server = await servers.start({"/204": [ok(status=204)], "/404": [ok("gone", status=404)]})
    outcome = await http.run(call(env, HTTP, {"url": server.url("/204"), "successCodes": [200]}))
    assert isinstance(outcome, Failed)
    assert (outcome.code, outcome.message) == (1000, "unexpected status code 204")
    outcome = await http.run(call(env, HTTP, {"url": server.url("/204"), "successCodes": []}))
    assert isinstance(outcome, Completed)  # an empty list means the default: every 2xx
    # A non-2xx success code is returned as the status output: the engine's rule (4.6) decides.
    outcome = await http.run(call(env, HTTP, {"url": server.url("/404"), "successCodes": 404}))
    assert isinstance(outcome, Completed)
    assert outcome.outputs["status"] == 404


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "url is required"),
        ({"url": ""}, "url is required"),
        ({"url": "ftp://host/x"}, "invalid url ftp://host/x"),
        ({"url": "not a url"}, "invalid url not a url"),
        ({"url": "http://"}, "invalid url http://"),
        ({"url": 5}, "invalid url 5"),
        ({"url": "http://h/", "method": "GE T"}, 'invalid method "GE T"'),
        ({"url": "http://h/", "timeout": "abc"}, 'invalid timeout "abc"'),
        ({"url": "http://h/", "timeout": 0}, "invalid timeout 0"),
        ({"url": "http://h/", "successCodes": ["x"]}, 'invalid successCodes ["x"]'),
        ({"url": "http://h/", "wait.url": "file:///x"}, "invalid url file:///x"),
        ({"url": "http://h/", "wait.url": "http://h/w", "wait.count": -1}, "invalid wait.count -1"),
        (
            {"url": "http://h/", "wait.url": "http://h/w", "wait.interval": "-1s"},
            'invalid wait.interval "-1s"',
        ),
        (
            {"url": "http://h/", "wait.expressionType": "xpath"},
            'invalid wait.expressionType "xpath"',
        ),
        ({"url": "http://h/", "wait.expression": 3}, "invalid wait.expression 3"),
    ],
)
async def test_bad_settings_fail_with_1000(
    env: FakeEnvironment, inputs: JsonMap, message: str
) -> None:
    assert await http.run(call(env, HTTP, inputs)) == Failed(1000, message)


async def test_a_refused_connection_fails_with_500(env: FakeEnvironment) -> None:
    url = f"http://127.0.0.1:{await closed_port()}/x"
    outcome = await http.run(call(env, HTTP, {"url": url}))
    assert isinstance(outcome, Failed)
    assert outcome.code == 500
    assert outcome.message.startswith(f"request to {url} failed: ")
    assert len(outcome.message) > len(f"request to {url} failed: ")


async def test_a_server_that_never_answers_times_out(
    env: FakeEnvironment, servers: Servers
) -> None:
    server = await servers.start({"/slow": [None]})
    started = time.monotonic()
    outcome = await http.run(call(env, HTTP, {"url": server.url("/slow"), "timeout": "200ms"}))
    assert outcome == Failed(11004, f"request to {server.url('/slow')} timed out after 200ms")
    assert time.monotonic() - started < 5


def test_canonical_header_names() -> None:
    assert canonical_header("content-type") == "Content-Type"
    assert canonical_header("X-REQUEST-ID") == "X-Request-Id"
    assert canonical_header("etag") == "Etag"


@pytest.mark.parametrize("value", ["é", "a\r\nX-Injected: 1"])
async def test_a_header_that_cannot_be_sent_fails_with_500(
    env: FakeEnvironment, servers: Servers, value: str
) -> None:
    server = await servers.start({"/": [ok()]})
    outcome = await http.run(call(env, HTTP, {"url": server.url("/"), "header.X-Bad": value}))
    assert isinstance(outcome, Failed)
    assert outcome.code == 500
    assert outcome.message.startswith(f"request to {server.url('/')} failed: ")
    assert server.requests == []
