"""The site's configuration, tariff and policy: applied to the coordinator and kept.

Changing the site goes through here so the coordinator and the stored copy never
disagree: the coordinator validates first (a bad value changes nothing), then the new
settings are stored, and on start-up the stored settings are restored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ev_charging_system.energy.coordinator import Coordinator
from ev_charging_system.energy.models import SiteConfig, Tariff


@dataclass(frozen=True, slots=True)
class StoredSite:
    config: SiteConfig
    tariff: Tariff
    policy: str


class SiteSettingsStore(Protocol):
    async def load(self) -> StoredSite | None: ...

    async def save(self, site: StoredSite) -> None: ...


class SiteSettingsService:
    def __init__(self, coordinator: Coordinator, store: SiteSettingsStore) -> None:
        self._coordinator = coordinator
        self._store = store

    async def restore(self) -> bool:
        """Apply the stored settings, if any; True when something was restored."""
        stored = await self._store.load()
        if stored is None:
            return False
        self._coordinator.reconfigure(stored.config)
        self._coordinator.set_tariff(stored.tariff)
        self._coordinator.set_policy(stored.policy)
        return True

    def current(self) -> StoredSite:
        c = self._coordinator
        return StoredSite(c.config, c.tariff, c.policy)

    async def reconfigure(self, config: SiteConfig) -> StoredSite:
        self._coordinator.reconfigure(config)
        return await self._save()

    async def set_tariff(self, tariff: Tariff) -> StoredSite:
        self._coordinator.set_tariff(tariff)
        return await self._save()

    async def set_policy(self, policy: str) -> StoredSite:
        self._coordinator.set_policy(policy)
        return await self._save()

    async def _save(self) -> StoredSite:
        site = self.current()
        await self._store.save(site)
        return site
