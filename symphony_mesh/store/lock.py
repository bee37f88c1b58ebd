"""`node.lock`: one node per data directory (federation.md CFG-30).

The lock is an exclusive `flock` on `DIR/node.lock`, held for the life of the process; the kernel
drops it when the process dies, even by SIGKILL, so a crashed node never leaves a stale lock. The
file holds the pid of the holder, for the error message only.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

__all__ = ["DataDirInUseError", "DataDirLock"]


class DataDirInUseError(RuntimeError):
    """Another live node holds the data directory."""


class DataDirLock:
    """An exclusive lock on a data directory; `acquire()` then `release()` (idempotent)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / "node.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise `DataDirInUseError` naming the holder's pid."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataDirInUseError(
                f"data directory {self.data_dir} is in use by another node (pid {holder})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Drop the lock; the file stays (removing it would race with a starting node)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
