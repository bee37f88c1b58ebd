"""A node started in this process: health through shutdown, oversized messages, GetNode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from symphony_mesh.api.v1 import (
    activation_pb2,
    activation_pb2_grpc,
    campaign_pb2,
    campaign_pb2_grpc,
    node_pb2,
    node_pb2_grpc,
)
from symphony_mesh.server.config import load_node_config
from symphony_mesh.server.node import Node
from tests.helpers.grpc_client import error_reason
from tests.helpers.pki import TestPki

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture
async def node(tmp_path: Path, pki: TestPki) -> AsyncIterator[Node]:
    config = load_node_config(
        {"data_dir": str(tmp_path / "data"), "listen": "127.0.0.1:0",
         "tls_dir": str(pki.site("hub")), "shutdown_grace": "2s"},
        env={},
    )  # fmt: skip
    started = Node(config)
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


def _channel(node: Node, tls_dir: Path) -> aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        (tls_dir / "ca.pem").read_bytes(),
        (tls_dir / "key.pem").read_bytes(),
        (tls_dir / "cert.pem").read_bytes(),
    )
    return aio.secure_channel(node.listening.listen, credentials)


async def test_health_turns_not_serving_on_shutdown(node: Node, operator_dir: Path) -> None:
    async with _channel(node, operator_dir) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        watch = stub.Watch(
            health_pb2.HealthCheckRequest(service="symphony.mesh.v1.CampaignService")
        )
        first = await watch.read()
        assert first.status == SERVING
        await node.health.shut_down()  # the first step of stop(): every entry NOT_SERVING
        second = await watch.read()
        assert second.status == NOT_SERVING
        check = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
        assert check.status == NOT_SERVING
        listed = await stub.List(health_pb2.HealthListRequest(), timeout=10)
        assert set(listed.statuses) == {
            "",
            "symphony.mesh.v1.ActivationService",
            "symphony.mesh.v1.CampaignService",
            "symphony.mesh.v1.Federation",
            "symphony.mesh.v1.NodeService",
            "symphony.mesh.v1.SiteService",
        }
        watch.cancel()


async def test_oversized_message_is_refused_and_the_node_carries_on(
    node: Node, operator_dir: Path
) -> None:
    async with _channel(node, operator_dir) as channel:
        stub = campaign_pb2_grpc.CampaignServiceStub(channel)
        with pytest.raises(aio.AioRpcError) as caught:
            await stub.Apply(
                campaign_pb2.ApplyRequest(content=b"#" * (5 * 1024 * 1024)), timeout=30
            )
        assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        health = health_pb2_grpc.HealthStub(channel)
        answer = await health.Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert answer.status == SERVING


async def test_get_node_describes_this_node(node: Node, operator_dir: Path) -> None:
    async with _channel(node, operator_dir) as channel:
        stub = node_pb2_grpc.NodeServiceStub(channel)
        described = (await stub.GetNode(node_pb2.GetNodeRequest(), timeout=10)).node
        with pytest.raises(aio.AioRpcError) as caught:
            await stub.GetNode(node_pb2.GetNodeRequest(site="tokyo"), timeout=10)
    assert described.site_id == "hub"
    assert described.tls
    assert described.spiffe_id == "spiffe://mesh.test/site/hub"
    assert described.trust_domain == "mesh.test"
    assert described.listen == node.listening.listen
    assert described.parent.state == node_pb2.LINK_STATE_NONE
    assert len(described.cert.serial) == 40
    assert described.counters["results_recorded"] == 0
    assert described.store.path.endswith("mesh.db")
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


REJECTING = b"""
apiVersion: workflow.symphony/v1
kind: Campaign
metadata: {name: solo}
---
apiVersion: workflow.symphony/v1
kind: CampaignVersion
metadata: {name: solo-v-1}
spec:
  rootResource: solo
  firstStage: hold
  selfDriving: true
  concurrency: {max: 1, policy: reject}
  stages:
    hold: {provider: providers.stage.signal, inputs: {name: go}}
