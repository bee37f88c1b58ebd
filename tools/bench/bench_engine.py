"""Workflow engine: durable transitions/s, wake latency and dormant footprint (issue 4).

    python -m tools.bench.bench_engine [--quick]

Everything but the DBOS baseline runs in this process on one asyncio loop, against a real SQLite
store (WAL, `synchronous=FULL`) in a temporary directory beside the repository, with the node's
own providers (`providers.registry.get_provider`).

- transitions/s: one file stores a 3-stage self-driving campaign (a -> b -> c through
  `stageSelector`, all `providers.stage.mock`) and 200 activations of it; the figure is the
  durable transitions committed from the first start until all 200 are Done, counted from the
  notices watchers receive (4 per activation: start with stage a running, a -> b, b -> c,
  c -> Done). Measured for both ways a node starts activations: `Engine.start()` resuming the 200
  Pending ones (node start-up, 4.14), and one `Engine.start_later` per activation (what Apply does
  once its transaction committed, 4.2). Baseline: plain sqlite3 single-row commits/s, WAL +
  `synchronous=FULL`, in the same directory. The benchmark wraps its own `Database.write` to count
  group commits, which shows how many transitions each fsync carried.
- vs DBOS: the same transitions/s against DBOS 3.x workflow steps/s (200 concurrent workflows of
  3 steps on SQLite, WAL + `synchronous=FULL`), measured by `dbos_baseline.py` in its own virtualenv
  `.venv-dbos`, created here on demand from `requirements-dbos.txt`.
- wake latency: 200 activations wait dormant (Paused) in a `providers.stage.signal` stage that is
  followed by a mock stage; one at a time, each gets `SignalCommand("go")` through `Engine.wake`,
  and the clock runs until the notice that the second stage started arrives (signal committed,
  provider resumed, its result and the next stage committed: two group commits). Baseline: an
  `asyncio.Event` set -> waiter resumed round trip on the same loop.
- dormant activations: in a fresh process per run, 10,000 activations (20 files of 500, started
  as Apply starts them) are brought to Paused on a signal wait, then the benchmark waits until the
  engine has no asyncio task left beyond those it had before (its follow-up work, reported in the
  notes). RSS growth is VmRSS (after `gc.collect()`) over the same process's VmRSS just before
  the activations were created; idle CPU is `time.process_time()` (all threads) over 10 s of
  idling after that. Baseline for the CPU: the same idle window of an engine with an empty store.
  The runs go side by side: RSS and CPU time are per process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symphony_mesh.engine.commands import SignalCommand
from symphony_mesh.engine.runtime import Engine, Notice
from symphony_mesh.model import read_documents
from symphony_mesh.model.status import StateCode
from symphony_mesh.providers.registry import get_provider
from symphony_mesh.server.environment import NodeEnvironment
from symphony_mesh.store.database import Database
from symphony_mesh.store.documents import DocumentStore
from tools.bench.common import Figure, print_section

ROOT = Path(__file__).resolve().parents[2]
DBOS_VENV = ROOT / ".venv-dbos"
DBOS_REQUIREMENTS = ROOT / "tools" / "bench" / "requirements-dbos.txt"
DBOS_SCRIPT = ROOT / "tools" / "bench" / "dbos_baseline.py"

ACTIVATIONS = 200
TRANSITIONS_PER_ACTIVATION = 4
SIGNALS = 200
DORMANT = 10_000
DORMANT_BATCH = 500

SETTLE_LIMIT = 120.0
"""Seconds the dormant benchmark waits for the engine's follow-up work before idling anyway."""

TARGET_RATE = 5_000.0
TARGET_DBOS_RATIO = 10.0
TARGET_P50_US = 2_000.0
TARGET_P99_US = 10_000.0
TARGET_RSS_MB = 50.0
TARGET_IDLE_CPU_MS = 10.0
"""'No CPU use while idle', read as at most 10 ms of CPU in the window (0.1% of a core)."""

