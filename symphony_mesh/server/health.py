"""`grpc.health.v1.Health` for a node (federation.md DIAG-1).

The stock asyncio servicer answers Check and Watch; this one adds `List` and knows the node's
entries: `""`, one per management service, `symphony.mesh.v1.Federation`, and `parent-link` when
the node has a parent. Shutdown turns every entry NOT_SERVING for good.
"""

from __future__ import annotations

from typing import Any

from grpc import aio
from grpc_health.v1 import health_pb2
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]

__all__ = ["MANAGEMENT_SERVICES", "NodeHealth"]

MANAGEMENT_SERVICES = (
    "symphony.mesh.v1.CampaignService",
    "symphony.mesh.v1.ActivationService",
    "symphony.mesh.v1.SiteService",
    "symphony.mesh.v1.NodeService",
)
FEDERATION_SERVICE = "symphony.mesh.v1.Federation"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class NodeHealth(health_aio.HealthServicer):  # type: ignore[misc]
    """The health entries of one node, shared by its main and admin ports."""

    async def List(
        self, request: health_pb2.HealthListRequest, context: aio.ServicerContext[Any, Any]
    ) -> health_pb2.HealthListResponse:
        response = health_pb2.HealthListResponse()
        for service, status in sorted(self._server_status.items()):
            response.statuses[service].status = status
        return response

    async def set_node_serving(self, serving: bool) -> None:
        """The node-wide entries: `""`, the management services and Federation."""
        status = SERVING if serving else NOT_SERVING
        for service in ("", *MANAGEMENT_SERVICES, FEDERATION_SERVICE):
            await self.set(service, status)

    async def shut_down(self) -> None:
        """Every entry NOT_SERVING, and no entry may return to SERVING."""
        await self.enter_graceful_shutdown()
