"""SQL repository of sites, the stations assigned to them, and the overview's counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from ev_charging_system.business_logic.ports import DuplicateNameError
from ev_charging_system.data.orm import ChargePointRow, ConnectorRow, SiteRow
from ev_charging_system.models.charge_point import RegistrationStatus
from ev_charging_system.models.listing import like_pattern
from ev_charging_system.models.site import OFFLINE_CONNECTOR, Site, SiteCounts, SiteDetails

_ACCEPTED = RegistrationStatus.ACCEPTED.value
_PENDING = RegistrationStatus.PENDING.value
_REJECTED = RegistrationStatus.REJECTED.value


def _station_count() -> Any:
    return (
        select(func.count())
        .select_from(ChargePointRow)
        .where(ChargePointRow.site_id == SiteRow.id)
        .correlate(SiteRow)
        .scalar_subquery()
    )


def _site(row: SiteRow, station_count: int = 0) -> Site:
    return Site(
        id=row.id,
        details=SiteDetails(
            name=row.name,
            address=row.address,
            latitude=row.latitude,
            longitude=row.longitude,
            grid_limit_kw=row.grid_limit_kw,
        ),
        created_at=row.created_at,
        energy_planner=row.energy_planner,
        station_count=station_count,
    )


def _copy(details: SiteDetails, row: SiteRow) -> None:
    row.name = details.name
    row.address = details.address
    row.latitude = details.latitude
    row.longitude = details.longitude
    row.grid_limit_kw = details.grid_limit_kw


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class SqlSiteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _one(self, *conditions: ColumnElement[bool]) -> Site | None:
        found = (
            await self._session.execute(select(SiteRow, _station_count()).where(*conditions))
        ).first()
        return None if found is None else _site(found[0], int(found[1]))

    async def get(self, site_id: int) -> Site | None:
        return await self._one(SiteRow.id == site_id)

    async def by_name(self, name: str) -> Site | None:
        return await self._one(SiteRow.name == name)

    async def add(self, details: SiteDetails, created_at: datetime, energy_planner: bool) -> Site:
        row = SiteRow(created_at=created_at, energy_planner=energy_planner)
        _copy(details, row)
        await self._flush_unique(row)
        return _site(row)

    async def update(self, site_id: int, details: SiteDetails) -> None:
        row = await self._session.get(SiteRow, site_id)
        if row is None:
            raise LookupError(site_id)
        _copy(details, row)
        await self._flush_unique(row)

    async def _flush_unique(self, row: SiteRow) -> None:
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError as error:
            # The name is the only unique column a caller chooses (the planner's mark is
            # set by mark_energy_site alone): a concurrent create or rename won.
            raise DuplicateNameError(row.name) from error

    async def delete(self, site_id: int) -> None:
        row = await self._session.get(SiteRow, site_id)
        if row is not None:
            await self._session.delete(row)
            await self._session.flush()

    async def page(self, text: str | None, limit: int, offset: int) -> tuple[list[Site], int]:
        conditions = []
        if text:
            pattern = like_pattern(text)
            conditions.append(
                func.lower(SiteRow.name).like(pattern, escape="\\")
                | func.lower(SiteRow.address).like(pattern, escape="\\")
            )
        total = await self._session.scalar(
            select(func.count()).select_from(SiteRow).where(*conditions)
        )
        rows = await self._session.execute(
            select(SiteRow, _station_count())
            .where(*conditions)
            .order_by(func.lower(SiteRow.name), SiteRow.id)
            .limit(limit)
            .offset(offset)
        )
        return [_site(row, int(count)) for row, count in rows], total or 0

    async def energy_site(self) -> Site | None:
        return await self._one(SiteRow.energy_planner.is_(True))

    async def mark_energy_site(self, site_id: int) -> None:
        # Unmark first: the partial unique index allows one marked row at any moment.
        await self._session.execute(
            update(SiteRow)
            .where(SiteRow.energy_planner.is_(True), SiteRow.id != site_id)
            .values(energy_planner=False)
        )
        try:
            await self._session.execute(
                update(SiteRow).where(SiteRow.id == site_id).values(energy_planner=True)
            )
        except IntegrityError as error:  # a concurrent change marked another site
            raise DuplicateNameError("the energy planner's site") from error
        self._session.expire_all()

    async def assign_station(self, charge_point_id: str, site_id: int | None) -> None:
        await self._session.execute(
            update(ChargePointRow)
            .where(ChargePointRow.id == charge_point_id)
            .values(site_id=site_id)
        )
        self._session.expire_all()

    async def station_ids(self, site_id: int) -> list[str]:
        rows = await self._session.scalars(
            select(ChargePointRow.id)
            .where(ChargePointRow.site_id == site_id)
            .order_by(ChargePointRow.id)
        )
        return list(rows)

    async def counts(self, online_ids: frozenset[str]) -> list[SiteCounts]:
        # Presence lives in memory: the connected ids travel as one bound list, as in the
        # station list's filter (charge_points.py).
        online = ChargePointRow.id.in_(sorted(online_ids))
        registration = ChargePointRow.registration_status
        faulted = exists().where(
            ConnectorRow.charge_point_id == ChargePointRow.id, ConnectorRow.status == "Faulted"
        )
        stations = await self._session.execute(
            select(
                ChargePointRow.site_id,
                func.count(),
                _count_if(online),
                _count_if(registration == _ACCEPTED),
                _count_if(registration == _PENDING),
                _count_if(registration == _REJECTED),
                _count_if(and_(registration == _REJECTED, online)),
                _count_if(ChargePointRow.last_boot_at.is_not(None)),
                _count_if(and_(online, faulted)),
                _count_if(and_(registration == _ACCEPTED, ~online)),
            ).group_by(ChargePointRow.site_id)
        )
        found: dict[int | None, SiteCounts] = {}
        for site_id, total, *n in stations:
            found[site_id] = SiteCounts(
                site_id,
                None,
                stations=int(total),
                online=int(n[0]),
                accepted=int(n[1]),
                pending=int(n[2]),
                rejected=int(n[3]),
                rejected_online=int(n[4]),
                booted=int(n[5]),
                faulted=int(n[6]),
                offline_accepted=int(n[7]),
            )
        # Connectors (not the station itself, connector 0) by status; every connector of
        # an offline station counts as Offline: its last status is history.
        status = case((online, ConnectorRow.status), else_=OFFLINE_CONNECTOR)
        connectors = await self._session.execute(
            select(ChargePointRow.site_id, status, func.count())
            .select_from(ConnectorRow)
            .join(ChargePointRow, ChargePointRow.id == ConnectorRow.charge_point_id)
            .where(ConnectorRow.connector_id > 0)
            .group_by(ChargePointRow.site_id, status)
        )
        for site_id, state, count in connectors:
            # (a station added between the two queries gets its own entry)
            entry = found.setdefault(site_id, SiteCounts(site_id, None))
            entry.connectors[str(state)] = int(count)
        # Every site, those without stations too, by name; stations without a site last.
        sites = await self._session.execute(
            select(SiteRow.id, SiteRow.name).order_by(func.lower(SiteRow.name), SiteRow.id)
        )
        result = [
            replace(found[site_id], name=name) if site_id in found else SiteCounts(site_id, name)
            for site_id, name in sites
        ]
        if None in found:
            result.append(found[None])
        return result
