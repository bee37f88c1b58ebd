"""The mesh PKI: CA and leaf certificates with the SEC-10 profiles, CSRs, inspection, PEM files.

Everything here is a pure function of its arguments (plus the clock and the random serial), built
with `cryptography`; no external tool is run. The command line (`symphony_mesh.cli.certs`) adds
the argument checks and the messages of SEC-11/12/13 on top, and `material` reuses the helpers to
check a node's TLS directory.

Files are written the way SEC-11/SEC-12 require: new files with `O_CREAT|O_EXCL` (so a private key
is never written through an existing file or symlink), replaced files through a temporary file in
the same directory that already has its final mode, is fsynced and then renamed over the old one,
so that a node reloading its material sees either the old or the new version of each file.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import secrets
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from symphony_mesh.security.identity import (
    SPIFFE_SCHEME,
    IdentityKind,
    SpiffeId,
    SpiffeIdError,
    split_spiffe_uri,
)

__all__ = [
    "BACKDATE",
    "CA_CERT_FILE",
    "CA_KEY_FILE",
    "CERT_FILE",
    "KEY_FILE",
    "CertificateInfo",
    "IssuedCertificate",
    "PkiError",
    "SanError",
    "ca_trust_domain",
    "certificate_pem",
    "create_ca",
    "default_site_sans",
    "ensure_private_directory",
    "extended_key_usages",
    "find_issuer",
    "format_general_name",
    "generate_key",
    "inspect_certificate",
    "issue_certificate",
    "key_matches_certificate",
    "load_certificates",
    "load_ec_private_key",
    "new_serial",
    "parse_san_entries",
    "private_key_pem",
    "public_key_from_csr",
    "replace_file",
    "serial_hex",
    "sha256_fingerprint",
    "single_spiffe_id",
    "uri_sans",
    "write_new_file",
]

CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca.key"
CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"

BACKDATE = timedelta(minutes=5)
"""notBefore is this far in the past, so that peers with a slightly slow clock accept new certs."""

CA_SUBJECT_CN = "symphony-mesh CA"

_EKU_NAMES = {
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
}
_HOST_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


class PkiError(Exception):
    """A PKI operation failed; the message is one line for `error: <message>`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SanError(ValueError):
    """A `--san` entry is neither an IP literal nor a valid hostname."""

    def __init__(self, entry: str, reason: str) -> None:
        super().__init__(f'invalid --san entry "{entry}": {reason}')
        self.entry = entry
        self.reason = reason


# --- keys, serials, names ------------------------------------------------------------------------


def generate_key() -> ec.EllipticCurvePrivateKey:
    """A new EC P-256 private key (SEC-10: every key of the product)."""
    return ec.generate_private_key(ec.SECP256R1())


def new_serial() -> int:
    """A random positive serial of exactly 159 bits.

    The top bit is forced so that every serial has the same length (20 DER bytes, 40 hex digits);
    158 random bits remain, well above the 64 that CA/B rules ask for.
    """
    return secrets.randbits(158) | (1 << 158)


def _name(common_name: str, trust_domain: str) -> x509.Name:
    # O first in DER order, so that RFC 4514 renders it as `CN=..., O=...` like SEC-10 writes it.
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, trust_domain),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)


# --- building certificates -----------------------------------------------------------------------


