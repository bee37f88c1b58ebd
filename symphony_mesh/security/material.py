"""A TLS directory (`ca.pem`, `cert.pem`, `key.pem`; CFG-20) read, checked and held in memory.

Three users, three sets of rules over the same files:

- a node at start-up (T-3, SEC-30): identity, key match, chain, EKUs and key permissions must hold
  or the node stops (exit 1); an expired or not-yet-valid certificate does not stop it
  (`MaterialError.fatal` is False and the error carries the otherwise valid material);
- a node reloading its files (SEC-30): every check, time included, must pass before the new set
  replaces the current one (see `credentials.ServerTlsReloader`);
- the CLI before it connects (SEC-46): its own order of checks and its own messages, exit 3.

Messages are stored without the `error: ` prefix; whoever prints them adds it. Key bytes are held
only to hand them to gRPC; they never appear in a message or a log.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from symphony_mesh.model.durations import format_time
from symphony_mesh.security.identity import IdentityKind, SpiffeId, SpiffeIdError
from symphony_mesh.security.pki import (
    CA_CERT_FILE,
    CERT_FILE,
    KEY_FILE,
    CertificateInfo,
    find_issuer,
    inspect_certificate,
    key_matches_certificate,
    load_certificates,
    load_ec_private_key,
    serial_hex,
    single_spiffe_id,
)

__all__ = [
    "FileHashes",
    "MaterialError",
    "Problem",
    "TlsFiles",
    "TlsMaterial",
    "check_key_file_mode",
    "key_file_mode_message",
    "load_node_material",
    "preflight_client_material",
    "read_tls_files",
    "site_id_from_certificate",
    "site_identity_mismatch_message",
    "validate_reloaded_files",
]


class Problem(StrEnum):
    """What kind of check failed; only the time problems let a node start."""

    MISSING = "missing"
    UNREADABLE = "unreadable"
    PERMISSIONS = "permissions"
    PARSE = "parse"
    KEY_MISMATCH = "key_mismatch"
    CHAIN = "chain"
    IDENTITY = "identity"
    USAGE = "usage"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"


class MaterialError(Exception):
    """The files of a TLS directory failed a check; `message` is the reason (no `error: `)."""

    def __init__(
        self,
        message: str,
        problem: Problem,
        *,
        material: TlsMaterial | None = None,
        exit_code: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.problem = problem
        self.material = material
        """For time problems: the material, which passed every other check."""
        self.exit_code = exit_code
        """1 for a node or `certs` (SEC-14, CFG-20, T-3); 3 for the CLI pre-flight (SEC-46)."""

    @property
    def fatal(self) -> bool:
        """Whether the problem stops a node at start-up (SEC-30: all but expiry/not-yet-valid)."""
        return self.problem not in (Problem.EXPIRED, Problem.NOT_YET_VALID)


@dataclass(frozen=True)
class FileHashes:
    """SHA-256 (hex) of the three files: the identity of one set of files on disk."""

    ca: str
    cert: str
    key: str


@dataclass(frozen=True)
class TlsFiles:
    """The raw bytes of a TLS directory as read from disk (key mode already checked)."""

    tls_dir: str
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes = b""

    @property
    def hashes(self) -> FileHashes:
        """SHA-256 of each file."""
        return FileHashes(
            hashlib.sha256(self.ca_pem).hexdigest(),
            hashlib.sha256(self.cert_pem).hexdigest(),
            hashlib.sha256(self.key_pem).hexdigest(),
        )

    def path(self, name: str) -> str:
        """`DIR/name` as the messages write it (the directory as the user gave it)."""
        return os.path.join(self.tls_dir, name)

    def __repr__(self) -> str:
        # Never show key bytes, not even in a traceback or a debugger.
        return f"TlsFiles(tls_dir={self.tls_dir!r})"


@dataclass(frozen=True, repr=False)
class TlsMaterial:
    """A checked TLS directory: the PEM bytes for gRPC and the facts the node reports."""

    files: TlsFiles
    """The bytes as read."""
    certificate: x509.Certificate
    """The leaf (first certificate of `cert.pem`)."""
    ca_certificates: tuple[x509.Certificate, ...]
    """Every CA of `ca.pem`."""
    spiffe_id: str
    """The leaf's single SPIFFE id."""
    identity: SpiffeId | None
    """The parsed id; None only for a CLI certificate whose path this product does not know."""

    @property
    def tls_dir(self) -> str:
        """The directory, as given."""
        return self.files.tls_dir

    @property
    def ca_pem(self) -> bytes:
        """`ca.pem` (the trust bundle)."""
        return self.files.ca_pem

    @property
    def cert_pem(self) -> bytes:
        """`cert.pem` (the leaf, maybe followed by intermediates)."""
        return self.files.cert_pem

    @property
    def key_pem(self) -> bytes:
        """`key.pem`."""
        return self.files.key_pem

    @property
    def hashes(self) -> FileHashes:
        """SHA-256 of the three files."""
        return self.files.hashes

    @property
    def serial(self) -> str:
        """Serial of the leaf, uppercase hex."""
        return serial_hex(self.certificate)

    @property
    def not_before(self) -> datetime:
        """notBefore of the leaf (UTC)."""
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        """notAfter of the leaf (UTC)."""
        return self.certificate.not_valid_after_utc

    @property
    def trust_domain(self) -> str:
        """The trust domain of the leaf: the node's trust domain (SEC-2)."""
        return self.identity.trust_domain if self.identity else ""

    @property
    def site_id(self) -> str:
        """The site id of a site certificate; empty for other kinds."""
        if self.identity is not None and self.identity.kind is IdentityKind.SITE:
            return self.identity.name
        return ""

    def info(self) -> CertificateInfo:
        """What `GetNode.cert` shows."""
        return inspect_certificate(self.certificate)

    def time_problem(self, now: datetime | None = None) -> MaterialError | None:
        """The expiry / not-yet-valid problem of the leaf at `now`, or None."""
        moment = now or datetime.now(UTC)
        cert_path = self.files.path(CERT_FILE)
        if moment > self.not_after:
            return MaterialError(
                f"certificate {cert_path} expired at {format_time(self.not_after)}",
                Problem.EXPIRED,
                material=self,
            )
        if moment < self.not_before:
            return MaterialError(
                f"certificate {cert_path} is not valid before {format_time(self.not_before)}",
                Problem.NOT_YET_VALID,
                material=self,
            )
        return None

    def __repr__(self) -> str:
        return f"TlsMaterial(tls_dir={self.tls_dir!r}, spiffe_id={self.spiffe_id!r})"


