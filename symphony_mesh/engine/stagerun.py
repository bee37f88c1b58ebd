"""Stage runs: open, evaluate, schedule contexts, record results, reach a verdict, move on.

campaigns.md 4.3 step by step. Each function mutates a `Session` (the state of one activation
inside one transition) and never does I/O: provider calls are *requested* through
`session.launch` and started by the runtime after the transition committed.
"""

from __future__ import annotations

from datetime import timedelta

from symphony_mesh.engine.injected import injected_inputs, run_id, task_call_inputs
from symphony_mesh.engine.outcomes import (
    ContextResult,
    activation_timed_out,
    classify_outputs,
    context_timed_out,
    fail_fast_cancelled,
    failure,
    saved_state,
)
from symphony_mesh.engine.reduce import aggregate, single_context_outputs
from symphony_mesh.engine.retries import retry_delay
from symphony_mesh.engine.selection import choose_next
from symphony_mesh.engine.session import Session, iso, parse_iso
from symphony_mesh.engine.stage_checks import (
    StageError,
    check_provider,
    limit,
    resolve_contexts,
    resolve_schedule,
)
from symphony_mesh.engine.state import DONE, QUEUED, RUNNING, WAITING, ContextRun, StageRun
from symphony_mesh.expr import ExpressionError, Scope, evaluate_fields, evaluate_inputs
from symphony_mesh.model.documents import StageSpec
from symphony_mesh.model.jsonvalues import JsonMap
from symphony_mesh.model.status import StateCode
from symphony_mesh.providers.base import Completed, Failed, Outcome, Waiting

__all__ = [
    "cancel_current",
    "context_outcome",
    "end_activation",
    "open_stage",
    "timers_due",
]

CANCELLED = int(StateCode.CANCELLED)
ON_CANCEL_TIMEOUT = 300.0
TIMED_OUT = int(StateCode.TIMED_OUT)


def _entry(session: Session, run: StageRun) -> JsonMap:
    """The history entry of `run` as stored (hidden keys are removed when rendered)."""
    entry = session.entries.get(run.seq)
    if entry is None:
        entry = {
            "stage": run.stage,
            "iteration": run.iteration,
            "startedAt": run.started_at,
            "nextStage": "",
            "inputs": run.inputs_shown,
            "outputs": {},
            "errorMessage": "",
            "isActive": True,
            "finishedAt": None,
            "attempts": 0,
            "contexts": None,
            "tasks": [task.name for task in session.stage(run.stage).tasks],
        }
        session.entries[run.seq] = entry
    if entry["isActive"] and run.ctx:
        run.status = _active_status(run)
    entry["status"] = run.status
    entry["inputs"] = run.inputs_shown
    entry["attempts"] = sum(context.attempt for context in run.ctx.values() if context.started_at)
    if run.contexts is not None:
        entry["contexts"] = {
            name: {
                "status": context.status,
                "error": context.stopped or (context.result or {}).get("error", ""),
                "inputs": _masked(session.stage(run.stage), context.inputs),
                "outputs": context.result or {},
                "attempts": context.attempt if context.started_at else 0,
                "startedAt": context.started_at,
                "finishedAt": context.finished_at,
                "remote": False,
            }
            for name, context in run.ctx.items()
        }
    return entry


def _active_status(run: StageRun) -> int:
    """An open run is Running while a call runs, else Paused (signals) or Delayed (timers)."""
    contexts = run.ctx.values()
    if any(c.phase in (RUNNING, QUEUED) for c in contexts):
        return int(StateCode.RUNNING)
    if any(c.phase == WAITING and (c.signal or not c.until) for c in contexts):
        return int(StateCode.PAUSED)
    if any(c.phase == WAITING for c in contexts):
        return int(StateCode.DELAYED)
    return int(StateCode.RUNNING)


def _scope(session: Session, stage: StageSpec, injected: JsonMap) -> Scope:
    return Scope(
        inputs=stage.inputs,
        data_inputs=injected,
        triggers=session.state.inputs,
        outputs=session.state.outputs,
        value_input="context",
        resolver=session.resolver,
    )


def _masked(stage: StageSpec, inputs: JsonMap) -> JsonMap:
    """Inputs as the status shows them: no `__*` keys, `$secret` templates as `***` (10.3)."""
    return {
        key: "***" if "$secret(" in str(stage.inputs.get(key, "")) else value
        for key, value in inputs.items()
        if not key.startswith("__")
    }


