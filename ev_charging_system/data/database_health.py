"""Is the database answering? One state for the whole process, one log line per change.

Every unit of work reports how it ended; the OCPP layer reports calls it gave up on; the
health endpoint probes. A hung database therefore gives two log lines (unavailable, then
available again with how long and how many calls were refused), not a traceback per call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)


def database_unavailable(error: BaseException | None) -> str | None:
    """Why `error` means "no database" (refused, lost, timed out, busy), else None.

    OperationalError covers a refused or lost connection, PostgreSQL's cancelled
    statements (statement/lock timeouts) and SQLite's "database is locked"; a pool
    checkout that timed out is SQLAlchemy's TimeoutError. Constraint violations,
    programming errors and the like are bugs or bad data, not an outage.
    """
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        original = getattr(error, "orig", None) or error
        first_line = (str(original).strip().splitlines() or [""])[0]
        return f"{type(original).__name__}: {first_line[:200]}"
    if isinstance(error, ConnectionError | TimeoutError):
        return f"{type(error).__name__}: {error}"
    return None


class DatabaseHealth:
    """Implements the StorageHealth port."""

    def __init__(self, engine: AsyncEngine, probe_timeout: float) -> None:
        self._engine = engine
        self._probe_timeout = probe_timeout
        self._available = True
        self._down_since = 0.0
        self._failures = 0
        self._probe: asyncio.Task[None] | None = None
        self._probe_started = 0.0
        self._abandoned: set[asyncio.Task[None]] = set()

    @property
    def available(self) -> bool:
        return self._available

    def failed(self, reason: str) -> None:
        self._failures += 1
        if not self._available:
            return
        self._available = False
        self._down_since = time.monotonic()
        self._failures = 1
        logger.error(
            "database unavailable (%s): station messages that need it are answered "
            "InternalError until it answers again",
            reason,
        )

    def succeeded(self) -> None:
        if self._available:
            return
        self._available = True
        logger.warning(
            "database available again after %.1f s (%d calls failed meanwhile)",
            time.monotonic() - self._down_since,
            self._failures,
        )

    async def probe(self, within: float) -> bool:
        """SELECT 1, shared by concurrent callers (one probe in flight at a time).

        A probe that does not answer is not cancelled while it is young (cancelling
        would make its clean-up wait on the same hung database); one older than the
        database timeout is abandoned and a fresh one started.
        """
        now = time.monotonic()
        stale = now - self._probe_started > self._probe_timeout
        if self._probe is not None and not self._probe.done() and stale:
            self._abandon(self._probe)
            self._probe = None
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._select_one(), name="database-probe")
            self._probe.add_done_callback(_retrieve)
            self._probe_started = now
        probe = self._probe
        done, _ = await asyncio.wait({probe}, timeout=within)
        if probe not in done:
            self.failed(f"no answer to a probe within {within:g} s")
            return False
        error = probe.exception()
        if error is not None:
            self.failed(f"probe failed: {type(error).__name__}: {error}".strip())
            return False
        self.succeeded()
        return True

    async def _select_one(self) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    def _abandon(self, task: asyncio.Task[None]) -> None:
        task.cancel()
        self._abandoned.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._abandoned.discard(task)


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark the outcome seen: a probe nobody waited for must not log "never retrieved"."""
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.exception()
