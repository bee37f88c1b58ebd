"""How often a context's provider call is attempted and how long to wait in between (8.8).

A failed attempt -- an error, a failing `status`, a time-out under `contextPolicy.timeout` or
the dispatch deadline -- is retried while attempts are left; cancellation, stage and activation
timeouts, stage-level errors and tasks never are (the caller does not ask). The wait before
attempt k+1 is `interval` when set, else min(2^k, 30) seconds, without jitter.
"""

from __future__ import annotations

from symphony_mesh.model.documents import RetryPolicy

__all__ = ["MAX_BACKOFF_SECONDS", "attempts_allowed", "retry_delay"]

MAX_BACKOFF_SECONDS = 30.0
"""The exponential back-off stops growing here: 2, 4, 8, 16, 30, 30, ... seconds."""


def attempts_allowed(policy: RetryPolicy | None) -> int:
    """At most `1 + maxRetries` attempts; one without a `retry` policy."""
    return 1 + (policy.max_retries if policy is not None else 0)


def retry_delay(attempt: int, policy: RetryPolicy | None) -> float | None:
    """Seconds to wait after attempt number `attempt` (1-based) failed; None when none is left.

    Raises `ValueError` for an attempt number below 1.
    """
    if attempt < 1:
        raise ValueError(f"attempt numbers start at 1, got {attempt}")
    if policy is None or attempt >= attempts_allowed(policy):
        return None
    if policy.interval is not None:
        return policy.interval.seconds
    # 2^5 already exceeds the cap; stopping there keeps huge attempt numbers cheap.
    return MAX_BACKOFF_SECONDS if attempt >= 5 else min(2.0**attempt, MAX_BACKOFF_SECONDS)
