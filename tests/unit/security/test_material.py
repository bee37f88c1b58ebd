"""TLS directories: SEC-14 key modes, SEC-30 node checks, T-3 identity, SEC-46 CLI pre-flight."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from symphony_mesh.model.durations import format_time
from symphony_mesh.security.material import (
    MaterialError,
    Problem,
    check_key_file_mode,
    load_node_material,
    preflight_client_material,
    read_tls_files,
    site_id_from_certificate,
    validate_reloaded_files,
)
from symphony_mesh.security.pki import certificate_pem, generate_key, private_key_pem

from .conftest import Pki

TD = "mesh.test"


def _node_error(tls_dir: Path, site_id: str | None = "hub") -> MaterialError:
    with pytest.raises(MaterialError) as caught:
        load_node_material(tls_dir, site_id=site_id)
    return caught.value


def _reload_error(tls_dir: Path, site_id: str = "hub") -> MaterialError:
    with pytest.raises(MaterialError) as caught:
        validate_reloaded_files(read_tls_files(tls_dir), site_id=site_id, trust_domain=TD)
    return caught.value


# --- SEC-14 --------------------------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_readable_by_others_is_refused(pki: Pki, mode: int) -> None:
    tls_dir = pki.issued_dir("hub", pki.site("hub"))
    (tls_dir / "key.pem").chmod(mode)
    error = _node_error(tls_dir)
    key = f"{tls_dir}/key.pem"
    assert error.message == (
        f"private key {key} has mode {mode:04o}; it must not be readable by group or others "
        f"(run: chmod 600 {key})"
    )
    assert error.problem is Problem.PERMISSIONS
    assert error.fatal
    assert error.exit_code == 1


def test_check_key_file_mode(tmp_path: Path) -> None:
    key = tmp_path / "ca.key"
    key.write_bytes(b"x")
    key.chmod(0o600)
    check_key_file_mode(str(key))
    key.chmod(0o400)
    check_key_file_mode(str(key))
    key.chmod(0o644)
    with pytest.raises(MaterialError, match=r"has mode 0644; it must not be readable"):
        check_key_file_mode(str(key))
    with pytest.raises(MaterialError, match="is not a regular file"):
        check_key_file_mode(str(tmp_path))


# --- start-up and reload (SEC-30, T-3, CFG-20) ---------------------------------------------------


def test_valid_material(pki: Pki) -> None:
    issued = pki.site("hub")
    tls_dir = pki.issued_dir("hub", issued)
    material = load_node_material(tls_dir, site_id="hub")
    assert material.site_id == "hub"
    assert material.trust_domain == TD
    assert material.spiffe_id == "spiffe://mesh.test/site/hub"
    assert material.serial == format(issued.certificate.serial_number, "X")
    assert material.not_after == issued.certificate.not_valid_after_utc
    assert material.cert_pem == (tls_dir / "cert.pem").read_bytes()
    assert len(material.hashes.key) == 64
    assert material.info().kind == "site"
    assert "BEGIN" not in repr(material)  # never show PEM (keys) in a repr


@pytest.mark.parametrize("missing", ["ca.pem", "cert.pem", "key.pem"])
def test_missing_file(pki: Pki, missing: str) -> None:
    tls_dir = pki.issued_dir("hub", pki.site())
    (tls_dir / missing).unlink()
    error = _node_error(tls_dir)
    assert error.message == f"{tls_dir}/{missing} not found"
    assert error.fatal


def test_site_id_from_the_certificate(pki: Pki) -> None:
    tls_dir = pki.issued_dir("tokyo", pki.site("tokyo"))
    assert site_id_from_certificate(tls_dir) == "tokyo"
    assert load_node_material(tls_dir, site_id=None).site_id == "tokyo"
    op_dir = pki.issued_dir("op", pki.operator("alice"))
    with pytest.raises(
        MaterialError, match=r'identifies "spiffe://mesh.test/operator/alice", not a'
    ):
        site_id_from_certificate(op_dir)


def test_start_with_another_site_id_uses_the_t3_text(pki: Pki) -> None:
    tls_dir = pki.issued_dir("tokyo", pki.site("tokyo"))
    error = _node_error(tls_dir, site_id="osaka")
    assert error.message == (
        f'certificate {tls_dir}/cert.pem identifies "spiffe://mesh.test/site/tokyo", '
        'not site "osaka"'
    )
    assert error.problem is Problem.IDENTITY
    assert error.fatal


def test_start_with_an_operator_certificate(pki: Pki) -> None:
    tls_dir = pki.issued_dir("op", pki.operator("alice"))
    error = _node_error(tls_dir, site_id="hub")
    assert error.message == (
        f'certificate {tls_dir}/cert.pem identifies "spiffe://mesh.test/operator/alice", '
        'not site "hub"'
    )


def test_reload_with_another_site_id_uses_the_sec30_text(pki: Pki) -> None:
    tls_dir = pki.issued_dir("tokyo", pki.site("x"))
    error = _reload_error(tls_dir, site_id="y")
    assert error.message == 'certificate identifies site "x"; this node is "y"'


def test_reload_into_another_trust_domain(tmp_path: Path) -> None:
    other = Pki(tmp_path, trust_domain="other.test")
    tls_dir = other.issued_dir("hub", other.site("hub"))
    error = _reload_error(tls_dir)
    assert (
        error.message
        == 'certificate identifies trust domain "other.test"; this node is in "mesh.test"'
    )


def test_key_does_not_match(pki: Pki) -> None:
    tls_dir = pki.issued_dir("hub", pki.site())
    os.replace(tls_dir / "key.pem", tls_dir / "old.pem")
    (tls_dir / "key.pem").write_bytes(private_key_pem(generate_key()))
    (tls_dir / "key.pem").chmod(0o600)
    error = _node_error(tls_dir)
    assert error.message == f"certificate {tls_dir}/cert.pem does not match key {tls_dir}/key.pem"
    assert error.problem is Problem.KEY_MISMATCH
    assert error.fatal


def test_not_signed_by_the_bundle(pki: Pki, other_pki: Pki) -> None:
    issued = pki.site()
    assert issued.private_key is not None
    tls_dir = pki.write_tls_dir(
        "hub", issued.certificate, issued.private_key, ca_pem=other_pki.ca_pem
    )
    error = _node_error(tls_dir)
    assert error.message == (
        f"certificate {tls_dir}/cert.pem is not signed by a CA in {tls_dir}/ca.pem"
    )
    assert error.problem is Problem.CHAIN
    assert error.fatal


def test_bundle_with_two_cas(pki: Pki, other_pki: Pki) -> None:
    issued = pki.site()
    assert issued.private_key is not None
    tls_dir = pki.write_tls_dir(
        "hub", issued.certificate, issued.private_key, ca_pem=other_pki.ca_pem + pki.ca_pem
    )
    assert len(load_node_material(tls_dir, site_id="hub").ca_certificates) == 2


def test_two_uri_sans(pki: Pki) -> None:
    certificate, key = pki.custom(uris=["spiffe://mesh.test/site/hub", "https://hub.example"])
    tls_dir = pki.write_tls_dir("hub", certificate, key)
    error = _node_error(tls_dir)
    assert error.message == (
        f"certificate {tls_dir}/cert.pem must carry exactly one spiffe:// URI SAN"
    )
    assert error.problem is Problem.IDENTITY


def test_missing_eku(pki: Pki) -> None:
    certificate, key = pki.custom(
        uris=["spiffe://mesh.test/site/hub"], ekus=[ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    tls_dir = pki.write_tls_dir("hub", certificate, key)
    error = _node_error(tls_dir)
    assert error.message == (
        f"certificate {tls_dir}/cert.pem is not valid for TLS servers and clients "
        "(missing serverAuth)"
    )
    assert error.problem is Problem.USAGE
    assert error.fatal


def test_unparseable_files(pki: Pki) -> None:
    tls_dir = pki.issued_dir("hub", pki.site())
    (tls_dir / "cert.pem").write_bytes(b"not a certificate")
    assert _node_error(tls_dir).message == f"cannot parse {tls_dir}/cert.pem: no PEM certificate"
    (tls_dir / "cert.pem").write_bytes(certificate_pem(pki.ca_certificate))
    (tls_dir / "key.pem").write_bytes(
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    )
    error = _node_error(tls_dir)
    assert error.message == f"cannot parse {tls_dir}/key.pem: not a PEM private key"
    assert error.problem is Problem.PARSE


def test_expired_certificate_does_not_stop_the_node(pki: Pki) -> None:
    past = datetime.now(UTC) - timedelta(days=10)
    issued = pki.site("hub", valid_for=timedelta(days=1), now=past)
    tls_dir = pki.issued_dir("hub", issued)
    error = _node_error(tls_dir)
    assert error.problem is Problem.EXPIRED
    assert not error.fatal
    assert error.material is not None
    assert error.material.serial == format(issued.certificate.serial_number, "X")
    assert error.message.startswith(f"certificate {tls_dir}/cert.pem expired at ")
    # On reload the same problem refuses the files.
    assert _reload_error(tls_dir).problem is Problem.EXPIRED


def test_not_yet_valid_certificate_does_not_stop_the_node(pki: Pki) -> None:
    future = datetime.now(UTC) + timedelta(days=2)
    tls_dir = pki.issued_dir("hub", pki.site("hub", now=future))
    error = _node_error(tls_dir)
    assert error.problem is Problem.NOT_YET_VALID
    assert not error.fatal
    assert error.material is not None
    assert "is not valid before" in error.message


def test_fatal_problems_win_over_expiry(pki: Pki) -> None:
    past = datetime.now(UTC) - timedelta(days=10)
    tls_dir = pki.issued_dir("tokyo", pki.site("tokyo", valid_for=timedelta(days=1), now=past))
    assert _node_error(tls_dir, site_id="hub").problem is Problem.IDENTITY


# --- SEC-46 pre-flight ---------------------------------------------------------------------------


def _preflight_error(tls_dir: Path) -> str:
    with pytest.raises(MaterialError) as caught:
        preflight_client_material(tls_dir)
    assert caught.value.exit_code == 3
    return caught.value.message


def test_preflight_ok(pki: Pki) -> None:
    tls_dir = pki.issued_dir("op", pki.operator("alice"))
    material = preflight_client_material(tls_dir)
    assert material.spiffe_id == "spiffe://mesh.test/operator/alice"
    assert material.key_pem == (tls_dir / "key.pem").read_bytes()


def test_preflight_unreadable(pki: Pki) -> None:
    tls_dir = pki.issued_dir("op", pki.operator())
    (tls_dir / "cert.pem").unlink()
    assert _preflight_error(tls_dir) == f"{tls_dir}/cert.pem not found"
    (tls_dir / "cert.pem").mkdir()  # opens, but cannot be read
    assert _preflight_error(tls_dir) == f"cannot read {tls_dir}/cert.pem: Is a directory"


def test_preflight_key_mode(pki: Pki) -> None:
    tls_dir = pki.issued_dir("op", pki.operator())
    (tls_dir / "key.pem").chmod(0o644)
    key = f"{tls_dir}/key.pem"
    assert _preflight_error(tls_dir) == (
        f"private key {key} has mode 0644; it must not be readable by group or others "
        f"(run: chmod 600 {key})"
    )


def test_preflight_key_mismatch(pki: Pki) -> None:
    issued = pki.operator()
    tls_dir = pki.write_tls_dir("op", issued.certificate, generate_key())
    assert _preflight_error(tls_dir) == f"{tls_dir}/key.pem does not match {tls_dir}/cert.pem"


def test_preflight_expired(pki: Pki) -> None:
    past = datetime(2020, 1, 1, 12, 0, 0, tzinfo=UTC)
    tls_dir = pki.issued_dir("op", pki.operator(valid_for=timedelta(days=1), now=past))
    assert _preflight_error(tls_dir) == (
        f"client certificate {tls_dir}/cert.pem expired at 2020-01-02T12:00:00Z; "
        'issue a new one with "symphony-mesh certs issue"'
    )


def test_preflight_not_yet_valid(pki: Pki) -> None:
    future = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    tls_dir = pki.issued_dir("op", pki.operator(now=future))
    start = format_time(future - timedelta(minutes=5))
    assert _preflight_error(tls_dir) == (
        f"client certificate {tls_dir}/cert.pem is not valid before {start} (check the clock)"
    )


def test_preflight_chain(pki: Pki, other_pki: Pki) -> None:
    issued = pki.operator()
    assert issued.private_key is not None
    tls_dir = pki.write_tls_dir(
        "op", issued.certificate, issued.private_key, ca_pem=other_pki.ca_pem
    )
    assert _preflight_error(tls_dir) == (
        f"client certificate {tls_dir}/cert.pem is not signed by a CA in {tls_dir}/ca.pem"
    )


def test_preflight_spiffe_id(pki: Pki) -> None:
    certificate, key = pki.custom(uris=[])
    tls_dir = pki.write_tls_dir("op", certificate, key)
    assert _preflight_error(tls_dir) == (
        f"client certificate {tls_dir}/cert.pem must carry exactly one spiffe:// URI SAN"
    )


def test_preflight_client_auth(pki: Pki) -> None:
    certificate, key = pki.custom(
        uris=["spiffe://mesh.test/operator/alice"], ekus=[ExtendedKeyUsageOID.SERVER_AUTH]
    )
    tls_dir = pki.write_tls_dir("op", certificate, key)
    assert _preflight_error(tls_dir) == (
        f"client certificate {tls_dir}/cert.pem is not valid for TLS clients (missing clientAuth)"
    )


def test_preflight_order_mode_before_expiry(pki: Pki) -> None:
    past = datetime(2020, 1, 1, tzinfo=UTC)
    tls_dir = pki.issued_dir("op", pki.operator(valid_for=timedelta(days=1), now=past))
    (tls_dir / "key.pem").chmod(0o640)
    assert "has mode 0640" in _preflight_error(tls_dir)
