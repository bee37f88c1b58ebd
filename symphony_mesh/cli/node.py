"""`symphony-mesh node run` and `symphony-mesh node info` (federation.md CFG-2, DIAG-6)."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click

from symphony_mesh.api.v1 import node_pb2, node_pb2_grpc
from symphony_mesh.cli.client import Client
from symphony_mesh.cli.options import get_options, global_options
from symphony_mesh.cli.output import emit, message_to_dict, table

__all__ = ["node"]


@click.group()
def node() -> None:
    """Run a node, or describe one."""


@node.command("run")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Store directory.")
@click.option("--listen", metavar="HOST:PORT", help="Main gRPC address (port 0: any free port).")
@click.option("--site-id", metavar="ID", help="This node's site id (default: hub, or the cert's).")
@click.option("--parent", metavar="HOST:PORT", help="Parent node to dial.")
@click.option("--tls-dir", type=click.Path(file_okay=False), help="ca.pem, cert.pem, key.pem.")
@click.option("--insecure", is_flag=True, default=None, help="No TLS and no authentication.")
@click.option("--labels", metavar="k=v,...", help="This node's labels.")
@click.option("--config", type=click.Path(dir_okay=False), help="YAML configuration file.")
@click.option("--admin-listen", metavar="HOST:PORT", help="Plaintext loopback health port.")
@click.option("--registration", type=click.Choice(["open", "closed"]), help="Child enrolment.")
@click.option("--parent-server-name", metavar="NAME", help="Name checked in the parent's cert.")
@click.option("--deny-file", type=click.Path(dir_okay=False), help="Revoked identities.")
@click.option("--shutdown-grace", metavar="DURATION", help="Drain time on SIGTERM (10s).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--log-format", type=click.Choice(["json", "console"]))
def run(**flags: Any) -> None:
    """Run a node in the foreground until SIGTERM or SIGINT."""
    from symphony_mesh.server.config import ConfigError, load_node_config
    from symphony_mesh.server.logs import configure_logging
    from symphony_mesh.server.node import run_node

    try:
        config = load_node_config(flags)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    configure_logging(config.log_level, config.log_format)
    if config.insecure:
        click.echo(
            f"WARNING: --insecure: no TLS and no authentication; anyone who can reach "
            f"{config.listen} controls this node",
            err=True,
        )
    elif config.tls_dir is None:
        click.echo("WARNING: no --tls-dir given; serving without TLS on loopback only", err=True)
    sys.exit(asyncio.run(run_node(config)))


@node.command("info")
@click.option(
    "--site", metavar="ID", default="", help="A site of the subtree (default: this node)."
)
@global_options
def info(site: str) -> None:
    """Describe a node: identity, TLS, parent link, certificate, store, counters."""
    options = get_options()
    with Client(options) as client:
        stub = node_pb2_grpc.NodeServiceStub(client.channel)
        response = client.call(stub.GetNode, node_pb2.GetNodeRequest(site=site))
    assert response is not None
    described = message_to_dict(response.node)
    if options.output != "table":
        emit(described, options.output)
        return
    n = response.node
    rows: list[tuple[str, object]] = [
        ("site id", n.site_id),
        ("version", n.node_version),
        ("incarnation", n.incarnation),
        ("listen", n.listen),
        ("admin listen", n.admin_listen or "-"),
        ("tls", f"mutual TLS, trust domain {n.trust_domain}" if n.tls else "off"),
        ("spiffe id", n.spiffe_id or "-"),
        ("parent", _parent_line(n.parent)),
        ("registration", node_pb2.RegistrationMode.Name(n.registration).split("_")[-1].lower()),
        ("store", f"{n.store.path} ({n.store.size_bytes} bytes, wal {n.store.wal_bytes} bytes)"),
    ]
    if n.tls:
        rows.append(
            ("certificate", f"serial {n.cert.serial}, expires {described['cert']['notAfter']}")
        )
    rows += [(f"counter {k}", v) for k, v in sorted(n.counters.items())]
    table(("FIELD", "VALUE"), rows)


def _parent_line(parent: node_pb2.ParentLink) -> str:
    state = node_pb2.LinkState.Name(parent.state).removeprefix("LINK_STATE_").lower()
    if parent.state == node_pb2.LINK_STATE_NONE:
        return "none (hub)"
    text = f"{parent.address} ({state})"
    return f"{text}: {parent.last_error}" if parent.last_error else text