def create_ca(
    trust_domain: str,
    *,
    valid_for: timedelta = timedelta(days=3650),
    now: datetime | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A new self-signed mesh CA for `trust_domain` with the SEC-10 CA profile, and its key."""
    moment = _now(now)
    key = generate_key()
    name = _name(CA_SUBJECT_CN, trust_domain)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(new_serial())
        .not_valid_before(moment - BACKDATE)
        .not_valid_after(moment + valid_for)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier(str(SpiffeId.ca(trust_domain)))]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return builder.sign(key, hashes.SHA256()), key


@dataclass(frozen=True)
class IssuedCertificate:
    """The result of `issue_certificate`."""

    certificate: x509.Certificate
    """The new leaf."""
    private_key: ec.EllipticCurvePrivateKey | None
    """Its key, or None when the public key came from a CSR (the key stays with the requester)."""
    shortened: bool
    """True when the requested expiry was cut to the CA's notAfter (the CLI warns, SEC-12)."""


def default_site_sans(identity: SpiffeId) -> list[x509.GeneralName]:
    """The SANs every site certificate gets (SEC-10); an operator gets only its URI."""
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(str(identity))]
    if identity.kind is IdentityKind.SITE:
        names += [
            x509.DNSName(identity.name),
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
    return names


def issue_certificate(
    ca_certificate: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    identity: SpiffeId,
    *,
    valid_for: timedelta = timedelta(days=90),
    extra_sans: Sequence[x509.GeneralName] = (),
    public_key: ec.EllipticCurvePublicKey | None = None,
    now: datetime | None = None,
) -> IssuedCertificate:
    """A site or operator leaf with the SEC-10 profile, signed by `ca_key`.

    Without `public_key` a new key pair is made and returned; with it (CSR mode) only the
    certificate is. The expiry never passes the CA's notAfter.
    """
    if identity.kind is IdentityKind.CA:
        raise PkiError("a leaf certificate names a site or an operator, not the CA")
    moment = _now(now)
    if ca_certificate.not_valid_after_utc <= moment:
        raise PkiError(f"the CA expired at {ca_certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}")
    private_key = None
    if public_key is None:
        private_key = generate_key()
        public_key = private_key.public_key()
    not_after = moment + valid_for
    shortened = not_after > ca_certificate.not_valid_after_utc
    if shortened:
        not_after = ca_certificate.not_valid_after_utc
    sans = _dedupe([*default_site_sans(identity), *extra_sans])
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
    if identity.kind is IdentityKind.SITE:
        usages.insert(0, ExtendedKeyUsageOID.SERVER_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(identity.name, identity.trust_domain))
        .issuer_name(ca_certificate.subject)
        .public_key(public_key)
        .serial_number(new_serial())
        .not_valid_before(moment - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_authority_key_identifier(ca_certificate, ca_key), critical=False)
    )
    certificate = builder.sign(ca_key, hashes.SHA256())
    return IssuedCertificate(certificate, private_key, shortened)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _authority_key_identifier(
    ca_certificate: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> x509.AuthorityKeyIdentifier:
    try:
        ski = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except x509.ExtensionNotFound:
        # A CA not made by `certs init`: derive the id from its key, as RFC 5280 method 1 does.
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski.value)


def _dedupe(names: Iterable[x509.GeneralName]) -> list[x509.GeneralName]:
    seen: set[x509.GeneralName] = set()
    unique: list[x509.GeneralName] = []
    for name in names:
        if name not in seen:
            seen.add(name)
            unique.append(name)
    return unique


def parse_san_entries(values: Iterable[str]) -> list[x509.GeneralName]:
    """The SANs of `--san` options (each a comma-separated list); raise `SanError` on a bad entry.

    An IP literal becomes an IP SAN; anything else must be a hostname without wildcards and
    becomes a (lowercased) DNS SAN. Duplicates are kept here and removed when issuing.
    """
    names: list[x509.GeneralName] = []
    for value in values:
        for raw in value.split(","):
            entry = raw.strip()
            names.append(_san_entry(entry))
    return names


def _san_entry(entry: str) -> x509.GeneralName:
    if not entry:
        raise SanError(entry, "empty entry")
    try:
        return x509.IPAddress(ipaddress.ip_address(entry))
    except ValueError:
        pass
    if "*" in entry:
        raise SanError(entry, "wildcards are not allowed")
    host = entry.lower()
    if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in host.split(".")):
        raise SanError(entry, "not an IP address or a valid hostname")
    return x509.DNSName(host)


def public_key_from_csr(pem: bytes, source: str) -> ec.EllipticCurvePublicKey:
    """The public key of a PEM CSR whose signature verifies and whose key is EC P-256 (SEC-12).

    `source` names the file in the messages. The subject and SANs the CSR asks for are ignored.
    """
    try:
        csr = x509.load_pem_x509_csr(pem)
    except ValueError:
        raise PkiError(f"{source}: not a PEM certificate signing request") from None
    try:
        valid = csr.is_signature_valid
    except (ValueError, TypeError, InvalidSignature):
        valid = False
    if not valid:
        raise PkiError(f"{source}: CSR signature is invalid")
    try:
        key = csr.public_key()
    except ValueError:
        key = None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise PkiError(f"{source}: CSR key must be EC P-256")
    return key


