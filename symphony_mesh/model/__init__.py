"""The document model: campaigns, campaign versions and activations (campaigns.md 2, 3, 9, 10).

Pure code: no gRPC, no SQL, no I/O. The server uses it in three steps.

1. Read: `read_documents(content, source) -> list[RawDocument]` parses a YAML or JSON file
   (3.1) and raises `ValidationError` for files that cannot be read.
2. Plan: `plan_apply(documents, source, stored) -> ApplyPlan` checks every rule V1-V34 of 3.2
   (V35 when `active_activations` is given) against the file and the stored objects
   (`StoredObjects`, prefetched by the server from `prefetch_names(documents)`, e.g. into
   `InMemoryObjects`), collects the warnings of 3.3 and decides each object's action
   (`created`, `unchanged`, `configured`). `raise_if_invalid(plan)` raises the
   `VALIDATION_FAILED` error whose violations the CLI prints as `error: <doc>: <path>: <reason>`.
3. Render: `campaign_document`, `campaign_version_document` and `activation_document` build the
   documents `get` returns (10.5) from an `ObjectMeta` and the typed objects; `status_message`
   names state codes (10.2).

The typed documents (`Campaign`, `CampaignVersion` with `StageSpec`, `TaskSpec`, ... and
`Activation`) are frozen dataclasses the engine runs from. `providers_catalog` lists the providers
and their config keys; `names` holds the naming rules of 2.1.1; `durations` the durations and
times of 2.8.
"""

from __future__ import annotations

from symphony_mesh.model.apply import (
    ApplyAction,
    ApplyPlan,
    PlannedObject,
    PrefetchNames,
    concurrency_limit_reason,
    plan_apply,
    prefetch_names,
    raise_if_invalid,
)
from symphony_mesh.model.checks import Notice, Problem, Rule
from symphony_mesh.model.documents import (
    Activation,
    Campaign,
    CampaignVersion,
    ConcurrencyPolicy,
    ContextLimit,
    ContextPolicy,
    Document,
    DocumentKind,
    ErrorAction,
    ErrorMode,
    Metadata,
    RetryPolicy,
    StageSpec,
    TaskOption,
    TaskSpec,
)
from symphony_mesh.model.durations import Duration
from symphony_mesh.model.names import (
    API_VERSION,
    NAMESPACE,
    campaign_version_object_name,
    campaign_version_reference,
    is_context_name,
    is_object_name,
    is_signal_name,
    is_site_id,
    is_stage_name,
    split_campaign_version_name,
)
from symphony_mesh.model.providers_catalog import ProviderScope, canonical_provider, provider_scope
from symphony_mesh.model.reading import RawDocument, read_documents
from symphony_mesh.model.rendering import (
    activation_document,
    activation_status_document,
    campaign_document,
    campaign_version_document,
    document_list,
    stage_status_document,
)
from symphony_mesh.model.status import (
    ActivationStatus,
    ContextStatus,
    StageStatus,
    StateCode,
    is_success,
    is_terminal,
    status_label,
    status_message,
)
from symphony_mesh.model.stored import (
    InMemoryObjects,
    ObjectMeta,
    StoredActivation,
    StoredCampaign,
    StoredCampaignVersion,
    StoredObjects,
)
from symphony_mesh.model.validation import check_document

__all__ = [
    "API_VERSION",
    "NAMESPACE",
    "Activation",
    "ActivationStatus",
    "ApplyAction",
    "ApplyPlan",
    "Campaign",
    "CampaignVersion",
    "ConcurrencyPolicy",
    "ContextLimit",
    "ContextPolicy",
    "ContextStatus",
    "Document",
    "DocumentKind",
    "Duration",
    "ErrorAction",
    "ErrorMode",
    "InMemoryObjects",
    "Metadata",
    "Notice",
    "ObjectMeta",
    "PlannedObject",
    "PrefetchNames",
    "Problem",
    "ProviderScope",
    "RawDocument",
    "RetryPolicy",
    "Rule",
    "StageSpec",
    "StageStatus",
    "StateCode",
    "StoredActivation",
    "StoredCampaign",
    "StoredCampaignVersion",
    "StoredObjects",
    "TaskOption",
    "TaskSpec",
    "activation_document",
    "activation_status_document",
    "campaign_document",
    "campaign_version_document",
    "campaign_version_object_name",
    "campaign_version_reference",
    "canonical_provider",
    "check_document",
    "concurrency_limit_reason",
    "document_list",
    "is_context_name",
    "is_object_name",
    "is_signal_name",
    "is_site_id",
    "is_stage_name",
    "is_success",
    "is_terminal",
    "plan_apply",
    "prefetch_names",
    "provider_scope",
    "raise_if_invalid",
    "read_documents",
    "split_campaign_version_name",
    "stage_status_document",
    "status_label",
    "status_message",
]