def _injected(session: Session, run: StageRun, context: str) -> JsonMap:
    key = f"{run.stage}/{context}"
    has_state = key in session.state.provider_state
    stage = session.stage(run.stage)
    return injected_inputs(
        activation=session.name,
        campaign_version_ref=session.activation.campaign_version,
        stage=run.stage,
        previous_stage=run.previous,
        context=context,
        run_id=run_id(session.uid, run.stage, run.iteration, context),
        state=session.state.provider_state.get(key),
        has_state=has_state,
        target=stage.target,
        schedule=parse_iso(run.schedule_until) if run.schedule_until else None,
    )


def open_stage(
    session: Session,
    stage_name: str,
    previous: str,
    *,
    step_key: str = "",
    on_cancel: bool = False,
) -> None:
    """Append a run of `stage_name` and take it as far as it goes without waiting (4.3)."""
    state = session.state
    iteration = state.iterations.get(stage_name, 0) + 1
    state.iterations[stage_name] = iteration
    run = StageRun(
        seq=state.history_count,
        stage=stage_name,
        iteration=iteration,
        previous=previous,
        started_at=session.stamp,
        contexts=None,
        step_key=step_key,
        on_cancel=on_cancel,
    )
    state.history_count += 1
    state.current = run
    state.last_stage = stage_name
    state.suggested = ""
    _entry(session, run)
    session.events.append({"type": "stage_started", "seq": run.seq})
    stage = session.stage(stage_name)
    try:
        check_provider(stage)
        scope = _scope(session, stage, _injected(session, run, session.site_id))
        due = resolve_schedule(stage, scope, session.now)
    except StageError as error:
        _stage_error(session, run, error)
        return
    if due is not None:
        run.schedule_until = iso(due)
    if due is not None and due > session.now:
        run.status = int(StateCode.DELAYED)
        _entry(session, run)
        return
    _start_contexts(session, run)


def _start_contexts(session: Session, run: StageRun) -> None:
    """4.3 steps 4-7: stage clock, contexts, evaluation, first provider calls."""
    stage = session.stage(run.stage)
    run.status = int(StateCode.RUNNING)
    if stage.timeout is not None:
        run.deadline = iso(session.now + timedelta(seconds=stage.timeout.seconds))
    elif run.on_cancel:  # an onCancel stage runs 5 minutes at most without its own timeout
        run.deadline = iso(session.now + timedelta(seconds=ON_CANCEL_TIMEOUT))
    try:
        stage_scope = _scope(session, stage, _injected(session, run, session.site_id))
        contexts = resolve_contexts(run.stage, stage, stage_scope, local_site=session.site_id)
        run.contexts = contexts
        for name in contexts if contexts is not None else [session.site_id]:
            injected = _injected(session, run, name)
            scope = _scope(session, stage, injected)
            inputs = {**evaluate_inputs(scope), **injected}
            config = evaluate_fields(stage.config, scope)
            run.ctx[name] = ContextRun(
                name=name, inputs=inputs, config=config, tasks=_task_calls(session, stage, inputs)
            )
            if contexts is None:
                run.inputs_shown = _masked(stage, inputs)
        if contexts is not None:
            run.inputs_shown = dict(stage.inputs)
        for task in stage.tasks:  # `inputs.<task>`: each task's inputs as written (10.3)
            run.inputs_shown[task.name] = dict(task.inputs)
    except StageError as error:
        _stage_error(session, run, error)
        return
    except ExpressionError as error:
        _stage_error(session, run, StageError(500, error.display_text))
        return
    _fill_slots(session, run)
    _maybe_verdict(session, run)


def _task_calls(session: Session, stage: StageSpec, inputs: JsonMap) -> dict[str, JsonMap]:
    """Each task's evaluated inputs and config (6.5 item 2), before any provider runs."""
    calls: dict[str, JsonMap] = {}
    for task in stage.tasks:
        scope = Scope(
            inputs=task.inputs,
            data_inputs={k: v for k, v in inputs.items() if k not in task.inputs},
            triggers=session.state.inputs,
            outputs=session.state.outputs,
            value_input="context",
            resolver=session.resolver,
        )
        own = {key: scope.input(key) for key in task.inputs}
        calls[task.name] = {
            "inputs": task_call_inputs(inputs, own, task),
            "config": evaluate_fields(task.config, scope),
        }
    return calls


