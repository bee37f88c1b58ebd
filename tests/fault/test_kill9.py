"""SIGKILL a node at random moments; after restarts every activation completes exactly once.

The campaign visits every kind of state a crash can hit (campaigns.md 4.14): a dormant timer
(`delay`), provider calls running in a fan-out (`script`, a real subprocess, two at a time), a
signal wait, and a stateful provider (`counter`). Between kills the driver sends the signal, so
it lands sometimes before, sometimes while and sometimes after the activations wait for it.
At the end every activation is Done with exactly one history entry per stage run, each context
recorded once with one attempt, and the counter counted once.

The sleeps before each kill are the fault injection itself (a random instant), not waits for an
event; every wait for an outcome blocks on the node's Watch stream (`wait activation`).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from tests.helpers.cli import invoke
from tests.helpers.nodes import NodeProcess

ACTIVATIONS = 6
STAGES = ["nap", "fan", "gate", "count"]
CAMPAIGN = """
apiVersion: workflow.symphony/v1
kind: Campaign
metadata: {name: crash}
---
apiVersion: workflow.symphony/v1
kind: CampaignVersion
metadata: {name: crash-v-1}
spec:
  rootResource: crash
  firstStage: nap
  selfDriving: true
  stages:
    nap: {provider: providers.stage.delay, inputs: {delay: 0.3}, stageSelector: fan}
    fan:
      provider: providers.stage.script
      config: {script: work.sh}
      contexts: [c1, c2, c3, c4]
      contextPolicy: {maxConcurrency: 2}
      inputs: {who: "${{$input(__site)}}"}
      stageSelector: gate
    gate: {provider: providers.stage.signal, inputs: {name: go}, stageSelector: count}
    count: {provider: providers.stage.counter, inputs: {hits: 1}}
"""
SCRIPT = """#!/bin/bash
sleep 0.15
printf '{"done": true}' > "$2"
"""


def _activations() -> str:
    return "\n".join(
        f"---\napiVersion: workflow.symphony/v1\nkind: Activation\nmetadata: {{name: run{i}}}\n"
        'spec: {campaignversion: "crash:1"}'
        for i in range(ACTIVATIONS)
    )


def _cli(node: NodeProcess, *args: str) -> tuple[int, str, str]:
    result = invoke("--server", node.address, *args)
    return result.code, result.stdout, result.stderr


def _run_kill_loop(tmp_path: Path, kills: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    data = tmp_path / "data"
    (data / "scripts").mkdir(parents=True)
    (data / "scripts" / "work.sh").write_text(SCRIPT)
    node = NodeProcess(data).start()
    result = invoke("--server", node.address, "apply", "-f", "-",
                    stdin=CAMPAIGN + _activations())  # fmt: skip
    assert result.code == 0, result.stderr
    restarts: list[float] = []
    for _ in range(kills):
        if rng.random() < 0.5:
            for i in range(ACTIVATIONS):
                _cli(node, "activation", "signal", f"run{i}", "go")
        time.sleep(rng.uniform(0.0, 0.6))  # the random instant of the crash
        node.kill()
        started = time.monotonic()
        node = NodeProcess(data).start()
        restarts.append(time.monotonic() - started)
    try:
        for i in range(ACTIVATIONS):
            _cli(node, "activation", "signal", f"run{i}", "go")
        for i in range(ACTIVATIONS):
            code, out, err = _cli(node, "wait", "activation", f"run{i}", "--timeout", "60s")
            assert code == 0, f"run{i}: {out} {err}"
            _, document, _ = _cli(node, "get", "activation", f"run{i}", "-o", "json",
                                  "--history", "all")  # fmt: skip
            status = json.loads(document)["status"]
            history = status["stageHistory"]
            assert [entry["stage"] for entry in history] == STAGES, history
            assert [entry["iteration"] for entry in history] == [1, 1, 1, 1]
            assert all(entry["status"] == 9996 for entry in history)
            fan = history[1]
            assert sorted(fan["contexts"]) == ["c1", "c2", "c3", "c4"]
            assert all(c["status"] == 200 and c["attempts"] == 1 for c in fan["contexts"].values())
            assert history[3]["outputs"]["hits"] == 1  # counted once, whatever the restarts
    finally:
        node.kill()
    return {"kills": kills, "max_restart_s": max(restarts, default=0.0)}


def test_activations_survive_sigkill(tmp_path: Path) -> None:
    figures = _run_kill_loop(tmp_path, kills=4, seed=1)
    assert figures["kills"] == 4


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_activations_survive_fifty_sigkills(tmp_path: Path) -> None:
    figures = _run_kill_loop(tmp_path, kills=50, seed=2026)
    print(f"kill loop: {figures}")
    assert figures["kills"] == 50
