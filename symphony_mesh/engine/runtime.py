"""The engine runtime: events in, transitions out, provider calls and timers in between.

Every event for an activation (created, provider call ended, timer due, Step, signal, cancel)
becomes one transition computed under that activation's lock from its durable state and
committed (group commit, compare-and-set) before anything else happens. Only then are provider
calls started, cancelled, timers re-armed and watchers told. Between events an activation has no
coroutine: a dormant one is its rows plus, at most, one entry in the timer heap.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from symphony_mesh.engine.outcomes import (
    ContextResult,
    classify_outputs,
    failure,
    unexpected_exception,
)
from symphony_mesh.engine.session import Session, iso, parse_iso
from symphony_mesh.engine.stagerun import context_outcome, open_stage, timers_due
from symphony_mesh.engine.state import RunState
from symphony_mesh.engine.status import settle, status_document
from symphony_mesh.engine.tasks import run_tasks, with_tasks
from symphony_mesh.engine.timers import TimerHeap
from symphony_mesh.expr.resolver import ConfigResolver
from symphony_mesh.model.documents import Activation, CampaignVersion, TaskOption, TaskSpec
from symphony_mesh.model.jsonvalues import JsonMap
from symphony_mesh.model.status import StateCode, is_terminal
from symphony_mesh.providers.base import (
    Completed,
    Failed,
    Outcome,
    Provider,
    ProviderCall,
    ProviderEnvironment,
    Waiting,
    Wake,
)
from symphony_mesh.store.commits import GroupCommitter
from symphony_mesh.store.database import Database
from symphony_mesh.store.documents import decode_document
from symphony_mesh.store.runs import (
    RunRow,
    StaleRevision,
    Transition,
    admission,
    load_run,
    purge_finished,
    unfinished,
)

__all__ = ["Engine", "Notice"]

log = structlog.get_logger("symphony_mesh.engine")

Mutation = Callable[[Session], Any]


@dataclass(frozen=True)
class _Identity:
    """What does not change about an activation while it runs."""

    uid: str
    name: str
    activation: Activation
    version: CampaignVersion
    created_at: str


@dataclass(frozen=True)
class _Tasks:
    """A context's tasks: their specs, the error action, their evaluated inputs and config."""

    specs: tuple[TaskSpec, ...]
    option: TaskOption
    prepared: dict[str, JsonMap]


def _map(value: object) -> JsonMap:
    assert isinstance(value, dict)
    return value


def _as_result(outcome: Outcome | ContextResult) -> ContextResult:
    if isinstance(outcome, ContextResult):
        return outcome
    if isinstance(outcome, Failed):
        return failure(outcome.code, outcome.message, outcome.outputs)
    assert isinstance(outcome, Completed)
    return classify_outputs(outcome.outputs)


@dataclass(frozen=True)
class _Cached:
    """The last committed state of an activation with work in flight."""

    session: Session
    revision: int


@dataclass(frozen=True)
class Notice:
    """What watchers learn after a commit: the activation's uid, revision, and event kinds."""

    uid: str
    revision: int
    events: tuple[dict[str, Any], ...]
    status: int
    deleted: bool = False
    entries: dict[int, dict[str, Any]] | None = None
    """The history entries this commit wrote, as committed (events describe these)."""
    shutting_down: bool = False
    """The node is stopping: watchers end their streams (API-16)."""


