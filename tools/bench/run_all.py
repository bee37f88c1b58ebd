"""`make bench`: run every `tools/bench/bench_*.py`, print their sections, write BENCHMARKS.md.

Each benchmark is a module runnable as `python -m tools.bench.bench_X [--quick]` that prints one
markdown section (a `## Title` line, a table of figures with their raw baselines and ratios). This
runner runs them one after the other (so they do not disturb each other), prints their output as
it comes, and writes the machine description and all sections to `BENCHMARKS.md`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from tools.bench.common import machine_description

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(description="run every benchmark and record BENCHMARKS.md")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    parser.add_argument("--only", help="run only bench_<ONLY>.py")
    args = parser.parse_args()
    modules = sorted(p.stem for p in (ROOT / "tools" / "bench").glob("bench_*.py"))
    if args.only:
        modules = [m for m in modules if m == f"bench_{args.only}"]
    sections: list[str] = []
    failed = []
    for module in modules:
        started = time.monotonic()
        command = [sys.executable, "-m", f"tools.bench.{module}"] + (
            ["--quick"] if args.quick else []
        )
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        print(done.stdout, flush=True)
        if done.returncode != 0:
            failed.append(module)
            print(f"{module} failed:\n{done.stderr}", file=sys.stderr)
            continue
        sections.append(done.stdout.strip() + f"\n\n_{module}: {time.monotonic() - started:.0f} s_")
    header = (
        "# Benchmarks\n\nProduced by `make bench` (`python -m tools.bench.run_all`) on "
        f"{datetime.now(UTC):%Y-%m-%d}. Each figure is the median of several runs, next to its "
        "raw baseline measured in the same run on the same machine.\n\n## Machine\n\n"
        f"{machine_description()}\n"
    )
    if not args.only and not args.quick:
        (ROOT / "BENCHMARKS.md").write_text(header + "\n" + "\n\n".join(sections) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
