"""The domain errors of symphony-mesh.

Every error the product raises on purpose is a `MeshError`. Each carries the gRPC status code it
maps to, an UPPER_SNAKE_CASE reason (federation.md API-41) and lowerCamelCase metadata; the server's
error interceptor turns it into a status with `google.rpc.ErrorInfo`, and the CLI turns that back
into one `error: <message> (<REASON>)` line. The layers below the server never import grpc, so the
code is kept as the name of a `grpc.StatusCode` member.

    MeshError
    ├── ValidationError          INVALID_ARGUMENT (with field violations)
    ├── InvalidArgumentError     INVALID_ARGUMENT
    ├── NotFoundError            NOT_FOUND
    ├── AlreadyExistsError       ALREADY_EXISTS
    ├── FailedPreconditionError  FAILED_PRECONDITION
    ├── ConflictError            ABORTED
    ├── UnauthenticatedError     UNAUTHENTICATED
    ├── PermissionDeniedError    PERMISSION_DENIED
    ├── ResourceExhaustedError   RESOURCE_EXHAUSTED
    │   └── StoreFullError
    ├── UnavailableError         UNAVAILABLE
    │   └── StoreBusyError
    └── UnimplementedError       UNIMPLEMENTED (capabilities still to come)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "AlreadyExistsError",
    "ConflictError",
    "FailedPreconditionError",
    "FieldViolation",
    "InvalidArgumentError",
    "MeshError",
    "NotFoundError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "StoreBusyError",
    "StoreFullError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "ValidationError",
]

DOMAIN = "symphony.mesh"


@dataclass(frozen=True)
class FieldViolation:
    """One violation of a request field: rendered as `google.rpc.BadRequest.FieldViolation`."""

    field: str
    """Where: for documents `<kind>/<name>: <field path>`, for requests the request field."""
    description: str
    """Why, in the exact words of the spec."""


class MeshError(Exception):
    """Base of every deliberate error; the message is one developer-facing line."""

    code: str = "UNKNOWN"
    """Name of the `grpc.StatusCode` member this error maps to."""

    def __init__(
        self,
        message: str,
        reason: str,
        *,
        metadata: Mapping[str, str] | None = None,
        violations: Sequence[FieldViolation] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})
        self.violations: tuple[FieldViolation, ...] = tuple(violations)

    def __str__(self) -> str:
        return self.message


class ValidationError(MeshError):
    """Documents or request fields are invalid; `violations` lists every problem."""

    code = "INVALID_ARGUMENT"


class InvalidArgumentError(MeshError):
    """A request argument is malformed (a name, a page token, a stage, ...)."""

    code = "INVALID_ARGUMENT"


class NotFoundError(MeshError):
    """The object a request names does not exist."""

    code = "NOT_FOUND"


class AlreadyExistsError(MeshError):
    """An object with this name exists with a different spec."""

    code = "ALREADY_EXISTS"


class FailedPreconditionError(MeshError):
    """The object is not in a state that allows the operation."""

    code = "FAILED_PRECONDITION"


class ConflictError(MeshError):
    """A compare-and-set kept losing against concurrent writers."""

    code = "ABORTED"


class UnauthenticatedError(MeshError):
    """The caller's identity could not be established."""

    code = "UNAUTHENTICATED"


class PermissionDeniedError(MeshError):
    """The caller is known but not allowed to do this."""

    code = "PERMISSION_DENIED"


class ResourceExhaustedError(MeshError):
    """A limit was reached."""

    code = "RESOURCE_EXHAUSTED"


class StoreFullError(ResourceExhaustedError):
    """SQLite reported a full disk; the transaction rolled back (federation.md CFG-31)."""

    def __init__(self, site_id: str) -> None:
        super().__init__(f'node "{site_id}" cannot write its store: disk full', "STORE_FULL")


class UnavailableError(MeshError):
    """The node cannot serve this right now; the caller may retry."""

    code = "UNAVAILABLE"


class StoreBusyError(UnavailableError):
    """SQLite stayed busy after the busy timeout and retries."""

    def __init__(self) -> None:
        super().__init__("store busy; retry", "STORE_BUSY")


class UnimplementedError(MeshError):
    """An RPC of a capability this version does not have yet."""

    code = "UNIMPLEMENTED"

    def __init__(self, method: str, capability: str) -> None:
        super().__init__(
            f"{method} is not implemented yet: it arrives with {capability}",
            "NOT_IMPLEMENTED",
            metadata={"method": method},
        )
