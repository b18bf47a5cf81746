"""How often one caller may act: a fixed window of calls per minute, per key.

An LLM agent in a loop can send actions faster than any operator would; the MCP server
refuses a caller's acting calls beyond MCP_ACTIONS_PER_MINUTE with a message saying when
to retry. `RateLimiter` is the port: one process counts in memory (`WindowRateLimiter`);
the nodes of a cluster count in PostgreSQL (ev_charging_system.cluster.shared_limits), so
the limit holds for the caller whichever node each call reaches.

A fixed window (not a sliding one) because a shared counter must be one row written with
one statement per call; at most twice the limit can pass across a window boundary, which
is what bounds a runaway loop, the purpose here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

WINDOW_SECONDS = 60.0
MAX_KEYS = 10_000  # bounded memory whatever the number of callers


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    count: int  # calls in the current window, this one included
    limit: int
    retry_after_seconds: float  # until the window ends (0 when allowed)


class RateLimitedError(Exception):
    """A caller over its limit; the message says when it may retry."""

    def __init__(self, what: str, decision: RateDecision) -> None:
        self.decision = decision
        super().__init__(
            f"rate limit: at most {decision.limit} {what} per minute for this caller; "
            f"retry in {math.ceil(decision.retry_after_seconds)} s"
        )


class RateLimiter(Protocol):
    limit: int

    async def hit(self, key: str) -> RateDecision:
        """Count one call of `key` and say whether it is within the limit."""


class WindowRateLimiter:
    """The limiter of one process: a counter per key and window, in memory."""

    def __init__(
        self,
        limit: int,
        window_seconds: float = WINDOW_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1:
            raise ValueError("a rate limit needs at least one call per window")
        self.limit = limit
        self._window = window_seconds
        self._monotonic = monotonic
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window number, count)

    async def hit(self, key: str) -> RateDecision:
        now = self._monotonic()
        window = int(now // self._window)
        seen_window, count = self._counts.get(key, (window, 0))
        count = count + 1 if seen_window == window else 1
        if len(self._counts) >= MAX_KEYS and key not in self._counts:
            self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
        self._counts[key] = (window, count)
        return decide(count, self.limit, (window + 1) * self._window - now)


def decide(count: int, limit: int, window_left: float) -> RateDecision:
    allowed = count <= limit
    return RateDecision(allowed, count, limit, 0.0 if allowed else max(window_left, 0.0))
