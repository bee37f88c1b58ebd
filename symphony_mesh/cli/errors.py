"""How the CLI reports failures: one `error: ...` line on stderr and an exit code (API-42, SEC-47).

    CliError (click.ClickException)   one line, exit 1 unless said otherwise
    └── ValidationFailed               several `error: <doc>: <path>: <reason>` lines, exit 1

`from_rpc_error` turns a failed call into a `CliError`: server answers with `ErrorInfo` print
`error: <message> (<REASON>)`; answers without it `error: <message> (<CODE>)`; connection and TLS
failures the texts of federation.md SEC-47 with exit 3.
"""

from __future__ import annotations

import click
import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

__all__ = [
    "EXIT_FAILED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "CliError",
    "Connection",
    "RpcFailure",
    "from_rpc_error",
]

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


class CliError(click.ClickException):
    """A failure printed as `error: <message>` lines (no `Error:` prefix, no usage text)."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED, lines: list[str] | None = None):
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance
        self.lines = lines if lines is not None else [message]

    def show(self, file: object = None) -> None:
        for line in self.lines:
            click.echo(f"error: {line}", err=True)


class RpcFailure(CliError):
    """A server answer that is an error; keeps the code and reason for callers that care."""

    def __init__(
        self,
        message: str,
        code: grpc.StatusCode,
        reason: str,
        exit_code: int,
        lines: list[str] | None = None,
    ):
        super().__init__(message, exit_code, lines)
        self.code = code
        self.reason = reason


class Connection:
    """Where and how the CLI connected, for the connection-failure texts."""

    def __init__(self, server: str, host: str, tls_dir: str | None) -> None:
        self.server = server
        self.host = host
        self.tls_dir = tls_dir


def _transport_message(details: str, code: grpc.StatusCode, conn: Connection) -> str:
    """SEC-47: the first matching row, case-insensitively."""
    text = details.lower()
    server, host, tls_dir = conn.server, conn.host, conn.tls_dir
    if "connection refused" in text:
        return (
            f"cannot connect to {server}: connection refused "
            "(is the node running and listening there?)"
        )
    if "domain name not found" in text or "errors resolving" in text:
        return f"cannot resolve host {host}"
    if "wrong_version_number" in text:
        return (
            f"{server} does not speak TLS; the node probably runs with --insecure "
            "(then use --insecure)"
        )
    if "hostname verification check failed" in text:
        return (
            f'the server certificate of {server} does not cover the name "{host}"; use a name '
            "or IP from its SANs or pass --tls-server-name NAME"
        )
    if "certificate has expired" in text:
        return f"the server certificate of {server} has expired"
    if "certificate is not yet valid" in text:
        return f"the server certificate of {server} is not yet valid (check the clocks)"
    if "unsupported certificate purpose" in text:
        return (
            f"the server certificate of {server} is not valid for TLS servers (missing serverAuth)"
        )
    if "unable to get local issuer certificate" in text or "certificate_verify_failed" in text:
        return f"the server certificate of {server} is not signed by a CA in {tls_dir}/ca.pem"
    if ("socket closed" in text or "connection reset" in text) and tls_dir is not None:
        return (
            f"{server} closed the connection during the TLS handshake; it does not accept the "
            f"client certificate {tls_dir}/cert.pem (another CA, or expired by the server's clock?)"
        )
    if "socket closed" in text:
        return (
            f"{server} closed the connection; it probably requires mutual TLS (use --tls-dir DIR)"
        )
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"no answer from {server} within 10s"
    return f"cannot reach {server}: {details}"


def is_tls_verification_failure(details: str) -> bool:
    """Failures that retrying cannot fix (API-6: never retried)."""
    text = details.lower()
    return any(
        marker in text
        for marker in (
            "wrong_version_number",
            "hostname verification check failed",
            "certificate has expired",
            "certificate is not yet valid",
            "unsupported certificate purpose",
            "unable to get local issuer certificate",
            "certificate_verify_failed",
        )
    )


def from_rpc_error(error: grpc.RpcError, conn: Connection) -> RpcFailure:
    """The CLI failure for a failed call."""
    assert isinstance(error, grpc.Call)
    code = error.code()
    details = error.details() or ""
    status = rpc_status.from_call(error)
    reason = ""
    violations: list[str] = []
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason = info.reason
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                violations = [f"{v.field}: {v.description}" for v in bad.field_violations]
    if reason == "VALIDATION_FAILED" and violations:
        return RpcFailure(details, code, reason, EXIT_FAILED, lines=violations)
    if reason:
        exit_code = EXIT_UNREACHABLE if code is grpc.StatusCode.UNAUTHENTICATED else EXIT_FAILED
        return RpcFailure(f"{details} ({reason})", code, reason, exit_code)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return RpcFailure(_transport_message(details, code, conn), code, "", EXIT_UNREACHABLE)
    if code is grpc.StatusCode.UNAUTHENTICATED:
        return RpcFailure(f"{details} ({code.name})", code, "", EXIT_UNREACHABLE)
    return RpcFailure(f"{details} ({code.name})", code, "", EXIT_FAILED)
