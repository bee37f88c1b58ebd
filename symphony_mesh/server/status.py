"""Domain errors to gRPC statuses with `google.rpc.ErrorInfo` (federation.md API-40).

Every `MeshError` becomes its status code, its one-line message, and details holding an
`ErrorInfo` (domain `symphony.mesh`, the reason, lowerCamelCase metadata) plus a `BadRequest`
when the error lists field violations. Anything else is an internal error: the client gets
`internal error (ref <uuid4>); see the node log` and the node logs the traceback with that ref.
"""

from __future__ import annotations

import uuid

import grpc
import structlog
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from symphony_mesh.errors import DOMAIN, MeshError

__all__ = ["internal_status", "to_grpc_status"]

log = structlog.get_logger("symphony_mesh.server")


def _pack(message: error_details_pb2.ErrorInfo | error_details_pb2.BadRequest) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_grpc_status(error: MeshError) -> grpc.Status:
    """The status (code, message, detail trailers) a client receives for `error`."""
    code = grpc.StatusCode[error.code]
    details = [
        _pack(
            error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN, metadata=error.metadata)
        )
    ]
    if error.violations:
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=v.field, description=v.description
                        )
                        for v in error.violations
                    ]
                )
            )
        )
    proto = status_pb2.Status(code=code.value[0], message=error.message, details=details)
    return rpc_status.to_status(proto)


def internal_status(exc: BaseException, method: str) -> grpc.Status:
    """An INTERNAL status with a reference; the traceback goes only to the node log."""
    ref = str(uuid.uuid4())
    log.error("rpc.internal_error", method=method, ref=ref, exc_info=exc)
    proto = status_pb2.Status(
        code=code_pb2.INTERNAL,
        message=f"internal error (ref {ref}); see the node log",
        details=[
            _pack(
                error_details_pb2.ErrorInfo(
                    reason="INTERNAL_ERROR", domain=DOMAIN, metadata={"ref": ref}
                )
            )
        ],
    )
    return rpc_status.to_status(proto)
