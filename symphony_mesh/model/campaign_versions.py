"""Validation of a CampaignVersion's spec (campaigns.md 2.3, rules V8-V30 of 3.2).

`check_campaign_version` walks the spec of one document on its own. Whether `rootResource` names
an existing campaign, and whether it changed, needs the other documents of the file and the store:
that part (V8's `does not exist` and `cannot be changed`) is done by the planner, from the
`VersionFacts` returned here.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Literal

from symphony_mesh.model.checks import DocumentReport, Rule, as_integer, child
from symphony_mesh.model.documents import (
    CampaignVersion,
    ConcurrencyPolicy,
    Metadata,
    StageSpec,
)
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue, iter_strings
from symphony_mesh.model.names import split_campaign_version_name
from symphony_mesh.model.stages import check_stage, error_mode

__all__ = ["MAX_TEMPLATE_BYTES", "VersionFacts", "applied_spec", "check_campaign_version"]

MAX_TEMPLATE_BYTES = 65536
"""V30: the longest string a campaign version may hold."""

_SPEC_FIELDS = frozenset(
    {
        "rootResource",
        "version",
        "firstStage",
        "stages",
        "selfDriving",
        "onCancel",
        "concurrency",
        "timeout",
        "name",
    }
)
_CONCURRENCY_FIELDS = frozenset({"max", "policy"})


@dataclass(frozen=True)
class VersionFacts:
    """What the planner needs to know about a campaign version document, valid or not."""

    root_resource: str | None
    """`spec.rootResource` when it is a non-empty string."""
    stage_keys: frozenset[str] | None
    """The keys of `spec.stages` when it is a map."""
    version: CampaignVersion | None
    """The typed object, when the document had no problem at all."""


def check_campaign_version(
    report: DocumentReport,
    metadata: Metadata | None,
    name_valid: bool,
    spec_value: JsonValue,
    *,
    test_hooks: bool = False,
) -> VersionFacts:
    """Validate a CampaignVersion whose envelope has been checked (problems go to `report`).

    `metadata` is None when the name is unusable; `name_valid` tells whether it passed V3.
    """
    spec: JsonMap
    if spec_value is None:
        spec = {}
    elif isinstance(spec_value, dict):
        spec = spec_value
    else:
        report.error(Rule.V6, "spec", "must be a map")
        return VersionFacts(None, None, None)
    report.unknown_fields(spec, _SPEC_FIELDS, "spec")

    root = _required_string(report, spec, "rootResource", Rule.V8)
    version = _check_name(report, metadata, name_valid, root, spec)

    stages_value = spec.get("stages")
    stage_keys: frozenset[str] | None = None
    stages: dict[str, StageSpec] = {}
    if stages_value is None:
        report.error(Rule.V11, "spec.stages", "required")
    elif not isinstance(stages_value, dict):
        report.error(Rule.V6, "spec.stages", "must be a map")
    else:
        stage_keys = frozenset(stages_value)
        if not stages_value:
            report.error(Rule.V11, "spec.stages", "must contain at least one stage")
        for key, stage in stages_value.items():
            stages[key] = check_stage(report, key, stage, stage_keys, test_hooks=test_hooks)

    first_stage = _required_string(report, spec, "firstStage", Rule.V14)
    if first_stage is not None and stage_keys is not None and first_stage not in stage_keys:
        report.error(
            Rule.V14, "spec.firstStage", f'stage "{first_stage}" is not defined in spec.stages'
        )

    self_driving = report.bool_field(spec, "selfDriving", "spec")
    if spec.get("selfDriving") is None:
        report.warn(
            "spec.selfDriving",
            "not set; defaulting to false (stepped mode: the activation pauses after every "
            "stage until it is stepped)",
        )

    on_cancel = report.string_field(spec, "onCancel", "spec") or ""
    if on_cancel and stage_keys is not None and on_cancel not in stage_keys:
        report.error(
            Rule.V16, "spec.onCancel", f'stage "{on_cancel}" is not defined in spec.stages'
        )

    concurrency = _concurrency(report, spec)
    timeout = report.duration_field(spec, "timeout", "spec")
    if spec.get("name") is not None:
        report.warn("spec.name", "ignored")

    for path, text in iter_strings(spec, "spec"):
        if len(text.encode("utf-8", "surrogatepass")) > MAX_TEMPLATE_BYTES:
            report.error(Rule.V30, path, "template is longer than 65536 bytes")

    typed: CampaignVersion | None = None
    if not report.problems and metadata is not None and root and version and first_stage:
        typed = CampaignVersion(
            metadata=metadata,
            root_resource=root,
            version=version,
            first_stage=first_stage,
            stages=stages,
            spec=applied_spec(spec),
            self_driving=bool(self_driving),
            on_cancel=on_cancel,
            concurrency=concurrency,
            timeout=timeout,
        )
    return VersionFacts(root, stage_keys, typed)


def _required_string(report: DocumentReport, spec: JsonMap, key: str, rule: Rule) -> str | None:
    value = spec.get(key)
    if value is None or value == "":
        report.error(rule, child("spec", key), "required")
        return None
    return report.string_field(spec, key, "spec")


def _check_name(
    report: DocumentReport,
    metadata: Metadata | None,
    name_valid: bool,
    root: str | None,
    spec: JsonMap,
) -> str | None:
    """V9 and V10; return the version part of the name when the name is right."""
    declared = report.string_field(spec, "version", "spec")
    if metadata is None or not name_valid:
        return None
    parts = split_campaign_version_name(metadata.name)
    if parts is None or (root is not None and parts.root != root):
        shown_root = root if root is not None else "<rootResource>"
        # Show the declared version only when it could form a valid name.
        usable = declared and split_campaign_version_name(f"x-v-{declared}") is not None
        shown_version = declared if usable else "<version>"
        report.error(Rule.V9, "metadata.name", f'must be "{shown_root}-v-{shown_version}"')
        return None
    if declared is not None and declared != parts.version:
        report.error(
            Rule.V10,
            "spec.version",
            f'"{declared}" does not match the version "{parts.version}" in metadata.name',
        )
    return parts.version


def _concurrency(report: DocumentReport, spec: JsonMap) -> ConcurrencyPolicy | None:
    value = report.map_field(spec, "concurrency", "spec")
    if value is None:
        return None
    report.unknown_fields(value, _CONCURRENCY_FIELDS, "spec.concurrency")
    maximum = as_integer(value.get("max"))
    if maximum is None or maximum < 1:
        report.error(Rule.V29, "spec.concurrency.max", "must be an integer >= 1")
        maximum = 1
    policy: Literal["queue", "reject"] = "queue"
    raw_policy = value.get("policy")
    if raw_policy == "reject":
        policy = "reject"
    elif raw_policy not in (None, "queue"):
        report.error(Rule.V29, "spec.concurrency.policy", "must be queue or reject")
    return ConcurrencyPolicy(maximum, policy)


# --- the spec as applied -------------------------------------------------------------------

_INTEGER_KEYS = {"maxRetries", "concurrency", "maxToleratedFailures", "max"}


def _structured(value: JsonMap) -> JsonMap:
    """A structured object without its null fields; integral floats of integer fields as ints."""
    cleaned: JsonMap = {}
    for key, child_value in value.items():
        if child_value is None:
            continue
        if key in _INTEGER_KEYS and isinstance(child_value, float):
            child_value = int(child_value)
        cleaned[key] = child_value
    return cleaned


def applied_spec(spec: JsonMap) -> JsonMap:
    """The spec as stored and returned by `get`: see the `documents` module docstring.

    Only valid specs are passed here, so every structured field has its documented type. The
    result shares nothing with `spec`, so the typed stages and the applied spec stay independent.
    """
    applied = _structured(copy.deepcopy(spec))
    if isinstance(applied.get("concurrency"), dict):
        applied["concurrency"] = _structured(_as_map(applied["concurrency"]))
    stages: JsonMap = {}
    for key, stage in _as_map(applied.get("stages")).items():
        stages[key] = _applied_stage(_as_map(stage))
    applied["stages"] = stages
    return applied


def _applied_stage(stage: JsonMap) -> JsonMap:
    applied = _structured(stage)
    for key in ("retry", "contextPolicy", "proxy"):
        if key in applied:
            applied[key] = _structured(_as_map(applied[key]))
    for key in ("maxConcurrency", "maxFailures"):
        policy = applied.get("contextPolicy")
        if isinstance(policy, dict) and isinstance(policy.get(key), float):
            policy[key] = as_integer(policy[key])
    if "taskOption" in applied:
        option = _structured(_as_map(applied["taskOption"]))
        if "errorAction" in option:
            action = _structured(_as_map(option["errorAction"]))
            mode = action.get("mode")
            canonical = error_mode(mode)
            if isinstance(mode, str) and mode and canonical is not None:
                action["mode"] = canonical.value
            option["errorAction"] = action
        applied["taskOption"] = option
    if "tasks" in applied and isinstance(applied["tasks"], list):
        applied["tasks"] = [_structured(_as_map(task)) for task in applied["tasks"]]
    return applied


def _as_map(value: JsonValue) -> JsonMap:
    return value if isinstance(value, dict) else {}
