"""Thousands of malformed requests at a live node: precise errors, nothing crashes (issue 2).

Every answer is either a success or a deliberate error: a client-side status code with a
`google.rpc.ErrorInfo` in domain `symphony.mesh`. An INTERNAL or UNKNOWN status would mean an
unexpected exception in the node. Afterwards the node still answers health SERVING.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symphony_mesh.api.v1 import (
    activation_pb2,
    activation_pb2_grpc,
    campaign_pb2,
    campaign_pb2_grpc,
)
from tests.helpers.grpc_client import error_reason, secure_channel
from tests.integration.conftest import Mesh

DELIBERATE = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ALREADY_EXISTS,
}
FUZZ = settings(
    max_examples=700,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
keys = st.sampled_from(
    ["apiVersion", "kind", "metadata", "spec", "name", "stages", "firstStage", "rootResource",
     "provider", "inputs", "contexts", "campaignversion", "selfDriving", "retry", "x"]
)  # fmt: skip
documentish = st.recursive(
    json_scalars
    | st.sampled_from(["Campaign", "CampaignVersion", "Activation", "workflow.symphony/v1"]),
    lambda inner: st.dictionaries(keys, inner, max_size=5) | st.lists(inner, max_size=3),
    max_leaves=25,
)
names = st.text(max_size=70) | st.from_regex(r"[a-z][a-z0-9.-]{0,70}", fullmatch=True)


@pytest.fixture(scope="module")
def channel(mesh: Mesh) -> Iterator[grpc.Channel]:
    with secure_channel(mesh.hub.address, mesh.operator) as opened:
        yield opened


def _call(method: Any, request: Any) -> None:
    try:
        method(request, timeout=30)
    except grpc.RpcError as error:
        failure = error
    else:
        return
    assert isinstance(failure, grpc.Call)
    code, details = failure.code(), failure.details()
    assert code in DELIBERATE, f"{code}: {details}"
    assert error_reason(failure), f"no ErrorInfo on {code}: {details}"


@FUZZ
@given(content=st.binary(max_size=300) | documentish.map(lambda d: yaml.safe_dump(d).encode()),
       source=st.text(max_size=20), dry_run=st.booleans())  # fmt: skip
def test_apply_never_fails_unexpectedly(
    channel: grpc.Channel, content: bytes, source: str, dry_run: bool
) -> None:
    stub = campaign_pb2_grpc.CampaignServiceStub(channel)
    _call(stub.Apply, campaign_pb2.ApplyRequest(content=content, source=source, dry_run=dry_run))


@FUZZ
@given(documents=st.lists(documentish, min_size=1, max_size=3))
def test_apply_json_documents(channel: grpc.Channel, documents: list[Any]) -> None:
    stub = campaign_pb2_grpc.CampaignServiceStub(channel)
    content = json.dumps(documents).encode()
    _call(stub.Apply, campaign_pb2.ApplyRequest(content=content, source="fuzz.json"))


@FUZZ
@given(name=names, version=names, stage=st.text(max_size=20),
       inputs=st.dictionaries(st.text(max_size=8), json_values, max_size=4))  # fmt: skip
def test_activation_requests(
    channel: grpc.Channel, name: str, version: str, stage: str, inputs: dict[str, Any]
) -> None:
    stub = activation_pb2_grpc.ActivationServiceStub(channel)
    struct = struct_pb2.Struct()
    struct.update(inputs)
    _call(stub.CreateActivation, activation_pb2.CreateActivationRequest(
        name=name, campaign_version=version, stage=stage, inputs=struct))  # fmt: skip
    _call(stub.GetActivation, activation_pb2.GetActivationRequest(name=name, history_limit=-1))
    _call(stub.DeleteActivation, activation_pb2.DeleteActivationRequest(name=name))


@FUZZ
@given(name=names, token=st.text(max_size=40), size=st.integers(-(2**31), 2**31 - 1))
def test_lookups_and_pages(channel: grpc.Channel, name: str, token: str, size: int) -> None:
    campaigns = campaign_pb2_grpc.CampaignServiceStub(channel)
    activations = activation_pb2_grpc.ActivationServiceStub(channel)
    _call(campaigns.GetCampaign, campaign_pb2.GetCampaignRequest(name=name))
    _call(campaigns.GetCampaignVersion, campaign_pb2.GetCampaignVersionRequest(name=name))
    _call(campaigns.DeleteCampaignVersion, campaign_pb2.DeleteCampaignVersionRequest(name=name))
    _call(
        campaigns.ListCampaigns, campaign_pb2.ListCampaignsRequest(page_token=token, page_size=size)
    )
    _call(activations.ListActivations, activation_pb2.ListActivationsRequest(
        campaign_version=name, page_token=token, page_size=size))  # fmt: skip


def test_node_still_serving_after_the_fuzz(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    answer = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
