"""Planning an apply: every rule over a whole file, and what would happen to each object.

    plan = plan_apply(read_documents(content, source), source, stored)
    raise_if_invalid(plan)            # ValidationError "<n> validation error(s) in <source>"
    for planned in plan.in_store_order(): ...   # Campaigns, CampaignVersions, Activations
    for planned in plan.objects: print(f"{planned.kind}/{planned.name} {planned.action}")

`plan_apply` is pure: references (V8, V31, V32), changes (V8 `cannot be changed`, V34) and
actions are decided against `stored`, a `StoredObjects` lookup that the server fills -- inside the
apply transaction -- with the rows `prefetch_names(documents)` lists. References may point to
stored objects or to objects defined anywhere in the same file (3.4). When a file defines an
object that is also stored, the file's version is the one references see (it is what will be
stored).

Violations are ordered by document, then by the table of 3.2. Warnings (3.3) are listed per
object and, flattened, in document order. Actions (3.4): `created` (not stored), `unchanged`
(spec, labels and annotations equal to the stored object), `configured` (changed; a campaign
version's generation then grows by 1, 3.5; an activation may change only its labels and
annotations, any other change being V34).

V35 (concurrency policy `reject`) needs the number of started, unfinished activations of a
version, which the engine owns. When the caller passes `active_activations` (object name -> that
number, prefetched in the same transaction), V35 is checked for every new activation, counting
the activations the same file admits before it; otherwise V35 is left to the engine, and
`concurrency_limit_reason` gives the exact text for `CreateActivation`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from symphony_mesh.errors import FieldViolation, ValidationError
from symphony_mesh.model.checks import Notice, Problem, Rule
from symphony_mesh.model.documents import (
    Activation,
    Campaign,
    CampaignVersion,
    Document,
    DocumentKind,
)
from symphony_mesh.model.jsonvalues import json_equal
from symphony_mesh.model.names import campaign_version_object_name
from symphony_mesh.model.reading import RawDocument
from symphony_mesh.model.stored import StoredObjects
from symphony_mesh.model.validation import CheckedDocument, check_document

__all__ = [
    "ApplyAction",
    "ApplyPlan",
    "PlannedObject",
    "PrefetchNames",
    "concurrency_limit_reason",
    "plan_apply",
    "prefetch_names",
    "raise_if_invalid",
]


class ApplyAction(StrEnum):
    """What apply does to one object (printed after `<kind>/<name>`)."""

    CREATED = "created"
    UNCHANGED = "unchanged"
    CONFIGURED = "configured"


@dataclass(frozen=True)
class PlannedObject:
    """One object of a valid file and what storing it means."""

    kind: DocumentKind
    name: str
    action: ApplyAction
    document: Document
    """The new typed object (for `unchanged`, equal to the stored one)."""
    generation: int
    """`metadata.generation` after the apply: 1 when created, +1 for a configured version."""
    uid: str | None
    """The stored object's uid; None for a new object (the server assigns one)."""
    warnings: tuple[Notice, ...] = ()

    @property
    def line(self) -> str:
        """`<kind>/<name> <action>`, the stdout line of apply."""
        return f"{self.kind}/{self.name} {self.action}"

    @property
    def warning_lines(self) -> list[str]:
        """`<doc>: <path>: <text>` strings (`AppliedObject.warnings`)."""
        return [notice.line for notice in self.warnings]


@dataclass(frozen=True)
class ApplyPlan:
    """The outcome of planning a file."""

    source: str
    """The file name used in messages (`-` for stdin)."""
    problems: tuple[Problem, ...]
    """Every violation, in report order; empty when the file is valid."""
    warnings: tuple[Notice, ...]
    """Every warning, in document order (also for invalid files)."""
    objects: tuple[PlannedObject, ...] = ()
    """One entry per document, in document order; empty when the file is invalid."""

    @property
    def valid(self) -> bool:
        """Whether the file may be applied."""
        return not self.problems

    @property
    def violations(self) -> list[FieldViolation]:
        """The problems as field violations (`field="<doc>: <path>"`, `description=<reason>`)."""
        return [problem.violation() for problem in self.problems]

    def in_store_order(self) -> list[PlannedObject]:
        """Campaigns first, then campaign versions, then activations (3.4), each in file order."""
        order = [DocumentKind.CAMPAIGN, DocumentKind.CAMPAIGN_VERSION, DocumentKind.ACTIVATION]
        return sorted(self.objects, key=lambda planned: order.index(planned.kind))


