"""Stored objects as the model sees them, and the lookup the planner reads them through.

The store keeps each object's typed document plus what the node added when storing it: a uid, a
generation and a creation time (`ObjectMeta` gathers them with the name, labels and annotations
for rendering). `plan_apply` is pure, so the server prefetches the objects a file may touch --
`prefetch_names(documents)` tells which -- into any `StoredObjects` implementation, for example
`InMemoryObjects`, and plans against it inside the same store transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from symphony_mesh.model.documents import Activation, Campaign, CampaignVersion, Metadata

__all__ = [
    "InMemoryObjects",
    "ObjectMeta",
    "StoredActivation",
    "StoredCampaign",
    "StoredCampaignVersion",
    "StoredObjects",
]


@dataclass(frozen=True)
class ObjectMeta:
    """The metadata of a stored object, as `get` renders it (10.5)."""

    name: str
    uid: str
    generation: int
    created_at: datetime
    """`metadata.creationTimestamp`."""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, metadata: Metadata, uid: str, generation: int, created_at: datetime) -> ObjectMeta:
        """Join a document's metadata with the fields the node manages."""
        return cls(
            metadata.name,
            uid,
            generation,
            created_at,
            dict(metadata.labels),
            dict(metadata.annotations),
        )


@dataclass(frozen=True)
class StoredCampaign:
    """A stored Campaign."""

    campaign: Campaign
    uid: str
    created_at: datetime
    generation: int = 1

    @property
    def meta(self) -> ObjectMeta:
        """Metadata for rendering."""
        return ObjectMeta.of(self.campaign.metadata, self.uid, self.generation, self.created_at)


@dataclass(frozen=True)
class StoredCampaignVersion:
    """A stored CampaignVersion; `generation` grows by 1 with every `configured` apply (3.5)."""

    version: CampaignVersion
    uid: str
    created_at: datetime
    generation: int = 1

    @property
    def meta(self) -> ObjectMeta:
        """Metadata for rendering."""
        return ObjectMeta.of(self.version.metadata, self.uid, self.generation, self.created_at)


@dataclass(frozen=True)
class StoredActivation:
    """A stored Activation (its generation is always 1: the spec never changes)."""

    activation: Activation
    uid: str
    created_at: datetime
    generation: int = 1

    @property
    def meta(self) -> ObjectMeta:
        """Metadata for rendering (user labels only; the renderer adds the system labels)."""
        return ObjectMeta.of(self.activation.metadata, self.uid, self.generation, self.created_at)


class StoredObjects(Protocol):
    """Read access to stored objects by name; the server prefetches them into such a lookup."""

    def campaign(self, name: str) -> StoredCampaign | None:
        """The stored campaign, or None."""
        ...

    def campaign_version(self, name: str) -> StoredCampaignVersion | None:
        """The stored campaign version (by object name), or None."""
        ...

    def activation(self, name: str) -> StoredActivation | None:
        """The stored activation, or None."""
        ...


@dataclass
class InMemoryObjects:
    """A dict-backed `StoredObjects` (prefetched rows, tests)."""

    campaigns: dict[str, StoredCampaign] = field(default_factory=dict)
    campaign_versions: dict[str, StoredCampaignVersion] = field(default_factory=dict)
    activations: dict[str, StoredActivation] = field(default_factory=dict)

    def campaign(self, name: str) -> StoredCampaign | None:
        """The stored campaign, or None."""
        return self.campaigns.get(name)

    def campaign_version(self, name: str) -> StoredCampaignVersion | None:
        """The stored campaign version, or None."""
        return self.campaign_versions.get(name)

    def activation(self, name: str) -> StoredActivation | None:
        """The stored activation, or None."""
        return self.activations.get(name)

    def put(
        self, objects: Iterable[StoredCampaign | StoredCampaignVersion | StoredActivation]
    ) -> None:
        """Store (or replace) objects by name."""
        for stored in objects:
            if isinstance(stored, StoredCampaign):
                self.campaigns[stored.campaign.name] = stored
            elif isinstance(stored, StoredCampaignVersion):
                self.campaign_versions[stored.version.name] = stored
            else:
                self.activations[stored.activation.name] = stored
