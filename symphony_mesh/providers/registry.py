"""The stage providers this node runs itself, by canonical type name (campaigns.md 9.1).

The engine canonicalises a stage's provider name first (`model.providers_catalog`), then asks
`get_provider`. A name it does not get a provider for is the engine's business: the remote
provider (9.9) is part of federation, out-of-scope Symphony providers (9.12) and unknown names
fail as stage-level errors, and test-only providers exist only on nodes started with
`SYMPHONY_MESH_TEST_HOOKS=1` and are supplied by the capability that defines them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from symphony_mesh.model.providers_catalog import (
    APPROVAL,
    COUNTER,
    DELAY,
    HTTP,
    LIST,
    MOCK,
    SCRIPT,
    SIGNAL,
    WAIT,
)
from symphony_mesh.providers import approval, counter, delay, mock, script, signal, wait
from symphony_mesh.providers import list as list_provider
from symphony_mesh.providers.base import Outcome, Provider, ProviderCall

__all__ = ["LOCAL_PROVIDERS", "get_provider"]


async def _http(call: ProviderCall) -> Outcome:
    """The http provider, imported on first use: httpx costs every node ~4 MiB of memory,
    and most nodes never run an http stage."""
    from symphony_mesh.providers import http

    return await http.run(call)


LOCAL_PROVIDERS: Mapping[str, Provider] = MappingProxyType(
    {
        MOCK: mock.run,
        COUNTER: counter.run,
        HTTP: _http,
        DELAY: delay.run,
        SCRIPT: script.run,
        LIST: list_provider.run,
        WAIT: wait.run,
        SIGNAL: signal.run,
        APPROVAL: approval.run,
    }
)
"""Every provider implemented in this package, by canonical type name."""


def get_provider(type_name: str, *, test_hooks: bool = False) -> Provider | None:
    """The provider of a canonical type name, or None when this package has none.

    `test_hooks` is accepted so that the engine can ask with its node setting; test-only names
    (`providers.stage.test.*`) are never answered here, with or without it.
    """
    del test_hooks  # no test-only provider lives in this package
    return LOCAL_PROVIDERS.get(type_name)
