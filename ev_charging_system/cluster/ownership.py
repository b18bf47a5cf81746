"""Which node holds which station, in PostgreSQL, valid while the node's lease is.

A node renews one row (`cluster_nodes.lease_expires_at`) every third of the lease; its
stations (`station_ownership` rows naming it) count only while that lease is unexpired, so
a node that dies loses all of them within CLUSTER_LEASE_SECONDS without anyone deleting
rows. Times are the database's `now()`, so the nodes' clocks do not matter.

Claims and releases come from the node's own connect/disconnect events; they are queued,
collapsed per station and written in batches (a reconnect storm of thousands of stations
is a few statements, not thousands). A release only deletes a row that still names this
node: a station that already moved to another node stays there.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from ev_charging_system.cluster.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

DB_TIMEOUT_SECONDS = 5.0  # every statement here; a slower database is treated as away

_RENEW = text(
    "INSERT INTO cluster_nodes (node_id, started_at, lease_expires_at) "
    "VALUES (:node, now(), now() + make_interval(secs => :lease)) "
    "ON CONFLICT (node_id) DO UPDATE SET lease_expires_at = excluded.lease_expires_at"
)
_CLAIM = text(
    "INSERT INTO station_ownership (charge_point_id, node_id, claimed_at) "
    "VALUES (:station, :node, :at) "
    "ON CONFLICT (charge_point_id) DO UPDATE "
    "SET node_id = excluded.node_id, claimed_at = excluded.claimed_at "
    # a late write of an older connection must not take the station back
    "WHERE station_ownership.claimed_at <= excluded.claimed_at"
)
_RELEASE = text(
    "DELETE FROM station_ownership WHERE node_id = :node AND charge_point_id IN :stations"
).bindparams(bindparam("stations", expanding=True))
_LIVE = (
    "SELECT o.charge_point_id, o.node_id FROM station_ownership o "
    "JOIN cluster_nodes n ON n.node_id = o.node_id WHERE n.lease_expires_at > now()"
)
_OWNER = text(_LIVE + " AND o.charge_point_id = :station")
_ALL_LIVE = text(_LIVE)
_LIVE_NODES = text("SELECT node_id FROM cluster_nodes WHERE lease_expires_at > now()")


@dataclass(frozen=True, slots=True)
class _Change:
    station: str
    claim: bool
    at: datetime


class StationOwnership:
    def __init__(self, engine: AsyncEngine, node_id: str, lease_seconds: float) -> None:
        self._engine = engine
        self.node_id = node_id
        self.lease_seconds = lease_seconds
        self._pending: dict[str, _Change] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.renewed = asyncio.Event()  # set after every successful renewal (tests, health)

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Take the lease and forget stations a previous run under this NODE_ID held."""
        await self.renew()
        async with self._engine.begin() as connection:
            await asyncio.wait_for(
                connection.execute(
                    text("DELETE FROM station_ownership WHERE node_id = :node"),
                    {"node": self.node_id},
                ),
                DB_TIMEOUT_SECONDS,
            )
        self._tasks = [
            asyncio.create_task(self._renew_periodically(), name="cluster-lease"),
            asyncio.create_task(self._write_changes(), name="cluster-ownership"),
        ]

    async def stop(self) -> None:
        """Give every station and the lease back at once (an orderly stop)."""
        await cancel_and_wait(*self._tasks)
        self._tasks = []
        try:
            async with self._engine.begin() as connection:
                for statement in (
                    "DELETE FROM station_ownership WHERE node_id = :node",
                    "DELETE FROM cluster_nodes WHERE node_id = :node",
                ):
                    await asyncio.wait_for(
                        connection.execute(text(statement), {"node": self.node_id}),
                        DB_TIMEOUT_SECONDS,
                    )
        except Exception:
            logger.exception(
                "cluster: could not release this node's stations; they expire with its lease"
            )

    # --- this node's stations -------------------------------------------------------------

    def claim(self, station: str, at: datetime) -> None:
        self._pending[station] = _Change(station, True, at)
        self._wake.set()

    def release(self, station: str, at: datetime) -> None:
        self._pending[station] = _Change(station, False, at)
        self._wake.set()

    async def renew(self) -> None:
        async with self._engine.begin() as connection:
            await asyncio.wait_for(
                connection.execute(_RENEW, {"node": self.node_id, "lease": self.lease_seconds}),
                DB_TIMEOUT_SECONDS,
            )
        self.renewed.set()

    async def flush(self) -> None:
        """Write the queued claims and releases now (one transaction)."""
        changes, self._pending = list(self._pending.values()), {}
        if not changes:
            return
        claims = [
            {"station": c.station, "node": self.node_id, "at": c.at} for c in changes if c.claim
        ]
        releases = [c.station for c in changes if not c.claim]
        try:
            async with self._engine.begin() as connection:
                if claims:
                    await asyncio.wait_for(connection.execute(_CLAIM, claims), DB_TIMEOUT_SECONDS)
                if releases:
                    await asyncio.wait_for(
                        connection.execute(_RELEASE, {"node": self.node_id, "stations": releases}),
                        DB_TIMEOUT_SECONDS,
                    )
        except BaseException:
            # Keep them for the next attempt unless a newer change superseded them.
            for change in changes:
                self._pending.setdefault(change.station, change)
            raise

    # --- anybody's stations ----------------------------------------------------------------

    async def owner_of(self, station: str) -> str | None:
        """The node holding `station` with an unexpired lease, or None."""
        async with self._engine.connect() as connection:
            result = await asyncio.wait_for(
                connection.execute(_OWNER, {"station": station}), DB_TIMEOUT_SECONDS
            )
            row = result.first()
        return None if row is None else str(row.node_id)

    async def live_owners(self) -> dict[str, str]:
        """station -> node, for every station held by a node with an unexpired lease."""
        async with self._engine.connect() as connection:
            result = await asyncio.wait_for(connection.execute(_ALL_LIVE), DB_TIMEOUT_SECONDS)
            return {str(row.charge_point_id): str(row.node_id) for row in result}

    async def live_nodes(self) -> set[str]:
        async with self._engine.connect() as connection:
            result = await asyncio.wait_for(connection.execute(_LIVE_NODES), DB_TIMEOUT_SECONDS)
            return {str(row.node_id) for row in result}

    # --- background -----------------------------------------------------------------------

    async def _renew_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await self.renew()
            except Exception as error:
                logger.warning("cluster: could not renew this node's lease: %s", error)

    async def _write_changes(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except Exception as error:
                logger.warning("cluster: could not record station ownership: %s", error)
                await asyncio.sleep(1)  # the database is away: retry, not spin
                self._wake.set()
