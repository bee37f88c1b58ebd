"""`symphony-mesh demo` (what `make demo` runs) works end to end as a real process."""

from __future__ import annotations

from tests.helpers.nodes import run_cli


def test_demo_runs_a_rollout_to_done() -> None:
    result = run_cli("demo")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "activation/demo-rollout Done (9996)"
    assert "approving the gate as operator demo" in lines
    assert any(
        "rollout#1 munich failed: HTTP 503: munich is in maintenance" in line for line in lines
    )
    assert [line.split()[0] for line in lines[-5:-1]] == ["CONTEXT", "munich", "paris", "tokyo"]
