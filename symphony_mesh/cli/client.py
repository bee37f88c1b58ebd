"""The CLI's connection to a node: transport choice, pre-flight, deadlines, retries (API-6, CFG-50).

`Client.call(stub_method, request)` performs one unary call with a 30 s deadline. A call that fails
with UNAVAILABLE (not a TLS verification failure) is tried again, at most 3 attempts with waits of
0.2 s and 0.4 s; every mutating RPC is idempotent, so this is safe. Failures come back as
`CliError`s carrying the exact line and exit code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from symphony_mesh.cli.errors import (
    EXIT_USAGE,
    CliError,
    Connection,
    RpcFailure,
    from_rpc_error,
    is_tls_verification_failure,
)
from symphony_mesh.cli.options import GlobalOptions
from symphony_mesh.security.credentials import channel_credentials, target_name_options
from symphony_mesh.security.material import MaterialError, preflight_client_material
from symphony_mesh.server.config import is_loopback_host, split_host_port

__all__ = ["Client"]

R = TypeVar("R")

DEFAULT_DEADLINE = 30.0
RETRY_WAITS = (0.2, 0.4)
MAX_RECEIVE_BYTES = 64 * 1024 * 1024


class Client:
    """A channel to the node named by the global options; use as a context manager."""

    def __init__(self, options: GlobalOptions) -> None:
        try:
            host, _ = split_host_port(options.server)
        except ValueError as exc:
            raise CliError(f"--server: {exc}", EXIT_USAGE) from None
        tls_dir = str(options.tls_dir) if options.tls_dir is not None else None
        self.connection = Connection(options.server, options.tls_server_name or host, tls_dir)
        channel_options: list[tuple[str, Any]] = [
            ("grpc.max_receive_message_length", MAX_RECEIVE_BYTES),
            ("grpc.max_send_message_length", MAX_RECEIVE_BYTES),
        ]
        if tls_dir is not None and options.insecure:
            raise CliError("--tls-dir and --insecure are mutually exclusive", EXIT_USAGE)
        if tls_dir is not None:
            try:
                material = preflight_client_material(tls_dir)
            except MaterialError as exc:
                raise CliError(str(exc), exc.exit_code) from None
            channel_options += target_name_options(options.tls_server_name)
            self.channel = grpc.secure_channel(
                options.server, channel_credentials(material), channel_options
            )
        elif options.insecure or is_loopback_host(host):
            self.channel = grpc.insecure_channel(options.server, channel_options)
        else:
            raise CliError(
                f"--server {options.server} is not a loopback address; "
                "pass --tls-dir DIR or --insecure",
                EXIT_USAGE,
            )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel; idempotent."""
        self.channel.close()

    def call(
        self,
        method: Callable[..., R],
        request: Any,
        *,
        timeout: float = DEFAULT_DEADLINE,
        not_found_after_retry_ok: bool = False,
    ) -> R | None:
        """One unary call with API-6 retries; None only for a retried delete that found nothing."""
        for attempt, wait in enumerate((*RETRY_WAITS, None)):
            try:
                return method(request, timeout=timeout)
            except grpc.RpcError as error:
                failure = from_rpc_error(error, self.connection)
                details = (error.details() if isinstance(error, grpc.Call) else "") or ""
            if (
                attempt > 0
                and not_found_after_retry_ok
                and failure.code is grpc.StatusCode.NOT_FOUND
            ):
                return None
            if not _retryable(failure, details) or wait is None:
                raise failure
            time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


def _retryable(failure: RpcFailure, details: str) -> bool:
    if failure.code is not grpc.StatusCode.UNAVAILABLE or failure.reason:
        return False
    return not is_tls_verification_failure(details)
