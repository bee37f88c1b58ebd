"""CampaignService and ActivationService: thin adapters between protobuf and the document store.

Requests are checked here (required fields, names, page tokens), documents come from the model,
persistence from the store; every failure is a `MeshError` the interceptor renders. Activations
are stored but not run until the workflow engine lands: their status is Pending and says so, and
Step, Signal, Cancel and Watch answer UNIMPLEMENTED.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

from google.protobuf import json_format, struct_pb2
from grpc import aio

from symphony_mesh.api.v1 import (
    activation_pb2,
    activation_pb2_grpc,
    campaign_pb2,
    campaign_pb2_grpc,
)
from symphony_mesh.engine.runtime import Engine
from symphony_mesh.errors import (
    AlreadyExistsError,
    FieldViolation,
    InvalidArgumentError,
    ResourceExhaustedError,
    ValidationError,
)
from symphony_mesh.model import (
    ApplyAction,
    RawDocument,
    campaign_document,
    campaign_version_document,
    campaign_version_object_name,
    raise_if_invalid,
    read_documents,
)
from symphony_mesh.model.checks import Rule
from symphony_mesh.model.jsonvalues import JsonMap, integral_numbers, json_equal
from symphony_mesh.model.names import API_VERSION
from symphony_mesh.model.rendering import activation_document
from symphony_mesh.model.status import status_message
from symphony_mesh.server.activation_ops import ActivationOps, stage_run
from symphony_mesh.server.node_services import timestamp
from symphony_mesh.server.pages import decode_page_token, page_size, split_page
from symphony_mesh.store.documents import DEFAULT_HISTORY, DocumentStore, StoredActivationRow

__all__ = ["ActivationServicer", "CampaignServicer"]

_ACTIONS = {
    ApplyAction.CREATED: campaign_pb2.APPLY_ACTION_CREATED,
    ApplyAction.UNCHANGED: campaign_pb2.APPLY_ACTION_UNCHANGED,
    ApplyAction.CONFIGURED: campaign_pb2.APPLY_ACTION_CONFIGURED,
}


def to_struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    """A JSON map as a Struct."""
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct as JSON values, integral doubles within +-2^53 back to integers (API-5)."""
    return cast(dict[str, Any], integral_numbers(json_format.MessageToDict(struct)))


def require(value: str, field: str) -> str:
    """A required request field, or INVALID_ARGUMENT INVALID_FIELD."""
    if not value:
        raise InvalidArgumentError(
            f"invalid {field}: required",
            "INVALID_FIELD",
            metadata={"field": field},
            violations=[FieldViolation(field, "required")],
        )
    return value


async def _start_created(documents: DocumentStore, engine: Engine, names: list[str]) -> None:
    """Hand newly stored activations to the engine (after their transaction committed)."""
    for name in names:
        engine.start_later((await documents.get_activation(name, history_limit=0)).stored.uid)