THREE_STAGES = (
    "    a: {provider: providers.stage.mock, stageSelector: b}\n"
    "    b: {provider: providers.stage.mock, stageSelector: c}\n"
    "    c: {provider: providers.stage.mock}\n"
)
SIGNAL_THEN_MOCK = (
    "    a: {provider: providers.stage.signal, inputs: {name: go}, stageSelector: b}\n"
    "    b: {provider: providers.stage.mock}\n"
)

# --- the store, documents and notices ---------------------------------------------------------


@contextlib.asynccontextmanager
async def _node(directory: Path) -> AsyncIterator[tuple[Database, DocumentStore, Engine]]:
    """A fresh store file with its document store and an engine (not started yet)."""
    db = await Database.open(directory / f"engine-{time.monotonic_ns()}.db")
    environment = NodeEnvironment("bench", directory, directory)
    engine = Engine(db, site_id="bench", environment=environment, providers=get_provider)
    try:
        yield db, DocumentStore(db), engine
    finally:
        await engine.aclose()
        await db.aclose()


def _file(campaign: str, stages: str, prefix: str, count: int) -> bytes:
    """A campaign, its version 1 with `stages`, and `count` activations named prefix00000..."""
    header = (
        f"apiVersion: workflow.symphony/v1\nkind: Campaign\nmetadata: {{name: {campaign}}}\n---\n"
        "apiVersion: workflow.symphony/v1\nkind: CampaignVersion\n"
        f"metadata: {{name: {campaign}-v-1}}\nspec:\n  rootResource: {campaign}\n"
        f"  firstStage: a\n  selfDriving: true\n  stages:\n{stages}"
    )
    activations = "".join(
        "---\napiVersion: workflow.symphony/v1\nkind: Activation\n"
        f'metadata: {{name: {prefix}{i:05d}}}\nspec: {{campaignversion: "{campaign}:1"}}\n'
        for i in range(count)
    )
    return (header + activations).encode()


async def _apply(documents: DocumentStore, content: bytes) -> None:
    """Store a file in one transaction, as Apply does."""
    plan = await documents.apply(read_documents(content, "bench"), "bench")
    if not plan.valid:
        raise RuntimeError(f"the benchmark's file is invalid: {plan}")


async def _uids(documents: DocumentStore, prefix: str, count: int) -> list[str]:
    """The uids of the `count` activations named prefix00000 onwards."""
    rows = await documents.list_activations("", [], prefix, count)
    return [row.stored.uid for row in rows]


async def _drain(queue: asyncio.Queue[Notice], status: StateCode) -> int:
    """Take notices until one shows `status`; how many were taken."""
    taken = 0
    while True:
        notice = await queue.get()
        taken += 1
        if notice.status == status:
            return taken


async def _park(engine: Engine, uids: Sequence[str]) -> None:
    """Start activations as Apply does and wait until each one waits dormant (Paused)."""
    queues = {uid: engine.subscribe(uid) for uid in uids}
    for uid in uids:
        engine.start_later(uid)
    await asyncio.gather(*(_drain(queue, StateCode.PAUSED) for queue in queues.values()))
    for uid, queue in queues.items():
        engine.unsubscribe(uid, queue)


class _CommitCounter:
    """Counts the store's write transactions (one per group commit) by wrapping `db.write`.

    Replacing the bound method on this benchmark's own instance is the only way to observe the
    group committer without changing store code.
    """

    def __init__(self, db: Database) -> None:
        self.commits = 0
        write = db.write

        async def counting(work: Callable[[sqlite3.Connection], Any]) -> Any:
            self.commits += 1
            return await write(work)

        db.write = counting  # type: ignore[method-assign]  # see the class docstring


# --- transitions/s ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TransitionRun:
    """One run of 200 activations from their start to Done."""

    rate: float
    """Committed transitions per second."""
    transitions: int
    """Notices received, one per committed transition."""
    commits: int
    """Group commits (write transactions) that carried them."""


