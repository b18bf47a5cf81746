"""One node of a cluster: its NATS link, its lease and stations, routing, events, leadership.

Built by bootstrap (only when CLUSTER_NATS_URL is set) around this node's local gateway and
connections; `start` connects and joins, `stop` leaves in order. The parts:

- `events` (NatsEventBus): the EventBus every service and consumer of this node uses;
- `ownership` (StationOwnership): leases and station -> node rows in PostgreSQL;
- `presence` (ClusterPresence): "is this station online" for the whole cluster;
- `gateway` (ClusterGateway) + `command_server` (CommandServer): command routing;
- `leader` (LeaderElection): the singletons run where the advisory lock is held;
- `site` (SiteSync): energy site changes made through any node reach every planner;
- `leader_calls` (LeaderCalls): operations on the energy planner, from any node, run on
  the leader's;
- shared MCP confirm tokens and rate limits (PostgreSQL), made on request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nats.aio.client import Client
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from ev_charging_system.business_logic.events import (
    DomainEvent,
    StationConnected,
    StationDisconnected,
)
from ev_charging_system.business_logic.ports import ChargerGateway, StationPresence
from ev_charging_system.cluster.event_bus import NatsEventBus
from ev_charging_system.cluster.leader import LeaderElection, lock_key
from ev_charging_system.cluster.leader_calls import LeaderCalls
from ev_charging_system.cluster.ownership import StationOwnership
from ev_charging_system.cluster.presence import ClusterPresence
from ev_charging_system.cluster.routing import ClusterGateway, CommandServer
from ev_charging_system.cluster.shared_limits import SharedRateLimiter
from ev_charging_system.cluster.shared_tokens import SharedConfirmationTokens
from ev_charging_system.cluster.site_sync import SiteSync
from ev_charging_system.cluster.subjects import Subjects
from ev_charging_system.cluster.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

# Client-side TCP keep-alive and a connect bound for the cluster's own sessions (psycopg).
_CONNECT_ARGS = {
    "options": "-c timezone=UTC",
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
}


def shown_url(url: str) -> str:
    """The NATS URL without credentials (nats://user:secret@host -> nats://***@host)."""
    scheme, separator, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"{scheme}{separator}{rest}"


class ClusterStartError(Exception):
    """This node could not join its cluster; the message says what to check."""


@dataclass(frozen=True, slots=True)
class ClusterOptions:
    nats_url: str
    node_id: str
    cluster_name: str
    database_url: str
    lease_seconds: float
    connect_timeout_seconds: float
    call_timeout_seconds: float
    event_replay_seconds: float = 300.0
    # Bound on an operation forwarded to the leader (a plan solved on demand included).
    leader_call_timeout_seconds: float = 30.0


Hook = Callable[[], Awaitable[None]]


class ClusterNode:
    def __init__(
        self,
        options: ClusterOptions,
        local_gateway: ChargerGateway,
        local_presence: StationPresence,
    ) -> None:
        self.options = options
        self.node_id = options.node_id
        self.subjects = Subjects(options.cluster_name)
        self._engine: AsyncEngine = create_async_engine(
            options.database_url, pool_size=4, max_overflow=4, connect_args=_CONNECT_ARGS
        )
        # No pool: the leader's session (and its advisory lock) ends when it is closed.
        self._leader_engine = create_async_engine(
            options.database_url, poolclass=NullPool, connect_args=_CONNECT_ARGS
        )
        self.events = NatsEventBus(
            options.node_id, self.subjects, replay_seconds=options.event_replay_seconds
        )
        self.ownership = StationOwnership(self._engine, options.node_id, options.lease_seconds)
        self.presence = ClusterPresence(local_presence, options.node_id)
        self.gateway = ClusterGateway(
            local_gateway,
            local_presence,
            self.ownership,
            self.subjects,
            options.call_timeout_seconds,
            remote_owner=self.presence.remote_owner,
        )
        self.command_server = CommandServer(
            local_gateway, options.node_id, self.subjects, options.call_timeout_seconds
        )
        self.site = SiteSync(options.node_id, self.subjects)
        self.leader_calls = LeaderCalls(
            options.node_id,
            self.subjects,
            options.leader_call_timeout_seconds,
            is_leader=lambda: self.is_leader,
            # Leadership moves within a third of the lease after the leader's session ends.
            retry_after_seconds=options.lease_seconds / 3 + 1,
        )
        self.events.add_remote_tap(self.presence.observe)
        self.events.add_local_tap(self._own_event)
        self.leader: LeaderElection | None = None
        self._nats: Client | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._leaving = False  # an orderly stop: losing the NATS link is expected

    def confirmation_tokens(self, ttl_seconds: float) -> SharedConfirmationTokens:
        """MCP confirm tokens every node can redeem (exactly once)."""
        return SharedConfirmationTokens(self._engine, ttl_seconds)

    def rate_limiter(self, per_minute: int) -> SharedRateLimiter:
        """A limit counted over every node's calls."""
        return SharedRateLimiter(self._engine, per_minute, self.options.cluster_name)

    @property
    def is_leader(self) -> bool:
        return self.leader is not None and self.leader.is_leader

    async def start(self, on_elected: Hook, on_deposed: Hook) -> None:
        """Connect to NATS, take the lease, serve forwarded commands, share events, and
        campaign for the singletons (`on_elected` / `on_deposed` start and stop them)."""
        self._nats = await self._connect()
        try:
            await self.ownership.start()
        except Exception as error:
            database = make_url(self.options.database_url).render_as_string(hide_password=True)
            raise ClusterStartError(
                f"cannot take this node's lease in {database}: {error} (are the "
                "migrations applied?)"
            ) from error
        try:
            await self.events.start(self._nats)
        except Exception as error:
            await self.ownership.stop()
            with contextlib.suppress(Exception):
                await self._nats.close()
            raise ClusterStartError(
                f"cannot open the cluster's event log on NATS at {shown_url(self.options.nats_url)}"
                f" ({type(error).__name__}: {error}); JetStream must be enabled "
                "(nats-server -js)"
            ) from error
        await self.command_server.start(self._nats)
        await self.site.start(self._nats)
        self.gateway.attach(self._nats)
        self.leader_calls.attach(self._nats)
        # The subscriptions are registered with the server before anyone relies on them.
        await self._nats.flush(timeout=int(self.options.connect_timeout_seconds) or 1)
        await self.refresh_presence()
        self._refresher = asyncio.create_task(self._refresh_periodically(), name="cluster-presence")
        self.leader = LeaderElection(
            self._leader_engine,
            lock_key(self.options.cluster_name, "singletons"),
            self._elected(on_elected),
            self._deposed(on_deposed),
            check_seconds=self.options.lease_seconds / 3,
        )
        self.leader.start()
        logger.info(
            "cluster: node %s joined cluster %r (NATS %s)",
            self.node_id,
            self.options.cluster_name,
            self._nats.connected_url.netloc if self._nats.connected_url else "?",
        )

    def _elected(self, start_singletons: Hook) -> Hook:
        async def elected() -> None:
            await start_singletons()
            await self.leader_calls.elected()  # the planner runs: take its calls

        return elected

    def _deposed(self, stop_singletons: Hook) -> Hook:
        async def deposed() -> None:
            await self.leader_calls.deposed()  # no new calls for a planner that stops
            await stop_singletons()

        return deposed

    async def stop_singletons(self) -> None:
        """Step down first, so another node takes the planner over while this one stops."""
        if self.leader is not None:
            await self.leader.stop()

    async def stop(self) -> None:
        """Leave the cluster: after this node's stations were closed (their in-flight
        forwarded commands answered), hand back the lease and close the NATS link."""
        self._leaving = True
        await self.stop_singletons()
        await cancel_and_wait(self._refresher)
        await self.command_server.stop()
        await self.site.stop()
        await self.ownership.stop()  # deletes every row of this node: no flush needed
        await self.events.stop()
        if self._nats is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._nats.drain(), self.options.connect_timeout_seconds)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._nats.close(), self.options.connect_timeout_seconds)
            self._nats = None
        await self._engine.dispose()
        await self._leader_engine.dispose()

    async def refresh_presence(self) -> None:
        self.presence.replace(await self.ownership.live_owners())

    def _own_event(self, event: DomainEvent) -> None:
        station = event.charge_point_id
        if station is None:
            return
        if isinstance(event, StationConnected):
            self.ownership.claim(station, event.at)
        elif isinstance(event, StationDisconnected) and not event.replaced_by_newer_connection:
            self.ownership.release(station, event.at)

    async def _refresh_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.options.lease_seconds / 3)
            try:
                await self.refresh_presence()
            except Exception as error:
                logger.warning("cluster: could not read station ownership: %s", error)

    async def _connect(self) -> Client:
        url = self.options.nats_url

        async def error_cb(error: Exception) -> None:
            logger.warning("cluster: NATS: %s", error)

        async def disconnected_cb() -> None:
            if not self._leaving:
                logger.warning("cluster: lost the NATS link; reconnecting")

        async def reconnected_cb() -> None:
            logger.info("cluster: NATS link back")

        client = Client()
        try:
            await asyncio.wait_for(
                client.connect(
                    url,
                    name=f"{self.options.cluster_name}-{self.node_id}",
                    connect_timeout=max(1, int(self.options.connect_timeout_seconds)),
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,  # a node keeps trying to rejoin, forever
                    reconnect_time_wait=1,
                    error_cb=error_cb,
                    disconnected_cb=disconnected_cb,
                    reconnected_cb=reconnected_cb,
                ),
                self.options.connect_timeout_seconds,
            )
        except Exception as error:
            with contextlib.suppress(Exception):
                await client.close()
            detail = "no answer" if isinstance(error, TimeoutError) else str(error) or "failed"
            raise ClusterStartError(
                f"cannot reach NATS at {shown_url(url)} within "
                f"{self.options.connect_timeout_seconds:g} s ({detail}); check CLUSTER_NATS_URL"
            ) from error
        return client


__all__ = ["ClusterNode", "ClusterOptions", "ClusterStartError"]
