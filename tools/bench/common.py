"""Shared pieces of the benchmarks: medians, the machine description, markdown tables."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Figure", "machine_description", "median_of", "print_section"]


@dataclass(frozen=True)
class Figure:
    """One benchmark line: the product figure, its raw baseline and the target."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None

    def ratio(self) -> str:
        if self.baseline is None or self.baseline == 0:
            return "-"
        return f"{self.value / self.baseline:.2f}x"


def median_of(runs: int, measure: Callable[[], float]) -> float:
    """Median of `runs` measurements."""
    return statistics.median(measure() for _ in range(runs))


def _fmt(value: float, unit: str) -> str:
    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def print_section(title: str, figures: Sequence[Figure], notes: Sequence[str] = ()) -> None:
    """A markdown section: `## title`, a table, then notes."""
    print(f"## {title}\n")
    print("| figure | median | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    for f in figures:
        baseline = f"{_fmt(f.baseline, f.unit)} ({f.baseline_name})" if f.baseline else "-"
        verdict = "" if f.met is None else (" (met)" if f.met else " (NOT met)")
        print(
            f"| {f.name} | {_fmt(f.value, f.unit)} | {baseline} | {f.ratio()} | "
            f"{f.target}{verdict} |"
        )
    for note in notes:
        print(f"\n{note}")
    print()


def machine_description() -> str:
    """CPU model, cores, RAM, disk, OS, Python and grpcio, as federation.md 8 asks."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    disk = subprocess.run(
        ["df", "-h", "--output=fstype,size", "."], capture_output=True, text=True, check=False
    ).stdout.split("\n")[1:2]
    import grpc

    return (
        f"- CPU: {cpu}, {os.cpu_count()} cores\n- RAM: {memory}\n"
        f"- disk (bench dir): {' '.join(disk[0].split()) if disk else 'unknown'}\n"
        f"- OS: {platform.platform()}\n- Python: {platform.python_version()}\n"
        f"- grpcio: {grpc.__version__}"
    )
