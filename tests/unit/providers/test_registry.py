"""The registry of local providers."""

from __future__ import annotations

from symphony_mesh.model.providers_catalog import (
    IN_SCOPE_PROVIDERS,
    MOCK,
    OUT_OF_SCOPE_PROVIDERS,
    REMOTE,
    TEST_EFFECT,
)
from symphony_mesh.providers import mock
from symphony_mesh.providers.registry import LOCAL_PROVIDERS, get_provider


def test_every_in_scope_provider_but_remote_is_local() -> None:
    assert set(LOCAL_PROVIDERS) == IN_SCOPE_PROVIDERS - {REMOTE}


def test_get_provider_by_canonical_name() -> None:
    assert get_provider(MOCK) is mock.run
    assert get_provider("mock") is None  # the engine canonicalises first
    assert get_provider(REMOTE) is None
    assert get_provider("providers.stage.nope") is None
    for name in OUT_OF_SCOPE_PROVIDERS:
        assert get_provider(name) is None


def test_test_only_providers_are_not_here() -> None:
    assert get_provider(TEST_EFFECT) is None
    assert get_provider(TEST_EFFECT, test_hooks=True) is None
