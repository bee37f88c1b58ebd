"""Certificate profiles (SEC-10), SANs, CSRs, inspection, chain checks and file writing."""

from __future__ import annotations

import ipaddress
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, SignatureAlgorithmOID

from symphony_mesh.security.identity import SpiffeId
from symphony_mesh.security.pki import (
    PkiError,
    SanError,
    ca_trust_domain,
    create_ca,
    ensure_private_directory,
    find_issuer,
    generate_key,
    inspect_certificate,
    issue_certificate,
    key_matches_certificate,
    new_serial,
    parse_san_entries,
    public_key_from_csr,
    replace_file,
    single_spiffe_id,
    write_new_file,
)

from .conftest import Pki, mode_of

TD = "mesh.test"
NOW = datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)


def _ext(
    certificate: x509.Certificate, kind: type[x509.ExtensionType]
) -> x509.Extension[x509.ExtensionType]:
    return certificate.extensions.get_extension_for_class(kind)


def _common_profile(certificate: x509.Certificate) -> None:
    """Rows of SEC-10 shared by every certificate: key, signature, serial, notBefore."""
    key = certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert isinstance(key.curve, ec.SECP256R1)
    assert certificate.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA256
    assert certificate.serial_number > 0
    assert certificate.serial_number.bit_length() == 159
    assert certificate.not_valid_before_utc == NOW - timedelta(minutes=5)
    assert certificate.version is x509.Version.v3


def _key_usage(certificate: x509.Certificate) -> x509.Extension[x509.KeyUsage]:
    return certificate.extensions.get_extension_for_class(x509.KeyUsage)


def test_ca_profile() -> None:
    certificate, key = create_ca(TD, now=NOW)
    _common_profile(certificate)
    subject = certificate.subject
    assert subject.rfc4514_string() == "CN=symphony-mesh CA,O=mesh.test"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == TD
    assert certificate.issuer == subject
    assert certificate.not_valid_after_utc == NOW + timedelta(days=3650)
    basic = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical
    assert basic.value.ca
    assert basic.value.path_length == 0
    usage = _key_usage(certificate)
    assert usage.critical
    assert usage.value.key_cert_sign
    assert usage.value.crl_sign
    assert not usage.value.digital_signature
    with pytest.raises(x509.ExtensionNotFound):
        certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert list(san.value) == [x509.UniformResourceIdentifier("spiffe://mesh.test")]
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert ski.value == x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    with pytest.raises(x509.ExtensionNotFound):
        certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    certificate.verify_directly_issued_by(certificate)
    assert ca_trust_domain(certificate) == TD


def test_ca_days() -> None:
    certificate, _ = create_ca(TD, valid_for=timedelta(days=7300), now=NOW)
    assert certificate.not_valid_after_utc == NOW + timedelta(days=7300)


def _leaf_profile(
    ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate
) -> None:
    _common_profile(certificate)
    certificate.verify_directly_issued_by(ca)
    basic = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical
    assert not basic.value.ca
    usage = _key_usage(certificate)
    assert usage.critical
    assert usage.value.digital_signature
    assert not usage.value.key_cert_sign
    assert not usage.value.crl_sign
    assert not usage.value.key_encipherment
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert ski.value == x509.SubjectKeyIdentifier.from_public_key(certificate.public_key())
    aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.value.key_identifier == ca_ski.digest


def test_site_profile() -> None:
    ca, ca_key = create_ca(TD, now=NOW)
    issued = issue_certificate(ca, ca_key, SpiffeId.site(TD, "tokyo"), now=NOW)
    certificate = issued.certificate
    assert issued.private_key is not None
    assert not issued.shortened
    assert key_matches_certificate(certificate, issued.private_key)
    _leaf_profile(ca, ca_key, certificate)
    assert certificate.subject.rfc4514_string() == "CN=tokyo,O=mesh.test"
    assert certificate.issuer == ca.subject
    assert certificate.not_valid_after_utc == NOW + timedelta(days=90)
    eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(eku.value) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert list(san.value) == [
        x509.UniformResourceIdentifier("spiffe://mesh.test/site/tokyo"),
        x509.DNSName("tokyo"),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]