async def _timed(
    db: Database, engine: Engine, uids: Sequence[str], start: Callable[[], Awaitable[None]]
) -> TransitionRun:
    """Watch every activation, run `start`, count notices until all are Done."""
    queues = [engine.subscribe(uid) for uid in uids]
    counter = _CommitCounter(db)
    started = time.perf_counter()
    await start()
    counts = await asyncio.gather(*(_drain(queue, StateCode.DONE) for queue in queues))
    elapsed = time.perf_counter() - started
    return TransitionRun(sum(counts) / elapsed, sum(counts), counter.commits)


async def _recovery_run(directory: Path) -> TransitionRun:
    """200 Pending activations started by `Engine.start()` (node start-up)."""
    async with _node(directory) as (db, documents, engine):
        await _apply(documents, _file("three", THREE_STAGES, "r", ACTIVATIONS))
        uids = await _uids(documents, "r", ACTIVATIONS)
        return await _timed(db, engine, uids, engine.start)


async def _apply_path_run(directory: Path) -> TransitionRun:
    """200 activations started one `start_later` each by a running engine (Apply)."""
    async with _node(directory) as (db, documents, engine):
        await engine.start()
        await _apply(documents, _file("three", THREE_STAGES, "r", ACTIVATIONS))
        uids = await _uids(documents, "r", ACTIVATIONS)

        async def start_each() -> None:
            for uid in uids:
                engine.start_later(uid)

        return await _timed(db, engine, uids, start_each)


def _sqlite_commits(directory: Path, commits: int) -> float:
    """Plain sqlite3 single-row commits/s, WAL + synchronous=FULL."""
    connection = sqlite3.connect(directory / f"raw-{time.monotonic_ns()}.db", isolation_level=None)
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


# --- wake latency -----------------------------------------------------------------------------


async def _wake_latencies(directory: Path) -> list[float]:
    """Signal -> second stage started, in µs, for SIGNALS dormant activations in turn."""
    async with _node(directory) as (_, documents, engine):
        await engine.start()
        await _apply(documents, _file("signal", SIGNAL_THEN_MOCK, "s", SIGNALS))
        uids = await _uids(documents, "s", SIGNALS)
        await _park(engine, uids)
        return [await _signal_to_next_stage(engine, uid) for uid in uids]


async def _signal_to_next_stage(engine: Engine, uid: str) -> float:
    """µs from sending the signal to the notice that stage b (run 1) started."""
    queue = engine.subscribe(uid)
    started = time.perf_counter()
    if not await engine.wake(uid, SignalCommand("go", None)):
        raise RuntimeError(f"activation {uid} was not waiting for the signal")
    while {"type": "stage_started", "seq": 1} not in (await queue.get()).events:
        pass
    elapsed = time.perf_counter() - started
    await _drain(queue, StateCode.DONE)  # the next signal finds the engine idle again
    engine.unsubscribe(uid, queue)
    return elapsed * 1e6


async def _event_round_trips(count: int) -> list[float]:
    """The raw limit: asyncio.Event set -> waiter resumed, in µs."""
    return [await _event_round_trip() for _ in range(count)]


async def _event_round_trip() -> float:
    event = asyncio.Event()
    resumed: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def waiter() -> None:
        await event.wait()
        resumed.set_result(time.perf_counter())

    task = asyncio.create_task(waiter())
    await asyncio.sleep(0)  # the waiter is now blocked in wait()
    started = time.perf_counter()
    event.set()
    resumed_at = await resumed
    await task
    return (resumed_at - started) * 1e6


