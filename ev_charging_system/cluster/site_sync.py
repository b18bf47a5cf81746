"""The energy site's settings, changed through any node, applied on every node.

Each node's planner (the leader's runs, the others wait) holds the site configuration in
memory, restored from the database at start. A change made through node A (a vehicle
bound to a charge point, a circuit limit, the tariff) is stored by A and announced on
`<cluster>.site.changed`; every other node reloads the stored settings when it hears it,
so the leader plans with it at its next tick whichever node the operator used
(milliseconds; within a second).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from ev_charging_system.cluster.subjects import Subjects
from ev_charging_system.energy.site_settings import SiteSettingsStore, StoredSite

logger = logging.getLogger(__name__)

Reload = Callable[[], Awaitable[object]]


class SiteSync:
    def __init__(self, node_id: str, subjects: Subjects) -> None:
        self._node_id = node_id
        self._subjects = subjects
        self._nats: Client | None = None
        self._subscription: Subscription | None = None
        self._reload: Reload | None = None
        self.reloaded = 0

    def store(self, stored: SiteSettingsStore) -> SiteSettingsStore:
        """`stored`, announcing every save to the other nodes."""
        return _AnnouncingStore(stored, self)

    def on_change(self, reload: Reload) -> None:
        """`reload()` when another node changed the site (SiteSettingsService.restore)."""
        self._reload = reload

    async def start(self, nats: Client) -> None:
        self._nats = nats
        self._subscription = await nats.subscribe(self._subjects.site_changed, cb=self._heard)

    async def stop(self) -> None:
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
            self._subscription = None
        self._nats = None

    async def announce(self) -> None:
        if self._nats is None or not self._nats.is_connected:
            logger.warning("cluster: site change not announced (no NATS link)")
            return
        try:
            await self._nats.publish(self._subjects.site_changed, self._node_id.encode())
        except Exception as error:
            logger.warning("cluster: site change not announced: %s", error)

    async def _heard(self, message: Msg) -> None:
        if message.data.decode(errors="replace") == self._node_id or self._reload is None:
            return  # our own change, applied already
        try:
            await asyncio.wait_for(self._reload(), 10)
            self.reloaded += 1
        except Exception as error:
            logger.warning("cluster: could not reload the site changed on another node: %s", error)


class _AnnouncingStore:
    def __init__(self, stored: SiteSettingsStore, sync: SiteSync) -> None:
        self._stored = stored
        self._sync = sync

    async def load(self) -> StoredSite | None:
        return await self._stored.load()

    async def save(self, site: StoredSite) -> None:
        await self._stored.save(site)
        await self._sync.announce()
