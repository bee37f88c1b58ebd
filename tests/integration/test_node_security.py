"""Mutual TLS and SPIFFE authorization on a real node (federation.md 4.5-4.9, 5.1, 5.2)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from symphony_mesh.api.v1 import federation_pb2, federation_pb2_grpc
from tests.helpers.cli import invoke
from tests.helpers.grpc_client import error_reason, secure_channel
from tests.helpers.nodes import NodeProcess, run_cli
from tests.helpers.waiting import eventually_sync
from tests.integration.conftest import Mesh

BUF = shutil.which("buf", path=str(Path(sys.executable).parent))
SEVEN_SERVICES = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
    "symphony.mesh.v1.ActivationService",
    "symphony.mesh.v1.CampaignService",
    "symphony.mesh.v1.Federation",
    "symphony.mesh.v1.NodeService",
    "symphony.mesh.v1.SiteService",
]


def _buf(*args: str) -> subprocess.CompletedProcess[str]:
    assert BUF is not None, "buf comes with the dev dependency group (buf-bin)"
    return subprocess.run([BUF, *args], capture_output=True, text=True, timeout=60, check=False)


def _tls_args(tls_dir: Path) -> list[str]:
    return ["--protocol", "grpc", "--cacert", str(tls_dir / "ca.pem"),
            "--cert", str(tls_dir / "cert.pem"), "--key", str(tls_dir / "key.pem")]  # fmt: skip


def test_operator_health_as_a_real_cli_process(mesh: Mesh) -> None:
    result = mesh.hub.cli("health", tls_dir=mesh.operator)
    assert (result.code, result.stdout) == (0, "SERVING\n")


def test_buf_curl_lists_exactly_the_seven_services(mesh: Mesh) -> None:
    url = f"https://{mesh.hub.address.replace('127.0.0.1', 'localhost')}"
    listed = _buf("curl", *_tls_args(mesh.operator), "--list-services", url)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == SEVEN_SERVICES
    check = _buf("curl", *_tls_args(mesh.operator), "-d", '{"service":""}',
                 f"{url}/grpc.health.v1.Health/Check")  # fmt: skip
    assert json.loads(check.stdout) == {"status": "SERVING"}
    missing = _buf("curl", *_tls_args(mesh.operator), "-d", '{"name":"canary-1"}',
                   f"{url}/symphony.mesh.v1.ActivationService/GetActivation")  # fmt: skip
    assert missing.returncode == 40  # buf curl: 8 x NOT_FOUND
    error = json.loads(missing.stderr)
    assert error["message"] == 'activation "canary-1" not found'
    assert error["details"][0]["type"] == "google.rpc.ErrorInfo"


def test_site_certificates_cannot_manage(mesh: Mesh) -> None:
    site = mesh.pki.site("tokyo")
    result = invoke("--server", mesh.hub.address, "--tls-dir", str(site), "get", "campaigns")
    assert result.code == 1
    assert result.stderr == (
        "error: spiffe://mesh.test/site/tokyo is not an operator; "
        "symphony.mesh.v1.CampaignService needs an operator certificate "
        "(OPERATOR_IDENTITY_REQUIRED)\n"
    )


def test_operators_cannot_open_a_federation_link(mesh: Mesh) -> None:
    with secure_channel(mesh.hub.address, mesh.operator) as channel:
        stub = federation_pb2_grpc.FederationStub(channel)
        call = stub.Connect(iter([federation_pb2.ConnectRequest()]), timeout=10)
        with pytest.raises(grpc.RpcError) as caught:
            list(call)
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_reason(caught.value) == "SITE_IDENTITY_REQUIRED"


def test_a_certificate_from_another_ca_fails_the_handshake(mesh: Mesh) -> None:
    foreign = mesh.pki.foreign_operator()
    result = invoke("--server", mesh.hub.address, "--tls-dir", str(foreign), "health")
    # The CLI's own pre-flight catches it before any connection.
    assert result.code == 3
    assert "is not signed by a CA in" in result.stderr


def test_plaintext_client_against_a_tls_node(mesh: Mesh) -> None:
    result = invoke("--server", mesh.hub.address, "health")
    assert result.code == 3
    assert result.stderr == (
        f"error: {mesh.hub.address} closed the connection; it probably requires mutual TLS "
        "(use --tls-dir DIR)\n"
    )


def test_rotated_certificate_is_served_without_restart(mesh: Mesh) -> None:
    def serial() -> str:
        info = json.loads(mesh.cli("node", "info", "-o", "json").stdout)
        return str(info["cert"]["serial"])

    before = serial()
    assert mesh.pki.site("hub") == mesh.hub.tls_dir  # re-issued in place: new key, new serial
    assert mesh.hub.process is not None
    mesh.hub.process.send_signal(signal.SIGHUP)
    after = eventually_sync(lambda: (s := serial()) != before and s, what="a new serial")
    assert after != before
    assert mesh.cli("health").stdout == "SERVING\n"


def test_tls_client_against_a_plaintext_node(tmp_path: Path, operator_dir: Path) -> None:
    node = NodeProcess(tmp_path / "data").start()  # loopback, no TLS
    try:
        result = run_cli("--server", node.address, "--tls-dir", str(operator_dir), "health")
    finally:
        node.kill()
    assert result.code == 3
    assert result.stderr == (
        f"error: {node.address} does not speak TLS; the node probably runs with --insecure "
        "(then use --insecure)\n"
    )
