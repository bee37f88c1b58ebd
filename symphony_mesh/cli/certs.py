"""`symphony-mesh certs init|issue|inspect`: the development and small-fleet PKI (SEC-11/12/13).

The commands are thin: argument checks and the exact texts live here, certificate building and
file writing in `symphony_mesh.security.pki`. Every failure is one `error: ...` line on stderr;
usage errors (bad or missing arguments) exit 2, every other failure exits 1.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from symphony_mesh.cli.errors import EXIT_FAILED, EXIT_USAGE, CliError
from symphony_mesh.cli.options import get_options, global_options
from symphony_mesh.model.durations import DurationError, format_time, parse_duration
from symphony_mesh.security.identity import (
    SpiffeId,
    invalid_name_message,
    invalid_trust_domain_message,
    is_valid_name,
    is_valid_trust_domain,
)
from symphony_mesh.security.material import MaterialError, check_key_file_mode
from symphony_mesh.security.pki import (
    CA_CERT_FILE,
    CA_KEY_FILE,
    CERT_FILE,
    KEY_FILE,
    CertificateInfo,
    PkiError,
    SanError,
    ca_trust_domain,
    certificate_pem,
    create_ca,
    ensure_private_directory,
    find_issuer,
    format_general_name,
    inspect_certificate,
    issue_certificate,
    key_matches_certificate,
    load_certificates,
    load_ec_private_key,
    parse_san_entries,
    private_key_pem,
    public_key_from_csr,
    replace_file,
    write_new_file,
)

__all__ = ["certs"]

MAX_CA_DAYS = 7300
MAX_LEAF_DAYS = 3650
DEFAULT_CA_DAYS = 3650
DEFAULT_LEAF_DAYS = 90
MIN_VALID_FOR_SECONDS = 1.0
MAX_VALID_FOR_SECONDS = 3650 * 86400.0


def _usage(message: str) -> CliError:
    return CliError(message, EXIT_USAGE)


def _one_line(error: click.UsageError) -> CliError:
    # click's own texts ("Missing option '--out'.") in the product's one-line form.
    text = error.format_message().rstrip(".")
    return _usage(text[:1].lower() + text[1:])


class _Command(click.Command):
    """A command whose usage errors print one `error:` line and exit 2 (no usage block)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise _one_line(exc) from None