# --- reading certificates ------------------------------------------------------------------------


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle, in file order; raise ValueError when there is none."""
    certificates = x509.load_pem_x509_certificates(data)
    if not certificates:
        raise ValueError("no PEM certificate")
    return certificates


def load_ec_private_key(data: bytes) -> ec.EllipticCurvePrivateKey:
    """An unencrypted PEM EC private key; raise ValueError for anything else."""
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise ValueError("the private key is encrypted") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError("not a PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("not an EC private key")
    return key


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted (SEC-11): file permissions protect it, as for ssh host keys."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def certificate_pem(certificate: x509.Certificate) -> bytes:
    """The certificate as PEM."""
    return certificate.public_bytes(serialization.Encoding.PEM)


def serial_hex(certificate: x509.Certificate) -> str:
    """The serial as uppercase hex without colons (how the product shows every serial)."""
    return format(certificate.serial_number, "X")


def sha256_fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, uppercase hex without colons (like serials)."""
    return certificate.fingerprint(hashes.SHA256()).hex().upper()


def _sans(certificate: x509.Certificate) -> list[x509.GeneralName]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return list(extension.value)


def uri_sans(certificate: x509.Certificate) -> list[str]:
    """Every URI SAN of the certificate, in order."""
    return [
        name.value
        for name in _sans(certificate)
        if isinstance(name, x509.UniformResourceIdentifier)
    ]


def single_spiffe_id(certificate: x509.Certificate) -> str | None:
    """The certificate's SPIFFE id when it carries exactly one URI SAN and that is `spiffe://`.

    This mirrors when gRPC sets `peer_spiffe_id` (SEC-2): with two URI SANs the handshake still
    succeeds but the peer has no usable identity.
    """
    uris = uri_sans(certificate)
    if len(uris) == 1 and uris[0].lower().startswith(SPIFFE_SCHEME):
        return uris[0]
    return None


def ca_trust_domain(certificate: x509.Certificate) -> str | None:
    """The trust domain in a CA's `spiffe://<td>` URI SAN, or None (not made by `certs init`)."""
    for uri in uri_sans(certificate):
        try:
            trust_domain, path = split_spiffe_uri(uri)
        except SpiffeIdError:
            continue
        if path in ("", "/") and trust_domain:
            return trust_domain
    return None


def format_general_name(name: x509.GeneralName) -> str:
    """`URI:...`, `DNS:...`, `IP:...` as SEC-12 prints SANs."""
    if isinstance(name, x509.UniformResourceIdentifier):
        return f"URI:{name.value}"
    if isinstance(name, x509.DNSName):
        return f"DNS:{name.value}"
    if isinstance(name, x509.IPAddress):
        return f"IP:{name.value}"
    if isinstance(name, x509.RFC822Name):
        return f"email:{name.value}"
    return str(name.value)


def extended_key_usages(certificate: x509.Certificate) -> list[str]:
    """EKU names (`serverAuth`, `clientAuth`, ...; dotted OIDs for others)."""
    try:
        extension = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return []
    return [_EKU_NAMES.get(oid, oid.dotted_string) for oid in extension.value]


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return extension.value.ca


def key_matches_certificate(certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> bool:
    """Whether `key` is the private half of the certificate's public key."""
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return key.public_key().public_bytes(der, spki) == certificate.public_key().public_bytes(
        der, spki
    )


def find_issuer(
    certificate: x509.Certificate,
    bundle: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate] = (),
) -> x509.Certificate | None:
    """The CA of `bundle` that `certificate` chains to, or None.

    Each step checks the issuer name and the signature with the issuer's public key
    (`verify_directly_issued_by`); an issuer must be a CA. Intermediates (the rest of a
    `cert.pem`) may sit between the leaf and the bundle, though `certs init` CAs have pathLen 0.
    """
    current = certificate
    for _ in range(len(intermediates) + 1):
        for ca in bundle:
            if _is_ca(ca) and _directly_issued(current, ca):
                return ca
        step = next(
            (c for c in intermediates if _is_ca(c) and _directly_issued(current, c)),
            None,
        )
        if step is None or step is current:
            return None
        current = step
    return None


