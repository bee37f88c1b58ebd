"""A node: store, TLS material, gRPC servers, health, and their start and stop (federation.md 6.3).

`Node.start()` follows CFG-41: lock the data directory, load TLS material (T-3, SEC-30), open the
store (T-2), listen, turn health SERVING, print the readiness line. `Node.stop()` follows CFG-40:
health NOT_SERVING at once, refuse new calls, let in-flight calls finish within the grace, close
the store with a WAL checkpoint, release the lock. `run_node()` wires both to SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import sys
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from google.rpc import error_details_pb2  # noqa: F401 - reflection describes error details
from grpc import aio
from grpc_health.v1 import health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from symphony_mesh import __version__
from symphony_mesh.api.v1 import (
    activation_pb2,
    activation_pb2_grpc,
    campaign_pb2,
    campaign_pb2_grpc,
    federation_pb2,
    federation_pb2_grpc,
    node_pb2,
    node_pb2_grpc,
    site_pb2,
    site_pb2_grpc,
)
from symphony_mesh.engine.runtime import Engine
from symphony_mesh.expr import LocalSources
from symphony_mesh.model.providers_catalog import REMOTE
from symphony_mesh.providers.base import Provider
from symphony_mesh.providers.registry import get_provider
from symphony_mesh.providers.remote import unknown_site
from symphony_mesh.security.credentials import ServerTlsReloader
from symphony_mesh.security.material import MaterialError, TlsMaterial
from symphony_mesh.server.authz import AnonymousAuthorizer, CertificateAuthorizer
from symphony_mesh.server.config import NodeConfig, split_host_port
from symphony_mesh.server.documents_service import ActivationServicer, CampaignServicer
from symphony_mesh.server.environment import NodeEnvironment
from symphony_mesh.server.health import NodeHealth
from symphony_mesh.server.interceptor import Authorizer, MeshInterceptor
from symphony_mesh.server.node_services import (
    FederationServicer,
    NodeFacts,
    NodeServicer,
    SiteServicer,
)
from symphony_mesh.store.database import Database
from symphony_mesh.store.documents import DocumentStore
from symphony_mesh.store.lock import DataDirInUseError, DataDirLock
from symphony_mesh.store.meta import SiteMismatchError, claim_site

__all__ = ["Node", "StartupError", "run_node"]

log = structlog.get_logger("symphony_mesh.node")

DEFAULT_HUB_ID = "hub"
TLS_CHECK_INTERVAL = 10.0
APPLY_ENVELOPE_BYTES = 64 * 1024
MAX_FILE_BYTES = 4 * 1024 * 1024
SERVICE_NAMES = (
    activation_pb2.DESCRIPTOR.services_by_name["ActivationService"].full_name,
    campaign_pb2.DESCRIPTOR.services_by_name["CampaignService"].full_name,
    federation_pb2.DESCRIPTOR.services_by_name["Federation"].full_name,
    node_pb2.DESCRIPTOR.services_by_name["NodeService"].full_name,
    site_pb2.DESCRIPTOR.services_by_name["SiteService"].full_name,
)


class StartupError(Exception):
    """The node cannot start; `str()` is the `error: ...` line."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Listening:
    """The addresses a started node really listens on (port 0 resolved)."""

    listen: str
    admin_listen: str


def _resolved(address: str, port: int) -> str:
    host = split_host_port(address)[0]
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}"


