"""Recorded outputs and the map-reduce aggregate (campaigns.md 4.7, 6.3, 6.4)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from symphony_mesh.engine.outcomes import (
    ContextResult,
    classify_outputs,
    fail_fast_cancelled,
    failure,
    stage_timed_out,
)
from symphony_mesh.engine.reduce import aggregate, router_outputs, single_context_outputs
from symphony_mesh.model.jsonvalues import JsonMap

OK = classify_outputs({"foo": 2})
BOOM = classify_outputs({"status": 500, "error": "boom"})
FAIL_FAST_TEXT = str(fail_fast_cancelled(1, 0).result["error"])


def test_all_contexts_succeed() -> None:
    outputs, succeeded = aggregate(
        "fan",
        ["a", "b"],
        {"a": classify_outputs({"foo": 2, "who": "a", "__site": "a"}), "b": OK},
        max_failures=0,
    )
    assert succeeded
    assert outputs == {
        "a.foo": 2,
        "a.who": "a",
        "a.__site": "a",
        "a.status": 200,
        "b.foo": 2,
        "b.status": 200,
        "__total": 2,
        "__succeeded": 2,
        "__failed": 0,
        "__pending": 0,
        "__failedContexts": [],
        "status": 200,
    }


def test_one_of_three_fails() -> None:
    outputs, succeeded = aggregate(
        "fan", ["a", "b", "c"], {"a": OK, "b": BOOM, "c": OK}, max_failures=0
    )
    assert not succeeded
    assert outputs["b.status"] == 500
    assert outputs["b.error"] == "Internal Error: boom"
    assert outputs["status"] == 500
    assert outputs["error"] == "Internal Error: 1 of 3 contexts failed (b)"
    assert outputs["__failed"] == 1
    assert outputs["__failedContexts"] == ["b"]


def test_partial_success_within_max_failures() -> None:
    outputs, succeeded = aggregate(
        "fan", ["a", "b", "c"], {"a": OK, "b": BOOM, "c": OK}, max_failures=1
    )
    assert succeeded
    assert outputs["status"] == 200
    assert "error" not in outputs
    assert outputs["b.status"] == 500
    assert outputs["__failedContexts"] == ["b"]


def test_percentage_thresholds_of_e56() -> None:
    results = {"a": OK, "b": BOOM, "c": BOOM, "d": BOOM}
    outputs, succeeded = aggregate("fan", list(results), results, max_failures=2)
    assert not succeeded
    assert outputs["error"] == "Internal Error: 3 of 4 contexts failed (b, c, d)"
    assert aggregate("fan", list(results), results, max_failures=3)[1]


def test_fail_fast_leaves_untouched_and_cancelled_contexts_pending() -> None:
    outputs, succeeded = aggregate(
        "fan",
        ["a", "b", "c", "d"],
        {"a": OK, "b": BOOM},
        max_failures=0,
        cancelled={"c": FAIL_FAST_TEXT},
    )
    assert not succeeded
    assert outputs["c.status"] == 9990
    assert (
        outputs["c.error"]
        == "Cancelled: cancelled: fail-fast after 1 failed contexts (maxFailures 0)"
    )
    assert outputs["d.status"] == 9998
    assert "d.error" not in outputs
    assert (outputs["__succeeded"], outputs["__failed"], outputs["__pending"]) == (1, 1, 2)
    assert outputs["error"] == "Internal Error: 1 of 4 contexts failed (b)"


def test_a_result_beats_a_cancellation() -> None:
    outputs, _ = aggregate("fan", ["a"], {"a": OK}, max_failures=0, cancelled={"a": "x"})
    assert outputs["a.status"] == 200
    assert outputs["__pending"] == 0


def test_time_outs_are_failures() -> None:
    outputs, succeeded = aggregate(
        "fan",
        ["a", "b"],
        {"a": OK, "b": failure(11004, "context b did not finish within 1s")},
        max_failures=1,
    )
    assert succeeded
    assert outputs["__failed"] == 1
    assert outputs["b.error"] == "Timed Out: context b did not finish within 1s"


def test_stage_timeout() -> None:
    outputs, succeeded = aggregate(
        "d",
        ["a", "b"],
        {"a": OK, "b": stage_timed_out("d", "1s")},
        max_failures=5,
        timed_out_after="1s",
    )
    assert not succeeded
    assert outputs["status"] == 11004
    assert outputs["error"] == "Timed Out: stage d timed out after 1s"
    assert outputs["b.status"] == 11004


def test_no_contexts() -> None:
    outputs, succeeded = aggregate("fan", [], {}, max_failures=0)
    assert succeeded
    assert outputs == {
        "__total": 0,
        "__succeeded": 0,
        "__failed": 0,
        "__pending": 0,
        "__failedContexts": [],
        "status": 200,
    }


def test_every_context_is_prefixed_even_the_local_site() -> None:
    outputs, _ = aggregate("t", ["hub"], {"hub": OK}, max_failures=0)
    assert outputs["hub.foo"] == 2
    assert outputs["hub.status"] == 200
    assert "foo" not in outputs


def test_single_context_and_router_outputs() -> None:
    assert single_context_outputs(BOOM) == {"status": 500, "error": "Internal Error: boom"}
    copy = single_context_outputs(OK)
    copy["x"] = 1
    assert "x" not in OK.result
    tasks: JsonMap = {"t1": {"status": 200}, "t2": {"status": 1000, "error": "Bad Config: x"}}
    assert router_outputs(tasks) == {**tasks, "status": 200}
    assert router_outputs({}) == {"status": 200}
    assert router_outputs({"status": {"status": 500}}) == {"status": 200}


_kinds = st.sampled_from(["ok", "failed", "untouched", "cancelled"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_kinds, max_size=30), st.integers(0, 30), st.booleans())
def test_counters_add_up(kinds: list[str], max_failures: int, timed_out: bool) -> None:
    contexts = [f"c{i}" for i in range(len(kinds))]
    results: dict[str, ContextResult] = {}
    cancelled: dict[str, str] = {}
    for name, kind in zip(contexts, kinds, strict=True):
        if kind == "ok":
            results[name] = OK
        elif kind == "failed":
            results[name] = BOOM
        elif kind == "cancelled":
            cancelled[name] = FAIL_FAST_TEXT
    outputs, succeeded = aggregate(
        "s",
        contexts,
        results,
        max_failures=max_failures,
        cancelled=cancelled,
        timed_out_after="1s" if timed_out else None,
    )
    total = outputs["__total"]
    assert total == len(contexts)
    assert outputs["__succeeded"] + outputs["__failed"] + outputs["__pending"] == total  # type: ignore[operator]
    assert outputs["__failed"] == kinds.count("failed")
    assert outputs["__failedContexts"] == [
        c for c, k in zip(contexts, kinds, strict=True) if k == "failed"
    ]
    assert succeeded == (
        not timed_out and kinds.count("failed") <= max_failures and "cancelled" not in kinds
    )
    assert outputs["status"] == (200 if succeeded else 11004 if timed_out else 500)
    assert ("error" in outputs) == (not succeeded)
    for name in contexts:
        assert f"{name}.status" in outputs
