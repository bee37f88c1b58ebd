"""Names and references of campaigns.md section 2.1.1.

Every rule is a small predicate so that the model, the server (request fields), the engine
(contexts, signals) and the CLI share one spelling of each rule. References to a campaign version
are written `<root>:<version>`; `campaign_version_object_name` turns them into the object name
`<root>-v-<version>`, and leaves a value that already is an object name as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "API_VERSION",
    "MAX_CONTEXT_NAME_LENGTH",
    "MAX_OBJECT_NAME_LENGTH",
    "NAMESPACE",
    "OBJECT_NAME_RULE",
    "SIGNAL_NAME_RULE",
    "SITE_ID_RULE",
    "VERSION_SEPARATOR",
    "VersionName",
    "campaign_version_object_name",
    "campaign_version_reference",
    "is_context_name",
    "is_object_name",
    "is_signal_name",
    "is_site_id",
    "is_stage_name",
    "is_task_name",
    "split_campaign_version_name",
]

API_VERSION = "workflow.symphony/v1"
"""The only `apiVersion` a document may carry."""

NAMESPACE = "default"
"""The single namespace of symphony-mesh (`metadata.namespace` must be this when present)."""

VERSION_SEPARATOR = "-v-"
"""Joins the root and the version part of a campaign version's object name."""

MAX_OBJECT_NAME_LENGTH = 61
MAX_CONTEXT_NAME_LENGTH = 253

OBJECT_NAME_RULE = (
    "must be 1-61 characters of a-z, 0-9, '-' and '.', starting and ending with a letter or digit"
)
"""The V3 reason text, reused by request-field errors (`INVALID_NAME`)."""

SIGNAL_NAME_RULE = "must be 1-63 characters of A-Z, a-z, 0-9, '_', '.', '-'"
"""The rule text of a signal name as the Signal RPC reports it (section 8.1)."""

SITE_ID_RULE = (
    "must be 1 to 63 characters of lowercase letters, digits and '-', "
    "starting and ending with a letter or digit"
)
"""A readable form of federation.md T-2."""

_OBJECT_NAME = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?")
_STAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,60}")
_SIGNAL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_SITE_ID = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# Context names forbid '/', whitespace and control characters (C0, DEL and C1).
_CONTEXT_FORBIDDEN = re.compile(r"[/\s\x00-\x1f\x7f-\x9f]")


def is_object_name(value: str) -> bool:
    """A Campaign or Activation name (and each part of a CampaignVersion name)."""
    return len(value) <= MAX_OBJECT_NAME_LENGTH and _OBJECT_NAME.fullmatch(value) is not None


def is_stage_name(value: str) -> bool:
    """A key of `spec.stages`: 1-61 of `A-Z a-z 0-9 - _`, first a letter or digit."""
    return _STAGE_NAME.fullmatch(value) is not None


def is_task_name(value: str) -> bool:
    """Task names follow the stage-name rule."""
    return is_stage_name(value)


def is_signal_name(value: str) -> bool:
    """1-63 of `A-Z a-z 0-9 _ . -`, first a letter or digit."""
    return _SIGNAL_NAME.fullmatch(value) is not None


def is_site_id(value: str) -> bool:
    """federation.md T-2: `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`."""
    return _SITE_ID.fullmatch(value) is not None


def is_context_name(value: str) -> bool:
    """A fan-out element: non-empty, at most 253 characters, no `/`, whitespace or control."""
    return 0 < len(value) <= MAX_CONTEXT_NAME_LENGTH and _CONTEXT_FORBIDDEN.search(value) is None


@dataclass(frozen=True)
class VersionName:
    """The two parts of a campaign version's object name `<root>-v-<version>`."""

    root: str
    """The campaign's name (`spec.rootResource`)."""
    version: str
    """The version part; informational (`spec.version` must equal it when given)."""

    @property
    def object_name(self) -> str:
        """`<root>-v-<version>`."""
        return f"{self.root}{VERSION_SEPARATOR}{self.version}"

    @property
    def reference(self) -> str:
        """`<root>:<version>`, the form activations usually write."""
        return f"{self.root}:{self.version}"


def split_campaign_version_name(name: str) -> VersionName | None:
    """Split a valid campaign version object name, or return None when it breaks 2.1.1.

    The name must be one object name made of a root and a version joined by exactly one `-v-`;
    neither part may contain `-v-`, the version may not start with `v-`, and each part must
    start and end with a letter or digit.
    """
    if not is_object_name(name) or name.count(VERSION_SEPARATOR) != 1:
        return None
    root, version = name.split(VERSION_SEPARATOR)
    if not root or not version or version.startswith("v-"):
        return None
    if not (is_object_name(root) and is_object_name(version)):
        return None
    return VersionName(root, version)


def campaign_version_object_name(reference: str) -> str:
    """The object name a reference points to: every `:` becomes `-v-` (2.1.1).

    `canary:2.1` becomes `canary-v-2.1`; an object name such as `canary-v-2.1` is returned as
    it is. The result is not checked; look it up, or validate it with
    `split_campaign_version_name`.
    """
    return reference.replace(":", VERSION_SEPARATOR)


def campaign_version_reference(name: str) -> str:
    """The `<root>:<version>` form of an object name (the name itself if it does not split)."""
    parts = split_campaign_version_name(name)
    return parts.reference if parts is not None else name
