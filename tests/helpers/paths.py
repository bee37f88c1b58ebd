"""Where the shared contract material lives: `../shared` beside the repository (as in CI)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SAMPLES", "SHARED"]

SHARED = Path(__file__).resolve().parents[3] / "shared"
SAMPLES = SHARED / "samples" / "symphony"
"""Symphony's own sample campaigns, which must apply unchanged."""
