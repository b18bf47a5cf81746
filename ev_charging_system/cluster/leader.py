"""One node at a time runs the singletons (the energy planner): a PostgreSQL advisory lock.

The lock belongs to a database session, so it is released the moment the leader's
connection ends: an orderly stop, a crash (the kernel closes the socket), or, when the
leader is cut off without a FIN, when PostgreSQL's TCP keep-alive gives up on the session
(idle 5 s + 3 probes 2 s apart: ~11 s). The leader checks its own session every
`check_seconds` with a bounded query and steps down as soon as that fails, which is
before the server can hand the lock to anyone else. Followers try to take the lock every
`check_seconds`, so leadership moves within that period (plus the keep-alive bound when
the old leader vanished without closing its socket).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ev_charging_system.cluster.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

QUERY_TIMEOUT_SECONDS = 3.0
# Server side: how long PostgreSQL keeps a session whose client went silent.
_SESSION_KEEPALIVE = (
    "SET tcp_keepalives_idle = 5",
    "SET tcp_keepalives_interval = 2",
    "SET tcp_keepalives_count = 3",
)


def lock_key(cluster_name: str, job: str) -> int:
    """A stable signed 64-bit advisory lock key for (cluster, job)."""
    digest = hashlib.sha256(f"{cluster_name}/{job}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class LeaderElection:
    def __init__(
        self,
        engine: AsyncEngine,
        key: int,
        on_elected: Callable[[], Awaitable[None]],
        on_deposed: Callable[[], Awaitable[None]],
        check_seconds: float,
    ) -> None:
        self._engine = engine
        self._key = key
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._check_seconds = check_seconds
        self._task: asyncio.Task[None] | None = None
        self.is_leader = False
        self.changed = asyncio.Event()  # set whenever leadership is won or lost

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cluster-leader-election")

    async def stop(self) -> None:
        """Step down (the singletons stop first) and release the lock with the session."""
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                # The engine has no pool (NullPool): closing the connection ends the
                # session, and with it the lock.
                async with self._engine.connect() as raw:
                    try:
                        connection = await raw.execution_options(isolation_level="AUTOCOMMIT")
                        for statement in _SESSION_KEEPALIVE:
                            await self._query(connection, statement)
                        await self._campaign(connection)
                    finally:
                        # Before closing the session (which may hang on a dead network):
                        # the singletons stop first, then the lock can go to another node.
                        await self._step_down()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("cluster: leader election session lost: %s", error)
            await asyncio.sleep(self._check_seconds)

    async def _campaign(self, connection: AsyncConnection) -> None:
        while True:
            if not self.is_leader:
                won = await self._query(connection, f"SELECT pg_try_advisory_lock({self._key})")
                if won:
                    self.is_leader = True
                    self.changed.set()
                    logger.info("cluster: this node now runs the singletons (energy planner)")
                    await self._on_elected()
            else:
                await self._query(connection, "SELECT 1")  # still our session?
            await asyncio.sleep(self._check_seconds)

    async def _query(self, connection: AsyncConnection, statement: str) -> object:
        result = await asyncio.wait_for(connection.execute(text(statement)), QUERY_TIMEOUT_SECONDS)
        return result.scalar() if result.returns_rows else None

    async def _step_down(self) -> None:
        if not self.is_leader:
            return
        self.is_leader = False
        self.changed.set()
        logger.info("cluster: this node no longer runs the singletons")
        try:
            await self._on_deposed()
        except Exception:
            logger.exception("cluster: stopping the singletons failed")
