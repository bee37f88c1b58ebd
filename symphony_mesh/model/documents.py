"""The typed documents: Campaign, CampaignVersion (with its stages) and Activation.

These frozen dataclasses are what validation produces and what the store, the engine and the
renderer consume. They are built only from documents that passed every rule of campaigns.md 3.2,
so their fields hold the defaults of sections 2.2-2.6 already applied (an absent `stageSelector`
is `""`, an absent `taskOption` is the default one, and so on).

A `CampaignVersion` keeps, besides its typed view, `spec`: the spec exactly as applied, which `get`
returns (10.5). "As applied" means as written, except that `null` values of typed fields are
dropped (absent optional fields are omitted, 13.7) and `taskOption.errorAction.mode` is stored in
its canonical spelling (2.4). An `Activation` renders its spec from its fields.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from symphony_mesh.model.durations import Duration
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.model.names import VersionName
from symphony_mesh.model.providers_catalog import REMOTE

__all__ = [
    "Activation",
    "Campaign",
    "CampaignVersion",
    "ConcurrencyPolicy",
    "ContextLimit",
    "ContextPolicy",
    "Document",
    "DocumentKind",
    "ErrorAction",
    "ErrorMode",
    "Metadata",
    "RetryPolicy",
    "StageSpec",
    "TaskOption",
    "TaskSpec",
]


class DocumentKind(StrEnum):
    """The three kinds, valued as messages spell them (`campaignversion/x-v-1 created`)."""

    CAMPAIGN = "campaign"
    CAMPAIGN_VERSION = "campaignversion"
    ACTIVATION = "activation"

    @property
    def kind_name(self) -> str:
        """The `kind` of a document: `Campaign`, `CampaignVersion` or `Activation`."""
        return _TITLES[self]

    @classmethod
    def from_kind_name(cls, kind: str) -> DocumentKind | None:
        """The kind for a document's `kind` value (exact spelling), or None."""
        for member, title in _TITLES.items():
            if title == kind:
                return member
        return None


_TITLES = {
    DocumentKind.CAMPAIGN: "Campaign",
    DocumentKind.CAMPAIGN_VERSION: "CampaignVersion",
    DocumentKind.ACTIVATION: "Activation",
}


