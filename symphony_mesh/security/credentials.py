"""gRPC credentials from a TLS directory: the node's server side with hot reload, and clients.

Server side (SEC-15, SEC-30). `ServerTlsReloader` holds the node's current, validated material
and hands gRPC `grpc.dynamic_ssl_server_credentials` whose fetcher is called by gRPC's own
threads on every new handshake. The fetcher therefore never touches the disk: `check_now()`
(called by the node every 10 s and on SIGHUP) looks at the files, validates a changed set with
`material.validate_reloaded_files`, and only then publishes a new certificate configuration;
the fetcher returns it once to each credentials object and `None` ("keep what you have") after.
Open connections keep the old configuration; new handshakes get the new one.

Client side (SEC-16, CFG-50). `channel_credentials()` builds `grpc.ssl_channel_credentials`
from a material's bytes, and `target_name_options()` the channel option that checks the server
certificate against `--tls-server-name` / `--parent-server-name` instead of the dialled host.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import grpc
import structlog
from google.protobuf.timestamp_pb2 import Timestamp

from symphony_mesh.api.v1 import node_pb2
from symphony_mesh.model.durations import format_time
from symphony_mesh.security.material import (
    FileHashes,
    MaterialError,
    Problem,
    TlsMaterial,
    load_node_material,
    read_tls_files,
    validate_reloaded_files,
)
from symphony_mesh.security.pki import CA_CERT_FILE, CERT_FILE, KEY_FILE

__all__ = [
    "RELOAD_INTERVAL_SECONDS",
    "ServerTlsReloader",
    "channel_credentials",
    "server_certificate_configuration",
    "target_name_options",
]

RELOAD_INTERVAL_SECONDS = 10.0
"""How often the node looks at its TLS files (SEC-30)."""

EXPIRED_LOG_INTERVAL = timedelta(hours=1)
"""`certs.expired` is repeated this often while the node's certificate is not valid (SEC-30)."""

EXPIRING_LOG_INTERVAL = timedelta(days=1)
EXPIRING_WINDOW = timedelta(days=14)
"""`certs.expiring` once a day while the certificate expires within 14 days (SEC-42)."""

_FILES = (CA_CERT_FILE, CERT_FILE, KEY_FILE)

# What we remember of a file to notice a change cheaply: device, inode (a rename replaces it),
# size, mtime, ctime (a chmod changes only that) and mode. None: the file is missing.
_StatSignature = tuple[tuple[int, int, int, int, int, int] | None, ...]


def server_certificate_configuration(
    material: TlsMaterial,
) -> grpc.ServerCertificateConfiguration:
    """gRPC's configuration for `material`: cert chain + key, and every CA of `ca.pem` as roots."""
    return grpc.ssl_server_certificate_configuration(
        [(material.key_pem, material.cert_pem)], root_certificates=material.ca_pem
    )


def channel_credentials(material: TlsMaterial) -> grpc.ChannelCredentials:
    """Mutual-TLS channel credentials: roots from `ca.pem`, identity from `cert.pem`/`key.pem`."""
    return grpc.ssl_channel_credentials(
        root_certificates=material.ca_pem,
        private_key=material.key_pem,
        certificate_chain=material.cert_pem,
    )


def target_name_options(server_name: str | None) -> list[tuple[str, str]]:
    """Channel options that check the server certificate against `server_name`, if given."""
    if not server_name:
        return []
    return [("grpc.ssl_target_name_override", server_name)]


