"""SQL repository of stations, their connectors and status history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ev_charging_system.data.orm import (
    ChargePointRow,
    ConnectorRow,
    StatusChangeRow,
)
from ev_charging_system.data.sql_dialects import insert_ignoring_duplicates
from ev_charging_system.models.charge_point import (
    BootInfo,
    ChargePoint,
    ConnectorStatus,
    RegistrationStatus,
    SecurityProfile,
    StatusChange,
)

NO_EVSE_CONNECTOR = 0  # the key value of a 1.6 connector, which has no EVSE connector

_BOOT_FIELDS = (
    "vendor",
    "model",
    "serial_number",
    "charge_box_serial_number",
    "firmware_version",
    "iccid",
    "imsi",
    "meter_type",
    "meter_serial_number",
)


class SqlChargePointRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(
        self, charge_point_id: str, *, with_connectors: bool = True
    ) -> ChargePoint | None:
        row = await self._session.get(ChargePointRow, charge_point_id)
        if row is None:
            return None
        if not with_connectors:
            return _charge_point(row, [])
        connectors = await self._session.scalars(
            select(ConnectorRow)
            .where(ConnectorRow.charge_point_id == charge_point_id)
            .order_by(ConnectorRow.connector_id, ConnectorRow.evse_connector_id)
        )
        return _charge_point(row, list(connectors))

    async def add(self, charge_point: ChargePoint) -> None:
        row = ChargePointRow(id=charge_point.id)
        _copy_charge_point(charge_point, row)
        self._session.add(row)
        await self._session.flush()

    async def add_if_missing(self, charge_point: ChargePoint) -> bool:
        row = ChargePointRow(id=charge_point.id)
        _copy_charge_point(charge_point, row)
        table = cast(Table, ChargePointRow.__table__)
        values = {column.key: getattr(row, column.key) for column in table.columns}
        statement = insert_ignoring_duplicates(self._session, table, ("id",))
        inserted = await self._session.execute(statement.returning(table.c.id), [values])
        return inserted.first() is not None

    async def update(self, charge_point: ChargePoint) -> None:
        row = await self._session.get(ChargePointRow, charge_point.id)
        if row is None:
            raise LookupError(charge_point.id)
        _copy_charge_point(charge_point, row)
        await self._session.flush()

    async def all(self) -> list[ChargePoint]:
        rows = await self._session.scalars(select(ChargePointRow).order_by(ChargePointRow.id))
        connectors: dict[str, list[ConnectorRow]] = {}
        for connector in await self._session.scalars(
            select(ConnectorRow).order_by(
                ConnectorRow.charge_point_id,
                ConnectorRow.connector_id,
                ConnectorRow.evse_connector_id,
            )
        ):
            connectors.setdefault(connector.charge_point_id, []).append(connector)
        return [_charge_point(row, connectors.get(row.id, [])) for row in rows]

    async def record_last_seen(self, last_seen: Mapping[str, datetime]) -> None:
        table = cast(Table, ChargePointRow.__table__)
        statement = (
            update(table)
            .where(
                and_(
                    table.c.id == bindparam("station"),
                    or_(table.c.last_seen_at.is_(None), table.c.last_seen_at < bindparam("seen")),
                )
            )
            .values(last_seen_at=bindparam("seen"))
        )
        params = [{"station": station, "seen": seen} for station, seen in last_seen.items()]
        connection = await self._session.connection()
        await connection.execute(statement, params)

    async def save_connector_status(self, charge_point_id: str, status: ConnectorStatus) -> None:
        key = (charge_point_id, status.connector_id, status.evse_connector_id or NO_EVSE_CONNECTOR)
        row = await self._session.get(ConnectorRow, key)
        if row is None:
            row = ConnectorRow(
                charge_point_id=charge_point_id,
                connector_id=status.connector_id,
                evse_connector_id=key[2],
            )
            self._session.add(row)
        row.status = status.status
        row.error_code = status.error_code
        row.info = status.info
        row.vendor_id = status.vendor_id
        row.vendor_error_code = status.vendor_error_code
        row.reported_at = status.reported_at
        await self._session.flush()

    async def add_status_change(self, change: StatusChange) -> None:
        self._session.add(
            StatusChangeRow(
                charge_point_id=change.charge_point_id,
                connector_id=change.connector_id,
                evse_connector_id=change.evse_connector_id,
                status=change.status,
                error_code=change.error_code,
                info=change.info,
                vendor_id=change.vendor_id,
                vendor_error_code=change.vendor_error_code,
                reported_at=change.reported_at,
                received_at=change.received_at,
            )
        )
        await self._session.flush()

    async def list_status_changes(
        self, charge_point_id: str, connector_id: int | None, limit: int
    ) -> list[StatusChange]:
        query = select(StatusChangeRow).where(StatusChangeRow.charge_point_id == charge_point_id)
        if connector_id is not None:
            query = query.where(StatusChangeRow.connector_id == connector_id)
        query = query.order_by(StatusChangeRow.id.desc()).limit(limit)
        return [
            StatusChange(
                charge_point_id=row.charge_point_id,
                connector_id=row.connector_id,
                status=row.status,
                error_code=row.error_code,
                reported_at=row.reported_at,
                received_at=row.received_at,
                info=row.info,
                vendor_id=row.vendor_id,
                vendor_error_code=row.vendor_error_code,
                evse_connector_id=row.evse_connector_id,
            )
            for row in await self._session.scalars(query)
        ]


def _copy_charge_point(charge_point: ChargePoint, row: ChargePointRow) -> None:
    row.registration_status = charge_point.registration_status.value
    row.created_at = charge_point.created_at
    row.ocpp_version = charge_point.ocpp_version
    row.password_hash = charge_point.password_hash
    row.security_profile = int(charge_point.security_profile)
    row.last_boot_at = charge_point.last_boot_at
    row.firmware_status = charge_point.firmware_status
    row.diagnostics_status = charge_point.diagnostics_status
    if charge_point.last_seen_at is not None and (
        row.last_seen_at is None or charge_point.last_seen_at > row.last_seen_at
    ):
        row.last_seen_at = charge_point.last_seen_at
    if charge_point.boot is not None:
        for name in _BOOT_FIELDS:
            setattr(row, name, getattr(charge_point.boot, name))


def _charge_point(row: ChargePointRow, connectors: Sequence[ConnectorRow]) -> ChargePoint:
    boot = None
    if row.vendor is not None and row.model is not None:
        boot = BootInfo(**{name: getattr(row, name) for name in _BOOT_FIELDS})
    return ChargePoint(
        id=row.id,
        registration_status=RegistrationStatus(row.registration_status),
        created_at=row.created_at,
        boot=boot,
        ocpp_version=row.ocpp_version,
        password_hash=row.password_hash,
        security_profile=SecurityProfile(row.security_profile),
        last_boot_at=row.last_boot_at,
        last_seen_at=row.last_seen_at,
        firmware_status=row.firmware_status,
        diagnostics_status=row.diagnostics_status,
        connectors=[
            ConnectorStatus(
                connector_id=c.connector_id,
                status=c.status,
                error_code=c.error_code,
                reported_at=c.reported_at,
                info=c.info,
                vendor_id=c.vendor_id,
                vendor_error_code=c.vendor_error_code,
                evse_connector_id=c.evse_connector_id or None,
            )
            for c in connectors
        ],
    )