@dataclass(frozen=True)
class Metadata:
    """What a document says about itself (system fields such as `uid` are ignored on apply)."""

    name: str
    """The object name."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """User labels (for activations without the system labels of 10.5)."""
    annotations: Mapping[str, str] = field(default_factory=dict)
    """User annotations."""


@dataclass(frozen=True)
class Campaign:
    """A named container of versions (2.2); its spec is always `{}`."""

    metadata: Metadata

    kind: Literal[DocumentKind.CAMPAIGN] = field(default=DocumentKind.CAMPAIGN, init=False)

    @property
    def name(self) -> str:
        """The object name."""
        return self.metadata.name


@dataclass(frozen=True)
class ContextLimit:
    """A `contextPolicy` count: an absolute number or a percentage `"N%"` of the contexts."""

    value: int
    """The number, or N of `"N%"`."""
    percent: bool = False
    """Whether `value` is a percentage."""

    def concurrency(self, contexts: int) -> int:
        """`maxConcurrency` for `contexts` contexts: ceil(N x n / 100), at least 1 (6.2)."""
        if not self.percent:
            return self.value
        return max(1, math.ceil(self.value * contexts / 100))

    def failures(self, contexts: int) -> int:
        """`maxFailures` for `contexts` contexts: floor(N x n / 100) (6.2)."""
        if not self.percent:
            return self.value
        return self.value * contexts // 100


@dataclass(frozen=True)
class ContextPolicy:
    """How the contexts of a fan-out stage run (2.4, 6.2)."""

    max_concurrency: ContextLimit | None = None
    """Contexts in progress at once; None means no limit."""
    max_failures: ContextLimit = ContextLimit(0)
    """The stage fails when more contexts than this failed."""
    timeout: Duration | None = None
    """Limit of each attempt of a context."""
    fail_fast: bool = False
    """Stop and cancel the rest as soon as the failures exceed `max_failures`."""


@dataclass(frozen=True)
class RetryPolicy:
    """`retry` (2.4, 8.8)."""

    max_retries: int = 0
    """Extra attempts after a failed one (0-100)."""
    interval: Duration | None = None
    """Wait between attempts; None means exponential back-off min(2^k, 30) s."""


class ErrorMode(StrEnum):
    """`taskOption.errorAction.mode`, in its stored spelling."""

    STOP_ON_ANY_FAILURE = "stopOnAnyFailure"
    STOP_ON_N_FAILURES = "stopOnNFailures"
    SILENTLY_CONTINUE = "silentlyContinue"


@dataclass(frozen=True)
class ErrorAction:
    """When the tasks of a context stop (6.5)."""

    mode: ErrorMode = ErrorMode.SILENTLY_CONTINUE
    max_tolerated_failures: int = 0


@dataclass(frozen=True)
class TaskOption:
    """`taskOption` (2.4)."""

    concurrency: int = 0
    """Tasks running at once; 0 means no limit."""
    error_action: ErrorAction = ErrorAction()


@dataclass(frozen=True)
class TaskSpec:
    """One in-stage task (2.4, 6.5)."""

    name: str
    provider: str
    """The provider as written (short or long form)."""
    provider_type: str
    """The canonical type name (`providers.stage.http`)."""
    config: JsonMap = field(default_factory=dict)
    """Templates, evaluated per context."""
    inputs: JsonMap = field(default_factory=dict)
    """Templates, evaluated in the task scope."""
    target: str = ""
    """Overrides `__target` for the task when non-empty."""


@dataclass(frozen=True)
class StageSpec:
    """One stage of a campaign version (2.4)."""

    name: str
    """The key in `spec.stages`."""
    provider: str = ""
    """The provider as written; `""` for a router stage."""
    provider_type: str = ""
    """The canonical type name, `""` for a router stage."""
    config: JsonMap = field(default_factory=dict)
    inputs: JsonMap = field(default_factory=dict)
    stage_selector: str = ""
    contexts: str | tuple[str, ...] | None = None
    """None: no fan-out; a string: a template (or one literal name); a tuple: a literal list."""
    context_policy: ContextPolicy = ContextPolicy()
    handle_errors: bool = False
    schedule: str | int | float | None = None
    """As written: an RFC 3339 time, a duration, or a template; None when absent or `""`."""
    retry: RetryPolicy = RetryPolicy()
    timeout: Duration | None = None
    target: str = ""
    tasks: tuple[TaskSpec, ...] = ()
    task_option: TaskOption = TaskOption()
    proxy: JsonMap | None = None
    """Present only for compatibility: a stage with a proxy fails when it runs (4.11)."""

    @property
    def is_remote(self) -> bool:
        """Whether each context is dispatched to a site (section 7)."""
        return self.provider_type == REMOTE

    @property
    def has_contexts(self) -> bool:
        """Whether the stage fans out (a string template may still evaluate to no contexts)."""
        return self.contexts is not None


@dataclass(frozen=True)
class ConcurrencyPolicy:
    """`spec.concurrency` of a campaign version (8.7)."""

    max: int
    """Started, unfinished activations allowed at once."""
    policy: Literal["queue", "reject"] = "queue"


@dataclass(frozen=True)
class CampaignVersion:
    """One definition of a workflow (2.3)."""

    metadata: Metadata
    root_resource: str
    """The campaign's name."""
    version: str
    """The version part of the object name."""
    first_stage: str
    stages: Mapping[str, StageSpec]
    """In document order."""
    spec: JsonMap
    """The spec exactly as applied (see the module docstring), returned by `get`."""
    self_driving: bool = False
    on_cancel: str = ""
    """Compensation stage run on cancel or timeout; `""` for none."""
    concurrency: ConcurrencyPolicy | None = None
    timeout: Duration | None = None
    """Default activation timeout."""

    kind: Literal[DocumentKind.CAMPAIGN_VERSION] = field(
        default=DocumentKind.CAMPAIGN_VERSION, init=False
    )

    @property
    def name(self) -> str:
        """The object name `<root>-v-<version>`."""
        return self.metadata.name

    @property
    def version_name(self) -> VersionName:
        """Root and version parts."""
        return VersionName(self.root_resource, self.version)


@dataclass(frozen=True)
class Activation:
    """One run of a campaign version (2.6); its spec is immutable once stored."""

    metadata: Metadata
    campaign_version: str
    """`spec.campaignversion` as written (`canary:1` or `canary-v-1`)."""
    campaign_version_name: str
    """The object name it refers to (`canary-v-1`)."""
    stage: str = ""
    """Initial stage override; `""` means `firstStage`."""
    inputs: JsonMap = field(default_factory=dict)
    """Activation ("trigger") inputs: data, never evaluated."""
    timeout: Duration | None = None
    """Overrides the campaign version's timeout."""
    timeout_written: JsonValue = None
    """`spec.timeout` exactly as written (a string or a number), rendered back by `get`."""

    kind: Literal[DocumentKind.ACTIVATION] = field(default=DocumentKind.ACTIVATION, init=False)

    @property
    def name(self) -> str:
        """The object name."""
        return self.metadata.name

    @property
    def spec(self) -> JsonMap:
        """The spec as `get` shows it: `campaignversion`, `stage`, `inputs`, `timeout` if given."""
        spec: JsonMap = {
            "campaignversion": self.campaign_version,
            "stage": self.stage,
            "inputs": self.inputs,
        }
        if self.timeout_written is not None:
            spec["timeout"] = self.timeout_written
        return spec


Document = Campaign | CampaignVersion | Activation
"""Any typed document."""
