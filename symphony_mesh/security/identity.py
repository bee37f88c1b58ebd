"""SPIFFE identities of sites and operators (federation.md T-2, SEC-2, SEC-20).

A mesh has one trust domain. Inside it a node is `spiffe://<td>/site/<site-id>`, an operator is
`spiffe://<td>/operator/<name>` and the CA itself carries the bare `spiffe://<td>`. Names of sites
and operators follow one rule (T-2), which this module owns together with the trust domain rule, so
that the CLI, the certificate builder and the server interceptor reject the same strings with the
same words.

`identify()` is the pure half of the SEC-20 interceptor: it turns what gRPC reports about the peer
(`peer_spiffe_id`, `x509_pem_cert`) into a `Principal` or raises `UnauthenticatedError` with the
reason and message of API-41. The interceptor itself (deny list, access table) lives in the server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cryptography import x509

from symphony_mesh.errors import UnauthenticatedError

__all__ = [
    "ANONYMOUS",
    "NAME_RULE",
    "SPIFFE_ID_REQUIRED",
    "SPIFFE_ID_REQUIRED_MESSAGE",
    "SPIFFE_SCHEME",
    "TRUST_DOMAIN_MISMATCH",
    "TRUST_DOMAIN_RULE",
    "UNKNOWN_IDENTITY_KIND",
    "IdentityKind",
    "Principal",
    "SpiffeId",
    "SpiffeIdError",
    "identify",
    "invalid_name_message",
    "invalid_trust_domain_message",
    "is_valid_name",
    "is_valid_trust_domain",
    "principal_from_auth_context",
    "split_spiffe_uri",
    "trust_domain_mismatch_message",
    "unknown_identity_kind_message",
]

_TRUST_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9._-]{0,253}[a-z0-9])?")
_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")

TRUST_DOMAIN_RULE = "use lowercase letters, digits, '.', '-' or '_'"
"""The `<rule>` part of the SEC-11 message for a bad trust domain."""

NAME_RULE = (
    "must be 1 to 63 characters of lowercase letters, digits and '-', "
    "starting and ending with a letter or digit"
)
"""The `<rule>` part of `invalid site id "X": <rule>` (T-2; operator names share it)."""

SPIFFE_SCHEME = "spiffe://"

SPIFFE_ID_REQUIRED = "SPIFFE_ID_REQUIRED"
TRUST_DOMAIN_MISMATCH = "TRUST_DOMAIN_MISMATCH"
UNKNOWN_IDENTITY_KIND = "UNKNOWN_IDENTITY_KIND"

SPIFFE_ID_REQUIRED_MESSAGE = "client certificate must carry exactly one spiffe:// URI SAN"
"""API-41 message of `SPIFFE_ID_REQUIRED`."""


def trust_domain_mismatch_message(spiffe_id: str, trust_domain: str) -> str:
    """API-41 message of `TRUST_DOMAIN_MISMATCH`."""
    return f"identity {spiffe_id} is not in trust domain {trust_domain}"


def unknown_identity_kind_message(spiffe_id: str) -> str:
    """API-41 message of `UNKNOWN_IDENTITY_KIND`."""
    return f"identity {spiffe_id} is neither a site nor an operator"


def is_valid_trust_domain(value: str) -> bool:
    """Whether `value` is a trust domain of SEC-2."""
    return _TRUST_DOMAIN.fullmatch(value) is not None


def is_valid_name(value: str) -> bool:
    """Whether `value` is a site id or operator name of T-2."""
    return _NAME.fullmatch(value) is not None


def invalid_trust_domain_message(value: str) -> str:
    """The SEC-11 message for a bad trust domain (without the `error: ` prefix)."""
    return f'invalid trust domain "{value}": {TRUST_DOMAIN_RULE}'


def invalid_name_message(what: str, value: str) -> str:
    """`invalid <what> "<value>": <rule>`; `what` is `site id` or `operator name`."""
    return f'invalid {what} "{value}": {NAME_RULE}'


class IdentityKind(StrEnum):
    """What a SPIFFE id names: a site (node), an operator, or the mesh CA (bare trust domain)."""

    SITE = "site"
    OPERATOR = "operator"
    CA = "ca"


class SpiffeIdError(ValueError):
    """A string is not a SPIFFE id of this product."""


@dataclass(frozen=True)
class SpiffeId:
    """A parsed SPIFFE id; `str()` gives the URI back."""

    trust_domain: str
    """The trust domain (the URI's host part)."""
    kind: IdentityKind
    """Site, operator or CA."""
    name: str = ""
    """The site id or operator name; empty for the CA."""

    @classmethod
    def site(cls, trust_domain: str, site_id: str) -> SpiffeId:
        """`spiffe://<td>/site/<site-id>`."""
        return cls(trust_domain, IdentityKind.SITE, site_id)

    @classmethod
    def operator(cls, trust_domain: str, name: str) -> SpiffeId:
        """`spiffe://<td>/operator/<name>`."""
        return cls(trust_domain, IdentityKind.OPERATOR, name)

    @classmethod
    def ca(cls, trust_domain: str) -> SpiffeId:
        """`spiffe://<td>`, the identity of the mesh CA."""
        return cls(trust_domain, IdentityKind.CA)

    @classmethod
    def parse(cls, uri: str) -> SpiffeId:
        """Parse a URI; raise `SpiffeIdError` unless it is a site, operator or CA id."""
        trust_domain, path = split_spiffe_uri(uri)
        if not is_valid_trust_domain(trust_domain):
            raise SpiffeIdError(f"{uri}: {invalid_trust_domain_message(trust_domain)}")
        if path == "":
            return cls.ca(trust_domain)
        parts = path.split("/")
        if len(parts) == 3 and parts[0] == "" and is_valid_name(parts[2]):
            if parts[1] == IdentityKind.SITE:
                return cls.site(trust_domain, parts[2])
            if parts[1] == IdentityKind.OPERATOR:
                return cls.operator(trust_domain, parts[2])
        raise SpiffeIdError(f"{uri}: not /site/<id> or /operator/<name>")

    def __str__(self) -> str:
        if self.kind is IdentityKind.CA:
            return f"{SPIFFE_SCHEME}{self.trust_domain}"
        return f"{SPIFFE_SCHEME}{self.trust_domain}/{self.kind.value}/{self.name}"


def split_spiffe_uri(uri: str) -> tuple[str, str]:
    """(trust domain, path) of a `spiffe://` URI; the path is empty or starts with `/`.

    Only the scheme is checked here, so that a caller can tell "another trust domain" from
    "a path we do not understand" (SEC-20 step 2 has a reason for each).
    """
    if not uri.startswith(SPIFFE_SCHEME):
        raise SpiffeIdError(f"{uri}: not a spiffe:// URI")
    rest = uri[len(SPIFFE_SCHEME) :]
    slash = rest.find("/")
    if slash < 0:
        return rest, ""
    return rest[:slash], rest[slash:]


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one RPC (SEC-20 step 5)."""

    kind: IdentityKind
    """`IdentityKind.SITE` or `IdentityKind.OPERATOR` (never CA)."""
    name: str
    """Site id or operator name."""
    spiffe_id: str
    """The SPIFFE id as the certificate carries it; empty when TLS is off."""
    serial: str | None = None
    """Certificate serial, uppercase hex without colons; None when TLS is off."""
    not_after: datetime | None = None
    """Certificate notAfter (aware, UTC); None when TLS is off."""

    @property
    def is_operator(self) -> bool:
        """Whether the caller may use the management API."""
        return self.kind is IdentityKind.OPERATOR

    @property
    def is_site(self) -> bool:
        """Whether the caller may open a Federation.Connect stream."""
        return self.kind is IdentityKind.SITE


ANONYMOUS = Principal(IdentityKind.OPERATOR, "anonymous", "")
"""Every management caller when TLS is off (SEC-17)."""


def identify(
    spiffe_uri: str | None,
    trust_domain: str,
    *,
    serial: str | None = None,
    not_after: datetime | None = None,
) -> Principal:
    """The principal of a peer whose certificate gRPC reported as `spiffe_uri` (SEC-20 steps 1-2).

    `spiffe_uri` is `auth_context()["peer_spiffe_id"]` decoded, or None when gRPC did not set it
    (no URI SAN, or more than one). Raises `UnauthenticatedError` with the API-41 reason/message.
    """
    if not spiffe_uri:
        raise UnauthenticatedError(SPIFFE_ID_REQUIRED_MESSAGE, SPIFFE_ID_REQUIRED)
    metadata = {"peer": spiffe_uri}
    try:
        peer_domain, _ = split_spiffe_uri(spiffe_uri)
    except SpiffeIdError:
        raise UnauthenticatedError(
            SPIFFE_ID_REQUIRED_MESSAGE, SPIFFE_ID_REQUIRED, metadata=metadata
        ) from None
    if peer_domain != trust_domain:
        raise UnauthenticatedError(
            trust_domain_mismatch_message(spiffe_uri, trust_domain),
            TRUST_DOMAIN_MISMATCH,
            metadata=metadata,
        )
    try:
        parsed = SpiffeId.parse(spiffe_uri)
    except SpiffeIdError:
        parsed = None
    if parsed is None or parsed.kind is IdentityKind.CA:
        raise UnauthenticatedError(
            unknown_identity_kind_message(spiffe_uri), UNKNOWN_IDENTITY_KIND, metadata=metadata
        )
    return Principal(parsed.kind, parsed.name, spiffe_uri, serial, not_after)


def principal_from_auth_context(auth_context: Mapping[str, object], trust_domain: str) -> Principal:
    """`identify()` fed from a gRPC `auth_context()` mapping (values are lists of bytes).

    Serial and notAfter come from `x509_pem_cert` (SEC-20 step 3). A PEM that cannot be parsed
    leaves them None rather than failing: the handshake already verified that certificate.
    """
    spiffe_uri = _first_text(auth_context.get("peer_spiffe_id"))
    serial: str | None = None
    not_after: datetime | None = None
    pem = _first_bytes(auth_context.get("x509_pem_cert"))
    if pem is not None:
        try:
            certificate = x509.load_pem_x509_certificate(pem)
        except ValueError:
            certificate = None
        if certificate is not None:
            serial = format(certificate.serial_number, "X")
            not_after = certificate.not_valid_after_utc
    return identify(spiffe_uri, trust_domain, serial=serial, not_after=not_after)


def _first_bytes(value: object) -> bytes | None:
    # gRPC gives a list of bytes per property; accept a bare bytes value too (test doubles).
    if isinstance(value, bytes):
        return value
    if isinstance(value, Iterable) and not isinstance(value, str):
        for item in value:
            if isinstance(item, bytes):
                return item
    return None


def _first_text(value: object) -> str | None:
    raw = _first_bytes(value)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
