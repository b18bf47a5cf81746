"""The in-memory action limiter of one process (the cluster's is in tests/cluster)."""

from __future__ import annotations

import pytest

from ev_charging_system.business_logic.operations.rate_limits import (
    RateLimitedError,
    WindowRateLimiter,
)


async def test_a_key_gets_its_limit_per_window_and_is_told_when_to_retry() -> None:
    now = [120.0]
    limiter = WindowRateLimiter(2, window_seconds=60, monotonic=lambda: now[0])
    assert (await limiter.hit("a")).allowed
    assert (await limiter.hit("a")).allowed
    assert (await limiter.hit("b")).allowed  # each key counts alone
    now[0] = 150.0
    refused = await limiter.hit("a")
    assert not refused.allowed and refused.count == 3
    assert refused.retry_after_seconds == pytest.approx(30)
    assert "retry in 30 s" in str(RateLimitedError("actions", refused))
    now[0] = 180.0  # the next window
    assert (await limiter.hit("a")).allowed


def test_a_limit_needs_at_least_one_call() -> None:
    with pytest.raises(ValueError, match="at least one"):
        WindowRateLimiter(0)