def raise_if_invalid(plan: ApplyPlan) -> None:
    """Raise `ValidationError` (`VALIDATION_FAILED`, API-10) when the plan has problems."""
    if plan.problems:
        raise ValidationError(
            f"{len(plan.problems)} validation error(s) in {plan.source}",
            "VALIDATION_FAILED",
            violations=plan.violations,
        )


def concurrency_limit_reason(name: str, maximum: int) -> str:
    """The V35 / `CAMPAIGN_CONCURRENCY_LIMIT` text (8.7)."""
    return f'concurrency limit reached for campaign version "{name}" (max {maximum})'


@dataclass(frozen=True)
class PrefetchNames:
    """The stored objects a file may refer to or replace."""

    campaigns: frozenset[str] = frozenset()
    campaign_versions: frozenset[str] = frozenset()
    activations: frozenset[str] = frozenset()


def prefetch_names(documents: Sequence[RawDocument]) -> PrefetchNames:
    """Which stored objects `plan_apply` may ask about for these documents."""
    campaigns: set[str] = set()
    versions: set[str] = set()
    activations: set[str] = set()
    for raw in documents:
        checked = check_document(raw)
        if checked.name is None or checked.kind is None:
            continue
        if checked.kind is DocumentKind.CAMPAIGN:
            campaigns.add(checked.name)
        elif checked.kind is DocumentKind.CAMPAIGN_VERSION:
            versions.add(checked.name)
            if checked.version is not None and checked.version.root_resource:
                campaigns.add(checked.version.root_resource)
        else:
            activations.add(checked.name)
            if checked.campaign_version_ref:
                versions.add(campaign_version_object_name(checked.campaign_version_ref))
    return PrefetchNames(frozenset(campaigns), frozenset(versions), frozenset(activations))


@dataclass
class _FileIndex:
    """The objects a file defines, by kind and name (first definition wins)."""

    campaigns: set[str] = field(default_factory=set)
    versions: dict[str, CheckedDocument] = field(default_factory=dict)


def plan_apply(
    documents: Sequence[RawDocument],
    source: str,
    stored: StoredObjects,
    *,
    test_hooks: bool = False,
    active_activations: Callable[[str], int] | None = None,
) -> ApplyPlan:
    """Validate a whole file against every rule and decide each object's action.

    `test_hooks` makes the test-only providers known (nodes run with SYMPHONY_MESH_TEST_HOOKS=1).
    `active_activations`, when given, enables V35 (see the module docstring).
    """
    checked = [check_document(raw, test_hooks=test_hooks) for raw in documents]
    index = _FileIndex()
    seen: set[tuple[DocumentKind, str]] = set()
    for item in checked:
        if item.kind is None or item.name is None:
            continue
        if (item.kind, item.name) in seen:
            item.report.error(Rule.V4, "metadata.name", "duplicate object in this file")
            continue
        seen.add((item.kind, item.name))
        if item.kind is DocumentKind.CAMPAIGN:
            index.campaigns.add(item.name)
        elif item.kind is DocumentKind.CAMPAIGN_VERSION:
            index.versions[item.name] = item

    admitted: dict[str, int] = {}
    for item in checked:
        if item.kind is DocumentKind.CAMPAIGN_VERSION:
            _check_version_references(item, index, stored)
        elif item.kind is DocumentKind.ACTIVATION:
            _check_activation_references(item, index, stored, active_activations, admitted)

    problems = tuple(problem for item in checked for problem in item.report.sorted_problems())
    warnings = tuple(notice for item in checked for notice in item.report.notices)
    if problems:
        return ApplyPlan(source, problems, warnings)
    objects = tuple(_planned(item, stored) for item in checked)
    return ApplyPlan(source, problems, warnings, objects)


def _check_version_references(
    item: CheckedDocument, index: _FileIndex, stored: StoredObjects
) -> None:
    """V8: the campaign exists (stored or in the file) and the root did not change."""
    root = item.version.root_resource if item.version else None
    if root is None or item.name is None:
        return
    if root not in index.campaigns and stored.campaign(root) is None:
        item.report.error(Rule.V8, "spec.rootResource", f'campaign "{root}" does not exist')
    previous = stored.campaign_version(item.name)
    if previous is not None and previous.version.root_resource != root:
        item.report.error(
            Rule.V8,
            "spec.rootResource",
            f'cannot be changed (was "{previous.version.root_resource}")',
        )


