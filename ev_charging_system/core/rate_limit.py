"""Token buckets: a steady rate with room for a burst."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimit:
    per_second: float  # 0 = unlimited
    burst: int


class TokenBucket:
    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = limit.per_second
        self._capacity = float(max(1, limit.burst))
        self._clock = clock
        self._tokens = self._capacity
        self._at = clock()

    @property
    def unlimited(self) -> bool:
        return self._rate <= 0

    def available(self) -> float:
        now = self._clock()
        if self._rate > 0:
            self._tokens = min(self._capacity, self._tokens + (now - self._at) * self._rate)
        self._at = now
        return self._tokens

    def take(self) -> bool:
        """Take a token if one is there."""
        if self.unlimited:
            return True
        if self.available() < 1:
            return False
        self._tokens -= 1
        return True

    def reserve(self) -> float:
        """Take a token, borrowing it if none is there: the seconds to wait before use."""
        if self.unlimited:
            return 0.0
        self._tokens = self.available() - 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self._rate
