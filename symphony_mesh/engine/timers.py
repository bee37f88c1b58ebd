"""One node-wide timer service ordered by due time (campaigns.md 4.12): no polling.

Each activation has at most one entry, its earliest due time. A single asyncio timer handle
is armed for the earliest entry of all; when it fires, every due activation gets a wake-up and
the handle is re-armed for the next one. Ten thousand dormant activations with timers cost ten
thousand heap entries and one handle, and no CPU until something is due.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

__all__ = ["TimerHeap"]


class TimerHeap:
    """Due times per activation; `on_due(uid)` runs as a task when one falls due."""

    def __init__(self, on_due: Callable[[str], Coroutine[Any, Any, None]]) -> None:
        self._on_due = on_due
        self._due: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._handle: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def set(self, uid: str, due: datetime | None) -> None:
        """Replace the activation's due time (None removes it)."""
        if due is None:
            self._due.pop(uid, None)
        else:
            at = due.timestamp()
            if self._due.get(uid) == at:
                return
            self._due[uid] = at
            heapq.heappush(self._heap, (at, uid))
        self._arm()

    def __len__(self) -> int:
        return len(self._due)

    def _arm(self) -> None:
        if self._closed:
            return
        while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)  # a superseded entry
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if not self._heap:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._heap[0][0] - datetime.now(UTC).timestamp())
        self._handle = loop.call_at(loop.time() + delay, self._fire)

    def _fire(self) -> None:
        self._handle = None
        now = datetime.now(UTC).timestamp()
        while self._heap and self._heap[0][0] <= now:
            at, uid = heapq.heappop(self._heap)
            if self._due.get(uid) != at:
                continue
            del self._due[uid]
            task: asyncio.Task[None] = asyncio.create_task(self._on_due(uid))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._arm()

    def close(self) -> None:
        """Stop firing; pending wake-up tasks are cancelled."""
        self._closed = True
        if self._handle is not None:
            self._handle.cancel()
        for task in self._tasks:
            task.cancel()