class CampaignServicer(campaign_pb2_grpc.CampaignServiceServicer):
    """`symphony.mesh.v1.CampaignService`."""

    def __init__(self, documents: DocumentStore, engine: Engine) -> None:
        self._documents = documents
        self._engine = engine

    async def Apply(
        self, request: campaign_pb2.ApplyRequest, context: aio.ServicerContext[Any, Any]
    ) -> campaign_pb2.ApplyResponse:
        source = request.source or "-"
        # Parsing a multi-MiB YAML file is seconds of CPU: keep it off the event loop.
        documents = await asyncio.to_thread(read_documents, request.content, source)
        if not documents:
            raise ValidationError(
                f"1 validation error(s) in {source}",
                "VALIDATION_FAILED",
                violations=[FieldViolation(source, "no documents to apply")],
            )
        plan = await self._documents.apply(documents, source, dry_run=request.dry_run)
        raise_if_invalid(plan)
        if not request.dry_run:
            created = [
                planned.name
                for planned in plan.objects
                if planned.kind == "activation" and planned.action is ApplyAction.CREATED
            ]
            await _start_created(self._documents, self._engine, created)
        return campaign_pb2.ApplyResponse(
            objects=[
                campaign_pb2.AppliedObject(
                    kind=str(planned.kind),
                    name=planned.name,
                    action=_ACTIONS[planned.action],
                    warnings=planned.warning_lines,
                )
                for planned in plan.objects
            ]
        )

    async def GetCampaign(
        self, request: campaign_pb2.GetCampaignRequest, context: aio.ServicerContext[Any, Any]
    ) -> campaign_pb2.GetCampaignResponse:
        stored, versions = await self._documents.get_campaign(require(request.name, "name"))
        return campaign_pb2.GetCampaignResponse(
            campaign=_campaign(stored.campaign.name, stored, versions)
        )

    async def ListCampaigns(
        self, request: campaign_pb2.ListCampaignsRequest, context: aio.ServicerContext[Any, Any]
    ) -> campaign_pb2.ListCampaignsResponse:
        after = decode_page_token("campaigns", request.page_token)
        limit = page_size(request.page_size)
        rows = await self._documents.list_campaigns(after, limit + 1)
        page, token = split_page(rows, limit, "campaigns", lambda row: row[0].campaign.name)
        return campaign_pb2.ListCampaignsResponse(
            campaigns=[_campaign(s.campaign.name, s, v) for s, v in page], next_page_token=token
        )

    async def DeleteCampaign(
        self, request: campaign_pb2.DeleteCampaignRequest, context: aio.ServicerContext[Any, Any]
    ) -> campaign_pb2.DeleteCampaignResponse:
        await self._documents.delete_campaign(require(request.name, "name"))
        return campaign_pb2.DeleteCampaignResponse()

    async def GetCampaignVersion(
        self,
        request: campaign_pb2.GetCampaignVersionRequest,
        context: aio.ServicerContext[Any, Any],
    ) -> campaign_pb2.GetCampaignVersionResponse:
        name = campaign_version_object_name(require(request.name, "name"))
        stored, active = await self._documents.get_campaign_version(name)
        return campaign_pb2.GetCampaignVersionResponse(
            campaign_version=_campaign_version(stored, active)
        )

    async def ListCampaignVersions(
        self,
        request: campaign_pb2.ListCampaignVersionsRequest,
        context: aio.ServicerContext[Any, Any],
    ) -> campaign_pb2.ListCampaignVersionsResponse:
        after = decode_page_token("campaignversions", request.page_token)
        limit = page_size(request.page_size)
        rows = await self._documents.list_campaign_versions(request.campaign, after, limit + 1)
        page, token = split_page(rows, limit, "campaignversions", lambda row: row[0].version.name)
        return campaign_pb2.ListCampaignVersionsResponse(
            campaign_versions=[_campaign_version(s, active) for s, active in page],
            next_page_token=token,
        )

    async def DeleteCampaignVersion(
        self,
        request: campaign_pb2.DeleteCampaignVersionRequest,
        context: aio.ServicerContext[Any, Any],
    ) -> campaign_pb2.DeleteCampaignVersionResponse:
        name = campaign_version_object_name(require(request.name, "name"))
        await self._documents.delete_campaign_version(name)
        return campaign_pb2.DeleteCampaignVersionResponse()


def _campaign(name: str, stored: Any, versions: list[str]) -> campaign_pb2.Campaign:
    return campaign_pb2.Campaign(
        name=name, versions=versions, document=to_struct(campaign_document(stored.meta, versions))
    )


def _campaign_version(stored: Any, active: int) -> campaign_pb2.CampaignVersion:
    version = stored.version
    return campaign_pb2.CampaignVersion(
        name=version.name,
        campaign=version.root_resource,
        version=version.version,
        self_driving=version.self_driving,
        first_stage=version.first_stage,
        document=to_struct(campaign_version_document(stored.meta, version, active)),
    )


def _activation(row: StoredActivationRow) -> activation_pb2.Activation:
    stored, status = row.stored, row.status
    return activation_pb2.Activation(
        name=stored.activation.name,
        uid=stored.uid,
        campaign_version=stored.activation.campaign_version_name,
        status=status.status,
        status_message=status_message(status.status),
        update_time=timestamp(status.update_time),
        revision=row.revision,
        document=to_struct(activation_document(stored.meta, stored.activation, status)),
    )