# --- reading -------------------------------------------------------------------------------------


def key_file_mode_message(path: str, mode: int) -> str:
    """The SEC-14 text (without `error: `)."""
    return (
        f"private key {path} has mode {stat.S_IMODE(mode):04o}; it must not be readable by "
        f"group or others (run: chmod 600 {path})"
    )


def check_key_file_mode(path: str, *, exit_code: int = 1) -> None:
    """SEC-14: a private key file must be a regular file without group/other permission bits.

    Skipped where files have no POSIX permissions. Raises `MaterialError` (PERMISSIONS).
    """
    if os.name != "posix":
        return
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise MaterialError(f"{path} not found", Problem.MISSING, exit_code=exit_code) from None
    except OSError as exc:
        raise _unreadable(path, exc, exit_code) from None
    _check_mode(path, status, exit_code)


def _check_mode(path: str, status: os.stat_result, exit_code: int) -> None:
    if os.name != "posix":
        return
    if not stat.S_ISREG(status.st_mode):
        raise MaterialError(
            f"private key {path} is not a regular file", Problem.PERMISSIONS, exit_code=exit_code
        )
    if status.st_mode & 0o077:
        raise MaterialError(
            key_file_mode_message(path, status.st_mode), Problem.PERMISSIONS, exit_code=exit_code
        )


def _unreadable(path: str, exc: OSError, exit_code: int) -> MaterialError:
    reason = exc.strerror or type(exc).__name__
    return MaterialError(f"cannot read {path}: {reason}", Problem.UNREADABLE, exit_code=exit_code)


def _read(path: str, exit_code: int, *, private: bool = False) -> bytes:
    # The mode is checked on the open descriptor, so the file read is the file checked.
    try:
        # O_NONBLOCK: a FIFO planted in place of a file must not hang the node.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise MaterialError(f"{path} not found", Problem.MISSING, exit_code=exit_code) from None
    except OSError as exc:
        raise _unreadable(path, exc, exit_code) from None
    try:
        if private:
            _check_mode(path, os.fstat(fd), exit_code)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return stream.read()
    except OSError as exc:
        raise _unreadable(path, exc, exit_code) from None
    finally:
        os.close(fd)


