"""The one server interceptor on every port: admission, authorization, error mapping.

It wraps the handler gRPC returns (not just the lookup), because authorization needs the
servicer context (`auth_context()`, federation.md SEC-20) and error mapping needs to see what the
behaviour raised. Order per call:

1. a draining node refuses new calls with `UNAVAILABLE SHUTTING_DOWN` (health stays answerable);
2. the `Authorizer` decides who the caller is and whether the method is allowed (deny by default);
3. the behaviour runs; a `MeshError` becomes its status with `ErrorInfo`, anything unexpected an
   `INTERNAL` status with a reference while the traceback goes to the node log.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import grpc
from grpc import aio

from symphony_mesh.errors import MeshError, UnavailableError
from symphony_mesh.server.status import internal_status, to_grpc_status

__all__ = ["Authorizer", "MeshInterceptor", "current_principal"]

HEALTH_SERVICE = "grpc.health.v1.Health"

current_principal: contextvars.ContextVar[object | None] = contextvars.ContextVar(
    "current_principal", default=None
)
"""The authenticated caller of the running RPC (set by the interceptor, read by handlers)."""


class Authorizer(Protocol):
    """Decides who calls and whether they may call `method` (`/package.Service/Method`)."""

    def authorize(self, method: str, context: aio.ServicerContext[Any, Any]) -> object:
        """Return the principal, or raise a `MeshError` (UNAUTHENTICATED / PERMISSION_DENIED)."""
        ...


async def _abort(context: aio.ServicerContext[Any, Any], status: grpc.Status) -> None:
    await context.abort(status.code, status.details, trailing_metadata=status.trailing_metadata)


async def _fail(context: aio.ServicerContext[Any, Any], exc: Exception, method: str) -> None:
    """The status a failed handler ends with: its MeshError's, or INTERNAL with a reference."""
    if isinstance(exc, aio.AbortError | aio.UsageError):  # the handler aborted on purpose
        raise exc
    if isinstance(exc, MeshError):
        await _abort(context, to_grpc_status(exc))
    else:
        await _abort(context, internal_status(exc, method))


class MeshInterceptor(aio.ServerInterceptor):  # type: ignore[type-arg]
    """Admission, authorization and error mapping around every handler of a server."""

    def __init__(self, authorizer: Authorizer, site_id: str) -> None:
        self._authorizer = authorizer
        self._site_id = site_id
        self.draining = False
        """Set when shutdown begins: new calls (except health) get UNAVAILABLE SHUTTING_DOWN."""

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method: str = handler_call_details.method
        if handler.request_streaming:
            behaviour = handler.stream_stream or handler.stream_unary
        else:
            behaviour = handler.unary_stream or handler.unary_unary
        streaming_response = handler.response_streaming
        wrapped = (
            self._wrap_stream(method, behaviour)
            if streaming_response and inspect.isasyncgenfunction(behaviour)
            else self._wrap_unary(method, behaviour)
        )
        factory = _FACTORIES[(handler.request_streaming, handler.response_streaming)]
        return factory(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    async def _admit(self, method: str, context: aio.ServicerContext[Any, Any]) -> None:
        if self.draining and not method.startswith(f"/{HEALTH_SERVICE}/"):
            raise UnavailableError(f'node "{self._site_id}" is shutting down', "SHUTTING_DOWN")
        current_principal.set(self._authorizer.authorize(method, context))

    def _wrap_unary(self, method: str, behaviour: Any) -> Any:
        async def wrapped(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
            try:
                await self._admit(method, context)
                return await behaviour(request, context)
            except Exception as exc:
                await _fail(context, exc, method)
            return None

        return wrapped

    def _wrap_stream(self, method: str, behaviour: Any) -> Any:
        async def wrapped(
            request: Any, context: aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            try:
                await self._admit(method, context)
                async for response in behaviour(request, context):
                    yield response
            except Exception as exc:
                await _fail(context, exc, method)

        return wrapped


_FACTORIES: dict[tuple[bool, bool], Callable[..., grpc.RpcMethodHandler[Any, Any]]] = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}