def test_operator_profile() -> None:
    ca, ca_key = create_ca(TD, now=NOW)
    issued = issue_certificate(ca, ca_key, SpiffeId.operator(TD, "alice"), now=NOW)
    certificate = issued.certificate
    _leaf_profile(ca, ca_key, certificate)
    assert certificate.subject.rfc4514_string() == "CN=alice,O=mesh.test"
    eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(eku.value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert list(san.value) == [x509.UniformResourceIdentifier("spiffe://mesh.test/operator/alice")]


def test_extra_sans_are_added_once() -> None:
    ca, ca_key = create_ca(TD, now=NOW)
    extra = parse_san_entries(["tokyo.example.net,10.0.0.7", "LOCALHOST, 127.0.0.1,::1,tokyo"])
    site = issue_certificate(ca, ca_key, SpiffeId.site(TD, "tokyo"), extra_sans=extra, now=NOW)
    names = [
        str(n.value)
        for n in site.certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value
    ]
    assert names == [
        "spiffe://mesh.test/site/tokyo",
        "tokyo",
        "localhost",
        "127.0.0.1",
        "::1",
        "tokyo.example.net",
        "10.0.0.7",
    ]
    operator = issue_certificate(
        ca,
        ca_key,
        SpiffeId.operator(TD, "bob"),
        extra_sans=parse_san_entries(["ops.example"]),
        now=NOW,
    )
    op_names = operator.certificate.extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    ).value
    assert [str(n.value) for n in op_names] == ["spiffe://mesh.test/operator/bob", "ops.example"]
    assert single_spiffe_id(operator.certificate) == "spiffe://mesh.test/operator/bob"


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("*.example.com", "wildcards are not allowed"),
        ("", "empty entry"),
        ("bad_host", "not an IP address or a valid hostname"),
        ("-x.example", "not an IP address or a valid hostname"),
        ("spiffe://mesh.test/site/x", "not an IP address or a valid hostname"),
        ("a" * 64 + ".example", "not an IP address or a valid hostname"),
    ],
)
def test_bad_san_entries(entry: str, reason: str) -> None:
    with pytest.raises(SanError) as caught:
        parse_san_entries([f"ok.example,{entry}"])
    assert str(caught.value) == f'invalid --san entry "{entry}": {reason}'


def test_expiry_is_cut_to_the_ca() -> None:
    ca, ca_key = create_ca(TD, valid_for=timedelta(days=30), now=NOW)
    issued = issue_certificate(
        ca, ca_key, SpiffeId.site(TD, "a"), valid_for=timedelta(days=90), now=NOW
    )
    assert issued.shortened
    assert issued.certificate.not_valid_after_utc == ca.not_valid_after_utc


def test_serials_are_random() -> None:
    serials = {new_serial() for _ in range(50)}
    assert len(serials) == 50
    assert all(s.bit_length() == 159 for s in serials)


# --- CSRs ----------------------------------------------------------------------------------------


def _csr(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, common_name: str = "evil"
) -> x509.CertificateSigningRequest:
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("evil.example"),
                    x509.UniformResourceIdentifier("spiffe://mesh.test/operator/root"),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )


def test_csr_key_is_used_and_its_names_ignored() -> None:
    from cryptography.hazmat.primitives import serialization

    key = generate_key()
    pem = _csr(key).public_bytes(serialization.Encoding.PEM)
    public_key = public_key_from_csr(pem, "req.csr")
    ca, ca_key = create_ca(TD, now=NOW)
    issued = issue_certificate(
        ca, ca_key, SpiffeId.site(TD, "osaka"), public_key=public_key, now=NOW
    )
    assert issued.private_key is None
    assert issued.certificate.public_key() == key.public_key()
    assert issued.certificate.subject.rfc4514_string() == "CN=osaka,O=mesh.test"
    assert single_spiffe_id(issued.certificate) == "spiffe://mesh.test/site/osaka"
    assert "DNS:evil.example" not in inspect_certificate(issued.certificate).sans


def test_csr_with_bad_signature_is_refused() -> None:
    from cryptography.hazmat.primitives import serialization

    der = bytearray(_csr(generate_key(), "aaaa").public_bytes(serialization.Encoding.DER))
    index = der.index(b"aaaa")
    der[index : index + 4] = b"bbbb"  # the signed part changes, the signature does not
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(PkiError) as caught:
        public_key_from_csr(tampered, "req.csr")
    assert caught.value.message == "req.csr: CSR signature is invalid"


