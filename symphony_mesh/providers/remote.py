"""`providers.stage.remote` until the federation link exists (campaigns.md 7, federation.md T-11).

This node has no children yet, so it knows no site: every remote context fails at once with
404 `site "X" is not known to node "SELF"`, exactly as T-11 words an unknown target. The
federation capability replaces this with real dispatches.
"""

from __future__ import annotations

from symphony_mesh.providers.base import Failed, Outcome, ProviderCall

__all__ = ["unknown_site"]


async def unknown_site(call: ProviderCall) -> Outcome:
    """Fail the context: its site is not known to this node."""
    site = call.environment.site_id
    return Failed(404, f'site "{call.context}" is not known to node "{site}"')
