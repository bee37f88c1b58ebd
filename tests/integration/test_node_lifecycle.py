"""Starting and stopping real node processes (federation.md T-2/3, SEC-17, DIAG-4, CFG-30/40/41)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers.cli import invoke
from tests.helpers.nodes import NodeProcess, run_cli
from tests.helpers.pki import TestPki


def _events(node: NodeProcess) -> list[dict[str, object]]:
    return [json.loads(line) for line in node.lines if line.startswith("{")]


def test_sigterm_drains_and_exits_zero(tmp_path: Path, pki: TestPki) -> None:
    node = NodeProcess(tmp_path / "data", tls_dir=pki.site("hub")).start()
    ready = next(line for line in node.lines if "serving on" in line)
    assert re.fullmatch(
        r'symphony-mesh node "hub" serving on 127\.0\.0\.1:\d+ '
        r"\(mutual TLS, trust domain mesh\.test\)",
        ready,
    )
    assert node.stop() == 0
    events = [event["event"] for event in _events(node)]
    assert events[0] == "node.started"
    assert events[-2:] == ["node.stopping", "node.stopped"]
    started = _events(node)[0]
    assert {
        "siteId",
        "listen",
        "adminListen",
        "tls",
        "trustDomain",
        "version",
        "incarnation",
    } <= set(started)
    assert str(started["ts"]).endswith("Z")


def test_one_node_per_data_directory(tmp_path: Path) -> None:
    first = NodeProcess(tmp_path / "data").start()
    try:
        second = NodeProcess(tmp_path / "data").spawn()
        assert second.process is not None
        assert second.process.wait(30) == 1
        second._close()
    finally:
        first.kill()
    assert first.process is not None
    assert (
        f"error: data directory {tmp_path / 'data'} is in use by another node "
        f"(pid {first.process.pid})" in second.lines
    )


def test_a_store_keeps_its_site_id(tmp_path: Path) -> None:
    NodeProcess(tmp_path / "data").start().stop()
    other = NodeProcess(tmp_path / "data", args=["--site-id", "tokyo"]).spawn()
    assert other.process is not None
    assert other.process.wait(30) == 1
    other._close()
    assert (
        f'error: data directory {tmp_path / "data"} belongs to site "hub"; refusing to start as '
        '"tokyo"' in other.lines
    )


def test_certificate_must_name_the_site(tmp_path: Path, pki: TestPki) -> None:
    node = NodeProcess(tmp_path / "data", tls_dir=pki.site("osaka"), args=["--site-id", "tokyo"])
    node.spawn()
    assert node.process is not None
    assert node.process.wait(30) == 1
    node._close()
    assert (
        f"error: certificate {pki.root / 'site-osaka' / 'cert.pem'} identifies "
        '"spiffe://mesh.test/site/osaka", not site "tokyo"' in node.lines
    )


def test_transport_rules(tmp_path: Path, pki: TestPki) -> None:
    cases = [
        (["--listen", "0.0.0.0:7443"], 2,
         "error: --listen 0.0.0.0:7443 is not a loopback address; pass --tls-dir DIR for mutual "
         "TLS or --insecure to run without TLS"),
        (["--listen", "127.0.0.1:0", "--insecure", "--tls-dir", str(pki.site("hub"))], 2,
         "error: --tls-dir and --insecure are mutually exclusive"),
        (["--listen", "127.0.0.1:0", "--admin-listen", "0.0.0.0:7444"], 2,
         "error: --admin-listen must be a loopback address (127.0.0.1, ::1 or localhost)"),
        (["--listen", "127.0.0.1:0", "--parent", "127.0.0.1:7443"], 2,
         "error: --site-id is required with --parent when TLS is off"),
        (["--listen", "127.0.0.1:0", "--labels", "bad key=x"], 2,
         'error: invalid label "bad key=x": invalid key'),
    ]  # fmt: skip
    for args, code, line in cases:
        result = run_cli("node", "run", "--data-dir", str(tmp_path / "data"), *args)
        assert (result.code, result.stderr.strip().splitlines()[-1]) == (code, line), args


def test_admin_port_serves_health_and_reflection_only(tmp_path: Path, pki: TestPki) -> None:
    node = NodeProcess(
        tmp_path / "data", tls_dir=pki.site("hub"), args=["--admin-listen", "127.0.0.1:0"]
    ).start()
    try:
        started = json.loads(node.wait_for_line('"event": "node.started"'))
        admin = str(started["adminListen"])
        probe = invoke("--server", admin, "--insecure", "health")
        wrong = invoke("--server", admin, "--insecure", "health", "--service", "nope")
        info = invoke("--server", admin, "--insecure", "node", "info")
    finally:
        node.kill()
    assert (probe.code, probe.stdout) == (0, "SERVING\n")
    assert (wrong.code, wrong.stderr) == (
        1,
        f'error: health service "nope" is unknown to {admin}\n',
    )
    assert info.code == 1
    assert "(UNIMPLEMENTED)" in info.stderr


def test_config_file_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "node.yaml"
    config.write_text("federation:\n  maxInflight: 3\n")
    result = run_cli("node", "run", "--data-dir", str(tmp_path / "d"), "--listen", "127.0.0.1:0",
                     "--config", str(config))  # fmt: skip
    assert (result.code, result.stderr.strip()) == (
        2,
        f'error: {config}: unknown key "federation.maxInflight"',
    )
    result = run_cli(
        "node", "run", "--data-dir", str(tmp_path / "d"), "--listen", "127.0.0.1:0",
        env={"SYMPHONY_MESH_NODE_FEDERATION__HEARTBEAT_INTERVAL": "90s"},
    )  # fmt: skip
    assert (result.code, result.stderr.strip()) == (
        2,
        "error: federation.heartbeatInterval: 90s is out of range (1s to 60s)",
    )