class Engine:
    """Runs the activations of one node."""

    def __init__(
        self,
        db: Database,
        *,
        site_id: str,
        environment: ProviderEnvironment,
        providers: Callable[[str], Provider | None],
        max_workers: int = 64,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        resolver: ConfigResolver | None = None,
    ) -> None:
        self._db = db
        self._committer = GroupCommitter(db)
        self._site_id = site_id
        self._environment = environment
        self._providers = providers
        self._workers = asyncio.Semaphore(max_workers)
        self._clock = clock
        self._resolver = resolver
        self._locks: dict[str, asyncio.Lock] = {}
        self._lock_users: dict[str, int] = {}
        self._calls: dict[tuple[str, int, str], asyncio.Task[None]] = {}
        self._timers = TimerHeap(self._on_timer)
        self._watchers: dict[str, set[asyncio.Queue[Notice]]] = {}
        self._versions: dict[tuple[str, str], CampaignVersion] = {}
        self._closing = False
        self._background: set[asyncio.Task[Any]] = set()
        self._cache: dict[str, _Cached] = {}
        self._inflight: dict[str, int] = {}
        self._admission = asyncio.Lock()
        """Admission decisions are made one at a time, so two starts never share a slot."""

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Resume every unfinished activation (4.14); Pending ones keep their queue order."""
        self._committer.start()
        versions: list[str] = []
        for uid, status, campaign_version in await self._db.read(unfinished):
            if status == int(StateCode.PENDING):
                if campaign_version not in versions:
                    versions.append(campaign_version)
                continue
            await self.wake(uid, _resume)
        for version in versions:
            await self._admit(version)

    async def aclose(self) -> None:
        """Stop: timers off, provider calls cancelled (they run again after a restart)."""
        self._closing = True
        self._timers.close()
        calls = [*self._calls.values(), *self._background]
        for task in calls:
            task.cancel()
        for task in calls:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._committer.aclose()

    # --- events ---------------------------------------------------------------------------------

    async def wake(self, uid: str, mutation: Mutation) -> Any:
        """Run `mutation` as one transition of activation `uid`; return its value."""
        lock = self._locks.setdefault(uid, asyncio.Lock())
        self._lock_users[uid] = self._lock_users.get(uid, 0) + 1
        try:
            async with lock:
                for _ in range(5):
                    session = await self._load(uid)
                    if session is None:
                        return None
                    try:
                        value = mutation(session)
                        revision = await self._commit(session)
                    except StaleRevision:
                        self._cache.pop(uid, None)
                        continue
                    except BaseException:
                        self._cache.pop(uid, None)  # the mutated state was not committed
                        raise
                    self._cache[uid] = _Cached(session, revision)
                    self._after_commit(session, revision)
                    return value
                raise RuntimeError(f"activation {uid} kept changing concurrently")
        finally:
            # A dormant activation keeps nothing in memory: no lock, no cached state.
            self._lock_users[uid] -= 1
            if not self._lock_users[uid]:
                del self._lock_users[uid]
                del self._locks[uid]
                if not self._inflight.get(uid):
                    self._cache.pop(uid, None)

    async def _load(self, uid: str) -> Session | None:
        cached = self._cache.get(uid)
        if cached is not None:  # the last committed state; the revision check guards it
            last = cached.session
            return self._session(last, last.state, cached.revision, last.state.status)
        row: RunRow | None = await self._db.read(lambda c: load_run(c, uid))
        if row is None:
            return None
        activation = decode_document("activation", row.name, row.spec)
        assert isinstance(activation, Activation)
        if row.state is None:
            state = RunState(inputs=dict(activation.inputs), status=row.status)
        else:
            state = RunState.from_json(json.loads(row.state))
        identity = _Identity(uid, row.name, activation, self._version(row), row.created_at)
        return self._session(identity, state, row.revision, row.status)

    def _session(
        self, who: _Identity | Session, state: RunState, revision: int, status: int
    ) -> Session:
        return Session(
            uid=who.uid,
            name=who.name,
            activation=who.activation,
            version=who.version,
            state=state,
            revision=revision,
            now=self._clock(),
            site_id=self._site_id,
            created_at=who.created_at,
            previous_status=status,
            resolver=self._resolver,
        )

    def _version(self, row: RunRow) -> CampaignVersion:
        key = (row.campaign_version, row.snapshot)
        version = self._versions.get(key)
        if version is None:
            decoded = decode_document("campaignversion", row.campaign_version, row.snapshot)
            assert isinstance(decoded, CampaignVersion)
            version = self._versions[key] = decoded
        return version

    async def _commit(self, session: Session) -> int:
        state = session.state
        settle(session)
        transition = Transition(
            uid=session.uid,
            expected_revision=session.revision,
            status=state.status,
            status_doc=status_document(session),
            state=state.to_json(),
            entries=[(seq, dict(entry)) for seq, entry in sorted(session.entries.items())],
        )
        revision: int = await self._committer.commit(transition)
        return revision

    def _after_commit(self, session: Session, revision: int) -> None:
        for seq, name in session.cancel:
            task = self._calls.get((session.uid, seq, name))
            if task is not None:
                self._forget_call((session.uid, seq, name))
                task.cancel()
        for seq, name in session.launch:
            self._start_call(session, seq, name)
        self._timers.set(session.uid, _next_due(session.state))
        finished = session.state.finished_at and not is_terminal(session.previous_status)
        if finished and session.version.concurrency is not None:  # a slot freed
            self._spawn(self._admit(session.activation.campaign_version_name))
        notice = Notice(
            session.uid,
            revision,
            tuple(session.events),
            session.state.status,
            entries={seq: dict(entry) for seq, entry in session.entries.items()},
        )
        for queue in self._watchers.get(session.uid, ()):
            queue.put_nowait(notice)

    # --- provider calls -------------------------------------------------------------------------

    def _start_call(self, session: Session, seq: int, name: str) -> None:
        run = session.state.current
        assert run is not None
        context = run.ctx[name]
        stage = session.stage(run.stage)
        wake = None
        if context.wake is not None:
            wake = Wake(
                kind=context.wake["kind"],  # type: ignore[arg-type]
                at=parse_iso(str(context.wake["at"])),
                signal=str(context.wake.get("signal", "")),
                payload=context.wake.get("payload"),
            )
        call = ProviderCall(
            provider=stage.provider_type,
            config=context.config,
            inputs=context.inputs,
            run_id=str(context.inputs.get("__runId", "")),
            activation=session.name,
            stage=run.stage,
            context=name,
            attempt=context.attempt,
            environment=self._environment,
            resume=context.resume,
            wake=wake,
        )
        key = (session.uid, seq, name)
        previous = self._calls.get(key)
        if previous is not None:
            self._forget_call(key)
            previous.cancel()
        tasks = _Tasks(stage.tasks, stage.task_option, context.tasks) if stage.tasks else None
        self._calls[key] = asyncio.create_task(self._call(key, call, tasks), name=call.run_id)
        self._inflight[session.uid] = self._inflight.get(session.uid, 0) + 1

    async def _call(
        self, key: tuple[str, int, str], call: ProviderCall, tasks: _Tasks | None
    ) -> None:
        uid, seq, name = key
        outcome: Any = Completed({}) if not call.provider else await self._invoke(call)
        if tasks is not None and not isinstance(outcome, Waiting):
            outcome = await self._run_tasks(call, outcome, tasks)
        if self._closing:
            return
        self._forget_call(key)
        attempt = call.attempt
        await self.wake(uid, lambda s: context_outcome(s, seq, name, attempt, outcome))

    async def _invoke(self, call: ProviderCall) -> Outcome | ContextResult:
        """One provider call under the node's worker pool; a bug is a 500 result (4.6)."""
        provider = self._providers(call.provider)
        try:
            async with self._workers:
                if provider is None:
                    raise LookupError(f"provider {call.provider} is not registered")
                return await provider(call)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("engine.provider_raised", runId=call.run_id, error=repr(exc))
            return unexpected_exception(call.provider, exc)

    async def _run_tasks(
        self, call: ProviderCall, outcome: Outcome | ContextResult, tasks: _Tasks
    ) -> ContextResult:
        """6.5: the tasks of one context run after its successful provider call."""
        base = _as_result(outcome)
        if not base.succeeded:
            return base

        async def task_call(task: TaskSpec, inputs: JsonMap, config: JsonMap) -> ContextResult:
            task_outcome = await self._invoke(
                replace(call, provider=task.provider_type, config=config, inputs=inputs,
                        run_id=str(inputs.get("__runId", "")), resume=None, wake=None)
            )  # fmt: skip
            if isinstance(task_outcome, Waiting):
                return failure(400, f"task provider {task.provider} cannot wait inside a task")
            return _as_result(task_outcome)

        inputs = {name: _map(t["inputs"]) for name, t in tasks.prepared.items()}
        configs = {name: _map(t["config"]) for name, t in tasks.prepared.items()}
        outputs, task_failure = await run_tasks(
            tasks.specs, tasks.option, inputs, configs, task_call, context=call.context
        )
        return with_tasks(base, outputs, task_failure)

    async def run_retention(self, retention: float, interval: float) -> None:
        """Every `interval` seconds delete activations finished more than `retention` ago (8.9).

        A periodic housekeeping task, not a wake-up mechanism: nothing waits on it.
        """
        while retention > 0:
            cutoff = iso(self._clock() - timedelta(seconds=retention))
            purged = await self._committer.commit(functools.partial(_purge, cutoff))
            for uid in purged:
                self.deleted(uid)
            if purged:
                log.info("engine.retention", deleted=len(purged))
            await asyncio.sleep(interval)

    def start_later(self, uid: str) -> None:
        """Start a newly stored activation once its creating transaction has committed (4.2)."""
        self._spawn(self._admit_one(uid))

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _admit_one(self, uid: str) -> None:
        session = await self._load(uid)
        if session is None:
            return
        if session.version.concurrency is None:  # no limit: no queue to respect
            await self.wake(uid, start_activation)
        else:
            await self._admit(session.activation.campaign_version_name)

    async def _admit(self, campaign_version: str) -> None:
        """Start Pending activations of this version while its concurrency limit allows (8.7).

        The decision is taken under one lock (two starts never share a slot); the starts
        themselves then run concurrently and share group commits.
        """
        async with self._admission:
            limit, running, pending = await self._db.read(lambda c: admission(c, campaign_version))
            free = len(pending) if limit is None else max(0, limit - running)
            starts = [self.wake(uid, start_activation) for uid in pending[:free]]
            queued = [
                self.wake(uid, functools.partial(_queued, position=position))
                for position, uid in enumerate(pending[free:], start=1)
            ]
            await asyncio.gather(*starts, *queued)

    # --- timers ---------------------------------------------------------------------------------

    async def _on_timer(self, uid: str) -> None:
        await self.wake(uid, timers_due)

    # --- watchers -------------------------------------------------------------------------------

    def subscribe(self, uid: str) -> asyncio.Queue[Notice]:
        """A queue of this activation's notices, in commit order."""
        queue: asyncio.Queue[Notice] = asyncio.Queue()
        self._watchers.setdefault(uid, set()).add(queue)
        return queue

    def unsubscribe(self, uid: str, queue: asyncio.Queue[Notice]) -> None:
        """Stop delivering notices to `queue`."""
        watchers = self._watchers.get(uid)
        if watchers is not None:
            watchers.discard(queue)
            if not watchers:
                self._watchers.pop(uid, None)

    def _forget_call(self, key: tuple[str, int, str]) -> None:
        if self._calls.pop(key, None) is not None:
            uid = key[0]
            self._inflight[uid] -= 1
            if not self._inflight[uid]:
                del self._inflight[uid]

    def end_watches(self) -> None:
        """Shutdown has begun: every open watch ends with UNAVAILABLE SHUTTING_DOWN."""
        for uid, queues in self._watchers.items():
            for queue in queues:
                queue.put_nowait(Notice(uid, 0, (), 0, shutting_down=True))

    def deleted(self, uid: str) -> None:
        """The activation was deleted: cancel its calls and timers, tell its watchers."""
        self._cache.pop(uid, None)
        for key in [k for k in self._calls if k[0] == uid]:
            task = self._calls[key]
            self._forget_call(key)
            task.cancel()
        self._timers.set(uid, None)
        for queue in self._watchers.get(uid, ()):
            queue.put_nowait(Notice(uid, 0, (), 0, deleted=True))

    def run_id_tasks(self) -> int:
        """Provider calls in flight (diagnostics and tests)."""
        return len(self._calls)