def _fill_slots(session: Session, run: StageRun) -> None:
    """Start queued contexts in list order while maxConcurrency allows (6.2)."""
    stage = session.stage(run.stage)
    allowed = limit(stage.context_policy.max_concurrency, len(run.ctx), kind="maxConcurrency")
    busy = sum(1 for c in run.ctx.values() if c.phase in (RUNNING, WAITING))
    for context in run.ctx.values():
        if allowed is not None and busy >= allowed:
            break
        if context.phase == QUEUED:
            _launch(session, run, context)
            busy += 1
    _entry(session, run)


def _launch(session: Session, run: StageRun, context: ContextRun) -> None:
    timeout = session.stage(run.stage).context_policy.timeout
    if timeout is not None and context.resume is None and context.wake is None:
        # A fresh attempt: contextPolicy.timeout limits each attempt from its start (6.2).
        context.attempt_deadline = iso(session.now + timedelta(seconds=timeout.seconds))
    context.phase = RUNNING
    context.status = int(StateCode.RUNNING)
    context.started_at = context.started_at or session.stamp
    session.launch.append((run.seq, context.name))
    session.events.append({"type": "context", "seq": run.seq, "context": context.name})


def context_outcome(
    session: Session, seq: int, name: str, attempt: int, outcome: Outcome | ContextResult
) -> bool:
    """Record what a provider call ended with; False when it is stale (exactly-once, 4.12)."""
    run = session.state.current
    if run is None or run.seq != seq or name not in run.ctx:
        return False
    context = run.ctx[name]
    if context.phase != RUNNING or context.attempt != attempt:
        return False
    if isinstance(outcome, Waiting):
        _wait(session, run, context, outcome)
        return True
    if isinstance(outcome, Completed):
        result = classify_outputs(outcome.outputs)
    elif isinstance(outcome, Failed):
        result = failure(outcome.code, outcome.message, outcome.outputs)
    else:
        result = outcome
    _attempt_ended(session, run, context, result)
    return True


def _attempt_ended(
    session: Session, run: StageRun, context: ContextRun, result: ContextResult
) -> None:
    """An attempt has a result: retry after a back-off, or record it (4.6, 8.8, 6.2)."""
    stage = session.stage(run.stage)
    delay = None if result.succeeded else retry_delay(context.attempt, stage.retry)
    context.attempt_deadline = None
    context.wake = None
    if delay is not None:
        context.phase = WAITING
        context.retrying = True
        context.status = int(StateCode.DELAYED)
        context.until = iso(session.now + timedelta(seconds=delay))
        context.waiting_for = {"kind": "timer", "reason": "retry", "until": context.until}
        context.resume = None
    else:
        _finish_context(session, run, context, result)
        if not result.succeeded:
            _fail_fast(session, run)
    session.events.append({"type": "context", "seq": run.seq, "context": context.name})
    _fill_slots(session, run)
    _maybe_verdict(session, run)


def _fail_fast(session: Session, run: StageRun) -> None:
    """failFast: once failures exceed maxFailures, nothing else starts or goes on (6.2)."""
    policy = session.stage(run.stage).context_policy
    if not policy.fail_fast or run.contexts is None:
        return
    failed = sum(1 for c in run.ctx.values() if c.phase == DONE and c.succeeded is False)
    allowed = limit(policy.max_failures, len(run.ctx), kind="maxFailures")
    if failed <= allowed:
        return
    stopped = fail_fast_cancelled(failed, allowed)
    for context in run.ctx.values():
        if context.phase == DONE:
            continue
        if context.phase == RUNNING:
            session.cancel.append((run.seq, context.name))
        started = context.phase in (RUNNING, WAITING)
        context.phase = DONE
        context.until = context.signal = context.attempt_deadline = None
        context.waiting_for = None
        if started:  # cancelled by failFast: pending with 9990 and its text (6.3)
            context.status = stopped.status
            context.stopped = str(stopped.result.get("error", ""))
            context.finished_at = session.stamp
        session.events.append({"type": "context", "seq": run.seq, "context": context.name})


