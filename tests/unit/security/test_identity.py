"""SPIFFE ids, the T-2 name rule and SEC-20 identity extraction (API-41 reasons and messages)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from symphony_mesh.errors import UnauthenticatedError
from symphony_mesh.security.identity import (
    ANONYMOUS,
    IdentityKind,
    Principal,
    SpiffeId,
    SpiffeIdError,
    identify,
    invalid_name_message,
    invalid_trust_domain_message,
    is_valid_name,
    is_valid_trust_domain,
    principal_from_auth_context,
)
from symphony_mesh.security.pki import certificate_pem

from .conftest import Pki

TD = "mesh.test"


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("a", True),
        ("hub", True),
        ("tokyo-1", True),
        ("0", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("", False),
        ("-a", False),
        ("a-", False),
        ("Tokyo", False),
        ("to_kyo", False),
        ("to.kyo", False),
        ("tö", False),
    ],
)
def test_site_id_rule(value: str, valid: bool) -> None:
    assert is_valid_name(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("mesh.example", True),
        ("a", True),
        ("a_b-c.d", True),
        ("a" * 255, True),
        ("a" * 256, False),
        ("", False),
        (".mesh", False),
        ("mesh.", False),
        ("Mesh", False),
        ("mesh/x", False),
    ],
)
def test_trust_domain_rule(value: str, valid: bool) -> None:
    assert is_valid_trust_domain(value) is valid


def test_rule_messages() -> None:
    assert invalid_trust_domain_message("Mesh") == (
        "invalid trust domain \"Mesh\": use lowercase letters, digits, '.', '-' or '_'"
    )
    assert invalid_name_message("site id", "X").startswith('invalid site id "X": must be 1 to 63')


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("spiffe://mesh.test/site/tokyo", SpiffeId(TD, IdentityKind.SITE, "tokyo")),
        ("spiffe://mesh.test/operator/alice", SpiffeId(TD, IdentityKind.OPERATOR, "alice")),
        ("spiffe://mesh.test", SpiffeId(TD, IdentityKind.CA)),
    ],
)
def test_parse_round_trip(uri: str, expected: SpiffeId) -> None:
    parsed = SpiffeId.parse(uri)
    assert parsed == expected
    assert str(parsed) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "https://mesh.test/site/tokyo",
        "spiffe://Mesh.test/site/tokyo",
        "spiffe://mesh.test/site/Tokyo",
        "spiffe://mesh.test/site/",
        "spiffe://mesh.test/site/a/b",
        "spiffe://mesh.test/robot/r2",
        "spiffe://mesh.test/",
        "spiffe:///site/a",
    ],
)
def test_parse_rejects(uri: str) -> None:
    with pytest.raises(SpiffeIdError):
        SpiffeId.parse(uri)


def test_identify_site_and_operator() -> None:
    moment = datetime(2030, 1, 1, tzinfo=UTC)
    site = identify("spiffe://mesh.test/site/tokyo", TD, serial="AB", not_after=moment)
    assert site == Principal(
        IdentityKind.SITE, "tokyo", "spiffe://mesh.test/site/tokyo", "AB", moment
    )
    assert site.is_site
    assert not site.is_operator
    operator = identify("spiffe://mesh.test/operator/alice", TD)
    assert operator.is_operator
    assert operator.name == "alice"


@pytest.mark.parametrize(
    ("uri", "reason", "message"),
    [
        (None, "SPIFFE_ID_REQUIRED", "client certificate must carry exactly one spiffe:// URI SAN"),
        ("", "SPIFFE_ID_REQUIRED", "client certificate must carry exactly one spiffe:// URI SAN"),
        (
            "spiffe://other.test/site/tokyo",
            "TRUST_DOMAIN_MISMATCH",
            "identity spiffe://other.test/site/tokyo is not in trust domain mesh.test",
        ),
        (
            "spiffe://mesh.test/robot/r2",
            "UNKNOWN_IDENTITY_KIND",
            "identity spiffe://mesh.test/robot/r2 is neither a site nor an operator",
        ),
        (
            "spiffe://mesh.test/site/Bad_Id",
            "UNKNOWN_IDENTITY_KIND",
            "identity spiffe://mesh.test/site/Bad_Id is neither a site nor an operator",
        ),
        (
            "spiffe://mesh.test",
            "UNKNOWN_IDENTITY_KIND",
            "identity spiffe://mesh.test is neither a site nor an operator",
        ),
    ],
)
def test_identify_failures(uri: str | None, reason: str, message: str) -> None:
    with pytest.raises(UnauthenticatedError) as caught:
        identify(uri, TD)
    assert caught.value.reason == reason
    assert caught.value.message == message
    assert caught.value.code == "UNAUTHENTICATED"


def test_anonymous_is_an_operator() -> None:
    assert ANONYMOUS.name == "anonymous"
    assert ANONYMOUS.is_operator
    assert ANONYMOUS.serial is None


def test_principal_from_auth_context_reads_serial_and_expiry(pki: Pki) -> None:
    issued = pki.site("tokyo")
    context = {
        "peer_spiffe_id": [b"spiffe://mesh.test/site/tokyo"],
        "x509_pem_cert": [certificate_pem(issued.certificate)],
        "transport_security_type": [b"ssl"],
    }
    principal = principal_from_auth_context(context, TD)
    assert principal.name == "tokyo"
    assert principal.serial == format(issued.certificate.serial_number, "X")
    assert principal.not_after == issued.certificate.not_valid_after_utc


def test_principal_from_auth_context_without_spiffe_id() -> None:
    with pytest.raises(UnauthenticatedError) as caught:
        principal_from_auth_context({"x509_pem_cert": [b"garbage"]}, TD)
    assert caught.value.reason == "SPIFFE_ID_REQUIRED"
