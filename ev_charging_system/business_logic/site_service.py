"""Sites: where stations stand. Their inventory, which station is where, the overview's
counts per site, a site's power over time, and which site the energy planner plans for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from ev_charging_system.business_logic.device_management_service import DeviceManagementService
from ev_charging_system.business_logic.meter_history import MeterHistoryService
from ev_charging_system.business_logic.ports import (
    DuplicateNameError,
    UnitOfWork,
    UnitOfWorkFactory,
)
from ev_charging_system.models.charge_point import ChargePointView
from ev_charging_system.models.errors import ConflictError, InvalidInputError, NotFoundError
from ev_charging_system.models.meter_rollup import PowerPoint
from ev_charging_system.models.site import (
    DEFAULT_ENERGY_SITE_NAME,
    Site,
    SiteCounts,
    SiteDetails,
)

MAX_NAME_LENGTH = 100
MAX_ADDRESS_LENGTH = 300


class PlannerGridLimit(Protocol):
    """The energy planner's settings (energy/site_settings.py): told when the grid limit
    of the planner's site may have changed, they read it again (planner_grid_limit)."""

    async def refresh_grid_limit(self) -> object: ...


async def planner_grid_limit(uow_factory: UnitOfWorkFactory) -> float | None:
    """The grid connection limit of the energy planner's site, None when it has none (or
    there is no such site yet): the limit the planner plans with when there is one."""
    async with uow_factory() as uow:
        site = await uow.sites.energy_site()
    return None if site is None else site.details.grid_limit_kw


def checked(details: SiteDetails) -> SiteDetails:
    """The details as stored: name and address trimmed; refused when they cannot be."""
    name = " ".join(details.name.split())  # no stray or doubled spaces in a name
    address = details.address.strip()
    if not name:
        raise InvalidInputError("a site needs a name")
    if len(name) > MAX_NAME_LENGTH or len(address) > MAX_ADDRESS_LENGTH:
        raise InvalidInputError(
            f"a site's name is at most {MAX_NAME_LENGTH} characters, its address "
            f"{MAX_ADDRESS_LENGTH}"
        )
    if (details.latitude is None) != (details.longitude is None):
        raise InvalidInputError("give both latitude and longitude, or neither")
    if details.latitude is not None and not -90 <= details.latitude <= 90:
        raise InvalidInputError("latitude must be within -90..90 degrees")
    if details.longitude is not None and not -180 <= details.longitude <= 180:
        raise InvalidInputError("longitude must be within -180..180 degrees")
    if details.grid_limit_kw is not None and details.grid_limit_kw <= 0:
        raise InvalidInputError("a grid connection limit must be above 0 kW")
    return replace(details, name=name, address=address)


