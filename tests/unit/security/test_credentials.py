"""Server credentials with hot reload (SEC-15, SEC-30) and client credentials, over real sockets."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from grpc_health.v1 import _async as health_aio  # the asyncio servicer (no stubs)
from grpc_health.v1 import health_pb2, health_pb2_grpc

from symphony_mesh.errors import UnauthenticatedError
from symphony_mesh.security.credentials import (
    ServerTlsReloader,
    channel_credentials,
    target_name_options,
)
from symphony_mesh.security.identity import Principal, principal_from_auth_context
from symphony_mesh.security.material import (
    MaterialError,
    TlsMaterial,
    preflight_client_material,
    read_tls_files,
)
from symphony_mesh.security.pki import (
    IssuedCertificate,
    certificate_pem,
    generate_key,
    private_key_pem,
    replace_file,
)

from .conftest import Pki

TD = "mesh.test"


@dataclass
class RecordingLogger:
    """Stands in for the structlog logger: keeps (level, event, fields)."""

    records: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    reloaded: asyncio.Event = field(default_factory=asyncio.Event)
    """Set on `certs.reloaded`, so that a test waits for the event instead of polling."""

    def _add(self, level: str, event: str, **fields: Any) -> None:
        self.records.append((level, event, fields))
        if event == "certs.reloaded":
            self.reloaded.set()

    def info(self, event: str, **fields: Any) -> None:
        self._add("info", event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._add("warning", event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self._add("error", event, **fields)

    def exception(self, event: str, **fields: Any) -> None:
        self._add("exception", event, **fields)

    def events(self, name: str) -> list[dict[str, Any]]:
        return [fields for _, event, fields in self.records if event == name]


def install(directory: Path, issued: IssuedCertificate, *, ca_pem: bytes | None = None) -> None:
    """Replace a TLS directory's files the way `certs issue --force` does."""
    assert issued.private_key is not None
    if ca_pem is not None:
        replace_file(directory / "ca.pem", ca_pem, 0o644)
    replace_file(directory / "key.pem", private_key_pem(issued.private_key), 0o600)
    replace_file(directory / "cert.pem", certificate_pem(issued.certificate), 0o644)


# --- the reloader without sockets ----------------------------------------------------------------


def test_check_now_accepts_a_valid_new_set(pki: Pki) -> None:
    tls_dir = pki.issued_dir("hub", pki.site())
    log = RecordingLogger()
    reloader = ServerTlsReloader.load(tls_dir, site_id="hub", logger=log)
    fetch = reloader.configuration_fetcher()
    assert fetch() is None
    assert reloader.check_now() is False  # nothing changed
    new = pki.site()
    install(tls_dir, new)
    assert reloader.check_now() is True
    serial = format(new.certificate.serial_number, "X")
    assert reloader.material.serial == serial
    assert log.events("certs.reloaded") == [
        {
            "serial": serial,
            "notAfter": new.certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "site": "hub",
        }
    ]
    configuration = fetch()
    assert isinstance(configuration, grpc.ServerCertificateConfiguration)
    assert fetch() is None  # handed over once, then "unchanged"
    assert reloader.check_now() is False


def test_refused_set_keeps_the_material_and_logs_once(pki: Pki) -> None:
    tls_dir = pki.issued_dir("hub", pki.site())
    log = RecordingLogger()
    reloader = ServerTlsReloader.load(tls_dir, site_id="hub", logger=log)
    serial = reloader.material.serial
    fetch = reloader.configuration_fetcher()
    replace_file(tls_dir / "key.pem", private_key_pem(generate_key()), 0o600)
    assert reloader.check_now() is False
    assert reloader.check_now() is False
    assert reloader.check_now(force=True) is False  # SIGHUP: same files, no second log line
    failures = log.events("certs.reload_failed")
    assert [f["reason"] for f in failures] == [
        f"certificate {tls_dir}/cert.pem does not match key {tls_dir}/key.pem"
    ]
    assert reloader.material.serial == serial
    assert fetch() is None
    # Another bad set is another line; a good one is accepted.
    install(tls_dir, pki.site("tokyo"))
    assert reloader.check_now() is False
    assert log.events("certs.reload_failed")[-1]["reason"] == (
        'certificate identifies site "tokyo"; this node is "hub"'
    )
    install(tls_dir, pki.site("hub"))
    assert reloader.check_now() is True
    assert fetch() is not None


def test_chmod_is_noticed(pki: Pki) -> None:
    tls_dir = pki.issued_dir("hub", pki.site())
    log = RecordingLogger()
    reloader = ServerTlsReloader.load(tls_dir, site_id="hub", logger=log)
    install(tls_dir, pki.site())
    (tls_dir / "key.pem").chmod(0o644)
    assert reloader.check_now() is False
    assert "has mode 0644" in log.events("certs.reload_failed")[0]["reason"]
    (tls_dir / "key.pem").chmod(0o600)  # only the ctime changes
    assert reloader.check_now() is True