def read_tls_files(tls_dir: str | os.PathLike[str], *, exit_code: int = 1) -> TlsFiles:
    """Read `ca.pem`, `cert.pem`, `key.pem`; check the key's mode (SEC-14).

    A missing file is `DIR/cert.pem not found` (CFG-20). Every file's absence is reported before
    any read, so the message names the first missing file in the order ca, cert, key.
    """
    directory = os.fspath(tls_dir)
    for name in (CA_CERT_FILE, CERT_FILE, KEY_FILE):
        path = os.path.join(directory, name)
        if not os.path.lexists(path):
            raise MaterialError(f"{path} not found", Problem.MISSING, exit_code=exit_code)
    return TlsFiles(
        directory,
        _read(os.path.join(directory, CA_CERT_FILE), exit_code),
        _read(os.path.join(directory, CERT_FILE), exit_code),
        _read(os.path.join(directory, KEY_FILE), exit_code, private=True),
    )


# --- shared checks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parsed:
    cas: list[x509.Certificate]
    chain: list[x509.Certificate]
    key: ec.EllipticCurvePrivateKey


def _parse(files: TlsFiles, exit_code: int, prefix: str = "cannot parse") -> _Parsed:
    def fail(name: str, reason: str) -> MaterialError:
        return MaterialError(
            f"{prefix} {files.path(name)}: {reason}", Problem.PARSE, exit_code=exit_code
        )

    try:
        cas = load_certificates(files.ca_pem)
    except ValueError:
        raise fail(CA_CERT_FILE, "no PEM certificate") from None
    try:
        chain = load_certificates(files.cert_pem)
    except ValueError:
        raise fail(CERT_FILE, "no PEM certificate") from None
    try:
        key = load_ec_private_key(files.key_pem)
    except ValueError as exc:
        # One of load_ec_private_key's fixed texts: never anything derived from the key bytes.
        raise fail(KEY_FILE, str(exc)) from None
    return _Parsed(cas, chain, key)


