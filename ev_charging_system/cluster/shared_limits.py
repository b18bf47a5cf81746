"""Rate limits shared by every node: one counter row per key and window in PostgreSQL.

A caller whose calls are spread over the nodes by a load balancer must meet the same limit
as against one process, so every call counts in one place: a single upsert increments the
row of (key, current window) and returns the count, atomically whichever nodes write at
once. Windows are numbered by the database clock (`now()`), so node clocks do not matter;
each node deletes windows that ended now and then, so the table stays small.

Cost: one statement per limited call. The limits here guard MCP actions (human or agent
pace, a few per second at most), far below what one PostgreSQL row absorbs.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ev_charging_system.business_logic.operations.rate_limits import (
    WINDOW_SECONDS,
    RateDecision,
    decide,
)
from ev_charging_system.cluster.shared_tokens import database_errors

DB_TIMEOUT_SECONDS = 5.0

_HIT = text(
    "INSERT INTO rate_limit_windows (key, window_number, count) "
    "VALUES (:key, floor(extract(epoch FROM now()) / :window)::bigint, 1) "
    "ON CONFLICT (key, window_number) DO UPDATE "
    "SET count = rate_limit_windows.count + 1 "
    "RETURNING count AS calls, (window_number + 1) * :window - extract(epoch FROM now()) AS left_s"
)
_FORGET_ENDED = text(
    "DELETE FROM rate_limit_windows "
    "WHERE window_number < floor(extract(epoch FROM now()) / :window)::bigint"
)


class SharedRateLimiter:
    def __init__(
        self,
        engine: AsyncEngine,
        limit: int,
        namespace: str,
        window_seconds: float = WINDOW_SECONDS,
    ) -> None:
        if limit < 1:
            raise ValueError("a rate limit needs at least one call per window")
        self._engine = engine
        self.limit = limit
        self._namespace = namespace  # the cluster's name: clusters sharing a database
        self._window = window_seconds
        self._swept_at = 0.0

    async def hit(self, key: str) -> RateDecision:
        values = {"key": f"{self._namespace}/{key}", "window": self._window}
        async with database_errors(), self._engine.begin() as connection:
            if time.monotonic() - self._swept_at > self._window:
                self._swept_at = time.monotonic()
                await asyncio.wait_for(
                    connection.execute(_FORGET_ENDED, {"window": self._window}),
                    DB_TIMEOUT_SECONDS,
                )
            result = await asyncio.wait_for(
                connection.execute(_HIT, values),
                DB_TIMEOUT_SECONDS,
            )
            row = result.one()
        return decide(int(row.calls), self.limit, float(row.left_s))
