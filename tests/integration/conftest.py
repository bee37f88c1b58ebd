"""A mesh shared by the tests of one module: a CA, an operator, and a hub node process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.cli import Invocation, invoke
from tests.helpers.nodes import NodeProcess
from tests.helpers.pki import TestPki


@dataclass
class Mesh:
    """A running hub with mutual TLS and the operator's TLS directory."""

    pki: TestPki
    hub: NodeProcess
    operator: Path

    def cli(self, *args: str, stdin: str | bytes | None = None) -> Invocation:
        """The CLI, in-process, as the operator against the hub."""
        return invoke("--server", self.hub.address, "--tls-dir", str(self.operator), *args,
                      stdin=stdin)  # fmt: skip


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    """One hub process per test module (starting a node costs a fraction of a second)."""
    root = tmp_path_factory.mktemp("mesh")
    pki = TestPki(root / "pki")
    hub = NodeProcess(root / "hub-data", tls_dir=pki.site("hub")).start()
    try:
        yield Mesh(pki, hub, pki.operator("alice"))
    finally:
        hub.kill()