def test_start_with_expired_certificate_then_recover(pki: Pki) -> None:
    past = datetime.now(UTC) - timedelta(days=3)
    tls_dir = pki.issued_dir("hub", pki.site(valid_for=timedelta(days=1), now=past))
    log = RecordingLogger()
    moment = [datetime.now(UTC)]
    reloader = ServerTlsReloader.load(tls_dir, site_id="hub", logger=log, clock=lambda: moment[0])
    assert len(log.events("certs.expired")) == 1
    assert reloader.check_now() is False
    assert len(log.events("certs.expired")) == 1  # at most once an hour
    moment[0] += timedelta(hours=1)
    reloader.check_now()
    assert len(log.events("certs.expired")) == 2
    assert log.events("certs.reload_failed") == []  # the files in use are not "new"
    install(tls_dir, pki.site())
    assert reloader.check_now() is True


def test_start_problems_that_stop_the_node(pki: Pki) -> None:
    tls_dir = pki.issued_dir("tokyo", pki.site("tokyo"))
    with pytest.raises(MaterialError) as caught:
        ServerTlsReloader.load(tls_dir, site_id="hub", logger=RecordingLogger())
    assert caught.value.fatal


def test_not_yet_valid_files_are_retried_as_time_passes(pki: Pki) -> None:
    tls_dir = pki.issued_dir("hub", pki.site())
    log = RecordingLogger()
    moment = [datetime.now(UTC)]
    reloader = ServerTlsReloader.load(tls_dir, site_id="hub", logger=log, clock=lambda: moment[0])
    install(tls_dir, pki.site(now=moment[0] + timedelta(hours=2)))
    assert reloader.check_now() is False
    assert reloader.check_now() is False
    assert len(log.events("certs.reload_failed")) == 1
    moment[0] += timedelta(hours=3)  # the same files become valid
    assert reloader.check_now() is True


async def test_run_periodic_picks_up_new_files(pki: Pki) -> None:
    tls_dir = pki.issued_dir("hub", pki.site())
    log = RecordingLogger()
    reloader = ServerTlsReloader.load(tls_dir, site_id="hub", logger=log)
    task = asyncio.create_task(reloader.run_periodic(0.01))
    try:
        new = pki.site()
        install(tls_dir, new)
        async with asyncio.timeout(5):
            await log.reloaded.wait()
        assert reloader.material.serial == format(new.certificate.serial_number, "X")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_target_name_options() -> None:
    assert target_name_options(None) == []
    assert target_name_options("hub") == [("grpc.ssl_target_name_override", "hub")]


# --- a real grpc.aio server ----------------------------------------------------------------------


class RecordingHealth(health_aio.HealthServicer):  # type: ignore[misc]
    """The standard health servicer, remembering who called (SEC-20 identity, for real)."""

    def __init__(self) -> None:
        super().__init__()
        self.principals: list[Principal | UnauthenticatedError] = []

    async def Check(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            self.principals.append(principal_from_auth_context(context.auth_context(), TD))
        except UnauthenticatedError as exc:
            self.principals.append(exc)
        return await super().Check(request, context)


@dataclass
class Node:
    port: int
    reloader: ServerTlsReloader
    health: RecordingHealth
    tls_dir: Path


@pytest.fixture
async def node(pki: Pki) -> AsyncIterator[Node]:
    tls_dir = pki.issued_dir("hub", pki.site("hub"))
    reloader = ServerTlsReloader.load(tls_dir, site_id="hub", logger=RecordingLogger())
    server = grpc.aio.server()
    health = RecordingHealth()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_secure_port("127.0.0.1:0", reloader.server_credentials())
    await server.start()
    try:
        yield Node(port, reloader, health, tls_dir)
    finally:
        await server.stop(None)


async def health_check(port: int, material: TlsMaterial, server_name: str | None = None) -> str:
    target = f"localhost:{port}" if server_name is None else f"127.0.0.1:{port}"
    async with grpc.aio.secure_channel(
        target, channel_credentials(material), options=target_name_options(server_name)
    ) as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))


def _served_serial(port: int, client_dir: Path) -> str:
    context = ssl.create_default_context(cafile=str(client_dir / "ca.pem"))
    context.load_cert_chain(str(client_dir / "cert.pem"), str(client_dir / "key.pem"))
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return format(x509.load_der_x509_certificate(der).serial_number, "X")