@dataclass
class _Delivery:
    """Per credentials object: which generation of the configuration gRPC already has."""

    generation: int


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ServerTlsReloader:
    """The node's TLS material, re-read from `--tls-dir` when the files change (SEC-30).

    Build it with `load()` at start-up, give `server_credentials()` to `add_secure_port`, call
    `check_now()` every 10 s and on SIGHUP (or run `run_periodic()`), and read `material` for
    `GetNode.cert` and the parent link's channel credentials.
    """

    def __init__(
        self,
        material: TlsMaterial,
        *,
        site_id: str | None = None,
        logger: Any = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._material = material
        self._site_id = site_id or material.site_id
        self._trust_domain = material.trust_domain
        self._log = logger if logger is not None else structlog.get_logger()
        self._clock = clock
        # Guards the published (generation, configuration) pair read by gRPC's threads.
        self._lock = threading.Lock()
        self._generation = 0
        self._configuration = server_certificate_configuration(material)
        # Serialises check_now() callers (timer task, SIGHUP handler, tests in threads).
        self._check_lock = threading.Lock()
        # None: look at the files on the first check whatever their stat says.
        self._seen: _StatSignature | None = None
        # Material that is expired or not yet valid (allowed at start-up, SEC-30): look at the
        # files on every check until valid ones are in use.
        self._retry_time_problem = material.time_problem(clock()) is not None
        self._last_failure: tuple[FileHashes | None, str] | None = None
        self._last_expired_log: datetime | None = None
        self._last_expiring_log: datetime | None = None

    @classmethod
    def load(
        cls,
        tls_dir: str | os.PathLike[str],
        *,
        site_id: str | None,
        logger: Any = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> ServerTlsReloader:
        """Start-up: `load_node_material` (T-3, SEC-30); a fatal `MaterialError` propagates.

        An expired or not-yet-valid certificate does not stop the node: the reloader starts
        with it, logs `certs.expired`, and switches as soon as valid files appear.
        """
        try:
            material = load_node_material(tls_dir, site_id=site_id, now=clock())
        except MaterialError as exc:
            if exc.fatal or exc.material is None:
                raise
            material = exc.material
        reloader = cls(material, site_id=site_id, logger=logger, clock=clock)
        reloader._watch_expiry(clock())
        return reloader

    @property
    def material(self) -> TlsMaterial:
        """The material new handshakes use (serial, notAfter, info() for GetNode)."""
        with self._lock:
            return self._material

    def cert_info(self) -> node_pb2.CertInfo:
        """`GetNode.cert`: the certificate new handshakes use (it changes on rotation)."""
        info = self.material.info()
        return node_pb2.CertInfo(
            spiffe_id=info.spiffe_id or "",
            serial=info.serial,
            not_before=Timestamp(seconds=int(info.not_before.timestamp())),
            not_after=Timestamp(seconds=int(info.not_after.timestamp())),
            issuer=info.issuer,
            sha256_fingerprint=info.sha256_fingerprint,
            dns_names=info.dns_names,
            ip_addresses=info.ip_addresses,
        )

    @property
    def site_id(self) -> str:
        """The site id every new certificate must name."""
        return self._site_id

    @property
    def trust_domain(self) -> str:
        """The node's trust domain (that of its certificate)."""
        return self._trust_domain

    def server_credentials(self) -> grpc.ServerCredentials:
        """Dynamic server credentials with client authentication required (SEC-15).

        Each call makes an independent credentials object (one per `add_secure_port`); each
        gets every configuration published after its creation exactly once.
        """
        with self._lock:
            initial = self._configuration
            fetch = self._fetcher_from(self._generation)
        # grpc-stubs types the fetcher as never returning None, but None is gRPC's documented
        # "unchanged" answer (SEC-15).
        fetcher = cast(Callable[[], grpc.ServerCertificateConfiguration], fetch)
        return grpc.dynamic_ssl_server_credentials(
            initial, fetcher, require_client_authentication=True
        )

    def configuration_fetcher(self) -> Callable[[], grpc.ServerCertificateConfiguration | None]:
        """A fetcher as `server_credentials()` gives gRPC: the newest configuration once, then
        None until `check_now()` publishes another. Exposed for tests and custom servers."""
        with self._lock:
            return self._fetcher_from(self._generation)

    def _fetcher_from(
        self, generation: int
    ) -> Callable[[], grpc.ServerCertificateConfiguration | None]:
        delivery = _Delivery(generation)

        def fetch() -> grpc.ServerCertificateConfiguration | None:
            # Runs on a gRPC thread for each handshake: no I/O, one short critical section.
            with self._lock:
                if delivery.generation == self._generation:
                    return None
                delivery.generation = self._generation
                return self._configuration

        return fetch

    def check_now(self, *, force: bool = False) -> bool:
        """Look at the files; publish them if they changed and pass SEC-30. True when published.

        Cheap when nothing changed (three `stat` calls). `force` (SIGHUP) reads and hashes the
        files even when their stat is unchanged.
        """
        with self._check_lock:
            now = self._clock()
            accepted = self._check(force=force, now=now)
            self._watch_expiry(now)
            return accepted

    async def run_periodic(self, interval: float = RELOAD_INTERVAL_SECONDS) -> None:
        """Call `check_now()` every `interval` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                self.check_now()
            except Exception as exc:  # a bug here must not end the reload loop
                self._log.exception("certs.reload_failed", reason=repr(exc), site=self._site_id)

    # --- internals -------------------------------------------------------------------------------

    def _signature(self) -> _StatSignature:
        signature: list[tuple[int, int, int, int, int, int] | None] = []
        for name in _FILES:
            try:
                st = os.stat(os.path.join(self._material.tls_dir, name))
            except OSError:
                signature.append(None)
                continue
            signature.append(
                (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)
            )
        return tuple(signature)

    def _check(self, *, force: bool, now: datetime) -> bool:
        signature = self._signature()
        if signature == self._seen and not force and not self._retry_time_problem:
            return False
        self._seen = signature
        hashes: FileHashes | None = None
        try:
            files = read_tls_files(self._material.tls_dir)
            hashes = files.hashes
            if hashes == self._material.hashes and not self._retry_time_problem:
                return False
            material = validate_reloaded_files(
                files, site_id=self._site_id, trust_domain=self._trust_domain, now=now
            )
        except MaterialError as exc:
            self._retry_time_problem = exc.problem in (Problem.EXPIRED, Problem.NOT_YET_VALID)
            if hashes == self._material.hashes:
                # The files in use, still (or again) not valid now: nothing new to report.
                return False
            self._report_failure(hashes, exc.message)
            return False
        self._publish(material)
        return True

    def _publish(self, material: TlsMaterial) -> None:
        configuration = server_certificate_configuration(material)
        with self._lock:
            self._material = material
            self._configuration = configuration
            self._generation += 1
        self._retry_time_problem = False
        self._last_failure = None
        self._last_expired_log = None
        self._last_expiring_log = None
        self._log.info(
            "certs.reloaded",
            serial=material.serial,
            notAfter=format_time(material.not_after),
            site=self._site_id,
        )

    def _report_failure(self, hashes: FileHashes | None, reason: str) -> None:
        # Once per distinct set of files (and reason, for files that could not be read at all).
        key = (hashes, reason)
        if key == self._last_failure:
            return
        self._last_failure = key
        current = self._material
        self._log.error(
            "certs.reload_failed",
            reason=reason,
            site=self._site_id,
            serial=current.serial,
            notAfter=format_time(current.not_after),
        )

    def _watch_expiry(self, now: datetime) -> None:
        material = self._material
        problem = material.time_problem(now)
        if problem is not None:
            last = self._last_expired_log
            if last is None or now - last >= EXPIRED_LOG_INTERVAL:
                self._last_expired_log = now
                self._log.error(
                    "certs.expired",
                    reason=problem.message,
                    serial=material.serial,
                    notAfter=format_time(material.not_after),
                    site=self._site_id,
                )
            return
        if material.not_after - now <= EXPIRING_WINDOW:
            last = self._last_expiring_log
            if last is None or now - last >= EXPIRING_LOG_INTERVAL:
                self._last_expiring_log = now
                self._log.warning(
                    "certs.expiring",
                    serial=material.serial,
                    notAfter=format_time(material.not_after),
                    site=self._site_id,
                )