@pytest.mark.parametrize("kind", ["rsa", "p384"])
def test_csr_key_must_be_p256(kind: str) -> None:
    from cryptography.hazmat.primitives import serialization

    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP384R1())
    pem = _csr(key).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(PkiError) as caught:
        public_key_from_csr(pem, "req.csr")
    assert caught.value.message == "req.csr: CSR key must be EC P-256"


def test_csr_that_is_not_pem() -> None:
    with pytest.raises(PkiError, match="not a PEM certificate signing request"):
        public_key_from_csr(b"hello", "req.csr")


# --- inspection and chains -----------------------------------------------------------------------


def test_inspect(pki: Pki) -> None:
    issued = pki.site("tokyo", now=NOW)
    info = inspect_certificate(issued.certificate)
    assert info.kind == "site"
    assert info.spiffe_id == "spiffe://mesh.test/site/tokyo"
    assert info.subject == "CN=tokyo,O=mesh.test"
    assert info.issuer == "CN=symphony-mesh CA,O=mesh.test"
    assert info.ekus == ("serverAuth", "clientAuth")
    assert info.sans[0] == "URI:spiffe://mesh.test/site/tokyo"
    assert info.dns_names == ["tokyo", "localhost"]
    assert info.ip_addresses == ["127.0.0.1", "::1"]
    assert info.serial == format(issued.certificate.serial_number, "X")
    assert info.serial == info.serial.upper()
    assert ":" not in info.serial
    assert info.sha256_fingerprint == issued.certificate.fingerprint(hashes.SHA256()).hex().upper()
    assert info.not_after == NOW + timedelta(days=90)
    assert info.expired(NOW + timedelta(days=91))
    assert inspect_certificate(pki.ca_certificate).kind == "CA"
    assert inspect_certificate(pki.operator().certificate).kind == "operator"
    two, _ = pki.custom(uris=["spiffe://mesh.test/site/a", "spiffe://mesh.test/site/b"])
    assert inspect_certificate(two).spiffe_id is None
    assert inspect_certificate(two).kind == "unknown"


def test_find_issuer(pki: Pki, other_pki: Pki) -> None:
    leaf = pki.site("tokyo").certificate
    assert find_issuer(leaf, [pki.ca_certificate]) is pki.ca_certificate
    assert find_issuer(leaf, [other_pki.ca_certificate, pki.ca_certificate]) is pki.ca_certificate
    assert find_issuer(leaf, [other_pki.ca_certificate]) is None
    # Same subject as our CA, other key: the name matches, the signature does not.
    assert other_pki.ca_certificate.subject == pki.ca_certificate.subject
    # A leaf is never an issuer, even of itself.
    assert find_issuer(leaf, [leaf]) is None


# --- files ---------------------------------------------------------------------------------------


def test_private_directory_is_0700_and_existing_keeps_its_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / "a" / "b"
        ensure_private_directory(target)
        assert mode_of(target) == 0o700
        existing = tmp_path / "existing"
        existing.mkdir()
        existing.chmod(0o755)
        ensure_private_directory(existing)
        assert mode_of(existing) == 0o755
    finally:
        os.umask(old)


def test_write_new_file_is_exclusive_with_exact_mode(tmp_path: Path) -> None:
    old = os.umask(0o077)  # would strip the 0644 of a certificate without the fchmod
    try:
        write_new_file(tmp_path / "key.pem", b"k", 0o600)
        write_new_file(tmp_path / "cert.pem", b"c", 0o644)
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "key.pem") == 0o600
    assert mode_of(tmp_path / "cert.pem") == 0o644
    with pytest.raises(FileExistsError):
        write_new_file(tmp_path / "key.pem", b"again", 0o600)
    # O_EXCL also refuses to follow a (dangling) symlink planted where the key goes.
    (tmp_path / "link.pem").symlink_to(tmp_path / "elsewhere.pem")
    with pytest.raises(FileExistsError):
        write_new_file(tmp_path / "link.pem", b"k", 0o600)
    assert not (tmp_path / "elsewhere.pem").exists()


def test_replace_file_is_atomic_and_keeps_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    write_new_file(path, b"old", 0o644)
    before = os.stat(path).st_ino
    replace_file(path, b"new", 0o600)
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.stat(path).st_ino != before  # a rename, not an in-place rewrite
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.pem"]