def _p99(samples: Sequence[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


# --- dormant activations (one child process per run) -------------------------------------------


def _rss_mb() -> float:
    """This process's VmRSS in MB (10^6 bytes), after a full collection."""
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError("no VmRSS in /proc/self/status")


async def _idle_cpu_ms(seconds: float) -> float:
    """CPU time of the whole process (all threads) while the loop idles for `seconds`."""
    before = time.process_time()
    await asyncio.sleep(seconds)
    return (time.process_time() - before) * 1000


async def _settle(before: set[asyncio.Task[Any]], limit: float) -> tuple[float, float]:
    """Wait until no task exists beyond `before` (the engine's follow-up work is done); seconds
    waited and CPU ms used meanwhile. Gives up after `limit` seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    while extra := asyncio.all_tasks() - before:
        left = limit - (time.perf_counter() - started)
        if left <= 0:
            break
        await asyncio.wait(extra, timeout=left)
    return time.perf_counter() - started, (time.process_time() - cpu) * 1000


async def _dormant(directory: Path, idle: float) -> dict[str, float]:
    """Park DORMANT activations on a signal wait; RSS before/after, idle CPU, dormancy checks.

    Idle starts once the engine has no task left beyond those it had before (a backlog of
    admission work after the last activation reached Paused is settling, not idling).
    """
    async with _node(directory) as (_, documents, engine):
        await engine.start()
        tasks = asyncio.all_tasks()
        rss_before = _rss_mb()
        started = time.perf_counter()
        for batch in range(DORMANT // DORMANT_BATCH):
            prefix = f"d{batch:03d}-"
            await _apply(documents, _file("dormant", SIGNAL_THEN_MOCK, prefix, DORMANT_BATCH))
            await _park(engine, await _uids(documents, prefix, DORMANT_BATCH))
        created = time.perf_counter() - started
        rss_parked = _rss_mb()
        backlog = len(asyncio.all_tasks() - tasks)
        settle_s, settle_cpu_ms = await _settle(tasks, SETTLE_LIMIT)
        return {
            "rss_before": rss_before,
            "rss_parked": rss_parked,
            "rss_after": _rss_mb(),
            "create_s": created,
            "backlog_tasks": backlog,
            "settle_s": settle_s,
            "settle_cpu_ms": settle_cpu_ms,
            "idle_cpu_ms": await _idle_cpu_ms(idle),
            "provider_calls": engine.run_id_tasks(),
            "tasks_left": len(asyncio.all_tasks() - tasks),
        }


async def _empty_idle_cpu_ms(directory: Path, idle: float) -> float:
    """Baseline: the same idle window of a started engine with an empty store."""
    async with _node(directory) as (_, _, engine):
        await engine.start()
        return await _idle_cpu_ms(idle)


def _dormant_runs(directory: Path, runs: int, idle: float) -> list[dict[str, float]]:
    """Each run in a fresh interpreter, so RSS is not flattered by memory freed earlier.

    The runs go in parallel: RSS and CPU time are per process, so a neighbour changes neither
    (only the creation time, which is not a target).
    """
    command = [sys.executable, "-m", "tools.bench.bench_engine", "--idle", str(idle)]

    def run(index: int) -> dict[str, float]:
        child = [*command, "--dormant-child", str(directory / f"dormant-{index}")]
        done = subprocess.run(child, cwd=ROOT, capture_output=True, text=True, check=True)
        result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    with ThreadPoolExecutor(max_workers=runs) as pool:
        return list(pool.map(run, range(runs)))


# --- DBOS baseline (its own virtualenv) ---------------------------------------------------------


@dataclass(frozen=True)
class DbosBaseline:
    """DBOS steps/s, or why there is no figure."""

    steps_per_s: float | None
    detail: str


class _SetupFailed(Exception):
    pass


def _error_line(stderr: str) -> str:
    """pip's first `ERROR` line, else the last line (a traceback's exception line)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    line = errors[0] if errors else (lines[-1] if lines else "no output")
    return line if len(line) <= 200 else line[:200] + "..."


def _setup(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise _SetupFailed(f"{what} failed: {_error_line(done.stderr)}")


def _dbos_python() -> Path:
    """`.venv-dbos/bin/python`, creating the venv / installing DBOS when needed."""
    python = DBOS_VENV / "bin" / "python"
    stamp = DBOS_VENV / ".installed"
    if not python.exists():
        _setup([sys.executable, "-m", "venv", str(DBOS_VENV)], "creating .venv-dbos")
    if not stamp.exists() or stamp.stat().st_mtime < DBOS_REQUIREMENTS.stat().st_mtime:
        pip = [str(python), "-m", "pip", "install", "--quiet", "-r", str(DBOS_REQUIREMENTS)]
        _setup(pip, "installing DBOS into .venv-dbos")
        stamp.touch()
    return python


def _dbos_baseline(directory: Path, runs: int) -> DbosBaseline:
    """Run dbos_baseline.py; a failure is reported with its first error line, never a number."""
    try:
        python = _dbos_python()
        options = ["--workflows", str(ACTIVATIONS), "--runs", str(runs)]
        done = subprocess.run(
            [str(python), str(DBOS_SCRIPT), "--db", str(directory / "dbos.sqlite"), *options],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.SubprocessError, _SetupFailed) as exc:
        return DbosBaseline(None, str(exc).splitlines()[0] if str(exc) else repr(exc))
    if done.returncode != 0:
        return DbosBaseline(None, f"dbos_baseline.py failed: {_error_line(done.stderr)}")
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
        detail = (
            f"DBOS {result['dbos']}: {result['asyncio_steps_per_s']:,.0f} steps/s with asyncio "
            f"workflows, {result['thread_steps_per_s']:,.0f} with thread workflows"
        )
        return DbosBaseline(float(result["best"]), detail)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        return DbosBaseline(None, f"dbos_baseline.py printed no result ({exc!r})")


# --- the section ------------------------------------------------------------------------------


def _median_run(runs: Sequence[TransitionRun]) -> TransitionRun:
    return sorted(runs, key=lambda run: run.rate)[len(runs) // 2]


def _transition_figures(
    label: str, run: TransitionRun, sqlite_rate: float, dbos: DbosBaseline
) -> list[Figure]:
    figures = [
        Figure(f"durable transitions/s, 200 activations x 3 stages, {label}", run.rate, "/s",
               sqlite_rate, "sqlite3 commits/s", ">= 5,000/s", run.rate >= TARGET_RATE),
    ]  # fmt: skip
    if dbos.steps_per_s is not None:
        figures.append(
            Figure(f"the same vs DBOS workflow steps/s ({label})", run.rate, "/s",
                   dbos.steps_per_s, "DBOS steps/s, 200 workflows x 3 steps",
                   ">= 10x DBOS", run.rate >= TARGET_DBOS_RATIO * dbos.steps_per_s)
        )  # fmt: skip
    return figures


def _transitions_note(recovery: TransitionRun, apply_path: TransitionRun) -> str:
    per_activation = recovery.transitions / ACTIVATIONS
    expected = (
        ""
        if per_activation == TRANSITIONS_PER_ACTIVATION
        else f" ({TRANSITIONS_PER_ACTIVATION} expected)"
    )
    recovery_batch = recovery.transitions / max(recovery.commits, 1)
    apply_batch = apply_path.transitions / max(apply_path.commits, 1)
    return (
        f"Transitions are counted from the watchers' notices: {per_activation:g} per activation"
        f"{expected}: start with stage a running, a -> b, b -> c, c -> Done. Transitions per group "
        f"commit (one fsync each): {recovery_batch:.1f} via `Engine.start()`, {apply_batch:.1f} "
        "via `start_later` (median run of each)."
    )


def _dbos_note(dbos: DbosBaseline) -> str:
    if dbos.steps_per_s is None:
        return f"**DBOS baseline NOT measured**: {dbos.detail}"
    return (
        f"DBOS baseline: {dbos.detail}; the faster is used (SQLite, WAL + synchronous=FULL, "
        "3 steps per workflow, 200 workflows started together)."
    )


def _dormant_note(dormant: Sequence[dict[str, float]], idle: float) -> str:
    def median(key: str) -> float:
        return statistics.median(run[key] for run in dormant)

    growth = statistics.median(run["rss_after"] - run["rss_before"] for run in dormant)
    parked = statistics.median(run["rss_parked"] - run["rss_before"] for run in dormant)
    return (
        f"Dormant: {DORMANT:,} activations parked in {DORMANT // DORMANT_BATCH} files of "
        f"{DORMANT_BATCH} in {median('create_s'):.1f} s (a fresh process per run, the "
        f"{len(dormant)} runs side by side). When the last one was Paused the engine still had "
        f"{median('backlog_tasks'):,.0f} tasks pending, which took {median('settle_s'):.1f} s and "
        f"{median('settle_cpu_ms'):,.0f} ms of CPU to finish (RSS growth {parked:.1f} MB at that "
        f"point); the idle window ({idle:g} s) starts after that. RSS growth settled: "
        f"{growth * 1e6 / DORMANT / 1e3:.1f} kB per activation; "
        f"{max(run['provider_calls'] for run in dormant):.0f} provider calls in flight and "
        f"{max(run['tasks_left'] for run in dormant):.0f} extra asyncio tasks while idle."
    )


def _notes(
    runs: int,
    recovery: TransitionRun,
    apply_path: TransitionRun,
    dbos: DbosBaseline,
    dormant: Sequence[dict[str, float]],
    idle: float,
) -> list[str]:
    return [
        f"Medians of {runs} runs; {os.cpu_count()} cores; one asyncio loop, store in WAL with "
        "synchronous=FULL.",
        _transitions_note(recovery, apply_path),
        _dbos_note(dbos),
        f"Wake latency: {SIGNALS} dormant activations signalled one at a time per run; the time "
        "covers two group commits (signal delivered, then stage a's result with stage b opened) "
        "and the provider call between them.",
        _dormant_note(dormant, idle),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer runs, shorter idle window")
    parser.add_argument("--dormant-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--idle", type=float, default=10.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dormant_child is not None:
        args.dormant_child.mkdir(exist_ok=True)
        print(json.dumps(asyncio.run(_dormant(args.dormant_child, args.idle))))
        return
    runs = 3 if args.quick else 5
    idle = 2.0 if args.quick else 10.0
    with tempfile.TemporaryDirectory(dir=Path.cwd(), prefix=".bench-") as raw:
        root = Path(raw)
        recovery = _median_run([asyncio.run(_recovery_run(root)) for _ in range(runs)])
        apply_path = _median_run([asyncio.run(_apply_path_run(root)) for _ in range(runs)])
        sqlite_rate = statistics.median(_sqlite_commits(root, 2000) for _ in range(runs))
        latencies = [asyncio.run(_wake_latencies(root)) for _ in range(runs)]
        events = [asyncio.run(_event_round_trips(SIGNALS)) for _ in range(runs)]
        empty_idle = asyncio.run(_empty_idle_cpu_ms(root, idle))
        dormant = _dormant_runs(root, runs, idle)
        dbos = _dbos_baseline(root, runs)

    p50 = statistics.median(statistics.median(run) for run in latencies)
    p99 = statistics.median(_p99(run) for run in latencies)
    event_p50 = statistics.median(statistics.median(run) for run in events)
    event_p99 = statistics.median(_p99(run) for run in events)
    growth = statistics.median(run["rss_after"] - run["rss_before"] for run in dormant)
    rss_before = statistics.median(run["rss_before"] for run in dormant)
    idle_cpu = statistics.median(run["idle_cpu_ms"] for run in dormant)
    figures = [
        *_transition_figures("started by `Engine.start()`", recovery, sqlite_rate, dbos),
        *_transition_figures("started by `start_later` (Apply)", apply_path, sqlite_rate, dbos),
        Figure("wake latency p50, signal -> next stage running", p50, "µs", event_p50,
               "asyncio.Event set -> waiter resumed, p50", "<= 2 ms", p50 <= TARGET_P50_US),
        Figure("wake latency p99, signal -> next stage running", p99, "µs", event_p99,
               "asyncio.Event set -> waiter resumed, p99", "<= 10 ms", p99 <= TARGET_P99_US),
        Figure(f"RSS growth, {DORMANT:,} dormant activations", growth, "MB", rss_before,
               "RSS of the same process before", "<= 50 MB", growth <= TARGET_RSS_MB),
        Figure(f"CPU while {DORMANT:,} activations idle {idle:g} s", idle_cpu, "ms", empty_idle,
               "same window, empty store", "~0 (<= 10 ms)", idle_cpu <= TARGET_IDLE_CPU_MS),
    ]  # fmt: skip
    notes = _notes(runs, recovery, apply_path, dbos, dormant, idle)
    print_section("Workflow engine", figures, notes)


if __name__ == "__main__":
    main()