def unchecked_material(directory: Path, certificate: x509.Certificate) -> TlsMaterial:
    """Client material the pre-flight would refuse (to see what the server does with it)."""
    return TlsMaterial(read_tls_files(directory), certificate, (), "", None)


async def served_serial(port: int, client_dir: Path) -> str:
    """The serial of the certificate a NEW connection is served (read on the client side)."""
    return await asyncio.to_thread(_served_serial, port, client_dir)


async def test_rotation_over_real_connections(node: Node, pki: Pki) -> None:
    op_dir = pki.issued_dir("op", pki.operator("alice"))
    operator = preflight_client_material(op_dir)
    assert await health_check(node.port, operator) == "SERVING"
    principal = node.health.principals[-1]
    assert isinstance(principal, Principal)
    assert principal.spiffe_id == "spiffe://mesh.test/operator/alice"
    assert principal.serial == operator.serial
    first = node.reloader.material.serial
    assert await served_serial(node.port, op_dir) == first

    # Re-issue the node's certificate (as `certs issue --force`), then the node's check.
    new = pki.site("hub")
    install(node.tls_dir, new)
    assert await served_serial(node.port, op_dir) == first  # not yet checked: old material
    assert node.reloader.check_now() is True
    second = format(new.certificate.serial_number, "X")
    assert await served_serial(node.port, op_dir) == second
    assert await health_check(node.port, operator) == "SERVING"

    # New files that do not pass SEC-30 (key of another pair): the last good material stays.
    replace_file(node.tls_dir / "key.pem", private_key_pem(generate_key()), 0o600)
    assert node.reloader.check_now() is False
    assert await served_serial(node.port, op_dir) == second
    assert await health_check(node.port, operator) == "SERVING"
    assert node.reloader.material.serial == second


async def test_client_from_another_ca_fails_the_handshake(
    node: Node, pki: Pki, other_pki: Pki
) -> None:
    issued = other_pki.operator("mallory")
    assert issued.private_key is not None
    # Trusts our CA (so it accepts the server), but presents a certificate of another CA.
    stranger_dir = other_pki.write_tls_dir(
        "stranger", issued.certificate, issued.private_key, ca_pem=pki.ca_pem
    )
    stranger = unchecked_material(stranger_dir, issued.certificate)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await health_check(node.port, stranger)
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert node.health.principals == []


@pytest.mark.parametrize("problem", ["expired", "no clientAuth"])
async def test_client_certificates_the_handshake_refuses(
    node: Node, pki: Pki, problem: str
) -> None:
    if problem == "expired":
        past = datetime.now(UTC) - timedelta(days=3)
        issued = pki.operator("late", valid_for=timedelta(days=1), now=past)
        assert issued.private_key is not None
        certificate, key = issued.certificate, issued.private_key
    else:
        certificate, key = pki.custom(
            uris=["spiffe://mesh.test/operator/x"], ekus=[ExtendedKeyUsageOID.SERVER_AUTH]
        )
    directory = pki.write_tls_dir("client", certificate, key)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await health_check(node.port, unchecked_material(directory, certificate))
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert node.health.principals == []


async def test_server_name_override(node: Node, pki: Pki) -> None:
    operator = preflight_client_material(pki.issued_dir("op", pki.operator()))
    # Dialled by IP 127.0.0.1 (in the SANs too), checked against the name "hub".
    assert await health_check(node.port, operator, server_name="hub") == "SERVING"


async def test_two_uri_sans_have_no_identity(node: Node, pki: Pki) -> None:
    certificate, key = pki.custom(
        uris=["spiffe://mesh.test/operator/alice", "spiffe://mesh.test/operator/bob"]
    )
    directory = pki.write_tls_dir("two", certificate, key)
    material = unchecked_material(directory, certificate)
    assert await health_check(node.port, material) == "SERVING"  # the handshake completes
    refused = node.health.principals[-1]
    assert isinstance(refused, UnauthenticatedError)
    assert refused.reason == "SPIFFE_ID_REQUIRED"


def test_cert_info_for_get_node(pki: Pki) -> None:
    issued = pki.site("hub")
    reloader = ServerTlsReloader.load(
        pki.issued_dir("hub", issued), site_id="hub", logger=RecordingLogger()
    )
    info = reloader.cert_info()
    assert info.spiffe_id == "spiffe://mesh.test/site/hub"
    assert info.serial == format(issued.certificate.serial_number, "X")
    assert info.not_after.ToDatetime(tzinfo=UTC) == issued.certificate.not_valid_after_utc
    assert info.issuer == "CN=symphony-mesh CA,O=mesh.test"
    assert list(info.dns_names) == ["hub", "localhost"]
    assert list(info.ip_addresses) == ["127.0.0.1", "::1"]
    assert len(info.sha256_fingerprint) == 64