class _Group(click.Group):
    """The `certs` group, with the same one-line usage errors (unknown subcommand, ...)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise _one_line(exc) from None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            raise _one_line(exc) from None


@click.group("certs", cls=_Group)
def certs() -> None:
    """Make the mesh CA, issue site and operator certificates, inspect certificates."""


# --- argument helpers ----------------------------------------------------------------------------


def _days(text: str | None, default: int, maximum: int) -> timedelta:
    if text is None:
        return timedelta(days=default)
    if not text.isdecimal() or not 1 <= int(text) <= maximum:
        raise _usage(f'invalid --days "{text}": must be an integer from 1 to {maximum}')
    return timedelta(days=int(text))


def _valid_for(text: str) -> timedelta:
    try:
        seconds = parse_duration(text, positive=True)
    except DurationError:
        seconds = -1.0
    if not MIN_VALID_FOR_SECONDS <= seconds <= MAX_VALID_FOR_SECONDS:
        raise _usage(f'invalid --valid-for "{text}": must be a duration from 1s to 3650d')
    return timedelta(seconds=seconds)


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except FileNotFoundError:
        raise CliError(f"{path} not found") from None
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None


def _mkdir(path: str) -> None:
    try:
        ensure_private_directory(path)
    except OSError as exc:
        raise CliError(f"cannot create {path}: {exc.strerror or exc}") from None


def _now() -> datetime:
    return datetime.now(UTC)


# --- certs init ----------------------------------------------------------------------------------


@certs.command("init", cls=_Command, help="Create a mesh CA: DIR/ca.pem and DIR/ca.key.")
@click.option("--trust-domain", "trust_domain", required=True, metavar="D", help="Trust domain.")
@click.option("--out", required=True, metavar="DIR", help="Directory for ca.pem and ca.key.")
@click.option("--days", metavar="N", help="Validity in days, 1 to 7300 (default 3650).")
@global_options
def init_command(trust_domain: str, out: str, days: str | None) -> None:
    """Create a mesh CA: DIR/ca.pem and DIR/ca.key (SEC-11)."""
    if not is_valid_trust_domain(trust_domain):
        raise _usage(invalid_trust_domain_message(trust_domain))
    validity = _days(days, DEFAULT_CA_DAYS, MAX_CA_DAYS)
    key_path = os.path.join(out, CA_KEY_FILE)
    cert_path = os.path.join(out, CA_CERT_FILE)
    for path in (key_path, cert_path):
        if os.path.lexists(path):
            raise CliError(f"{path} already exists; refusing to overwrite a CA")
    _mkdir(out)
    certificate, key = create_ca(trust_domain, valid_for=validity, now=_now())
    for path, data, mode in (
        (key_path, private_key_pem(key), 0o600),
        (cert_path, certificate_pem(certificate), 0o644),
    ):
        try:
            write_new_file(path, data, mode)
        except FileExistsError:
            raise CliError(f"{path} already exists; refusing to overwrite a CA") from None
        except OSError as exc:
            raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"created CA for trust domain {trust_domain}")
    click.echo(
        f"  certificate: {cert_path} (valid until {format_time(certificate.not_valid_after_utc)})"
    )
    click.echo(f"  private key: {key_path} (mode 0600; keep it offline)")


# --- certs issue ---------------------------------------------------------------------------------


def _load_ca(ca_dir: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, str, bytes]:
    """The issuing CA (first certificate of ca.pem), its key, its trust domain, the bundle."""
    cert_path = os.path.join(ca_dir, CA_CERT_FILE)
    key_path = os.path.join(ca_dir, CA_KEY_FILE)
    bundle = _read_bytes(cert_path)
    try:
        ca_certificate = load_certificates(bundle)[0]
    except ValueError:
        raise CliError(f"cannot parse {cert_path}: no PEM certificate") from None
    try:
        check_key_file_mode(key_path)
    except MaterialError as exc:
        raise CliError(exc.message) from None
    try:
        ca_key = load_ec_private_key(_read_bytes(key_path))
    except ValueError as exc:
        raise CliError(f"cannot parse {key_path}: {exc}") from None
    if not key_matches_certificate(ca_certificate, ca_key):
        raise CliError(f"{key_path} does not match the first certificate in {cert_path}")
    trust_domain = ca_trust_domain(ca_certificate)
    if trust_domain is None:
        raise CliError(
            f'{cert_path} has no spiffe:// trust domain URI; was it made by "certs init"?'
        )
    if ca_certificate.not_valid_after_utc <= _now():
        raise CliError(
            f"the CA in {cert_path} expired at {format_time(ca_certificate.not_valid_after_utc)}"
        )
    return ca_certificate, ca_key, trust_domain, bundle


def _write_outputs(out: str, files: list[tuple[str, bytes, int]], force: bool) -> None:
    """Write `files` into `out` in the given order; without `force` none may exist yet."""
    if not force:
        # Report cert.pem first: it is what a reader of the message looks for.
        names = [name for name, _, _ in files]
        for name in sorted(names, key=[CERT_FILE, KEY_FILE, CA_CERT_FILE].index):
            path = os.path.join(out, name)
            if os.path.lexists(path):
                raise CliError(f"{path} already exists; use --force to replace it")
    _mkdir(out)
    for name, data, mode in files:
        path = os.path.join(out, name)
        try:
            if force:
                replace_file(path, data, mode)
            else:
                write_new_file(path, data, mode)
        except FileExistsError:
            raise CliError(f"{path} already exists; use --force to replace it") from None
        except OSError as exc:
            raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None


@certs.command(
    "issue", cls=_Command, help="Issue a site or operator certificate signed by the CA in DIR."
)
@click.option("--ca-dir", "ca_dir", required=True, metavar="DIR", help="Directory of the CA.")
@click.option("--site", metavar="ID", help="Issue a site certificate for this site id.")
@click.option("--operator", metavar="NAME", help="Issue an operator certificate.")
@click.option("--out", required=True, metavar="OUT", help="Directory for the new files.")
@click.option("--days", metavar="N", help="Validity in days, 1 to 3650 (default 90).")
@click.option(
    "--valid-for",
    "valid_for",
    metavar="DURATION",
    help="Validity as a duration, 1s to 3650d (for tests).",
)
@click.option("--san", "sans", multiple=True, metavar="HOST,...", help="Extra DNS or IP SANs.")
@click.option("--csr", metavar="FILE", help="Sign this PEM CSR instead of making a key.")
@click.option("--force", is_flag=True, help="Replace existing files atomically.")
@global_options
def issue_command(
    ca_dir: str,
    site: str | None,
    operator: str | None,
    out: str,
    days: str | None,
    valid_for: str | None,
    sans: tuple[str, ...],
    csr: str | None,
    force: bool,
) -> None:
    """Issue a site or operator certificate signed by the CA in DIR (SEC-12)."""
    if (site is None) == (operator is None):
        raise _usage("give exactly one of --site or --operator")
    name = site if site is not None else operator
    assert name is not None
    what = "site id" if site is not None else "operator name"
    if not is_valid_name(name):
        raise _usage(invalid_name_message(what, name))
    if days is not None and valid_for is not None:
        raise _usage("--days and --valid-for are mutually exclusive")
    if valid_for is not None:
        validity = _valid_for(valid_for)
    else:
        validity = _days(days, DEFAULT_LEAF_DAYS, MAX_LEAF_DAYS)
    try:
        extra_sans = parse_san_entries(sans)
    except SanError as exc:
        raise _usage(str(exc)) from None

    ca_certificate, ca_key, trust_domain, bundle = _load_ca(ca_dir)
    public_key = None
    if csr is not None:
        try:
            public_key = public_key_from_csr(_read_bytes(csr), csr)
        except PkiError as exc:
            raise CliError(exc.message) from None
    identity = (
        SpiffeId.site(trust_domain, name)
        if site is not None
        else SpiffeId.operator(trust_domain, name)
    )
    issued = issue_certificate(
        ca_certificate,
        ca_key,
        identity,
        valid_for=validity,
        extra_sans=extra_sans,
        public_key=public_key,
        now=_now(),
    )
    outputs = [(CA_CERT_FILE, bundle, 0o644)]
    if issued.private_key is not None:
        outputs.append((KEY_FILE, private_key_pem(issued.private_key), 0o600))
    outputs.append((CERT_FILE, certificate_pem(issued.certificate), 0o644))
    _write_outputs(out, outputs, force)

    certificate = issued.certificate
    not_after = format_time(certificate.not_valid_after_utc)
    if issued.shortened:
        click.echo(f"warning: validity shortened to the CA's expiry {not_after}", err=True)
    san_extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    files = [os.path.join(out, CERT_FILE)]
    if issued.private_key is not None:
        files.append(f"{os.path.join(out, KEY_FILE)} (mode 0600)")
    files.append(os.path.join(out, CA_CERT_FILE))
    click.echo(f"issued {identity}")
    click.echo(f"  serial:      {format(certificate.serial_number, 'X')}")
    click.echo(f"  valid until: {not_after}")
    click.echo(f"  SANs:        {', '.join(format_general_name(n) for n in san_extension.value)}")
    click.echo(f"  files:       {', '.join(files)}")


# --- certs inspect -------------------------------------------------------------------------------


def _load_inspected(path: str) -> list[x509.Certificate]:
    data = _read_bytes(path)
    try:
        return load_certificates(data)
    except ValueError:
        pass
    try:
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise CliError(f"cannot parse {path}: not a PEM or DER certificate") from None


def _document(path: str, info: CertificateInfo, chain: str | None, expired: bool) -> dict[str, Any]:
    document: dict[str, Any] = {
        "file": path,
        "subject": info.subject,
        "spiffeId": info.spiffe_id,
        "kind": info.kind,
        "sans": list(info.sans),
        "ekus": list(info.ekus),
        "notBefore": format_time(info.not_before),
        "notAfter": format_time(info.not_after),
        "serial": info.serial,
        "sha256Fingerprint": info.sha256_fingerprint,
        "issuer": info.issuer,
        "expired": expired,
    }
    if chain is not None:
        document["chain"] = chain
    return document


def _table(info: CertificateInfo, chain: str | None) -> list[str]:
    # `label: value` with one space, so that `chain: ok` reads exactly as SEC-13 writes it.
    lines = [
        f"subject: {info.subject}",
        f"spiffe id: {info.spiffe_id or '-'}",
        f"kind: {info.kind}",
        f"SANs: {', '.join(info.sans) or '-'}",
        f"EKUs: {', '.join(info.ekus) or '-'}",
        f"not before: {format_time(info.not_before)}",
        f"not after: {format_time(info.not_after)}",
        f"serial: {info.serial}",
        f"sha256 fingerprint: {info.sha256_fingerprint}",
        f"issuer: {info.issuer}",
    ]
    if chain is not None:
        lines.append(f"chain: {chain}")
    return lines


@certs.command(
    "inspect",
    cls=_Command,
    help="Show a certificate; with --ca-dir, check that a CA in DIR/ca.pem signed it.",
)
@click.argument("file", metavar="FILE")
@click.option("--ca-dir", "ca_dir", metavar="DIR", help="Also check the chain to DIR/ca.pem.")
@global_options
def inspect_command(file: str, ca_dir: str | None) -> None:
    """Show a certificate; with --ca-dir, whether a CA in DIR/ca.pem signed it (SEC-13)."""
    chain_certificates = _load_inspected(file)
    certificate = chain_certificates[0]
    info = inspect_certificate(certificate)
    chain: str | None = None
    failures: list[str] = []
    if ca_dir is not None:
        bundle_path = os.path.join(ca_dir, CA_CERT_FILE)
        try:
            bundle = load_certificates(_read_bytes(bundle_path))
        except ValueError:
            raise CliError(f"cannot parse {bundle_path}: no PEM certificate") from None
        if find_issuer(certificate, bundle, chain_certificates[1:]) is not None:
            chain = "ok"
        else:
            chain = f"NOT signed by {bundle_path}"
            failures.append(f"certificate {file} is not signed by a CA in {bundle_path}")
    expired = info.expired(_now())
    if expired:
        failures.append(f"certificate {file} expired at {format_time(info.not_after)}")

    output = get_options().output
    if output == "json":
        click.echo(json.dumps(_document(file, info, chain, expired), indent=2))
    elif output == "yaml":
        click.echo(yaml.safe_dump(_document(file, info, chain, expired), sort_keys=False), nl=False)
    else:
        click.echo("\n".join(_table(info, chain)))
    if failures:
        raise CliError(failures[0], EXIT_FAILED, lines=failures)