"""


async def test_create_activation_beyond_a_reject_limit(node: Node, operator_dir: Path) -> None:
    async with _channel(node, operator_dir) as channel:
        campaigns = campaign_pb2_grpc.CampaignServiceStub(channel)
        await campaigns.Apply(campaign_pb2.ApplyRequest(content=REJECTING, source="f"), timeout=10)
        stub = activation_pb2_grpc.ActivationServiceStub(channel)
        first = await stub.CreateActivation(
            activation_pb2.CreateActivationRequest(name="one", campaign_version="solo:1"),
            timeout=10,
        )
        assert first.created
        with pytest.raises(aio.AioRpcError) as caught:
            await stub.CreateActivation(
                activation_pb2.CreateActivationRequest(name="two", campaign_version="solo:1"),
                timeout=10,
            )
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert caught.value.details() == (
        'concurrency limit reached for campaign version "solo-v-1" (max 1)'
    )
    assert error_reason(caught.value) == "CAMPAIGN_CONCURRENCY_LIMIT"


async def _drain(stream: object) -> None:
    """Read a server stream until it ends (raising its error, if any)."""
    while await stream.read() is not aio.EOF:  # type: ignore[attr-defined]
        pass


async def test_open_watches_end_with_shutting_down(node: Node, operator_dir: Path) -> None:
    async with _channel(node, operator_dir) as channel:
        campaigns = campaign_pb2_grpc.CampaignServiceStub(channel)
        await campaigns.Apply(campaign_pb2.ApplyRequest(content=REJECTING, source="f"), timeout=10)
        stub = activation_pb2_grpc.ActivationServiceStub(channel)
        await stub.CreateActivation(
            activation_pb2.CreateActivationRequest(name="held", campaign_version="solo:1"),
            timeout=10,
        )
        watch = stub.Watch(activation_pb2.WatchRequest(name="held"))
        first = await watch.read()
        assert isinstance(first, activation_pb2.WatchResponse)
        assert first.type == activation_pb2.WATCH_EVENT_TYPE_SNAPSHOT
        stopping = asyncio.create_task(node.stop(grace=5))
        with pytest.raises(aio.AioRpcError) as caught:
            await _drain(watch)
        await stopping
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert error_reason(caught.value) == "SHUTTING_DOWN"
    assert caught.value.details() == 'node "hub" is shutting down'


async def test_watch_streams_are_limited(tmp_path: Path, pki: TestPki, operator_dir: Path) -> None:
    config = load_node_config(
        {"data_dir": str(tmp_path / "limited"), "listen": "127.0.0.1:0",
         "tls_dir": str(pki.site("hub"))},
        env={"SYMPHONY_MESH_NODE_FEDERATION__MAX_WATCHERS": "1"},
    )  # fmt: skip
    limited = Node(config)
    await limited.start()
    try:
        async with _channel(limited, operator_dir) as channel:
            campaigns = campaign_pb2_grpc.CampaignServiceStub(channel)
            await campaigns.Apply(campaign_pb2.ApplyRequest(content=REJECTING), timeout=10)
            stub = activation_pb2_grpc.ActivationServiceStub(channel)
            await stub.CreateActivation(
                activation_pb2.CreateActivationRequest(name="held", campaign_version="solo:1"),
                timeout=10,
            )
            first = stub.Watch(activation_pb2.WatchRequest(name="held"))
            assert isinstance(await first.read(), activation_pb2.WatchResponse)
            second = stub.Watch(activation_pb2.WatchRequest(name="held"))
            with pytest.raises(aio.AioRpcError) as caught:
                await _drain(second)
            first.cancel()
    finally:
        await limited.stop(grace=1)
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_reason(caught.value) == "TOO_MANY_WATCHERS"
    assert caught.value.details() == 'node "hub" has 1 open watch streams (limit 1)'
