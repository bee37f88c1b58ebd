"""`symphony-mesh certs init|issue|inspect` (SEC-11, SEC-12, SEC-13): texts, exit codes, files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from symphony_mesh.cli.certs import certs
from symphony_mesh.cli.main import cli
from symphony_mesh.security.pki import (
    certificate_pem,
    generate_key,
    private_key_pem,
    single_spiffe_id,
    write_new_file,
)

from .conftest import Pki, mode_of

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
HEX = r"[0-9A-F]{40}"


def run(*args: str) -> Result:
    """The real root command (global options included) with `certs` registered."""
    if "certs" not in cli.commands:
        cli.add_command(certs)
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_usage_error(result: Result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr == f"error: {message}\n"


@pytest.fixture
def ca_dir(tmp_path: Path) -> Path:
    result = run("certs", "init", "--trust-domain", "mesh.test", "--out", str(tmp_path / "ca"))
    assert result.exit_code == 0, result.output
    return tmp_path / "ca"


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


# --- init ----------------------------------------------------------------------------------------


def test_init(tmp_path: Path) -> None:
    out = tmp_path / "new" / "ca"
    result = run("certs", "init", "--trust-domain", "mesh.test", "--out", str(out))
    assert result.exit_code == 0
    assert result.stderr == ""
    assert re.fullmatch(
        f"created CA for trust domain mesh.test\n"
        f"  certificate: {out}/ca.pem \\(valid until ({TIME})\\)\n"
        f"  private key: {out}/ca.key \\(mode 0600; keep it offline\\)\n",
        result.stdout,
    )
    assert mode_of(out) == 0o700
    assert mode_of(out / "ca.key") == 0o600
    assert mode_of(out / "ca.pem") == 0o644
    assert b"BEGIN PRIVATE KEY" in (out / "ca.key").read_bytes()  # PKCS#8, unencrypted
    certificate = load_cert(out / "ca.pem")
    expected = datetime.now(UTC) + timedelta(days=3650)
    assert abs(certificate.not_valid_after_utc - expected) < timedelta(minutes=1)


def test_init_keeps_an_existing_directory_mode(tmp_path: Path) -> None:
    out = tmp_path / "ca"
    out.mkdir()
    out.chmod(0o750)
    assert (
        run("certs", "init", "--trust-domain", "d", "--out", str(out), "--days", "7300").exit_code
        == 0
    )
    assert mode_of(out) == 0o750
    certificate = load_cert(out / "ca.pem")
    expected = datetime.now(UTC) + timedelta(days=7300)
    assert abs(certificate.not_valid_after_utc - expected) < timedelta(minutes=1)


def test_init_bad_trust_domain(tmp_path: Path) -> None:
    result = run("certs", "init", "--trust-domain", "Mesh!", "--out", str(tmp_path / "ca"))
    assert_usage_error(
        result, "invalid trust domain \"Mesh!\": use lowercase letters, digits, '.', '-' or '_'"
    )
    assert not (tmp_path / "ca").exists()


@pytest.mark.parametrize("days", ["0", "7301", "ten", "-1"])
def test_init_days_range(tmp_path: Path, days: str) -> None:
    result = run("certs", "init", "--trust-domain", "d", "--out", str(tmp_path), "--days", days)
    assert_usage_error(result, f'invalid --days "{days}": must be an integer from 1 to 7300')


@pytest.mark.parametrize("existing", ["ca.key", "ca.pem"])
def test_init_refuses_to_overwrite_a_ca(ca_dir: Path, existing: str) -> None:
    if existing == "ca.pem":
        (ca_dir / "ca.key").unlink()
    before = (ca_dir / "ca.pem").read_bytes()
    result = run("certs", "init", "--trust-domain", "mesh.test", "--out", str(ca_dir))
    assert result.exit_code == 1
    assert (
        result.stderr == f"error: {ca_dir}/{existing} already exists; refusing to overwrite a CA\n"
    )
    assert (ca_dir / "ca.pem").read_bytes() == before


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    assert_usage_error(
        run("certs", "init", "--out", str(tmp_path)), "missing option '--trust-domain'"
    )
    result = run("certs", "nope")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ")


# --- issue ---------------------------------------------------------------------------------------


def test_issue_site(ca_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "tokyo"
    result = run("certs", "issue", "--ca-dir", str(ca_dir), "--site", "tokyo", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert re.fullmatch(
        f"issued spiffe://mesh.test/site/tokyo\n"
        f"  serial:      ({HEX})\n"
        f"  valid until: ({TIME})\n"
        f"  SANs:        URI:spiffe://mesh.test/site/tokyo, DNS:tokyo, DNS:localhost, "
        f"IP:127.0.0.1, IP:::1\n"
        f"  files:       {out}/cert.pem, {out}/key.pem \\(mode 0600\\), {out}/ca.pem\n",
        result.stdout,
    )
    assert mode_of(out) == 0o700
    assert mode_of(out / "key.pem") == 0o600
    assert mode_of(out / "cert.pem") == 0o644
    assert mode_of(out / "ca.pem") == 0o644
    assert (out / "ca.pem").read_bytes() == (ca_dir / "ca.pem").read_bytes()
    certificate = load_cert(out / "cert.pem")
    assert format(certificate.serial_number, "X") in result.stdout
    certificate.verify_directly_issued_by(load_cert(ca_dir / "ca.pem"))
    expected = datetime.now(UTC) + timedelta(days=90)
    assert abs(certificate.not_valid_after_utc - expected) < timedelta(minutes=1)


def test_issue_operator_with_sans_and_days(ca_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "op"
    result = run(
        "certs", "issue", "--ca-dir", str(ca_dir), "--operator", "alice", "--out", str(out),
        "--days", "7", "--san", "ops.example,10.1.2.3", "--san", "ops.example",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "  SANs:        URI:spiffe://mesh.test/operator/alice, DNS:ops.example, IP:10.1.2.3\n"
        in result.stdout
    )
    certificate = load_cert(out / "cert.pem")
    assert single_spiffe_id(certificate) == "spiffe://mesh.test/operator/alice"
    expected = datetime.now(UTC) + timedelta(days=7)
    assert abs(certificate.not_valid_after_utc - expected) < timedelta(minutes=1)


def test_issue_valid_for_seconds(ca_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "short"
    result = run(
        "certs", "issue", "--ca-dir", str(ca_dir), "--site", "a", "--out", str(out),
        "--valid-for", "90s",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    certificate = load_cert(out / "cert.pem")
    remaining = certificate.not_valid_after_utc - datetime.now(UTC)
    assert timedelta(seconds=60) < remaining <= timedelta(seconds=90)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give exactly one of --site or --operator"),
        (["--site", "a", "--operator", "b"], "give exactly one of --site or --operator"),
        (
            ["--site", "Tokyo"],
            'invalid site id "Tokyo": must be 1 to 63 characters of lowercase letters, digits '
            "and '-', starting and ending with a letter or digit",
        ),
        (
            ["--operator", "-bob"],
            'invalid operator name "-bob": must be 1 to 63 characters of lowercase letters, '
            "digits and '-', starting and ending with a letter or digit",
        ),
        (
            ["--site", "a", "--days", "3", "--valid-for", "1h"],
            "--days and --valid-for are mutually exclusive",
        ),
        (
            ["--site", "a", "--days", "3651"],
            'invalid --days "3651": must be an integer from 1 to 3650',
        ),
        (["--site", "a", "--days", "0"], 'invalid --days "0": must be an integer from 1 to 3650'),
        (
            ["--site", "a", "--valid-for", "500ms"],
            'invalid --valid-for "500ms": must be a duration from 1s to 3650d',
        ),
        (
            ["--site", "a", "--valid-for", "3651d"],
            'invalid --valid-for "3651d": must be a duration from 1s to 3650d',
        ),
        (
            ["--site", "a", "--valid-for", "soon"],
            'invalid --valid-for "soon": must be a duration from 1s to 3650d',
        ),
        (
            ["--site", "a", "--san", "ok.example,*.example.com"],
            'invalid --san entry "*.example.com": wildcards are not allowed',
        ),
        (
            ["--site", "a", "--san", "under_score"],
            'invalid --san entry "under_score": not an IP address or a valid hostname',
        ),
    ],
)
def test_issue_usage_errors(ca_dir: Path, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out"
    assert_usage_error(
        run("certs", "issue", "--ca-dir", str(ca_dir), "--out", str(out), *args), message
    )
    assert not out.exists()


def test_issue_refuses_to_overwrite(ca_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "hub"
    assert (
        run("certs", "issue", "--ca-dir", str(ca_dir), "--site", "hub", "--out", str(out)).exit_code
        == 0
    )
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = run("certs", "issue", "--ca-dir", str(ca_dir), "--site", "hub", "--out", str(out))
    assert result.exit_code == 1
    assert result.stderr == f"error: {out}/cert.pem already exists; use --force to replace it\n"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_issue_force_replaces_atomically_in_order(
    ca_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "hub"
    assert (
        run("certs", "issue", "--ca-dir", str(ca_dir), "--site", "hub", "--out", str(out)).exit_code
        == 0
    )
    old_serial = load_cert(out / "cert.pem").serial_number
    old_inodes = {p.name: p.stat().st_ino for p in out.iterdir()}
    renames: list[tuple[str, int]] = []
    real_replace = os.replace

    def recording_replace(src: str, dst: str) -> None:
        # The temporary file lives next to the target and already has its final mode.
        assert os.path.dirname(src) == os.path.dirname(os.path.abspath(dst))
        renames.append((os.path.basename(dst), os.stat(src).st_mode & 0o777))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", recording_replace)
    result = run(
        "certs", "issue", "--ca-dir", str(ca_dir), "--site", "hub", "--out", str(out), "--force"
    )
    assert result.exit_code == 0, result.output
    assert renames == [("ca.pem", 0o644), ("key.pem", 0o600), ("cert.pem", 0o644)]
    assert sorted(p.name for p in out.iterdir()) == ["ca.pem", "cert.pem", "key.pem"]
    assert all(p.stat().st_ino != old_inodes[p.name] for p in out.iterdir())
    assert load_cert(out / "cert.pem").serial_number != old_serial
    assert mode_of(out / "key.pem") == 0o600


def test_issue_shortened_to_the_ca(tmp_path: Path) -> None:
    ca = tmp_path / "ca"
    assert (
        run("certs", "init", "--trust-domain", "d", "--out", str(ca), "--days", "30").exit_code == 0
    )
    result = run("certs", "issue", "--ca-dir", str(ca), "--site", "a", "--out", str(tmp_path / "a"))
    assert result.exit_code == 0
    ca_expiry = load_cert(ca / "ca.pem").not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert result.stderr == f"warning: validity shortened to the CA's expiry {ca_expiry}\n"
    assert f"  valid until: {ca_expiry}\n" in result.stdout


def test_issue_ca_key_mode_is_checked(ca_dir: Path, tmp_path: Path) -> None:
    (ca_dir / "ca.key").chmod(0o644)
    result = run(
        "certs", "issue", "--ca-dir", str(ca_dir), "--site", "a", "--out", str(tmp_path / "a")
    )
    key = f"{ca_dir}/ca.key"
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: private key {key} has mode 0644; it must not be readable by group or others "
        f"(run: chmod 600 {key})\n"
    )


def test_issue_needs_a_trust_domain_uri(tmp_path: Path) -> None:
    key = generate_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "foreign CA")])
    now = datetime.now(UTC)
    foreign = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    ca = tmp_path / "ca"
    ca.mkdir()
    write_new_file(ca / "ca.pem", certificate_pem(foreign), 0o644)
    write_new_file(ca / "ca.key", private_key_pem(key), 0o600)
    result = run("certs", "issue", "--ca-dir", str(ca), "--site", "a", "--out", str(tmp_path / "a"))
    assert result.exit_code == 1
    assert result.stderr == (
        f'error: {ca}/ca.pem has no spiffe:// trust domain URI; was it made by "certs init"?\n'
    )


def test_issue_missing_ca(tmp_path: Path) -> None:
    result = run(
        "certs", "issue", "--ca-dir", str(tmp_path), "--site", "a", "--out", str(tmp_path / "a")
    )
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path}/ca.pem not found\n"


def _write_csr(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "admin")]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("evil.example")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(csr.public_bytes(serialization.Encoding.PEM))


def test_issue_from_csr(ca_dir: Path, tmp_path: Path) -> None:
    key = generate_key()
    csr = tmp_path / "req.csr"
    _write_csr(csr, key)
    out = tmp_path / "edge"
    result = run(
        "certs", "issue", "--ca-dir", str(ca_dir), "--site", "edge-1", "--out", str(out),
        "--csr", str(csr),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"  files:       {out}/cert.pem, {out}/ca.pem\n" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["ca.pem", "cert.pem"]
    certificate = load_cert(out / "cert.pem")
    assert certificate.public_key() == key.public_key()
    assert certificate.subject.rfc4514_string() == "CN=edge-1,O=mesh.test"
    assert "evil.example" not in result.stdout


def test_issue_csr_with_bad_signature(ca_dir: Path, tmp_path: Path) -> None:
    csr = tmp_path / "req.csr"
    _write_csr(csr, generate_key())
    der = bytearray(
        x509.load_pem_x509_csr(csr.read_bytes()).public_bytes(serialization.Encoding.DER)
    )
    index = der.index(b"admin")
    der[index : index + 5] = b"root!"
    csr.write_bytes(x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM))
    result = run(
        "certs", "issue", "--ca-dir", str(ca_dir), "--site", "a", "--out", str(tmp_path / "a"),
        "--csr", str(csr),
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr == f"error: {csr}: CSR signature is invalid\n"
    assert not (tmp_path / "a").exists()


def test_issue_csr_with_rsa_key(ca_dir: Path, tmp_path: Path) -> None:
    csr = tmp_path / "req.csr"
    _write_csr(csr, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    result = run(
        "certs", "issue", "--ca-dir", str(ca_dir), "--site", "a", "--out", str(tmp_path / "a"),
        "--csr", str(csr),
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr == f"error: {csr}: CSR key must be EC P-256\n"


# --- inspect -------------------------------------------------------------------------------------


@pytest.fixture
def site_dir(ca_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "tokyo"
    result = run("certs", "issue", "--ca-dir", str(ca_dir), "--site", "tokyo", "--out", str(out))
    assert result.exit_code == 0
    return out


def test_inspect_table_with_chain_ok(site_dir: Path, ca_dir: Path) -> None:
    result = run("certs", "inspect", str(site_dir / "cert.pem"), "--ca-dir", str(ca_dir))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    serial = format(load_cert(site_dir / "cert.pem").serial_number, "X")
    assert lines[0] == "subject: CN=tokyo,O=mesh.test"
    assert "spiffe id: spiffe://mesh.test/site/tokyo" in lines
    assert "kind: site" in lines
    assert (
        "SANs: URI:spiffe://mesh.test/site/tokyo, DNS:tokyo, DNS:localhost, IP:127.0.0.1, IP:::1"
        in lines
    )
    assert "EKUs: serverAuth, clientAuth" in lines
    assert f"serial: {serial}" in lines
    assert "issuer: CN=symphony-mesh CA,O=mesh.test" in lines
    assert any(re.fullmatch(f"not before: {TIME}", line) for line in lines)
    assert any(re.fullmatch(f"not after: {TIME}", line) for line in lines)
    assert any(re.fullmatch("sha256 fingerprint: [0-9A-F]{64}", line) for line in lines)
    assert lines[-1] == "chain: ok"


def test_inspect_ca_kind(ca_dir: Path) -> None:
    result = run("certs", "inspect", str(ca_dir / "ca.pem"))
    assert result.exit_code == 0
    assert "kind: CA" in result.stdout.splitlines()
    assert "chain:" not in result.stdout


def test_inspect_not_signed(site_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert run("certs", "init", "--trust-domain", "mesh.test", "--out", str(other)).exit_code == 0
    result = run("certs", "inspect", str(site_dir / "cert.pem"), "--ca-dir", str(other))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == f"chain: NOT signed by {other}/ca.pem"
    assert result.stderr == (
        f"error: certificate {site_dir}/cert.pem is not signed by a CA in {other}/ca.pem\n"
    )


def test_inspect_expired(pki: Pki, tmp_path: Path) -> None:
    issued = pki.site("old", valid_for=timedelta(days=1), now=datetime(2020, 1, 1, tzinfo=UTC))
    path = tmp_path / "old.pem"
    path.write_bytes(certificate_pem(issued.certificate))
    result = run("certs", "inspect", str(path))
    assert result.exit_code == 1
    assert "not after: 2020-01-02T00:00:00Z" in result.stdout.splitlines()
    assert result.stderr == f"error: certificate {path} expired at 2020-01-02T00:00:00Z\n"


@pytest.mark.parametrize("position", ["leaf", "root"])
def test_inspect_json(site_dir: Path, ca_dir: Path, position: str) -> None:
    args = ["certs", "inspect", str(site_dir / "cert.pem"), "--ca-dir", str(ca_dir)]
    result = run(*([*args, "-o", "json"] if position == "leaf" else ["-o", "json", *args]))
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["spiffeId"] == "spiffe://mesh.test/site/tokyo"
    assert document["kind"] == "site"
    assert document["chain"] == "ok"
    assert document["expired"] is False
    assert document["ekus"] == ["serverAuth", "clientAuth"]
    assert re.fullmatch(HEX, document["serial"])


def test_inspect_yaml(site_dir: Path) -> None:
    result = run("certs", "inspect", str(site_dir / "cert.pem"), "-o", "yaml")
    assert result.exit_code == 0
    document = yaml.safe_load(result.stdout)
    assert document["subject"] == "CN=tokyo,O=mesh.test"
    assert "chain" not in document


def test_inspect_unreadable(tmp_path: Path) -> None:
    (tmp_path / "x.pem").write_bytes(b"nope")
    result = run("certs", "inspect", str(tmp_path / "x.pem"))
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot parse {tmp_path}/x.pem: not a PEM or DER certificate\n"
    result = run("certs", "inspect", str(tmp_path / "missing.pem"))
    assert result.stderr == f"error: {tmp_path}/missing.pem not found\n"


# --- as a real process ---------------------------------------------------------------------------


def _process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "symphony_mesh", "certs", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_subprocess_round_trip(tmp_path: Path) -> None:
    init = _process("init", "--trust-domain", "mesh.example", "--out", "ca", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert init.stdout.startswith(
        "created CA for trust domain mesh.example\n  certificate: ca/ca.pem"
    )
    issue = _process("issue", "--ca-dir", "ca", "--operator", "ops", "--out", "op", cwd=tmp_path)
    assert issue.returncode == 0, issue.stderr
    assert (
        issue.stdout.splitlines()[-1]
        == "  files:       op/cert.pem, op/key.pem (mode 0600), op/ca.pem"
    )
    inspect = _process("inspect", "op/cert.pem", "--ca-dir", "ca", "-o", "json", cwd=tmp_path)
    assert inspect.returncode == 0, inspect.stderr
    assert json.loads(inspect.stdout)["kind"] == "operator"


def test_subprocess_errors(tmp_path: Path) -> None:
    usage = _process("issue", "--ca-dir", "ca", "--out", "x", cwd=tmp_path)
    assert usage.returncode == 2
    assert usage.stderr == "error: give exactly one of --site or --operator\n"
    failure = _process("issue", "--ca-dir", "ca", "--site", "a", "--out", "x", cwd=tmp_path)
    assert failure.returncode == 1
    assert failure.stderr == "error: ca/ca.pem not found\n"