def _purge(cutoff: str, connection: Any) -> list[str]:
    return purge_finished(connection, cutoff)


def _queued(session: Session, *, position: int) -> None:
    """Still Pending: record the queue position (8.7)."""
    session.state.status = int(StateCode.PENDING)
    session.state.queue_position = position


def _resume(session: Session) -> None:
    """Restart recovery: re-run the provider calls that were in flight (4.14)."""
    state = session.state
    run = state.current
    if run is None:
        return
    for context in run.ctx.values():
        if context.phase == "running":
            session.launch.append((run.seq, context.name))


def start_activation(session: Session) -> None:
    """4.2: snapshot taken at creation; inputs, deadline and the first stage run (once)."""
    state = session.state
    if state.started_at or state.history_count:
        return
    activation = session.activation
    state.started_at = session.stamp
    state.status = int(StateCode.RUNNING)
    state.generation = 1
    timeout = activation.timeout or session.version.timeout
    if timeout is not None:
        state.deadline = iso(session.now + timedelta(seconds=timeout.seconds))
        state.deadline_text = timeout.text
    first = activation.stage or session.version.first_stage
    open_stage(session, first, first)


def _next_due(state: RunState) -> datetime | None:
    """The earliest timer of this activation, or None."""
    if state.finished_at:
        return None
    candidates = [state.deadline] if state.deadline and not state.cancel_requested else []
    run = state.current
    if run is not None:
        if run.schedule_until and not run.ctx:
            candidates.append(run.schedule_until)
        if run.deadline:
            candidates.append(run.deadline)
        candidates += [c.until for c in run.ctx.values() if c.phase == "waiting" and c.until]
        candidates += [
            c.attempt_deadline
            for c in run.ctx.values()
            if c.attempt_deadline and c.phase in ("running", "waiting")
        ]
    return min((parse_iso(c) for c in candidates), default=None)