def _missing_usages(certificate: x509.Certificate, wanted: list[str]) -> list[str]:
    names = {
        "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
        "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
    }
    try:
        present = set(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        present = set()
    return [name for name in wanted if names[name] not in present]


def site_identity_mismatch_message(cert_path: str, spiffe_id: str, site_id: str) -> str:
    """T-3: `certificate DIR/cert.pem identifies "spiffe://TD/site/OTHER", not site "ID"`."""
    return f'certificate {cert_path} identifies "{spiffe_id}", not site "{site_id}"'


def _validate_node(
    files: TlsFiles,
    *,
    site_id: str | None,
    trust_domain: str | None,
    reload: bool,
    now: datetime | None,
) -> TlsMaterial:
    """The SEC-30 checks, fatal ones first, time last (so it is only reported when it is the
    one problem left, and the caller then has usable material)."""
    parsed = _parse(files, 1)
    leaf = parsed.chain[0]
    cert_path, key_path = files.path(CERT_FILE), files.path(KEY_FILE)
    if not key_matches_certificate(leaf, parsed.key):
        raise MaterialError(
            f"certificate {cert_path} does not match key {key_path}", Problem.KEY_MISMATCH
        )
    if find_issuer(leaf, parsed.cas, parsed.chain[1:]) is None:
        raise MaterialError(
            f"certificate {cert_path} is not signed by a CA in {files.path(CA_CERT_FILE)}",
            Problem.CHAIN,
        )
    spiffe_id = single_spiffe_id(leaf)
    if spiffe_id is None:
        raise MaterialError(
            f"certificate {cert_path} must carry exactly one spiffe:// URI SAN", Problem.IDENTITY
        )
    try:
        identity: SpiffeId | None = SpiffeId.parse(spiffe_id)
    except SpiffeIdError:
        identity = None
    if identity is None or identity.kind is not IdentityKind.SITE:
        if site_id is not None and not reload:
            message = site_identity_mismatch_message(cert_path, spiffe_id, site_id)
        else:
            message = f'certificate {cert_path} identifies "{spiffe_id}", not a site'
        raise MaterialError(message, Problem.IDENTITY)
    if reload and trust_domain is not None and identity.trust_domain != trust_domain:
        raise MaterialError(
            f'certificate identifies trust domain "{identity.trust_domain}"; '
            f'this node is in "{trust_domain}"',
            Problem.IDENTITY,
        )
    if site_id is not None and identity.name != site_id:
        if reload:
            message = f'certificate identifies site "{identity.name}"; this node is "{site_id}"'
        else:
            message = site_identity_mismatch_message(cert_path, spiffe_id, site_id)
        raise MaterialError(message, Problem.IDENTITY)
    missing = _missing_usages(leaf, ["serverAuth", "clientAuth"])
    if missing:
        raise MaterialError(
            f"certificate {cert_path} is not valid for TLS servers and clients "
            f"(missing {', '.join(missing)})",
            Problem.USAGE,
        )
    material = TlsMaterial(files, leaf, tuple(parsed.cas), spiffe_id, identity)
    problem = material.time_problem(now)
    if problem is not None:
        raise problem
    return material


# --- the three entry points ----------------------------------------------------------------------


def load_node_material(
    tls_dir: str | os.PathLike[str], *, site_id: str | None, now: datetime | None = None
) -> TlsMaterial:
    """A node's `--tls-dir` at start-up (T-3, SEC-30).

    `site_id` is the id the node must be (T-3 rules 1 and 2), or None to take it from the
    certificate (rule 3; read it back from `material.site_id`). Raises `MaterialError`; when its
    `fatal` is False (expired, not yet valid) the node starts anyway with `error.material`.
    """
    return _validate_node(
        read_tls_files(tls_dir), site_id=site_id, trust_domain=None, reload=False, now=now
    )


def validate_reloaded_files(
    files: TlsFiles, *, site_id: str, trust_domain: str, now: datetime | None = None
) -> TlsMaterial:
    """SEC-30 for a new set of files: every check, time included; `MaterialError` otherwise."""
    return _validate_node(files, site_id=site_id, trust_domain=trust_domain, reload=True, now=now)


def site_id_from_certificate(tls_dir: str | os.PathLike[str]) -> str:
    """T-3 rule 3: the site id named by `DIR/cert.pem` (no other check is made here)."""
    path = os.path.join(os.fspath(tls_dir), CERT_FILE)
    data = _read(path, 1)
    try:
        leaf = load_certificates(data)[0]
    except ValueError:
        raise MaterialError(f"cannot parse {path}: no PEM certificate", Problem.PARSE) from None
    spiffe_id = single_spiffe_id(leaf)
    if spiffe_id is None:
        raise MaterialError(
            f"certificate {path} must carry exactly one spiffe:// URI SAN", Problem.IDENTITY
        )
    try:
        identity = SpiffeId.parse(spiffe_id)
    except SpiffeIdError:
        identity = None
    if identity is None or identity.kind is not IdentityKind.SITE:
        raise MaterialError(
            f'certificate {path} identifies "{spiffe_id}", not a site', Problem.IDENTITY
        )
    return identity.name


def preflight_client_material(
    tls_dir: str | os.PathLike[str], *, now: datetime | None = None
) -> TlsMaterial:
    """SEC-46: the CLI's checks of its own `--tls-dir`, in the table's order; exit code 3."""
    files = read_tls_files(tls_dir, exit_code=3)
    parsed = _parse(files, 3, prefix="cannot read")
    leaf = parsed.chain[0]
    cert_path = files.path(CERT_FILE)

    def fail(message: str, problem: Problem) -> MaterialError:
        return MaterialError(message, problem, exit_code=3)

    if not key_matches_certificate(leaf, parsed.key):
        raise fail(f"{files.path(KEY_FILE)} does not match {cert_path}", Problem.KEY_MISMATCH)
    moment = now or datetime.now(UTC)
    if moment > leaf.not_valid_after_utc:
        raise fail(
            f"client certificate {cert_path} expired at {format_time(leaf.not_valid_after_utc)}; "
            'issue a new one with "symphony-mesh certs issue"',
            Problem.EXPIRED,
        )
    if moment < leaf.not_valid_before_utc:
        raise fail(
            f"client certificate {cert_path} is not valid before "
            f"{format_time(leaf.not_valid_before_utc)} (check the clock)",
            Problem.NOT_YET_VALID,
        )
    if find_issuer(leaf, parsed.cas, parsed.chain[1:]) is None:
        raise fail(
            f"client certificate {cert_path} is not signed by a CA in {files.path(CA_CERT_FILE)}",
            Problem.CHAIN,
        )
    spiffe_id = single_spiffe_id(leaf)
    if spiffe_id is None:
        raise fail(
            f"client certificate {cert_path} must carry exactly one spiffe:// URI SAN",
            Problem.IDENTITY,
        )
    if _missing_usages(leaf, ["clientAuth"]):
        raise fail(
            f"client certificate {cert_path} is not valid for TLS clients (missing clientAuth)",
            Problem.USAGE,
        )
    try:
        identity: SpiffeId | None = SpiffeId.parse(spiffe_id)
    except SpiffeIdError:
        identity = None
    return TlsMaterial(files, leaf, tuple(parsed.cas), spiffe_id, identity)