class SiteService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Callable[[], datetime],
        devices: DeviceManagementService,
        meter_history: MeterHistoryService,
        planner: PlannerGridLimit | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._devices = devices
        self._meter_history = meter_history
        self._planner = planner

    # --- inventory -----------------------------------------------------------------------

    async def page(self, text: str | None, limit: int, offset: int) -> tuple[list[Site], int]:
        await self.energy_site()  # the planner's site is one of them, from the first look
        async with self._uow_factory() as uow:
            return await uow.sites.page(text, limit, offset)

    async def get(self, site_id: int) -> Site:
        async with self._uow_factory() as uow:
            return await _require(uow, site_id)

    async def create(self, details: SiteDetails) -> Site:
        details = checked(details)
        async with self._uow_factory() as uow:
            await _name_free(uow, details.name, None)
            try:
                site = await uow.sites.add(details, self._clock(), energy_planner=False)
            except DuplicateNameError:
                raise _name_taken(details.name) from None
            await uow.commit()
        return site

    async def update(self, site_id: int, details: SiteDetails) -> Site:
        details = checked(details)
        async with self._uow_factory() as uow:
            await _require(uow, site_id)
            await _name_free(uow, details.name, site_id)
            try:
                await uow.sites.update(site_id, details)
            except DuplicateNameError:
                raise _name_taken(details.name) from None
            site = await _require(uow, site_id)
            await uow.commit()
        if site.energy_planner:
            await self._planner_limit_changed()
        return site

    async def delete(self, site_id: int) -> None:
        async with self._uow_factory() as uow:
            site = await _require(uow, site_id)
            if site.station_count:
                raise ConflictError(
                    f"site {site.name!r} still has {site.station_count} station(s): move them "
                    "to another site (or to none) before deleting it"
                )
            if site.energy_planner:
                raise ConflictError(
                    f"site {site.name!r} is the energy planner's site: make another site the "
                    "planner's first"
                )
            await uow.sites.delete(site_id)
            await uow.commit()

    async def assign_station(self, charge_point_id: str, site_id: int | None) -> ChargePointView:
        """Put a station at a site (None: at no site)."""
        async with self._uow_factory() as uow:
            if await uow.charge_points.get(charge_point_id, with_connectors=False) is None:
                raise NotFoundError("charge point", charge_point_id)
            if site_id is not None:
                await _require(uow, site_id)
            await uow.sites.assign_station(charge_point_id, site_id)
            await uow.commit()
        return await self._devices.get_charge_point(charge_point_id)

    # --- the energy planner's site -------------------------------------------------------

    async def energy_site(self) -> Site:
        """The site the energy planner plans for; "Home" is created on first use when the
        migration found nothing to make it for (a new installation)."""
        async with self._uow_factory() as uow:
            site = await uow.sites.energy_site()
        if site is not None:
            return site
        try:
            async with self._uow_factory() as uow:
                named = await uow.sites.by_name(DEFAULT_ENERGY_SITE_NAME)
                if named is None:
                    await uow.sites.add(
                        SiteDetails(DEFAULT_ENERGY_SITE_NAME), self._clock(), energy_planner=True
                    )
                else:  # an operator's own "Home": it becomes the planner's
                    await uow.sites.mark_energy_site(named.id)
                await uow.commit()
        except DuplicateNameError:
            pass  # a concurrent first use made it: read theirs
        async with self._uow_factory() as uow:
            site = await uow.sites.energy_site()
        if site is None:
            raise ConflictError("the energy planner's site could not be created; retry")
        return site

    async def set_energy_site(self, site_id: int) -> Site:
        async with self._uow_factory() as uow:
            await _require(uow, site_id)
            try:
                await uow.sites.mark_energy_site(site_id)
            except DuplicateNameError:
                raise ConflictError("another change of the planner's site won; retry") from None
            site = await _require(uow, site_id)
            await uow.commit()
        await self._planner_limit_changed()
        return site

    async def _planner_limit_changed(self) -> None:
        # After the commit: the planner reads the limit as stored, so of two changes made
        # at once the one stored last is the one it plans with.
        if self._planner is not None:
            await self._planner.refresh_grid_limit()

    # --- what the overview and the charts read --------------------------------------------

    async def counts(self) -> list[SiteCounts]:
        """Stations per site by state, counted by the database; stations without a site
        come last (site_id None) when there are any."""
        async with self._uow_factory() as uow:
            return await uow.sites.counts(self._devices.online_ids())

    async def power(self, site_id: int, hours: int) -> tuple[Site, list[PowerPoint]]:
        """The site's stations' power added up, per 15 minutes over the last `hours`."""
        async with self._uow_factory() as uow:
            site = await _require(uow, site_id)
            stations = await uow.sites.station_ids(site_id)
        return site, await self._meter_history.total_power(stations, hours)


async def _require(uow: UnitOfWork, site_id: int) -> Site:
    site = await uow.sites.get(site_id)
    if site is None:
        raise NotFoundError("site", site_id)
    return site


async def _name_free(uow: UnitOfWork, name: str, site_id: int | None) -> None:
    other = await uow.sites.by_name(name)
    if other is not None and other.id != site_id:
        raise _name_taken(name)


def _name_taken(name: str) -> ConflictError:
    return ConflictError(f"a site named {name!r} already exists")
