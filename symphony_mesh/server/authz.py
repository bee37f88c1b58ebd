"""Who may call what on the main port (federation.md SEC-20, SEC-21).

With TLS the caller is the SPIFFE id of its client certificate. Operators may use Health,
reflection and the management services; sites only `Federation.Connect`. With TLS off every
management caller is the operator `anonymous` and Connect takes its identity from Hello.
Certificate CN and request fields never decide anything here.
"""

from __future__ import annotations

from typing import Any

from grpc import aio

from symphony_mesh.errors import PermissionDeniedError
from symphony_mesh.security.identity import ANONYMOUS, Principal, principal_from_auth_context

__all__ = ["AnonymousAuthorizer", "CertificateAuthorizer"]

FEDERATION_CONNECT = "/symphony.mesh.v1.Federation/Connect"


def _service_of(method: str) -> str:
    return method.strip("/").split("/", 1)[0]


def check_access(principal: Principal, method: str) -> None:
    """Apply the SEC-21 table to an identified caller."""
    if method == FEDERATION_CONNECT:
        if not principal.is_site:
            raise PermissionDeniedError(
                f"{principal.spiffe_id} is not a site; Federation.Connect needs a site certificate",
                "SITE_IDENTITY_REQUIRED",
                metadata={"peer": principal.spiffe_id},
            )
        return
    if not principal.is_operator:
        raise PermissionDeniedError(
            f"{principal.spiffe_id} is not an operator; {_service_of(method)} needs an operator "
            "certificate",
            "OPERATOR_IDENTITY_REQUIRED",
            metadata={"peer": principal.spiffe_id},
        )


class CertificateAuthorizer:
    """Mutual TLS: identity from the peer certificate, then the access table."""

    def __init__(self, trust_domain: str) -> None:
        self.trust_domain = trust_domain

    def authorize(self, method: str, context: aio.ServicerContext[Any, Any]) -> Principal:
        principal = principal_from_auth_context(context.auth_context(), self.trust_domain)
        check_access(principal, method)
        return principal


class AnonymousAuthorizer:
    """TLS off (SEC-17): every management caller is the operator `anonymous`."""

    def authorize(self, method: str, context: aio.ServicerContext[Any, Any]) -> Principal:
        return ANONYMOUS
