"""What a stage run records as its outputs (campaigns.md 4.7), and the map-reduce aggregate of a
stage with contexts with its verdict (6.3, 6.4).

A stage with `contexts` gets one flat map: every key `k` of context `c`'s result becomes
`<c>.<k>` (every context is prefixed, even one equal to the local site id), followed by the
counters and the stage's own `status` and `error`. Keys are literal strings; the expression
language turns `$output(deploy, tokyo.status)` into the key `tokyo.status`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from symphony_mesh.engine.outcomes import ContextResult, error_text
from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.model.status import StateCode

__all__ = ["aggregate", "router_outputs", "single_context_outputs"]

_OK = int(StateCode.OK)
_INTERNAL_ERROR = int(StateCode.INTERNAL_ERROR)
_TIMED_OUT = int(StateCode.TIMED_OUT)
_CANCELLED = int(StateCode.CANCELLED)
_UNTOUCHED = int(StateCode.UNTOUCHED)


def aggregate(
    stage_name: str,
    contexts: Sequence[str],
    results: Mapping[str, ContextResult],
    *,
    max_failures: int,
    cancelled: Mapping[str, str] | None = None,
    timed_out_after: str | None = None,
) -> tuple[JsonMap, bool]:
    """The aggregated outputs of a stage with contexts and its verdict (6.3, 6.4).

    A context with an entry in `results` is succeeded or failed by its result (11004 time-outs
    are failures). A context without one is pending: `<c>.status` 9998 (never started), or
    9990 with `<c>.error` = `cancelled[c]` (the already formatted text) when failFast cancelled
    it. The verdict is succeeded iff the failures do not exceed `max_failures`, failFast did not
    cancel anything and the stage did not time out (`timed_out_after` = the stage `timeout` as
    written, which makes the status 11004 and the error
    `Timed Out: stage <S> timed out after <d>`). Otherwise the failure is 500
    `Internal Error: <f> of <n> contexts failed (<names>)`.
    """
    cancelled = cancelled or {}
    outputs: JsonMap = {}
    succeeded = failed = pending = 0
    failed_names: list[JsonValue] = []
    stopped = False
    for context in contexts:
        result = results.get(context)
        if result is None:
            pending += 1
            if context in cancelled:
                stopped = True
                outputs[f"{context}.status"] = _CANCELLED
                outputs[f"{context}.error"] = cancelled[context]
            else:
                outputs[f"{context}.status"] = _UNTOUCHED
            continue
        for key, value in result.result.items():
            outputs[f"{context}.{key}"] = value
        if result.succeeded:
            succeeded += 1
        else:
            failed += 1
            failed_names.append(context)
    outputs["__total"] = len(contexts)
    outputs["__succeeded"] = succeeded
    outputs["__failed"] = failed
    outputs["__pending"] = pending
    outputs["__failedContexts"] = failed_names
    if timed_out_after is not None:
        outputs["status"] = _TIMED_OUT
        outputs["error"] = error_text(
            _TIMED_OUT, f"stage {stage_name} timed out after {timed_out_after}"
        )
        return outputs, False
    if failed > max_failures or stopped:
        names = ", ".join(str(name) for name in failed_names)
        outputs["status"] = _INTERNAL_ERROR
        outputs["error"] = error_text(
            _INTERNAL_ERROR, f"{failed} of {len(contexts)} contexts failed ({names})"
        )
        return outputs, False
    outputs["status"] = _OK
    return outputs, True


def single_context_outputs(result: ContextResult) -> JsonMap:
    """The outputs of a stage without `contexts`: its one context result, as recorded (4.7)."""
    return dict(result.result)


def router_outputs(task_outputs: Mapping[str, JsonValue]) -> JsonMap:
    """The result of a router stage (no provider) whose tasks did not fail it (4.7, 6.5).

    The task results (`<t>` -> that task's context result) plus `status: 200`; the stage's own
    `status` wins over a task that happens to be called `status`.
    """
    return {**task_outputs, "status": _OK}
