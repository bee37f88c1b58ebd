"""Node start-up, idle footprint and apply throughput (issue 2; federation.md PT-12).

    python -m tools.bench.bench_node [--quick]

- start to SERVING: from spawning `symphony-mesh node run` (mutual TLS, empty store) to the first
  health `Check("")` that answers SERVING; baseline: a bare grpc.aio server with the same TLS
  files and the stock health servicer, spawned and probed the same way.
- idle RSS: the node's resident memory after it has idled; baseline: the bare server's.
- apply throughput: documents stored per second by sequential `Apply` calls (a Campaign and a
  CampaignVersion per call, over mutual TLS); baseline: plain sqlite3 single-row commits per
  second (WAL, synchronous=FULL) on the same disk.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from symphony_mesh.api.v1 import campaign_pb2, campaign_pb2_grpc
from tests.helpers.pki import TestPki
from tools.bench.common import Figure, median_of, print_section

READY = re.compile(r"serving on (\S+)")
BARE_SERVER = """
import asyncio, sys
from pathlib import Path
import grpc
from grpc import aio
from grpc_health.v1 import health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

async def main() -> None:
    tls = Path(sys.argv[1])
    server = aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health_aio.HealthServicer(), server)
    creds = grpc.ssl_server_credentials(
        [((tls / "key.pem").read_bytes(), (tls / "cert.pem").read_bytes())],
        root_certificates=(tls / "ca.pem").read_bytes(), require_client_auth=True)
    port = server.add_secure_port("127.0.0.1:0", creds)
    await server.start()
    print(f"serving on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    await server.wait_for_termination()

asyncio.run(main())
"""


def _channel(address: str, tls: Path) -> grpc.Channel:
    credentials = grpc.ssl_channel_credentials(
        (tls / "ca.pem").read_bytes(),
        (tls / "key.pem").read_bytes(),
        (tls / "cert.pem").read_bytes(),
    )
    return grpc.secure_channel(address.replace("127.0.0.1", "localhost"), credentials)


def _spawn_until_serving(
    command: list[str], operator: Path
) -> tuple[subprocess.Popen[str], float, str]:
    """Spawn, read the address from the readiness line, wait for SERVING; seconds, address."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    assert process.stderr is not None
    for line in process.stderr:
        match = READY.search(line)
        if match:
            break
    else:
        raise RuntimeError(f"{command[2:5]} exited before serving")
    with _channel(match.group(1), operator) as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=30, wait_for_ready=True
        )
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    return process, time.perf_counter() - started, match.group(1)


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(30)
    if process.stderr is not None:
        process.stderr.close()


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _node_command(data_dir: Path, tls: Path) -> list[str]:
    return [sys.executable, "-m", "symphony_mesh", "node", "run", "--data-dir", str(data_dir),
            "--listen", "127.0.0.1:0", "--tls-dir", str(tls), "--log-format", "json"]  # fmt: skip


def _apply_throughput(address: str, operator: Path, calls: int, prefix: str) -> float:
    documents = 0
    with _channel(address, operator) as channel:
        stub = campaign_pb2_grpc.CampaignServiceStub(channel)
        started = time.perf_counter()
        for i in range(calls):
            content = (
                "apiVersion: workflow.symphony/v1\nkind: Campaign\n"
                f"metadata: {{name: {prefix}c{i}}}\n---\n"
                f"apiVersion: workflow.symphony/v1\nkind: CampaignVersion\n"
                f"metadata: {{name: {prefix}c{i}-v-1}}\nspec:\n  rootResource: {prefix}c{i}\n"
                "  firstStage: a\n"
                "  selfDriving: true\n  stages:\n    a: {provider: providers.stage.mock}\n"
            )
            stub.Apply(
                campaign_pb2.ApplyRequest(content=content.encode(), source="bench"), timeout=30
            )
            documents += 2
        return documents / (time.perf_counter() - started)


def _sqlite_commits(directory: Path, commits: int) -> float:
    path = directory / f"raw-{time.monotonic_ns()}.db"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    started = time.perf_counter()
    for i in range(commits):
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO t (body) VALUES (?)", (f"row {i}",))
        connection.execute("COMMIT")
    rate = commits / (time.perf_counter() - started)
    connection.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs = 3 if args.quick else 7
    idle_seconds = 3.0 if args.quick else 60.0
    calls = 50 if args.quick else 300
    # Benchmark files live beside the repository, on the disk a node's store would use.
    with tempfile.TemporaryDirectory(dir=Path.cwd(), prefix=".bench-") as raw:
        root = Path(raw)
        pki = TestPki(root / "pki")
        site, operator = pki.site("hub"), pki.operator("bench")
        bare_script = root / "bare_server.py"
        bare_script.write_text(BARE_SERVER)
        counter = iter(range(1_000_000))

        def node_start() -> float:
            process, seconds, _ = _spawn_until_serving(
                _node_command(root / f"data-{next(counter)}", site), operator
            )
            _stop(process)
            return seconds * 1000

        def bare_start() -> float:
            bare = [sys.executable, str(bare_script), str(site)]
            process, seconds, _ = _spawn_until_serving(bare, operator)
            _stop(process)
            return seconds * 1000

        node_ms = median_of(runs, node_start)
        bare_ms = median_of(runs, bare_start)

        node, _, _ = _spawn_until_serving(_node_command(root / "data-idle", site), operator)
        bare, _, _ = _spawn_until_serving([sys.executable, str(bare_script), str(site)], operator)
        time.sleep(idle_seconds)  # idle means idle: nothing to wait on but time itself
        node_rss, bare_rss = _rss_mib(node.pid), _rss_mib(bare.pid)
        _stop(bare)
        _stop(node)
        applying, _, address = _spawn_until_serving(
            _node_command(root / "data-apply", site), operator
        )
        runs_done = iter(range(100))
        apply_rate = median_of(
            3, lambda: _apply_throughput(address, operator, calls, f"r{next(runs_done)}")
        )
        _stop(applying)
        sqlite_rate = median_of(3, lambda: _sqlite_commits(root, 500 if args.quick else 2000))

    print_section(
        "Node start, footprint and apply",
        [
            Figure(
                "node start to SERVING (mTLS, empty store)",
                node_ms,
                "ms",
                bare_ms,
                "bare grpc.aio server",
                "<= 400 ms",
                node_ms <= 400,
            ),
            Figure(
                f"idle RSS after {idle_seconds:.0f} s",
                node_rss,
                "MiB",
                bare_rss,
                "bare grpc.aio server",
                "<= 60 MB",
                node_rss <= 60,
            ),
            Figure(
                "apply throughput (documents/s)",
                apply_rate,
                "docs/s",
                sqlite_rate,
                "sqlite3 commits/s",
                "",
            ),
        ],
        [
            f"Medians of {runs} starts; apply: {calls} sequential Apply calls of 2 documents each "
            f"(one transaction per call), median of 3; {os.cpu_count()} cores."
        ],
    )


if __name__ == "__main__":
    main()