def _directly_issued(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True)
class CertificateInfo:
    """What `certs inspect` and `GetNode.cert` show of a certificate (SEC-13)."""

    subject: str
    """RFC 4514 subject, e.g. `CN=tokyo,O=mesh.example`."""
    spiffe_id: str | None
    """The single `spiffe://` URI SAN, or None when there is none or several."""
    kind: str
    """`site`, `operator`, `CA`, or `unknown`."""
    sans: tuple[str, ...]
    """Every SAN as `URI:`/`DNS:`/`IP:` text, in certificate order."""
    ekus: tuple[str, ...]
    """Extended key usages by name."""
    not_before: datetime
    """Start of validity (UTC)."""
    not_after: datetime
    """End of validity (UTC)."""
    serial: str
    """Uppercase hex, no colons."""
    sha256_fingerprint: str
    """SHA-256 of the DER encoding, uppercase hex, no colons."""
    issuer: str
    """RFC 4514 issuer."""

    def expired(self, now: datetime | None = None) -> bool:
        """Whether notAfter has passed."""
        return (now or datetime.now(UTC)) > self.not_after

    @property
    def dns_names(self) -> list[str]:
        """The DNS SANs (for `CertInfo.dns_names`)."""
        return [san[4:] for san in self.sans if san.startswith("DNS:")]

    @property
    def ip_addresses(self) -> list[str]:
        """The IP SANs (for `CertInfo.ip_addresses`)."""
        return [san[3:] for san in self.sans if san.startswith("IP:")]


def inspect_certificate(certificate: x509.Certificate) -> CertificateInfo:
    """The facts SEC-13 prints about a certificate."""
    spiffe_id = single_spiffe_id(certificate)
    kind = "unknown"
    if _is_ca(certificate):
        kind = "CA"
    elif spiffe_id is not None:
        try:
            parsed = SpiffeId.parse(spiffe_id)
        except SpiffeIdError:
            parsed = None
        if parsed is not None and parsed.kind is not IdentityKind.CA:
            kind = parsed.kind.value
    return CertificateInfo(
        subject=certificate.subject.rfc4514_string(),
        spiffe_id=spiffe_id,
        kind=kind,
        sans=tuple(format_general_name(name) for name in _sans(certificate)),
        ekus=tuple(extended_key_usages(certificate)),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        serial=serial_hex(certificate),
        sha256_fingerprint=sha256_fingerprint(certificate),
        issuer=certificate.issuer.rfc4514_string(),
    )


# --- files ---------------------------------------------------------------------------------------


def ensure_private_directory(path: str | os.PathLike[str]) -> None:
    """Create `path` with mode 0700 when it is missing; an existing directory keeps its mode."""
    if os.path.isdir(path):
        return
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        if os.path.isdir(path):
            return
        raise
    # mkdir's mode is filtered by the umask; 0700 is what SEC-11 promises.
    os.chmod(path, 0o700)


def write_new_file(path: str | os.PathLike[str], data: bytes, mode: int) -> None:
    """Create `path` with `O_CREAT|O_EXCL` and exactly `mode`; raise FileExistsError if present.

    The mode is given to `open` (so a key is never readable by others, not even for a moment)
    and set again with `fchmod` because the umask may have removed bits from a 0644 file.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, mode)
    try:
        _fchmod(fd, mode)
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_file(path: str | os.PathLike[str], data: bytes, mode: int) -> None:
    """Atomically replace (or create) `path`: temp file in the same directory with its final
    mode, fsync, rename; readers see the old or the new content, never a mix."""
    directory = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    # mkstemp creates the file 0600, so a key is private from its first byte.
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        try:
            _fchmod(fd, mode)
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _fchmod(fd: int, mode: int) -> None:
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable; not possible (nor needed) on every platform.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
