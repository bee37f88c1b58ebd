"""A throw-away mesh PKI for the security tests, made with the product's own `pki` module."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from symphony_mesh.security.identity import SpiffeId
from symphony_mesh.security.pki import (
    IssuedCertificate,
    certificate_pem,
    create_ca,
    generate_key,
    issue_certificate,
    private_key_pem,
    write_new_file,
)

TRUST_DOMAIN = "mesh.test"


@dataclass
class Pki:
    """One CA and helpers that write TLS directories signed by it."""

    root: Path
    trust_domain: str = TRUST_DOMAIN
    ca_certificate: x509.Certificate = field(init=False)
    ca_key: ec.EllipticCurvePrivateKey = field(init=False)

    def __post_init__(self) -> None:
        self.ca_certificate, self.ca_key = create_ca(self.trust_domain)

    @property
    def ca_pem(self) -> bytes:
        return certificate_pem(self.ca_certificate)

    def write_ca_dir(self, name: str = "ca") -> Path:
        """`ca.pem` + `ca.key` as `certs init` writes them."""
        directory = self.root / name
        directory.mkdir(mode=0o700)
        write_new_file(directory / "ca.key", private_key_pem(self.ca_key), 0o600)
        write_new_file(directory / "ca.pem", self.ca_pem, 0o644)
        return directory

    def leaf(
        self,
        identity: SpiffeId,
        *,
        valid_for: timedelta = timedelta(days=90),
        now: datetime | None = None,
    ) -> IssuedCertificate:
        return issue_certificate(
            self.ca_certificate, self.ca_key, identity, valid_for=valid_for, now=now
        )

    def site(
        self,
        site_id: str = "hub",
        *,
        valid_for: timedelta = timedelta(days=90),
        now: datetime | None = None,
    ) -> IssuedCertificate:
        return self.leaf(SpiffeId.site(self.trust_domain, site_id), valid_for=valid_for, now=now)

    def operator(
        self,
        name: str = "alice",
        *,
        valid_for: timedelta = timedelta(days=90),
        now: datetime | None = None,
    ) -> IssuedCertificate:
        identity = SpiffeId.operator(self.trust_domain, name)
        return self.leaf(identity, valid_for=valid_for, now=now)

    def custom(
        self,
        *,
        uris: Sequence[str],
        ekus: Sequence[x509.ObjectIdentifier] = (
            ExtendedKeyUsageOID.SERVER_AUTH,
            ExtendedKeyUsageOID.CLIENT_AUTH,
        ),
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        """A leaf with hand-picked URI SANs and EKUs (profiles the product never makes)."""
        key = generate_key()
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "custom")]))
            .issuer_name(self.ca_certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.UniformResourceIdentifier(u) for u in uris] + [x509.DNSName("localhost")]
                ),
                critical=False,
            )
        )
        if ekus:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(ekus)), critical=False)
        return builder.sign(self.ca_key, hashes.SHA256()), key

    def write_tls_dir(
        self,
        name: str,
        certificate: x509.Certificate,
        key: ec.EllipticCurvePrivateKey,
        *,
        ca_pem: bytes | None = None,
    ) -> Path:
        """`ca.pem`, `cert.pem`, `key.pem` (0600) as `certs issue` writes them."""
        directory = self.root / name
        directory.mkdir(mode=0o700)
        write_new_file(directory / "ca.pem", ca_pem or self.ca_pem, 0o644)
        write_new_file(directory / "cert.pem", certificate_pem(certificate), 0o644)
        write_new_file(directory / "key.pem", private_key_pem(key), 0o600)
        return directory

    def issued_dir(self, name: str, issued: IssuedCertificate) -> Path:
        assert issued.private_key is not None
        return self.write_tls_dir(name, issued.certificate, issued.private_key)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


@pytest.fixture
def other_pki(tmp_path: Path) -> Pki:
    """A second, unrelated CA of the same trust domain."""
    root = tmp_path / "other"
    root.mkdir()
    return Pki(root)


def mode_of(path: Path | str) -> int:
    return os.stat(path).st_mode & 0o777
