"""How a simulated charger waits before it tries to connect again.

Like OCPP 2.0.1's RetryBackOff* variables: a minimum wait doubled after each failure up
to a number of times, plus a random part so that stations refused together do not all
come back together. An explicit refusal with `Retry-After` (HTTP 503 during the
handshake) is honoured instead of the back-off, with the same random part on top.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER_SECONDS = 600.0  # a server asking for more is treated as asking for this


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    wait_minimum: float = 1.0  # seconds before the first retry
    doublings: int = 3  # the wait doubles this many times at most (1, 2, 4, 8 s)
    random_range: float = 1.0  # uniform 0..this added to every wait
    open_timeout: float = 10.0  # a handshake not completed within this counts as failed
    reply_timeout: float = 30.0  # a BootNotification unanswered within this counts as failed

    def delay(self, failures: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after the `failures`-th consecutive failure (1 = first)."""
        if failures < 1:
            raise ValueError("delay() is asked after a failure")
        jitter = rng.uniform(0, self.random_range) if self.random_range > 0 else 0.0
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER_SECONDS) + jitter
        return self.wait_minimum * 2.0 ** min(failures - 1, self.doublings) + jitter


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (RFC 9110: delay-seconds or an HTTP-date); None if absent
    or unreadable (the charger then falls back to its own back-off)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