def _wait(session: Session, run: StageRun, context: ContextRun, waiting: Waiting) -> None:
    context.phase = WAITING
    context.status = waiting.status
    context.resume = dict(waiting.state)
    context.waiting_for = {**waiting.waiting_for, "stage": run.stage, "context": context.name}
    context.until = iso(waiting.until) if waiting.until else None
    context.signal = waiting.signal
    if waiting.signal:
        queued = next((s for s in session.state.signals if s["name"] == waiting.signal), None)
        if queued is not None:  # a queued signal is consumed at once (8.1)
            session.state.signals.remove(queued)
            wake_with_signal(session, run, context, queued)
    session.events.append({"type": "context", "seq": run.seq, "context": context.name})
    _entry(session, run)


def wake_with_signal(session: Session, run: StageRun, context: ContextRun, signal: JsonMap) -> None:
    """Resume a context waiting for this signal (delivery is part of this transition)."""
    context.signal = None
    context.wake = {"kind": "signal", "signal": signal["name"], "payload": signal.get("payload"),
                    "at": session.stamp}  # fmt: skip
    _launch(session, run, context)


def _finish_context(
    session: Session, run: StageRun, context: ContextRun, result: ContextResult
) -> None:
    context.phase = DONE
    context.status = result.status
    context.result = result.result
    context.succeeded = result.succeeded
    context.message = result.message
    context.finished_at = session.stamp
    context.waiting_for = None
    context.until = None
    context.signal = None
    has, value = saved_state(result.result)
    if has:
        session.state.provider_state[f"{run.stage}/{context.name}"] = value


def _maybe_verdict(session: Session, run: StageRun) -> None:
    if session.state.current is not run or any(c.phase != DONE for c in run.ctx.values()):
        return
    stage = session.stage(run.stage)
    if run.contexts is None:
        result = ContextResult(True, 200, {"status": 200}, "")
        if run.ctx:
            context = next(iter(run.ctx.values()))
            result = ContextResult(
                bool(context.succeeded), context.status, context.result or {}, context.message
            )
        outputs = single_context_outputs(result)
        succeeded, failure_status = result.succeeded, result.status
    else:
        results = {
            name: ContextResult(bool(c.succeeded), c.status, c.result, c.message)
            for name, c in run.ctx.items()
            if c.result is not None
        }
        stopped = {name: c.stopped for name, c in run.ctx.items() if c.stopped}
        max_failures = limit(stage.context_policy.max_failures, len(run.ctx), kind="maxFailures")
        outputs, succeeded = aggregate(
            run.stage, run.contexts, results, max_failures=max_failures or 0, cancelled=stopped
        )
        failure_status = 200 if succeeded else 500
    _conclude(session, run, outputs, succeeded, failure_status, f"stage {run.stage} failed")


def _conclude(
    session: Session,
    run: StageRun,
    outputs: JsonMap,
    succeeded: bool,
    failure_status: int,
    failure_message: str,
) -> None:
    """Outputs, selector, next stage (4.7, 4.8, 5)."""
    state = session.state
    state.outputs[run.stage] = outputs
    stage = session.stage(run.stage)
    entry = _entry(session, run)
    entry["outputs"] = outputs
    if run.on_cancel:  # its verdict does not matter: the activation ends as it was told (8.5)
        _close_entry(session, run, 9996 if succeeded else failure_status, "", "")
        end_activation(session, state.final_status or CANCELLED,
                       state.final_message or _cancel_message(session))  # fmt: skip
        return
    injected = _injected(session, run, session.site_id)
    selector_scope = _scope(session, stage, injected).with_outputs(state.outputs)
    step = choose_next(
        run.stage,
        stage.stage_selector,
        selector_scope,
        succeeded=succeeded,
        failure_status=failure_status,
        failure_message=failure_message,
        stages=session.version.stages,
    )
    _close_entry(session, run, step.entry_status, step.entry_error, step.next_stage)
    if step.ends:
        end_activation(session, step.activation_status, step.error_message)
    elif session.version.self_driving:
        open_stage(session, step.next_stage, run.stage)
    else:
        state.current = None
        state.suggested = step.next_stage
        state.status = int(StateCode.PAUSED)


def _close_entry(session: Session, run: StageRun, status: int, error: str, next_stage: str) -> None:
    entry = _entry(session, run)
    entry.update(
        {"errorMessage": error, "isActive": False, "finishedAt": session.stamp,
         "nextStage": next_stage, "status": status}
    )  # fmt: skip
    run.status = status
    session.events.append({"type": "stage_finished", "seq": run.seq})


