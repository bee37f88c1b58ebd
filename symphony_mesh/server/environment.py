"""What providers may know about the node they run on (`ProviderEnvironment`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from symphony_mesh.providers.base import SiteView

__all__ = ["NodeEnvironment"]


@dataclass(frozen=True)
class NodeEnvironment:
    """This node's site id and directories; it knows no sites until federation lands."""

    site_id: str
    script_dir: Path
    staging_dir: Path

    def now(self) -> datetime:
        """The current time (aware, UTC)."""
        return datetime.now(UTC)

    def sites(self, *, subtree: bool) -> Sequence[SiteView]:
        """No links yet, so no children or descendants."""
        return ()
