"""`symphony-mesh health` (federation.md DIAG-2)."""

from __future__ import annotations

import sys

import click
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from symphony_mesh.cli.client import Client
from symphony_mesh.cli.errors import CliError, RpcFailure
from symphony_mesh.cli.options import get_options, global_options

__all__ = ["health"]


@click.command()
@click.option("--service", default="", metavar="NAME", help='Health entry (default "": the node).')
@global_options
def health(service: str) -> None:
    """Print the node's health status; exit 0 only when SERVING."""
    options = get_options()
    with Client(options) as client:
        stub = health_pb2_grpc.HealthStub(client.channel)
        try:
            response = client.call(stub.Check, health_pb2.HealthCheckRequest(service=service))
        except RpcFailure as failure:
            if failure.code is grpc.StatusCode.NOT_FOUND:
                raise CliError(
                    f'health service "{service}" is unknown to {options.server}'
                ) from None
            raise
    assert response is not None
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    click.echo(status)
    sys.exit(0 if response.status == health_pb2.HealthCheckResponse.SERVING else 1)
