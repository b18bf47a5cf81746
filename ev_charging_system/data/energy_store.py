"""Storage of the energy coordinator's settings and plans (JSON documents)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ev_charging_system.data.orm import EnergyHistoryRow, EnergyPlanRow, SiteSettingsRow
from ev_charging_system.energy.history import MeasuredSlot
from ev_charging_system.energy.models import DeferrableLoadState, Plan, SiteConfig, Tariff
from ev_charging_system.energy.site_settings import StoredSite

SITE_KEY = "site"
# The deferrable jobs' progress: a row of its own (written after plans, while the site's
# row is written on configuration changes), in the same key/document table.
PROGRESS_KEY = "deferrable_progress"
# The forecast error scores shown on the dashboard (`ForecastTracker.document()`).
FORECAST_ERRORS_KEY = "forecast_errors"
# A plan's schedule is kept for its first hours: enough to explain a decision, while a
# tick a minute does not grow the database by a full day-long schedule each time.
STORED_PLAN_STEPS = 16

_config = TypeAdapter(SiteConfig)
_tariff: TypeAdapter[Tariff] = TypeAdapter(Tariff)
_plan = TypeAdapter(Plan)
_progress = TypeAdapter(tuple[DeferrableLoadState, ...])


def tariff_document(tariff: Tariff) -> dict[str, Any]:
    return {"kind": type(tariff).__name__, **_tariff.dump_python(tariff, mode="json")}


def tariff_from_document(document: dict[str, Any]) -> Tariff:
    kind = document.get("kind")
    fields = {k: v for k, v in document.items() if k != "kind"}
    for candidate in Tariff.__args__:
        if candidate.__name__ == kind:
            tariff: Tariff = TypeAdapter(candidate).validate_python(fields)
            return tariff
    raise ValueError(f"unknown tariff kind {kind!r}")


def plan_document(plan: Plan) -> dict[str, Any]:
    document: dict[str, Any] = _plan.dump_python(plan, mode="json")
    document["steps"] = document["steps"][:STORED_PLAN_STEPS]
    return document


async def put_settings_document(
    session_factory: async_sessionmaker[AsyncSession], key: str, document: dict[str, Any]
) -> None:
    """Store `document` under `key` in the site settings table, replacing what was there."""
    async with session_factory() as session, session.begin():
        row = await session.get(SiteSettingsRow, key)
        if row is None:
            session.add(SiteSettingsRow(key=key, document=document))
        else:
            row.document = document


class SqlSiteSettingsStore:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def load(self) -> StoredSite | None:
        async with self._session_factory() as session:
            row = await session.get(SiteSettingsRow, SITE_KEY)
            progress = await session.get(SiteSettingsRow, PROGRESS_KEY)
        if row is None:
            return None
        document = row.document
        return StoredSite(
            config=_config.validate_python(document["config"]),
            tariff=tariff_from_document(document["tariff"]),
            policy=str(document["policy"]),
            progress=_progress.validate_python(progress.document["jobs"]) if progress else (),
        )

    async def save(self, site: StoredSite) -> None:
        document = {
            "config": _config.dump_python(site.config, mode="json"),
            "tariff": tariff_document(site.tariff),
            "policy": site.policy,
        }
        await put_settings_document(self._session_factory, SITE_KEY, document)


class SqlHistoryStore:
    """Implements the energy package's HistoryStore port."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def save(self, slots: list[MeasuredSlot]) -> None:
        async with self._session_factory() as session, session.begin():
            for slot, pv, critical, flexible in slots:
                row = await session.get(EnergyHistoryRow, slot)
                if row is None:
                    session.add(
                        EnergyHistoryRow(
                            slot=slot, pv_kw=pv, critical_kw=critical, flexible_kw=flexible
                        )
                    )
                else:  # a slot stored before a restart and completed again after it
                    row.pv_kw, row.critical_kw, row.flexible_kw = pv, critical, flexible

    async def save_progress(self, jobs: tuple[DeferrableLoadState, ...]) -> None:
        document = {"jobs": _progress.dump_python(jobs, mode="json")}
        await put_settings_document(self._session_factory, PROGRESS_KEY, document)

    async def save_forecast_errors(self, document: dict[str, Any]) -> None:
        await put_settings_document(self._session_factory, FORECAST_ERRORS_KEY, document)

    async def load_forecast_errors(self) -> dict[str, Any] | None:
        async with self._session_factory() as session:
            row = await session.get(SiteSettingsRow, FORECAST_ERRORS_KEY)
            return dict(row.document) if row is not None else None

    async def load(self, since_slot: int) -> list[MeasuredSlot]:
        async with self._session_factory() as session:
            rows = await session.scalars(
                select(EnergyHistoryRow)
                .where(EnergyHistoryRow.slot >= since_slot)
                .order_by(EnergyHistoryRow.slot)
            )
            return [(r.slot, r.pv_kw, r.critical_kw, r.flexible_kw) for r in rows]


class SqlPlanLog:
    """Implements the energy package's PlanRecorder and PlanLog ports.

    A plan a minute adds up: plans older than the retention period are pruned now and then.
    """

    PRUNE_EVERY = 500  # plans

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], retention: timedelta
    ) -> None:
        self._session_factory = session_factory
        self._retention = retention

    async def record(self, plan: Plan) -> None:
        async with self._session_factory() as session, session.begin():
            row = EnergyPlanRow(
                created_at=plan.created_at,
                policy=plan.policy,
                requested_policy=plan.requested_policy,
                fell_back=plan.fell_back,
                document=plan_document(plan),
            )
            session.add(row)
            await session.flush()
            if row.id % self.PRUNE_EVERY == 0:
                cutoff = plan.created_at - self._retention
                await session.execute(
                    delete(EnergyPlanRow).where(EnergyPlanRow.created_at < cutoff)
                )

    async def in_force_at(self, moment: datetime) -> dict[str, Any] | None:
        async with self._session_factory() as session:
            row = await session.scalar(
                select(EnergyPlanRow)
                .where(EnergyPlanRow.created_at <= moment)
                .order_by(EnergyPlanRow.created_at.desc(), EnergyPlanRow.id.desc())
                .limit(1)
            )
            return {"id": row.id, **row.document} if row else None

    async def recent(self, limit: int) -> list[dict[str, Any]]:
        async with self._session_factory() as session:
            rows = await session.scalars(
                select(EnergyPlanRow).order_by(EnergyPlanRow.id.desc()).limit(limit)
            )
            return [{"id": row.id, **row.document} for row in rows]
