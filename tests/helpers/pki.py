"""A throwaway mesh PKI for tests, made with the product's own `security.pki` code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from symphony_mesh.security.identity import SpiffeId
from symphony_mesh.security.pki import (
    certificate_pem,
    create_ca,
    issue_certificate,
    private_key_pem,
)

__all__ = ["TestPki"]

TRUST_DOMAIN = "mesh.test"


def _write(path: Path, data: bytes, mode: int) -> None:
    path.write_bytes(data)
    path.chmod(mode)


@dataclass
class TestPki:
    """A CA in `root/ca`, and helpers writing TLS directories (`ca.pem`, `cert.pem`, `key.pem`)."""

    __test__ = False  # not a test class, despite the name

    root: Path
    trust_domain: str = TRUST_DOMAIN

    def __post_init__(self) -> None:
        self.ca_cert, self.ca_key = create_ca(self.trust_domain)
        self.ca_dir = self.root / "ca"
        self.ca_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write(self.ca_dir / "ca.pem", certificate_pem(self.ca_cert), 0o644)
        _write(self.ca_dir / "ca.key", private_key_pem(self.ca_key), 0o600)

    def _leaf(
        self,
        identity: SpiffeId,
        name: str,
        valid_for: timedelta,
        ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    ) -> Path:
        ca_cert, ca_key = ca or (self.ca_cert, self.ca_key)
        issued = issue_certificate(ca_cert, ca_key, identity, valid_for=valid_for)
        assert issued.private_key is not None
        out = self.root / name
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write(out / "ca.pem", certificate_pem(self.ca_cert), 0o644)
        _write(out / "cert.pem", certificate_pem(issued.certificate), 0o644)
        _write(out / "key.pem", private_key_pem(issued.private_key), 0o600)
        return out

    def site(self, site_id: str, valid_for: timedelta = timedelta(days=90)) -> Path:
        """TLS directory of a site certificate (server and client EKUs)."""
        return self._leaf(SpiffeId.site(self.trust_domain, site_id), f"site-{site_id}", valid_for)

    def operator(self, name: str = "alice", valid_for: timedelta = timedelta(days=90)) -> Path:
        """TLS directory of an operator certificate (client EKU)."""
        identity = SpiffeId.operator(self.trust_domain, name)
        return self._leaf(identity, f"operator-{name}", valid_for)

    def foreign_operator(self, name: str = "mallory") -> Path:
        """An operator certificate from another CA (its ca.pem still trusts our CA)."""
        other = create_ca(self.trust_domain)
        identity = SpiffeId.operator(self.trust_domain, name)
        return self._leaf(identity, f"foreign-{name}", timedelta(days=1), ca=other)