class Node:
    """One `symphony-mesh node run` process."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.site_id = config.site_id or ""
        self.health = NodeHealth()
        self.listening = Listening("", "")
        self._lock = DataDirLock(config.data_dir)
        self._db: Database | None = None
        self._engine: Engine | None = None
        self._tls: ServerTlsReloader | None = None
        self._servers: list[aio.Server] = []
        self._interceptor: MeshInterceptor | None = None
        self._background: list[asyncio.Task[None]] = []

    # --- start --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving, or raise `StartupError` having released whatever it took."""
        try:
            await self._start()
        except BaseException:
            await self.close_now()
            raise

    async def _start(self) -> None:
        config = self.config
        config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except DataDirInUseError as exc:
            raise StartupError(f"error: {exc}") from None
        material = self._load_tls()
        self.site_id = config.site_id or (material.site_id if material else DEFAULT_HUB_ID)
        self._db = await Database.open(config.data_dir / "mesh.db")
        self._db.site_id = self.site_id
        try:
            incarnation = await self._db.write(lambda c: claim_site(c, self.site_id))
        except SiteMismatchError as exc:
            raise StartupError(f"error: data directory {config.data_dir} {exc}") from None
        engine_settings = config.engine
        assert engine_settings is not None
        test_hooks = os.environ.get("SYMPHONY_MESH_TEST_HOOKS") == "1"
        self._engine = Engine(
            self._db,
            site_id=self.site_id,
            environment=NodeEnvironment(
                self.site_id, engine_settings.script_dir, config.data_dir / "staging"
            ),
            providers=functools.partial(_provider, test_hooks=test_hooks),
            max_workers=engine_settings.max_workers,
            resolver=LocalSources(engine_settings.config_dir, engine_settings.secret_dir),
        )
        await self._engine.start()
        self._background.append(
            asyncio.create_task(
                self._engine.run_retention(
                    engine_settings.retention, engine_settings.retention_interval
                )
            )
        )
        authorizer: Authorizer = (
            CertificateAuthorizer(material.trust_domain) if material else AnonymousAuthorizer()
        )
        self._interceptor = MeshInterceptor(authorizer, self.site_id)
        facts = NodeFacts(
            site_id=self.site_id,
            incarnation=incarnation,
            started_at=datetime.now(UTC),
            listen=config.listen,
            admin_listen=config.admin_listen or "",
            registration=config.registration,
            store_path=self._db.path,
            labels=dict(config.labels),
            parent=config.parent,
            trust_domain=material.trust_domain if material else "",
            spiffe_id=f"spiffe://{material.trust_domain}/site/{self.site_id}" if material else "",
            cert=self._cert_info,
        )
        main = self._main_server(facts, DocumentStore(self._db, test_hooks=test_hooks))
        listen_port = self._bind(main, config.listen, tls=True)
        admin_port = 0
        if config.admin_listen:
            admin = aio.server(interceptors=[MeshInterceptor(AnonymousAuthorizer(), self.site_id)])
            health_pb2_grpc.add_HealthServicer_to_server(self.health, admin)
            reflection.enable_server_reflection((_HEALTH, reflection.SERVICE_NAME), admin)
            admin_port = self._bind(admin, config.admin_listen, tls=False)
        for server in self._servers:
            await server.start()
        self.listening = Listening(
            _resolved(config.listen, listen_port),
            _resolved(config.admin_listen, admin_port) if config.admin_listen else "",
        )
        facts.listen, facts.admin_listen = self.listening.listen, self.listening.admin_listen
        await self.health.set_node_serving(True)
        if self._tls is not None:
            self._background.append(asyncio.create_task(self._check_tls_periodically()))
        self._announce(material, incarnation)

    def _load_tls(self) -> TlsMaterial | None:
        config = self.config
        if config.tls_dir is None:
            return None
        expected = config.site_id or (None if config.parent else DEFAULT_HUB_ID)
        try:
            self._tls = ServerTlsReloader.load(config.tls_dir, site_id=expected)
        except MaterialError as exc:
            raise StartupError(f"error: {exc}", exc.exit_code) from None
        return self._tls.material

    def _main_server(self, facts: NodeFacts, documents: DocumentStore) -> aio.Server:
        assert self._interceptor is not None
        limit = max(int(self.config.federation["maxMessageBytes"]), MAX_FILE_BYTES)
        server = aio.server(
            interceptors=[self._interceptor],
            options=[
                ("grpc.max_receive_message_length", limit + APPLY_ENVELOPE_BYTES),
                ("grpc.max_send_message_length", limit + APPLY_ENVELOPE_BYTES),
                ("grpc.keepalive_time_ms", int(self.config.federation["keepaliveTime"] * 1000)),
                (
                    "grpc.keepalive_timeout_ms",
                    int(self.config.federation["keepaliveTimeout"] * 1000),
                ),
                ("grpc.http2.min_ping_interval_without_data_ms", 4000),
                ("grpc.keepalive_permit_without_calls", 1),
            ],
        )
        assert self._engine is not None
        campaign_pb2_grpc.add_CampaignServiceServicer_to_server(
            CampaignServicer(documents, self._engine), server
        )
        activation_pb2_grpc.add_ActivationServiceServicer_to_server(
            ActivationServicer(
                documents,
                self._engine,
                self.site_id,
                max_watchers=int(self.config.federation["maxWatchers"]),
            ),
            server,
        )
        site_pb2_grpc.add_SiteServiceServicer_to_server(SiteServicer(), server)
        node_pb2_grpc.add_NodeServiceServicer_to_server(NodeServicer(facts), server)
        federation_pb2_grpc.add_FederationServicer_to_server(FederationServicer(), server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, _HEALTH, reflection.SERVICE_NAME), server
        )
        return server

    def _bind(self, server: aio.Server, address: str, *, tls: bool) -> int:
        try:
            if tls and self._tls is not None:
                port = server.add_secure_port(address, self._tls.server_credentials())
            else:
                port = server.add_insecure_port(address)
        except RuntimeError as exc:
            raise StartupError(f"error: cannot listen on {address}: {exc}") from None
        if port == 0:
            raise StartupError(f"error: cannot listen on {address}: address unavailable or in use")
        self._servers.append(server)
        return port

    def _announce(self, material: TlsMaterial | None, incarnation: str) -> None:
        transport = f"mutual TLS, trust domain {material.trust_domain}" if material else "no TLS"
        line = (
            f'symphony-mesh node "{self.site_id}" serving on {self.listening.listen} ({transport})'
        )
        if self.config.parent:
            line += f"; parent {self.config.parent}"
        print(line, file=sys.stderr, flush=True)
        log.info(
            "node.started",
            siteId=self.site_id,
            listen=self.listening.listen,
            adminListen=self.listening.admin_listen,
            tls=material is not None,
            trustDomain=material.trust_domain if material else "",
            version=__version__,
            incarnation=incarnation,
        )

    def _cert_info(self) -> node_pb2.CertInfo | None:
        if self._tls is None:
            return None
        return self._tls.cert_info()

    async def _check_tls_periodically(self) -> None:
        assert self._tls is not None
        await self._tls.run_periodic(TLS_CHECK_INTERVAL)

    def reload_tls(self) -> None:
        """SIGHUP: check the TLS files now (SEC-30)."""
        if self._tls is not None:
            self._tls.check_now(force=True)

    # --- stop ---------------------------------------------------------------------------------

    async def stop(self, signal_name: str = "", grace: float | None = None) -> None:
        """Graceful shutdown (CFG-40); safe to call twice."""
        grace = self.config.shutdown_grace if grace is None else grace
        log.info("node.stopping", signal=signal_name, graceSeconds=grace)
        await self.health.shut_down()
        if self._interceptor is not None:
            self._interceptor.draining = True
        if self._engine is not None:
            self._engine.end_watches()
        await asyncio.gather(*(server.stop(grace) for server in self._servers))
        await self.close_now()
        log.info("node.stopped", exitCode=0)

    async def close_now(self) -> None:
        """Stop background work, close the store, release the lock; no draining (idempotent)."""
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._background.clear()
        if self._engine is not None:
            await self._engine.aclose()
            self._engine = None
        if self._db is not None:
            await self._db.aclose()
        self._lock.release()


