"""Fixtures shared by every test: a throwaway mesh PKI and real nodes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.nodes import NodeProcess
from tests.helpers.pki import TestPki


@pytest.fixture
def pki(tmp_path: Path) -> TestPki:
    """A fresh CA with helpers to issue site and operator TLS directories."""
    return TestPki(tmp_path / "pki")


@pytest.fixture
def operator_dir(pki: TestPki) -> Path:
    """TLS directory of the operator `alice`."""
    return pki.operator("alice")


@pytest.fixture
def hub_process(tmp_path: Path, pki: TestPki) -> Iterator[NodeProcess]:
    """A `symphony-mesh node run` process: site `hub`, mutual TLS, its own SQLite file."""
    node = NodeProcess(tmp_path / "hub-data", tls_dir=pki.site("hub")).start()
    try:
        yield node
    finally:
        node.kill()