def _stage_error(session: Session, run: StageRun, error: StageError) -> None:
    """4.11: not routed to handlers, no selector; the activation ends with the stage status."""
    session.state.outputs[run.stage] = {"status": error.status, "error": error.message}
    _entry(session, run)["outputs"] = session.state.outputs[run.stage]
    _close_entry(session, run, error.status, error.message, "")
    end_activation(session, error.status, error.message)


def end_activation(session: Session, status: int, message: str) -> None:
    """The activation becomes terminal (4.10)."""
    state = session.state
    state.current = None
    state.suggested = ""
    state.status = status
    state.error_message = "" if status == int(StateCode.DONE) else message
    state.finished_at = session.stamp


def _cancel_message(session: Session) -> str:
    reason = session.state.cancel_reason
    return f"activation cancelled: {reason}" if reason else "activation cancelled"


def cancel_current(session: Session, *, message: str, result: ContextResult) -> None:
    """Stop the open run: calls cancelled, waits dropped, the entry and its contexts closed.

    `result` is what every unfinished context records (9990 cancelled, 11004 timed out).
    """
    run = session.state.current
    if run is None:
        return
    for context in run.ctx.values():
        if context.phase == RUNNING:
            session.cancel.append((run.seq, context.name))
        if context.phase != DONE:
            _finish_context(session, run, context, result)
    _close_entry(session, run, result.status, message, "")
    session.state.current = None


def timers_due(session: Session) -> None:
    """Fire every timer of this activation that is due (schedule, waits, retries, timeouts)."""
    state = session.state
    expired = state.deadline and parse_iso(state.deadline) <= session.now
    if expired and not state.cancel_requested:
        # Like Cancel (onCancel runs when set) but the activation ends Timed Out (8.6).
        text = state.deadline_text
        message = f"activation timed out after {text}"
        state.cancel_requested = True
        state.final_status, state.final_message = TIMED_OUT, message
        interrupted = state.current.stage if state.current is not None else state.last_stage
        cancel_current(session, message=message, result=activation_timed_out(text))
        on_cancel = session.version.on_cancel
        if on_cancel:
            state.suggested = ""
            open_stage(session, on_cancel, interrupted, on_cancel=True)
        else:
            end_activation(session, TIMED_OUT, message)
        return
    run = state.current
    if run is None:
        return
    if run.status == int(StateCode.DELAYED) and run.schedule_until and not run.ctx:
        if parse_iso(run.schedule_until) <= session.now:
            _start_contexts(session, run)
        return
    if run.deadline and parse_iso(run.deadline) <= session.now:
        _stage_timeout(session, run)
        return
    policy_timeout = session.stage(run.stage).context_policy.timeout
    for context in list(run.ctx.values()):
        deadline = context.attempt_deadline
        if deadline and context.phase in (RUNNING, WAITING) and parse_iso(deadline) <= session.now:
            assert policy_timeout is not None
            if context.phase == RUNNING:
                session.cancel.append((run.seq, context.name))
            context.signal = None
            _attempt_ended(
                session, run, context, context_timed_out(context.name, policy_timeout.text)
            )
            if session.state.current is not run:
                return
            continue
        if context.phase == WAITING and context.until and parse_iso(context.until) <= session.now:
            if context.retrying:
                context.retrying = False
                context.attempt += 1
                context.resume = None
                context.until = None
                context.waiting_for = None
            else:
                context.wake = {"kind": "timer", "at": session.stamp}
            context.signal = None
            _launch(session, run, context)
    _entry(session, run)


def _stage_timeout(session: Session, run: StageRun) -> None:
    stage = session.stage(run.stage)
    written = stage.timeout.text if stage.timeout is not None else "5m"  # onCancel default
    text = f"stage {run.stage} timed out after {written}"
    for context in run.ctx.values():
        if context.phase == RUNNING:
            session.cancel.append((run.seq, context.name))
        if context.phase != DONE:
            _finish_context(session, run, context, failure(TIMED_OUT, text))
    if run.contexts is None:
        outputs: JsonMap = {"status": TIMED_OUT, "error": f"Timed Out: {text}"}
    else:
        results = {
            name: ContextResult(bool(c.succeeded), c.status, c.result or {}, c.message)
            for name, c in run.ctx.items()
        }
        outputs, _ = aggregate(run.stage, run.contexts, results, max_failures=0,
                               timed_out_after=written)  # fmt: skip
    _conclude(session, run, outputs, False, TIMED_OUT, text)
