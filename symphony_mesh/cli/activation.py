"""`wait activation` and `activation step|signal|cancel|watch` (campaigns.md 11.3).

`wait` and `watch` consume `ActivationService.Watch` (an event stream), never poll.
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any

import click
import grpc
from google.protobuf import struct_pb2

from symphony_mesh.api.v1 import activation_pb2, activation_pb2_grpc
from symphony_mesh.cli.client import Client
from symphony_mesh.cli.errors import EXIT_FAILED, EXIT_USAGE, CliError, from_rpc_error
from symphony_mesh.cli.options import get_options, global_options
from symphony_mesh.cli.output import emit, struct_to_dict
from symphony_mesh.model.durations import DurationError, parse_duration

__all__ = ["activation", "activation_stub", "event_line", "follow", "status_line", "wait"]

DONE = 9996
TERMINAL_EVENTS = (activation_pb2.WATCH_EVENT_TYPE_TERMINAL,)


def _is_terminal(status: int) -> bool:
    return status not in (9991, 9994, 9995, 9997)


def status_line(name: str, document: dict[str, Any]) -> str:
    """`activation/<name> <statusMessage> (<status>)[: <errorMessage>]`."""
    status = document["status"]
    line = f"activation/{name} {status['statusMessage']} ({status['status']})"
    return f"{line}: {status['errorMessage']}" if status.get("errorMessage") else line


def activation_stub(client: Client) -> activation_pb2_grpc.ActivationServiceStub:
    return activation_pb2_grpc.ActivationServiceStub(client.channel)


@click.group("wait")
def wait() -> None:
    """Wait for an object to reach a state."""


@wait.command("activation")
@click.argument("name")
@click.option("--for", "condition", type=click.Choice(["terminal", "done"]), default="done")
@click.option("--timeout", default="60s", help="Duration; 0 waits forever.")
@global_options
def wait_activation(name: str, condition: str, timeout: str) -> None:
    """Block until the activation is terminal (exit 0 as asked, 1 otherwise, 2 on timeout)."""
    try:
        seconds = parse_duration(timeout)
    except DurationError:
        raise CliError(f'--timeout: invalid duration "{timeout}"', EXIT_USAGE) from None
    with Client(get_options()) as client:
        final = follow(client, name, seconds or None, printer=None)
        if final is None:  # timed out: show where it is now
            request = activation_pb2.GetActivationRequest(name=name)
            got = client.call(activation_stub(client).GetActivation, request)
            assert got is not None
            click.echo(status_line(name, struct_to_dict(got.activation.document)))
            sys.exit(EXIT_USAGE)
    _finish(name, final, condition)


def _finish(name: str, final: dict[str, Any] | str, condition: str) -> None:
    if final == "deleted":
        click.echo(f"activation/{name} deleted")
        sys.exit(EXIT_FAILED)
    assert isinstance(final, dict)
    click.echo(status_line(name, final))
    ok = condition == "terminal" or final["status"]["status"] == DONE
    sys.exit(0 if ok else EXIT_FAILED)


def follow(
    client: Client, name: str, timeout: float | None, printer: Any
) -> dict[str, Any] | str | None:
    """Consume Watch until TERMINAL (the document), DELETED ("deleted") or the timeout (None)."""
    stream = activation_stub(client).Watch(activation_pb2.WatchRequest(name=name), timeout=timeout)
    try:
        for event in stream:
            if printer is not None:
                printer(event)
            if event.type == activation_pb2.WATCH_EVENT_TYPE_TERMINAL:
                return struct_to_dict(event.activation.document)
            if event.type == activation_pb2.WATCH_EVENT_TYPE_DELETED:
                return "deleted"
    except grpc.RpcError as error:
        if isinstance(error, grpc.Call) and error.code() is grpc.StatusCode.DEADLINE_EXCEEDED:
            return None
        raise from_rpc_error(error, client.connection) from None
    return None


@click.group()
def activation() -> None:
    """Step, signal, cancel or watch an activation."""


def _input(item: str) -> tuple[str, Any]:
    key, sep, text = item.partition("=")
    if not sep or not key:
        raise CliError(f'--input "{item}": expected key=JSON', EXIT_USAGE)
    try:
        return key, json.loads(text)
    except json.JSONDecodeError:
        return key, text  # not JSON: a plain string (11.3)


@activation.command("step")
@click.argument("name")
@click.option("--stage", default="", help="Stage to run (default: the suggested next stage).")
@click.option("--input", "inputs", multiple=True, metavar="k=JSON", help="Extra trigger input.")
@click.option("--key", default="", help="Idempotency key (default: a random UUID).")
@global_options
def step(name: str, stage: str, inputs: tuple[str, ...], key: str) -> None:
    """Run one stage of a stepped activation and print its result."""
    merged = dict(_input(item) for item in inputs)
    struct = struct_pb2.Struct()
    struct.update(merged)
    request = activation_pb2.StepRequest(
        name=name, stage=stage, inputs=struct, idempotency_key=key or str(uuid.uuid4())
    )
    options = get_options()
    with Client(options) as client:
        while True:
            response = client.call(activation_stub(client).Step, request, timeout=90)
            assert response is not None
            if response.completed:
                break
    document = struct_to_dict(response.activation.document)
    run = response.run
    entry = next(
        (e for e in document["status"]["stageHistory"]
         if e["stage"] == run.stage and e["iteration"] == run.iteration),
        None,
    )  # fmt: skip
    if options.output != "table":
        emit(entry or {}, options.output)
    else:
        text = f"{run.stage}#{run.iteration} {run.status_message} ({run.status})"
        click.echo(f"{text}: {run.error_message}" if run.error_message else text)
        if run.next_stage:
            click.echo(f"next stage: {run.next_stage}")
    failed = run.state in (
        activation_pb2.STAGE_RUN_STATE_FAILED,
        activation_pb2.STAGE_RUN_STATE_CANCELLED,
    )
    sys.exit(EXIT_FAILED if failed else 0)


@activation.command("signal")
@click.argument("name")
@click.argument("signal")
@click.option("--payload", default="null", help="JSON payload (default null).")
@global_options
def signal(name: str, signal: str, payload: str) -> None:
    """Send a named signal to an activation."""
    try:
        value = json.loads(payload)
    except json.JSONDecodeError:
        raise CliError("--payload is not valid JSON", EXIT_USAGE) from None
    wrapped = struct_pb2.ListValue()
    wrapped.append(value)
    request = activation_pb2.SignalRequest(name=name, signal=signal, payload=wrapped.values[0])
    with Client(get_options()) as client:
        response = client.call(activation_stub(client).Signal, request)
    assert response is not None
    outcome = "delivered" if response.consumed else "queued"
    click.echo(f"activation/{name}: signal {signal} {outcome}")


@activation.command("cancel")
@click.argument("name")
@click.option("--reason", default="", help="Why; shown in the activation's error message.")
@global_options
def cancel(name: str, reason: str) -> None:
    """Cancel an activation (its onCancel stage runs first, if it has one)."""
    with Client(get_options()) as client:
        response = client.call(
            activation_stub(client).Cancel, activation_pb2.CancelRequest(name=name, reason=reason)
        )
    assert response is not None
    document = struct_to_dict(response.activation.document)
    cancelling = not _is_terminal(int(document["status"]["status"]))
    click.echo(f"activation/{name} {'cancelling' if cancelling else 'cancelled'}")


@activation.command("watch")
@click.argument("name")
@global_options
def watch(name: str) -> None:
    """Print live progress per stage and per context until the activation ends."""
    options = get_options()
    as_json = options.output == "json"
    console = _console() if not as_json and sys.stdout.isatty() else None

    def printer(event: activation_pb2.WatchResponse) -> None:
        line = event_line(event, as_json)
        if not line:
            return
        if console is None:
            click.echo(line)
        else:  # a terminal: the same lines, coloured by outcome
            console.print(line, style=_style(line), highlight=False, markup=False)

    with Client(options) as client:
        final = follow(client, name, None, printer)
    if final is None:
        raise CliError(f"the watch of activation {name} ended early")
    if as_json and isinstance(final, dict):
        status = final["status"]
        click.echo(json.dumps({"type": "final", "name": name, "status": status["status"],
                               "statusMessage": status["statusMessage"],
                               "errorMessage": status["errorMessage"]}))  # fmt: skip
        sys.exit(0 if status["status"] == DONE else EXIT_FAILED)
    _finish(name, final, "done")


def _console() -> Any:
    from rich.console import Console  # only a terminal needs rich

    return Console()


def _style(line: str) -> str:
    words = line.split()
    last = words[-1].rstrip(":") if words else ""
    if "failed" in words or "Error" in line or "Timed Out" in line or "Forbidden" in line:
        return "red"
    if last in {"Done", "succeeded"}:
        return "green"
    if last in {"Paused", "Delayed", "Pending"}:
        return "yellow"
    return "cyan" if last in {"Running", "running"} else ""


def event_line(event: activation_pb2.WatchResponse, as_json: bool) -> str:
    when = event.time.ToDatetime()
    stamp = when.strftime("%H:%M:%S")
    kind = event.type
    if kind == activation_pb2.WATCH_EVENT_TYPE_ACTIVATION_UPDATED:
        fields: dict[str, Any] = {"type": "activation", "status": event.activation.status,
                                  "statusMessage": event.activation.status_message}  # fmt: skip
        text = f"{stamp} activation {event.activation.status_message}"
    elif kind in (activation_pb2.WATCH_EVENT_TYPE_STAGE_STARTED,
                  activation_pb2.WATCH_EVENT_TYPE_STAGE_FINISHED):  # fmt: skip
        run = event.stage_run
        fields = {"type": "stage", "stage": run.stage, "iteration": run.iteration,
                  "status": run.status, "statusMessage": run.status_message}  # fmt: skip
        if run.error_message:
            fields["error"] = run.error_message
        text = f"{stamp} {run.stage}#{run.iteration} {run.status_message}"
    elif kind == activation_pb2.WATCH_EVENT_TYPE_CONTEXT_UPDATED:
        run, context = event.stage_run, event.context
        state = activation_pb2.ContextState.Name(context.state).removeprefix("CONTEXT_STATE_")
        fields = {"type": "context", "stage": run.stage, "iteration": run.iteration,
                  "context": context.context, "status": context.status,
                  "statusMessage": state.lower()}  # fmt: skip
        if context.error:
            fields["error"] = context.error
        text = f"{stamp} {run.stage}#{run.iteration} {context.context} {state.lower()}"
        if context.error:
            text += f": {context.error}"
    else:
        return ""
    if as_json:
        return json.dumps({"time": when.isoformat(timespec="seconds") + "Z", **fields})
    return text
