"""Retry attempts and waits (campaigns.md 8.8)."""

from __future__ import annotations

import pytest

from symphony_mesh.engine.retries import attempts_allowed, retry_delay
from symphony_mesh.model.documents import RetryPolicy
from symphony_mesh.model.durations import Duration

BACKOFF = RetryPolicy(max_retries=100)
INTERVAL = RetryPolicy(max_retries=2, interval=Duration.parse("10ms"))


@pytest.mark.parametrize(
    ("attempt", "policy", "delay"),
    [
        (1, None, None),
        (1, RetryPolicy(), None),
        (1, BACKOFF, 2.0),
        (2, BACKOFF, 4.0),
        (3, BACKOFF, 8.0),
        (4, BACKOFF, 16.0),
        (5, BACKOFF, 30.0),
        (6, BACKOFF, 30.0),
        (99, BACKOFF, 30.0),
        (100, BACKOFF, 30.0),
        (101, BACKOFF, None),
        (1, INTERVAL, 0.01),
        (2, INTERVAL, 0.01),
        (3, INTERVAL, None),
        (1, RetryPolicy(max_retries=1, interval=Duration.parse(90)), 90.0),
        (2, RetryPolicy(max_retries=1, interval=Duration.parse(90)), None),
    ],
)
def test_retry_delays(attempt: int, policy: RetryPolicy | None, delay: float | None) -> None:
    assert retry_delay(attempt, policy) == delay


def test_attempts_allowed() -> None:
    assert attempts_allowed(None) == 1
    assert attempts_allowed(RetryPolicy()) == 1
    assert attempts_allowed(INTERVAL) == 3
    assert attempts_allowed(BACKOFF) == 101


def test_attempts_start_at_one() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        retry_delay(0, BACKOFF)
