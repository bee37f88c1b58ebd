"""`symphony-mesh demo`: a node on loopback with fresh certificates running a small rollout.

This first version is one node (the multi-site demo of the External contract grows from it with
federation). It makes a throwaway PKI, starts `node run` as a separate process with mutual TLS,
applies a campaign that shows a loop, a fan-out over three contexts with one failing context
inside the failure budget, and an approval gate that the demo approves; it prints live progress
from the Watch stream and a final per-context table, and exits 0 when the activation is Done.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import click

from symphony_mesh.api.v1 import activation_pb2
from symphony_mesh.cli.activation import activation_stub, event_line, follow, status_line
from symphony_mesh.cli.client import Client
from symphony_mesh.cli.errors import CliError
from symphony_mesh.cli.options import GlobalOptions
from symphony_mesh.cli.output import table
from symphony_mesh.security.identity import SpiffeId
from symphony_mesh.security.pki import (
    certificate_pem,
    create_ca,
    issue_certificate,
    private_key_pem,
)

__all__ = ["demo"]

TRUST_DOMAIN = "demo.local"
CAMPAIGN = """
apiVersion: workflow.symphony/v1
kind: Campaign
metadata: {name: demo}
---
apiVersion: workflow.symphony/v1
kind: CampaignVersion
metadata: {name: demo-v-1}
spec:
  rootResource: demo
  firstStage: prepare
  selfDriving: true
  stages:
    prepare: {provider: providers.stage.delay, inputs: {delay: 1s}, stageSelector: warm-up}
    warm-up:
      provider: providers.stage.counter
      inputs: {round: 1}
      stageSelector: "${{$if($lt($output(warm-up, round), 3), warm-up, rollout)}}"
    rollout:
      provider: providers.stage.mock
      contexts: [tokyo, munich, paris]
      contextPolicy: {maxFailures: 1}
      inputs:
        site: "${{$input(__site)}}"
        status: "${{$if($equal($input(__site), munich), 503, 200)}}"
        error: "${{$if($equal($input(__site), munich), 'munich is in maintenance', '')}}"
      stageSelector: approve
    approve:
      provider: providers.stage.approval
      inputs: {message: "promote the release to every site?"}
      stageSelector: promote
    promote: {provider: providers.stage.mock, inputs: {promoted: true}}
---
apiVersion: workflow.symphony/v1
kind: Activation
metadata: {name: demo-rollout}
spec: {campaignversion: "demo:1"}
"""
READY = re.compile(r"serving on (\S+)")


def _write_pki(root: Path) -> tuple[Path, Path]:
    """A CA, the hub's site certificate and an operator certificate (0600 keys)."""
    ca_cert, ca_key = create_ca(TRUST_DOMAIN)
    dirs = []
    for identity in (SpiffeId.site(TRUST_DOMAIN, "hub"), SpiffeId.operator(TRUST_DOMAIN, "demo")):
        issued = issue_certificate(ca_cert, ca_key, identity, valid_for=timedelta(days=1))
        assert issued.private_key is not None
        out = root / identity.name
        out.mkdir(mode=0o700)
        (out / "ca.pem").write_bytes(certificate_pem(ca_cert))
        (out / "cert.pem").write_bytes(certificate_pem(issued.certificate))
        key = out / "key.pem"
        key.touch(mode=0o600)
        key.write_bytes(private_key_pem(issued.private_key))
        dirs.append(out)
    return dirs[0], dirs[1]


@click.command()
def demo() -> None:
    """Run a local rollout demo end to end (a node, a campaign, live progress)."""
    with tempfile.TemporaryDirectory(prefix="symphony-mesh-demo-") as raw:
        root = Path(raw)
        site, operator = _write_pki(root)
        node = subprocess.Popen(
            [sys.executable, "-m", "symphony_mesh", "node", "run", "--data-dir", str(root / "hub"),
             "--listen", "127.0.0.1:0", "--tls-dir", str(site), "--log-format", "json"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            code = _drive(node, operator)
        finally:
            node.terminate()
            node.wait(30)
            if node.stderr is not None:
                node.stderr.close()
    sys.exit(code)


def _drive(node: subprocess.Popen[str], operator: Path) -> int:
    assert node.stderr is not None
    address = ""
    for line in node.stderr:
        match = READY.search(line)
        if match:
            address = match.group(1)
            break
    if not address:
        raise CliError("the demo node did not start")
    click.echo(f"node hub serving on {address} (mutual TLS, trust domain {TRUST_DOMAIN})")
    options = GlobalOptions(server=address.replace("127.0.0.1", "localhost"), tls_dir=operator)
    with Client(options) as client:
        from symphony_mesh.api.v1 import campaign_pb2, campaign_pb2_grpc

        stub = campaign_pb2_grpc.CampaignServiceStub(client.channel)
        client.call(stub.Apply, campaign_pb2.ApplyRequest(content=CAMPAIGN.encode(), source="demo"))
        click.echo("applied campaign demo:1 and activation demo-rollout")
        approved = False

        def printer(event: activation_pb2.WatchResponse) -> None:
            nonlocal approved
            line = event_line(event, as_json=False)
            if line:
                click.echo(line)
            # The approval gate is the only place this campaign pauses.
            waiting = (
                event.type == activation_pb2.WATCH_EVENT_TYPE_ACTIVATION_UPDATED
                and event.activation.status == 9995
            )
            if waiting and not approved:
                approved = True
                click.echo("approving the gate as operator demo")
                signal = activation_pb2.SignalRequest(name="demo-rollout", signal="approval")
                signal.payload.struct_value.update({"approved": True, "by": "demo"})
                client.call(activation_stub(client).Signal, signal)

        final = follow(client, "demo-rollout", 120.0, printer)
    if not isinstance(final, dict):
        raise CliError("the demo activation did not finish")
    history = final["status"]["stageHistory"]
    rollout = next(entry for entry in history if entry["stage"] == "rollout")
    table(
        ("CONTEXT", "STATUS", "ERROR"),
        [(name, c["statusMessage"], c.get("error", "")) for name, c in rollout["contexts"].items()],
    )
    click.echo(status_line("demo-rollout", final))
    return 0 if final["status"]["status"] == 9996 else 1
