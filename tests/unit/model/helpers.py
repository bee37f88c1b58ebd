"""Builders of documents and a one-call planner for the model tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import yaml

from symphony_mesh.model import (
    ApplyPlan,
    InMemoryObjects,
    PlannedObject,
    StoredActivation,
    StoredCampaign,
    StoredCampaignVersion,
    plan_apply,
    read_documents,
)
from symphony_mesh.model.documents import Activation, Campaign, CampaignVersion

__all__ = [
    "DROP",
    "NOW",
    "activation",
    "campaign",
    "dump",
    "errors",
    "plan",
    "stage",
    "store",
    "version",
    "warnings",
]

NOW = datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC)
API = "workflow.symphony/v1"
Doc = dict[str, Any]


def campaign(name: str = "c", **metadata: Any) -> Doc:
    """A valid Campaign."""
    return {"apiVersion": API, "kind": "Campaign", "metadata": {"name": name, **metadata}}


def stage(provider: str = "providers.stage.mock", **fields: Any) -> Doc:
    """A stage map."""
    return {"provider": provider, **fields}


def version(name: str = "c-v-1", stages: Doc | None = None, **spec: Any) -> Doc:
    """A valid CampaignVersion of campaign `c` (stages `a` -> `b`), with spec overrides."""
    body: Doc = {
        "rootResource": "c",
        "firstStage": "a",
        "selfDriving": True,
        "stages": stages
        if stages is not None
        else {"a": stage(stageSelector="b"), "b": stage(inputs={"foo": 1})},
    }
    body.update(spec)
    body = {key: value for key, value in body.items() if value is not _DROP}
    return {"apiVersion": API, "kind": "CampaignVersion", "metadata": {"name": name}, "spec": body}


def activation(name: str = "a1", **spec: Any) -> Doc:
    """A valid Activation of `c:1`, with spec overrides."""
    body: Doc = {"campaignversion": "c:1"}
    body.update(spec)
    body = {key: value for key, value in body.items() if value is not _DROP}
    return {"apiVersion": API, "kind": "Activation", "metadata": {"name": name}, "spec": body}


class _Drop:
    """Marks a spec field to remove from a builder's defaults."""


_DROP: Any = _Drop()
DROP: Any = _DROP


def dump(*docs: Any) -> bytes:
    """A multi-document YAML file."""
    return yaml.safe_dump_all(list(docs), sort_keys=False, allow_unicode=True).encode()


def plan(*docs: Any, stored: InMemoryObjects | None = None, **options: Any) -> ApplyPlan:
    """Read and plan a file made of `docs`."""
    content = dump(*docs)
    return plan_apply(
        read_documents(content, "f.yaml"), "f.yaml", stored or InMemoryObjects(), **options
    )


def errors(*docs: Any, stored: InMemoryObjects | None = None, **options: Any) -> list[str]:
    """The error lines (without `error: `) of a file."""
    return [problem.line for problem in plan(*docs, stored=stored, **options).problems]


def warnings(*docs: Any, stored: InMemoryObjects | None = None) -> list[str]:
    """The warning lines (without `warning: `) of a file."""
    return [notice.line for notice in plan(*docs, stored=stored).warnings]


def store(
    objects: InMemoryObjects, planned: list[PlannedObject] | tuple[PlannedObject, ...]
) -> None:
    """Store planned objects as the server would (uids derived from names)."""
    for item in planned:
        uid = item.uid or f"uid-{item.name}"
        document = copy.deepcopy(item.document)
        if isinstance(document, Campaign):
            objects.put([StoredCampaign(document, uid, NOW, item.generation)])
        elif isinstance(document, CampaignVersion):
            objects.put([StoredCampaignVersion(document, uid, NOW, item.generation)])
        else:
            assert isinstance(document, Activation)
            objects.put([StoredActivation(document, uid, NOW, item.generation)])
