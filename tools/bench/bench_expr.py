"""Expression evaluation speed (issue 3; expressions.md).

    python -m tools.bench.bench_expr [--quick]

- warm evaluations/s: the canary sample's selector (stage `weight-counter` of
  canary-campaign.yaml) evaluated with its parse cached, a fresh scope each time (as one stage run
  would); baseline: plain Python taking the same decision with a dict lookup and comparisons.
- cold parse + evaluate/s: the same selector parsed from scratch (no cache) then evaluated;
  compared with the warm figure, it shows what the parse cache saves.
- `expr --batch`: 10 000 JSON lines through one `symphony-mesh expr --batch` process; baseline:
  the same process answering an empty stdin (start-up alone).
- hostile inputs: time to the specified error, parse cache cleared first, for a 1 MiB template,
  10 000 nested parentheses and exponential string growth through `$input`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping

from symphony_mesh.expr import (
    ExpressionError,
    JsonValue,
    Scope,
    clear_template_cache,
    compile_template,
    evaluate_template,
)
from tools.bench.common import Figure, median_of, print_section

SELECTOR = (
    "${{$if($le($output(weight-counter,weight),0), roll-back, "
    "$if($ge($output(weight-counter, weight), 100), finalize,adjust-weight))}}"
)
"""stageSelector of stage `weight-counter` in samples/symphony/canary-campaign.yaml."""
TARGET = 50_000.0
OUTPUTS: Mapping[str, Mapping[str, JsonValue]] = {"weight-counter": {"weight": 40}}


def _plain_decision(outputs: Mapping[str, Mapping[str, JsonValue]]) -> str:
    """The selector's decision in plain Python: a dict lookup and two comparisons."""
    weight = outputs["weight-counter"]["weight"]
    assert isinstance(weight, int | float)
    if weight <= 0:
        return "roll-back"
    if weight >= 100:
        return "finalize"
    return "adjust-weight"


def _rate(iterations: int, action: Callable[[], object]) -> Callable[[], float]:
    """A measurement: `action` repeated `iterations` times, as operations per second."""

    def measure() -> float:
        start = time.perf_counter()
        for _ in range(iterations):
            action()
        return iterations / (time.perf_counter() - start)

    return measure


def _seconds(action: Callable[[], object]) -> Callable[[], float]:
    def measure() -> float:
        start = time.perf_counter()
        action()
        return time.perf_counter() - start

    return measure


def _batch_input(lines: int) -> bytes:
    rows = []
    for i in range(lines):
        outputs = {"weight-counter": {"weight": (i % 7) * 25 - 25}}
        rows.append(json.dumps({"template": SELECTOR, "outputs": outputs}))
    return ("\n".join(rows) + "\n").encode()


def _run_batch(stdin: bytes, expected_lines: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "symphony_mesh", "expr", "--batch"],
        input=stdin,
        capture_output=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.count(b"\n") == expected_lines


def _expect_error(template: str, message: str, scope: Scope | None = None) -> None:
    clear_template_cache()  # hostile text is measured cold: parsed from scratch every time
    try:
        evaluate_template(template, scope)
    except ExpressionError as exc:
        if exc.message != message:
            raise AssertionError(f"unexpected error: {exc.message}") from exc
        return
    raise AssertionError(f"no error for a hostile template: {template[:40]}")


def _doubling_scope() -> Scope:
    inputs: dict[str, JsonValue] = {
        f"l{i}": "${{" + f"$input(l{i + 1})+$input(l{i + 1})" + "}}" for i in range(60)
    }
    inputs["l60"] = "ab"
    return Scope(inputs=inputs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    args = parser.parse_args()
    runs = 3 if args.quick else 7
    scale = 5 if args.quick else 1

    # The evaluator and the plain decision must agree before their speeds are compared.
    for weight in (-5, 0, 40, 99, 100, 250):
        outputs = {"weight-counter": {"weight": weight}}
        assert evaluate_template(SELECTOR, Scope(outputs=outputs)) == _plain_decision(outputs)

    warm = median_of(
        runs, _rate(50_000 // scale, lambda: evaluate_template(SELECTOR, Scope(outputs=OUTPUTS)))
    )
    cold = median_of(
        runs,
        _rate(5_000 // scale, lambda: compile_template(SELECTOR).evaluate(Scope(outputs=OUTPUTS))),
    )
    plain = median_of(runs, _rate(1_000_000 // scale, lambda: _plain_decision(OUTPUTS)))

    batch_lines = 10_000
    stdin = _batch_input(batch_lines)
    batch = median_of(runs, _seconds(lambda: _run_batch(stdin, batch_lines)))
    startup = median_of(runs, _seconds(lambda: _run_batch(b"", 0)))

    mebibyte = "x" * (1024 * 1024)
    parentheses = "${{" + "(" * 10_000 + "1" + ")" * 10_000 + "}}"
    too_long = "template is longer than 65536 bytes"
    too_deep = "expression is nested more than 64 levels deep"
    too_big = "string result is longer than 1048576 bytes"
    hostile = [
        ("1 MiB template to its error", lambda: _expect_error(mebibyte, too_long)),
        ("10 000 nested parentheses to the error", lambda: _expect_error(parentheses, too_deep)),
        (
            "exponential string growth to the error",
            lambda: _expect_error("${{$input(l0)}}", too_big, _doubling_scope()),
        ),
    ]

    figures = [
        Figure(
            "warm-cache evaluations/s, canary weight-counter selector",
            warm,
            "/s",
            baseline=plain,
            baseline_name="dict lookup + comparison",
            target=">= 50,000/s on one core",
            met=warm >= TARGET,
        ),
        Figure(
            "cold parse + evaluate/s, same selector",
            cold,
            "/s",
            baseline=warm,
            baseline_name="warm-cache evaluation",
        ),
        Figure("plain Python dict lookup + comparison (baseline)", plain, "/s"),
        Figure(
            f"`expr --batch`, {batch_lines:,} lines in one process",
            batch,
            "s",
            baseline=startup,
            baseline_name="same process, empty stdin",
            target="< 3 s",
            met=batch < 3.0,
        ),
    ]
    for name, action in hostile:
        elapsed = median_of(runs, _seconds(action)) * 1000
        figures.append(Figure(name, elapsed, "ms", target="< 1000 ms", met=elapsed < 1000))

    print_section(
        "Expressions",
        figures,
        notes=[
            f"Median of {runs} runs. The selector is evaluated with a fresh `Scope` per "
            f"evaluation; warm evaluation is {plain / warm:,.0f}x slower than the plain-Python "
            "decision (an interpreter with limits, positions and Symphony's semantics against "
            "one dict lookup and two comparisons).",
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
