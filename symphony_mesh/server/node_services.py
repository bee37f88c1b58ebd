"""NodeService, SiteService and Federation on a node without federation links yet.

GetNode describes this node for real (identity, TLS, certificate, store, counters). A node does
not dial or accept links until the federation capability lands, so it knows no sites: the lists
are truthfully empty, lookups of a named site or dispatch are NOT_FOUND, and the RPCs that act on
links answer UNIMPLEMENTED with the capability they wait for.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from google.protobuf import timestamp_pb2
from grpc import aio

from symphony_mesh import __version__
from symphony_mesh.api.v1 import (
    federation_pb2,
    federation_pb2_grpc,
    node_pb2,
    node_pb2_grpc,
    site_pb2,
    site_pb2_grpc,
)
from symphony_mesh.errors import NotFoundError, UnimplementedError
from symphony_mesh.server.pages import decode_page_token

__all__ = ["FederationServicer", "NodeFacts", "NodeServicer", "SiteServicer"]

PROTOCOL_VERSION = 1
FEDERATION_CAPABILITY = "the federation capability"
COUNTERS = (
    "dispatches_created",
    "dispatches_resent",
    "results_recorded",
    "results_duplicate",
    "results_stale_epoch",
    "results_late",
    "results_rejected",
    "security_events",
    "streams_accepted",
    "streams_superseded",
    "parent_reconnects",
    "protocol_violations",
)


def timestamp(moment: datetime | None) -> timestamp_pb2.Timestamp | None:
    """A protobuf Timestamp of an aware datetime (None stays None)."""
    if moment is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


@dataclass
class NodeFacts:
    """What GetNode reports; filled by the node at start."""

    site_id: str
    incarnation: str
    started_at: datetime
    listen: str
    admin_listen: str
    registration: str
    store_path: Path
    labels: dict[str, str]
    parent: str | None
    trust_domain: str = ""
    spiffe_id: str = ""
    cert: Callable[[], node_pb2.CertInfo | None] = field(default=lambda: None)
    """Reads the certificate in use now (it changes on rotation)."""
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))

    def to_proto(self) -> node_pb2.Node:
        """The Node message of this node."""
        cert = self.cert()
        node = node_pb2.Node(
            site_id=self.site_id,
            trust_domain=self.trust_domain,
            spiffe_id=self.spiffe_id,
            node_version=__version__,
            protocol_version=PROTOCOL_VERSION,
            incarnation=self.incarnation,
            started_at=timestamp(self.started_at),
            listen=self.listen,
            admin_listen=self.admin_listen,
            registration=(
                node_pb2.REGISTRATION_MODE_CLOSED
                if self.registration == "closed"
                else node_pb2.REGISTRATION_MODE_OPEN
            ),
            tls=cert is not None,
            labels=self.labels,
            counters=self.counters,
            store=self._store_info(),
        )
        if cert is not None:
            node.cert.CopyFrom(cert)
        if self.parent is None:
            node.parent.state = node_pb2.LINK_STATE_NONE
        else:
            node.parent.address = self.parent
            node.parent.state = node_pb2.LINK_STATE_STOPPED
            node.parent.last_error = f"the parent link arrives with {FEDERATION_CAPABILITY}"
        return node

    def _store_info(self) -> node_pb2.StoreInfo:
        def size(path: Path) -> int:
            try:
                return os.stat(path).st_size
            except FileNotFoundError:
                return 0

        return node_pb2.StoreInfo(
            path=str(self.store_path),
            size_bytes=size(self.store_path),
            wal_bytes=size(self.store_path.with_name(self.store_path.name + "-wal")),
        )


class NodeServicer(node_pb2_grpc.NodeServiceServicer):
    """`symphony.mesh.v1.NodeService`."""

    def __init__(self, facts: NodeFacts) -> None:
        self._facts = facts

    async def GetNode(
        self, request: node_pb2.GetNodeRequest, context: aio.ServicerContext[Any, Any]
    ) -> node_pb2.GetNodeResponse:
        if request.site and request.site != self._facts.site_id:
            raise NotFoundError(
                f'site "{request.site}" not found',
                "SITE_NOT_FOUND",
                metadata={"site": request.site},
            )
        return node_pb2.GetNodeResponse(node=self._facts.to_proto())

    async def ListDispatches(
        self, request: node_pb2.ListDispatchesRequest, context: aio.ServicerContext[Any, Any]
    ) -> node_pb2.ListDispatchesResponse:
        decode_page_token("dispatches", request.page_token)
        return node_pb2.ListDispatchesResponse()

    async def GetDispatch(
        self, request: node_pb2.GetDispatchRequest, context: aio.ServicerContext[Any, Any]
    ) -> node_pb2.GetDispatchResponse:
        raise NotFoundError(
            f'dispatch "{request.dispatch_id}" not found',
            "DISPATCH_NOT_FOUND",
            metadata={"dispatchId": request.dispatch_id},
        )

    async def PingSite(
        self, request: node_pb2.PingSiteRequest, context: aio.ServicerContext[Any, Any]
    ) -> node_pb2.PingSiteResponse:
        raise UnimplementedError("NodeService.PingSite", FEDERATION_CAPABILITY)


class SiteServicer(site_pb2_grpc.SiteServiceServicer):
    """`symphony.mesh.v1.SiteService`: no links yet, so no sites."""

    async def GetSite(
        self, request: site_pb2.GetSiteRequest, context: aio.ServicerContext[Any, Any]
    ) -> site_pb2.GetSiteResponse:
        raise NotFoundError(
            f'site "{request.name}" not found', "SITE_NOT_FOUND", metadata={"site": request.name}
        )

    async def ListSites(
        self, request: site_pb2.ListSitesRequest, context: aio.ServicerContext[Any, Any]
    ) -> site_pb2.ListSitesResponse:
        decode_page_token("sites", request.page_token)
        return site_pb2.ListSitesResponse()

    async def CreateSite(
        self, request: site_pb2.CreateSiteRequest, context: aio.ServicerContext[Any, Any]
    ) -> site_pb2.CreateSiteResponse:
        raise UnimplementedError("SiteService.CreateSite", FEDERATION_CAPABILITY)

    async def UpdateSite(
        self, request: site_pb2.UpdateSiteRequest, context: aio.ServicerContext[Any, Any]
    ) -> site_pb2.UpdateSiteResponse:
        raise UnimplementedError("SiteService.UpdateSite", FEDERATION_CAPABILITY)

    async def DeleteSite(
        self, request: site_pb2.DeleteSiteRequest, context: aio.ServicerContext[Any, Any]
    ) -> site_pb2.DeleteSiteResponse:
        raise UnimplementedError("SiteService.DeleteSite", FEDERATION_CAPABILITY)


class FederationServicer(federation_pb2_grpc.FederationServicer):
    """`symphony.mesh.v1.Federation`: links arrive with the federation capability."""

    async def Connect(self, request_iterator: Any, context: aio.ServicerContext[Any, Any]) -> Any:
        raise UnimplementedError("Federation.Connect", FEDERATION_CAPABILITY)
        yield federation_pb2.ConnectResponse()  # an async generator, as the stream handler expects
