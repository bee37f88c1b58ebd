"""The http provider's wait mode (9.4): polling inside the call, against a real server."""

from __future__ import annotations

import pytest

from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.providers import http
from symphony_mesh.providers.base import Completed, Failed
from tests.unit.providers.fakes import RUN_ID, FakeEnvironment, call
from tests.unit.providers.httpserver import Reply, Servers, closed_port, ok

HTTP = "providers.stage.http"
FAST = "10ms"


async def test_wait_polls_until_success(env: FakeEnvironment, servers: Servers) -> None:
    server = await servers.start(
        {
            "/start": [ok("accepted", status=202)],
            "/status": [ok("pending", status=202), ok("still", status=404), ok("ready")],
        },
    )
    inputs: JsonMap = {
        "url": server.url("/start"),
        "method": "POST",
        "body": {"go": True},
        "header.X-Token": "t",
        "wait.url": server.url("/status"),
        "wait.interval": FAST,
    }
    outcome = await http.run(call(env, HTTP, inputs))
    assert isinstance(outcome, Completed)
    assert outcome.outputs["status"] == 202
    assert outcome.outputs["body"] == "accepted"
    assert (outcome.outputs["waitStatus"], outcome.outputs["waitBody"]) == (200, "ready")
    assert "waitResult" not in outcome.outputs
    polls = [r for r in server.requests if r.path == "/status"]
    assert len(polls) == 3
    assert all(p.method == "GET" and p.body == b"" for p in polls)
    assert all(p.header("X-Token") == "t" for p in polls)
    assert all(p.header("Idempotency-Key") == RUN_ID for p in polls)


async def test_wait_start_decides_whether_to_wait(env: FakeEnvironment, servers: Servers) -> None:
    server = await servers.start({"/start": [ok(status=202)], "/status": [ok()]})
    settings: JsonMap = {"url": server.url("/start"), "wait.url": server.url("/status")}
    outcome = await http.run(call(env, HTTP, {**settings, "wait.start": [200]}))
    assert isinstance(outcome, Failed)
    assert (outcome.code, outcome.message) == (1000, "unexpected status code 202")
    assert server.count("/status") == 0


async def test_wait_fail_codes(env: FakeEnvironment, servers: Servers) -> None:
    server = await servers.start(
        {
            "/start": [ok()],
            "/a": [ok(status=202), ok("broken", status=500)],
            "/b": [ok(status=203)],
        },
    )
    base: JsonMap = {"url": server.url("/start"), "wait.interval": FAST}
    outcome = await http.run(
        call(env, HTTP, {**base, "wait.url": server.url("/a"), "wait.fail": [500]})
    )
    assert isinstance(outcome, Failed)
    assert (outcome.code, outcome.message) == (500, "wait failed with status code 500")
    assert (outcome.outputs["waitStatus"], outcome.outputs["waitBody"]) == (500, "broken")
    assert "status" not in outcome.outputs
    outcome = await http.run(
        call(env, HTTP, {**base, "wait.url": server.url("/b"), "wait.fail": [203]})
    )
    assert isinstance(outcome, Failed)
    assert (outcome.code, outcome.message) == (1000, "wait failed with status code 203")


async def test_wait_count_exhaustion(env: FakeEnvironment, servers: Servers) -> None:
    server = await servers.start({"/start": [ok()], "/status": [ok(status=202)]})
    inputs: JsonMap = {
        "url": server.url("/start"),
        "wait.url": server.url("/status"),
        "wait.interval": FAST,
        "wait.count": 3,
    }
    outcome = await http.run(call(env, HTTP, inputs))
    assert isinstance(outcome, Failed)
    assert (outcome.code, outcome.message) == (11004, "wait did not succeed after 3 polls")
    assert server.count("/status") == 3


@pytest.mark.parametrize(
    ("expression", "kind", "polls", "result"),
    [
        ("${{$equal($val(state), 'done')}}", "symphony", 3, True),
        ('$[?(@.state=="done")]', "jsonpath", 3, {"state": "done", "n": 3}),
        ("$.n", "jsonpath", 2, 1),  # any match holds, even on the running body
        ("${{$val(state)}}", "symphony", 5, None),  # its text is never `true`
        ("$.missing", "jsonpath", 5, None),
    ],
)
async def test_wait_expression(
    env: FakeEnvironment,
    servers: Servers,
    expression: str,
    kind: str,
    polls: int,
    result: JsonValue,
) -> None:
    replies: list[Reply | None] = [
        ok("not json"),
        ok('{"state": "running", "n": 1}'),
        ok('{"state": "done", "n": 3}'),
    ]
    server = await servers.start({"/start": [ok()], "/status": replies})
    inputs: JsonMap = {
        "url": server.url("/start"),
        "wait.url": server.url("/status"),
        "wait.interval": FAST,
        "wait.count": 5,
        "wait.expression": expression,
        "wait.expressionType": kind,
    }
    outcome = await http.run(call(env, HTTP, inputs))
    assert server.count("/status") == polls
    if result is None:
        assert isinstance(outcome, Failed)
        assert (outcome.code, outcome.message) == (11004, "wait did not succeed after 5 polls")
    else:
        assert isinstance(outcome, Completed)
        assert outcome.outputs["waitResult"] == result
        assert outcome.outputs["waitBody"] == replies[polls - 1].body.decode()  # type: ignore[union-attr]


async def test_a_failing_expression_keeps_polling(env: FakeEnvironment, servers: Servers) -> None:
    server = await servers.start({"/start": [ok()], "/status": [ok('{"a": 1}')]})
    inputs: JsonMap = {
        "url": server.url("/start"),
        "wait.url": server.url("/status"),
        "wait.interval": FAST,
        "wait.count": 2,
        "wait.expression": "${{$input(x)}}",
    }
    outcome = await http.run(call(env, HTTP, inputs))
    assert isinstance(outcome, Failed)
    assert outcome.message == "wait did not succeed after 2 polls"


async def test_a_failing_poll_request_fails_with_500(
    env: FakeEnvironment, servers: Servers
) -> None:
    server = await servers.start({"/start": [ok("first")]})
    wait_url = f"http://127.0.0.1:{await closed_port()}/status"
    outcome = await http.run(call(env, HTTP, {"url": server.url("/start"), "wait.url": wait_url}))
    assert isinstance(outcome, Failed)
    assert outcome.code == 500
    assert outcome.message.startswith(f"wait request to {wait_url} failed: ")
    assert outcome.outputs["body"] == "first"


async def test_a_poll_that_never_answers_fails_with_500(
    env: FakeEnvironment, servers: Servers
) -> None:
    server = await servers.start({"/start": [ok()], "/status": [None]})
    inputs: JsonMap = {
        "url": server.url("/start"),
        "wait.url": server.url("/status"),
        "timeout": "200ms",
    }
    outcome = await http.run(call(env, HTTP, inputs))
    assert outcome == Failed(
        500,
        f"wait request to {server.url('/status')} failed: timed out after 200ms",
        {"body": "", "header.Content-Length": ["0"]},
    )