_HEALTH = "grpc.health.v1.Health"


def _provider(type_name: str, *, test_hooks: bool) -> Provider | None:
    """Local providers, and remote stages answered as "site not known" until federation."""
    if type_name == REMOTE:
        return unknown_site
    return get_provider(type_name, test_hooks=test_hooks)


async def run_node(config: NodeConfig) -> int:
    """Run a node until SIGTERM/SIGINT; return the process exit code.

    Signal handlers are installed before the node starts, so a signal that arrives while it is
    starting (or right after the readiness line) still means a graceful stop, never a default
    kill.
    """
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    received: list[str] = []
    stop_tasks: list[asyncio.Task[None]] = []
    node = Node(config)

    def on_signal(signum: int) -> None:
        received.append(signal.Signals(signum).name)
        if stopping.is_set():  # a second signal: stop waiting for the drain (CFG-40)
            for task in stop_tasks:
                task.cancel()
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    loop.add_signal_handler(signal.SIGHUP, node.reload_tls)
    try:
        await node.start()
    except StartupError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    await stopping.wait()
    stop_task = asyncio.create_task(node.stop(received[0]))
    stop_tasks.append(stop_task)
    try:
        await stop_task
    except asyncio.CancelledError:
        await node.close_now()
        return 1
    return 0