class ActivationServicer(activation_pb2_grpc.ActivationServiceServicer):
    """`symphony.mesh.v1.ActivationService`."""

    def __init__(
        self, documents: DocumentStore, engine: Engine, site_id: str, max_watchers: int = 1000
    ) -> None:
        self._documents = documents
        self._engine = engine
        self._ops = ActivationOps(documents, engine, site_id, max_watchers)

    async def CreateActivation(
        self,
        request: activation_pb2.CreateActivationRequest,
        context: aio.ServicerContext[Any, Any],
    ) -> activation_pb2.CreateActivationResponse:
        name = require(request.name, "name")
        reference = require(request.campaign_version, "campaign_version")
        inputs = from_struct(request.inputs)
        existing = await self._existing(name)
        if existing is not None:
            activation = existing.stored.activation
            same = (
                activation.campaign_version_name == campaign_version_object_name(reference)
                and activation.stage == request.stage
                and json_equal(activation.inputs, inputs)
            )
            if not same:
                raise AlreadyExistsError(
                    f'activation "{name}" already exists with a different spec',
                    "ACTIVATION_ALREADY_EXISTS",
                    metadata={"activation": name},
                )
            return activation_pb2.CreateActivationResponse(
                activation=_activation(existing), created=False
            )
        body: JsonMap = {
            "apiVersion": API_VERSION,
            "kind": "Activation",
            "metadata": {"name": name},
            "spec": {"campaignversion": reference, "stage": request.stage, "inputs": inputs},
        }
        plan = await self._documents.apply([RawDocument(1, body)], "request")
        limited = [p for p in plan.problems if p.rule is Rule.V35]
        if limited:  # policy reject: a limit, not a malformed request (8.7)
            raise ResourceExhaustedError(
                limited[0].reason,
                "CAMPAIGN_CONCURRENCY_LIMIT",
                metadata={"campaignVersion": campaign_version_object_name(reference)},
            )
        raise_if_invalid(plan)
        created = plan.objects[0].action is ApplyAction.CREATED
        if created:
            await _start_created(self._documents, self._engine, [name])
        row = await self._documents.get_activation(name)
        return activation_pb2.CreateActivationResponse(activation=_activation(row), created=created)

    async def _existing(self, name: str) -> StoredActivationRow | None:
        try:
            return await self._documents.get_activation(name)
        except Exception as exc:
            if getattr(exc, "reason", "") == "ACTIVATION_NOT_FOUND":
                return None
            raise

    async def GetActivation(
        self, request: activation_pb2.GetActivationRequest, context: aio.ServicerContext[Any, Any]
    ) -> activation_pb2.GetActivationResponse:
        limit = request.history_limit
        history: int | None = None if limit < 0 else (limit or DEFAULT_HISTORY)
        row = await self._documents.get_activation(require(request.name, "name"), history)
        return activation_pb2.GetActivationResponse(activation=_activation(row))

    async def ListActivations(
        self, request: activation_pb2.ListActivationsRequest, context: aio.ServicerContext[Any, Any]
    ) -> activation_pb2.ListActivationsResponse:
        after = decode_page_token("activations", request.page_token)
        limit = page_size(request.page_size)
        version = (
            campaign_version_object_name(request.campaign_version)
            if request.campaign_version
            else ""
        )
        rows = await self._documents.list_activations(
            version, list(request.status), after, limit + 1
        )
        page, token = split_page(rows, limit, "activations", lambda row: row.stored.activation.name)
        return activation_pb2.ListActivationsResponse(
            activations=[_activation(row) for row in page], next_page_token=token
        )

    async def DeleteActivation(
        self,
        request: activation_pb2.DeleteActivationRequest,
        context: aio.ServicerContext[Any, Any],
    ) -> activation_pb2.DeleteActivationResponse:
        uid = await self._documents.delete_activation(require(request.name, "name"))
        self._engine.deleted(uid)  # its calls and timers stop (3.5)
        return activation_pb2.DeleteActivationResponse()

    async def Step(
        self, request: activation_pb2.StepRequest, context: aio.ServicerContext[Any, Any]
    ) -> activation_pb2.StepResponse:
        require(request.name, "name")
        require(request.idempotency_key, "idempotency_key")
        row, entry, completed = await self._ops.step(request, context)
        return activation_pb2.StepResponse(
            run=stage_run(entry), activation=_activation(row), completed=completed
        )

    async def Signal(
        self, request: activation_pb2.SignalRequest, context: aio.ServicerContext[Any, Any]
    ) -> activation_pb2.SignalResponse:
        require(request.name, "name")
        require(request.signal, "signal")
        consumed, stage = await self._ops.signal(request)
        row = await self._documents.get_activation(request.name)
        return activation_pb2.SignalResponse(
            consumed=consumed, stage=stage, activation=_activation(row)
        )

    async def Cancel(
        self, request: activation_pb2.CancelRequest, context: aio.ServicerContext[Any, Any]
    ) -> activation_pb2.CancelResponse:
        await self._ops.cancel(activation_pb2.CancelRequest(
            name=require(request.name, "name"), reason=request.reason))  # fmt: skip
        row = await self._documents.get_activation(request.name)
        return activation_pb2.CancelResponse(activation=_activation(row))

    async def Watch(
        self, request: activation_pb2.WatchRequest, context: aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[activation_pb2.WatchResponse]:
        async for event in self._ops.watch(require(request.name, "name"), _activation):
            yield event
