"""A gRPC channel to a test node with an operator's (or any) TLS directory."""

from __future__ import annotations

from pathlib import Path

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

__all__ = ["error_reason", "secure_channel"]


def secure_channel(address: str, tls_dir: Path) -> grpc.Channel:
    """A blocking channel presenting the certificate in `tls_dir`."""
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(tls_dir / "ca.pem").read_bytes(),
        private_key=(tls_dir / "key.pem").read_bytes(),
        certificate_chain=(tls_dir / "cert.pem").read_bytes(),
    )
    return grpc.secure_channel(address, credentials)


def error_reason(error: grpc.RpcError) -> str:
    """The `google.rpc.ErrorInfo` reason of a failed call, sync or asyncio ("" when none)."""
    # AioRpcError offers the same code/details/trailing_metadata as a sync grpc.Call.
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is None:
        return ""
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            assert info.domain == "symphony.mesh"
            return str(info.reason)
    return ""