def _check_activation_references(
    item: CheckedDocument,
    index: _FileIndex,
    stored: StoredObjects,
    active_activations: Callable[[str], int] | None,
    admitted: dict[str, int],
) -> None:
    """V31, V32, V34 and (optionally) V35 of one activation."""
    reference = item.campaign_version_ref
    previous = stored.activation(item.name) if item.name is not None else None
    if reference is not None:
        target = campaign_version_object_name(reference)
        stage_keys: frozenset[str] | None = None
        version: CampaignVersion | None = None
        in_file = index.versions.get(target)
        stored_version = stored.campaign_version(target)
        if in_file is not None:
            stage_keys = in_file.version.stage_keys if in_file.version else None
            version = in_file.version.version if in_file.version else None
        elif stored_version is not None:
            version = stored_version.version
            stage_keys = frozenset(version.stages)
        else:
            item.report.error(
                Rule.V31, "spec.campaignversion", f'campaignversion "{reference}" does not exist'
            )
        if item.stage and stage_keys is not None and item.stage not in stage_keys:
            item.report.error(
                Rule.V32,
                "spec.stage",
                f'stage "{item.stage}" is not defined in campaignversion {target}',
            )
        if previous is None and version is not None and active_activations is not None:
            _check_concurrency(item, version, active_activations, admitted)
    if (
        previous is not None
        and item.spec is not None
        and not json_equal(item.spec, previous.activation.spec)
    ):
        item.report.error(
            Rule.V34,
            "spec",
            "an activation's spec cannot be changed (delete and re-create it)",
        )


def _check_concurrency(
    item: CheckedDocument,
    version: CampaignVersion,
    active_activations: Callable[[str], int],
    admitted: dict[str, int],
) -> None:
    """V35: a new activation of a `reject` version beyond its limit."""
    limit = version.concurrency
    if limit is None or limit.policy != "reject":
        return
    running = active_activations(version.name) + admitted.get(version.name, 0)
    if running >= limit.max:
        item.report.error(
            Rule.V35, "spec.campaignversion", concurrency_limit_reason(version.name, limit.max)
        )
    else:
        admitted[version.name] = admitted.get(version.name, 0) + 1


def _planned(item: CheckedDocument, stored: StoredObjects) -> PlannedObject:
    """The action for one valid document."""
    document = item.document
    # Only valid files are planned, and every valid document has its kind and typed object.
    assert document is not None
    assert item.kind is not None
    notices = tuple(item.report.notices)
    name = document.name
    if isinstance(document, Campaign):
        old_campaign = stored.campaign(name)
        if old_campaign is None:
            return PlannedObject(item.kind, name, ApplyAction.CREATED, document, 1, None, notices)
        same = _same_metadata(document, old_campaign.campaign)
        action = ApplyAction.UNCHANGED if same else ApplyAction.CONFIGURED
        return PlannedObject(
            item.kind, name, action, document, old_campaign.generation, old_campaign.uid, notices
        )
    if isinstance(document, CampaignVersion):
        old_version = stored.campaign_version(name)
        if old_version is None:
            return PlannedObject(item.kind, name, ApplyAction.CREATED, document, 1, None, notices)
        same = _same_metadata(document, old_version.version) and json_equal(
            document.spec, old_version.version.spec
        )
        if same:
            return PlannedObject(
                item.kind,
                name,
                ApplyAction.UNCHANGED,
                old_version.version,
                old_version.generation,
                old_version.uid,
                notices,
            )
        return PlannedObject(
            item.kind,
            name,
            ApplyAction.CONFIGURED,
            document,
            old_version.generation + 1,
            old_version.uid,
            notices,
        )
    old_activation = stored.activation(name)
    if old_activation is None:
        return PlannedObject(item.kind, name, ApplyAction.CREATED, document, 1, None, notices)
    same = _same_metadata(document, old_activation.activation)
    action = ApplyAction.UNCHANGED if same else ApplyAction.CONFIGURED
    # The spec is unchanged (V34); keep the stored spec exactly as first written.
    kept: Activation = old_activation.activation
    if not same:
        kept = replace(kept, metadata=document.metadata)
    return PlannedObject(
        item.kind, name, action, kept, old_activation.generation, old_activation.uid, notices
    )


def _same_metadata(new: Document, old: Document) -> bool:
    return dict(new.metadata.labels) == dict(old.metadata.labels) and dict(
        new.metadata.annotations
    ) == dict(old.metadata.annotations)
