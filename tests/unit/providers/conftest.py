"""Fixtures of the provider tests: a fake environment and local HTTP servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.unit.providers.fakes import FakeEnvironment
from tests.unit.providers.httpserver import Servers


@pytest.fixture
def env(tmp_path: Path) -> FakeEnvironment:
    """A fake environment with an empty script folder and staging directory."""
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    return FakeEnvironment(script_dir=scripts, staging_dir=tmp_path / "data" / "staging")


@pytest.fixture
async def servers() -> AsyncIterator[Servers]:
    """Local HTTP servers on 127.0.0.1, closed after the test."""
    started = Servers()
    yield started
    await started.close()
