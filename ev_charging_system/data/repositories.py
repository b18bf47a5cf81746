"""SQLAlchemy implementations of the repository ports, mapping rows <-> domain objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ev_charging_system.business_logic.ports import DuplicateTransactionError
from ev_charging_system.data.orm import (
    ChargePointRow,
    ConnectorRow,
    IdTagRow,
    MeterSampleRow,
    StationEventRow,
    StatusChangeRow,
    TransactionRow,
)
from ev_charging_system.models.charge_point import (
    BootInfo,
    ChargePoint,
    ConnectorStatus,
    RegistrationStatus,
    StatusChange,
)
from ev_charging_system.models.id_token import AuthorizationStatus, IdTag
from ev_charging_system.models.station_event import EventKind, StationEvent
from ev_charging_system.models.transaction import (
    MeterSample,
    NewTransaction,
    Transaction,
    TransactionFilter,
    TransactionPage,
)

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

    async def get(self, charge_point_id: str) -> ChargePoint | None:
        row = await self._session.get(ChargePointRow, charge_point_id)
        if row is None:
            return None
        connectors = await self._session.scalars(
            select(ConnectorRow)
            .where(ConnectorRow.charge_point_id == charge_point_id)
            .order_by(ConnectorRow.connector_id)
        )
        return _charge_point(row, list(connectors))

    async def add(self, charge_point: ChargePoint) -> None:
        row = ChargePointRow(id=charge_point.id)
        _copy_charge_point(charge_point, row)
        self._session.add(row)
        await self._session.flush()

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
            select(ConnectorRow).order_by(ConnectorRow.charge_point_id, ConnectorRow.connector_id)
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
        row = await self._session.get(ConnectorRow, (charge_point_id, status.connector_id))
        if row is None:
            row = ConnectorRow(charge_point_id=charge_point_id, connector_id=status.connector_id)
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
            )
            for row in await self._session.scalars(query)
        ]


def _copy_charge_point(charge_point: ChargePoint, row: ChargePointRow) -> None:
    row.registration_status = charge_point.registration_status.value
    row.created_at = charge_point.created_at
    row.ocpp_version = charge_point.ocpp_version
    row.password_hash = charge_point.password_hash
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
            )
            for c in connectors
        ],
    )


class SqlIdTagRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, id_tag: str) -> IdTag | None:
        row = await self._session.get(IdTagRow, id_tag)
        return _id_tag(row) if row else None

    async def add(self, tag: IdTag) -> None:
        row = IdTagRow(id_tag=tag.id_tag)
        _copy_id_tag(tag, row)
        self._session.add(row)
        await self._session.flush()

    async def update(self, tag: IdTag) -> None:
        row = await self._session.get(IdTagRow, tag.id_tag)
        if row is None:
            raise LookupError(tag.id_tag)
        _copy_id_tag(tag, row)
        await self._session.flush()

    async def delete(self, id_tag: str) -> None:
        await self._session.execute(delete(IdTagRow).where(IdTagRow.id_tag == id_tag))

    async def page(self, limit: int, offset: int) -> tuple[list[IdTag], int]:
        total = await self._session.scalar(select(func.count()).select_from(IdTagRow)) or 0
        rows = await self._session.scalars(
            select(IdTagRow).order_by(IdTagRow.id_tag).limit(limit).offset(offset)
        )
        return [_id_tag(row) for row in rows], total


def _copy_id_tag(tag: IdTag, row: IdTagRow) -> None:
    row.status = tag.status.value
    row.expiry_date = tag.expiry_date
    row.parent_id_tag = tag.parent_id_tag
    row.name = tag.name
    row.max_active_transactions = tag.max_active_transactions
    row.created_at = tag.created_at


def _id_tag(row: IdTagRow) -> IdTag:
    return IdTag(
        id_tag=row.id_tag,
        status=AuthorizationStatus(row.status),
        created_at=row.created_at,
        expiry_date=row.expiry_date,
        parent_id_tag=row.parent_id_tag,
        name=row.name,
        max_active_transactions=row.max_active_transactions,
    )


class SqlTransactionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, transaction_id: int) -> Transaction | None:
        row = await self._session.get(TransactionRow, transaction_id)
        return _transaction(row) if row else None

    async def find_by_start(self, new: NewTransaction) -> Transaction | None:
        row = await self._session.scalar(
            select(TransactionRow).where(
                TransactionRow.charge_point_id == new.charge_point_id,
                TransactionRow.connector_id == new.connector_id,
                TransactionRow.id_tag == new.id_tag,
                TransactionRow.meter_start_wh == new.meter_start_wh,
                TransactionRow.started_at == new.started_at,
            )
        )
        return _transaction(row) if row else None

    async def add(self, new: NewTransaction) -> Transaction:
        row = TransactionRow(
            charge_point_id=new.charge_point_id,
            connector_id=new.connector_id,
            id_tag=new.id_tag,
            authorization_status=new.authorization_status.value,
            reservation_id=new.reservation_id,
            meter_start_wh=new.meter_start_wh,
            started_at=new.started_at,
        )
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError as error:
            raise DuplicateTransactionError(str(error.orig)) from error
        return _transaction(row)

    async def stop(self, transaction: Transaction) -> bool:
        result = await self._session.execute(
            update(TransactionRow)
            .where(TransactionRow.id == transaction.id, TransactionRow.stopped_at.is_(None))
            .values(
                meter_stop_wh=transaction.meter_stop_wh,
                stopped_at=transaction.stopped_at,
                stop_reason=transaction.stop_reason,
                stop_id_tag=transaction.stop_id_tag,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def count_active_for_tag(self, id_tag: str) -> int:
        count = await self._session.scalar(
            select(func.count())
            .select_from(TransactionRow)
            .where(TransactionRow.id_tag == id_tag, TransactionRow.stopped_at.is_(None))
        )
        return count or 0

    async def search(self, criteria: TransactionFilter) -> TransactionPage:
        conditions: list[Any] = []
        if criteria.charge_point_id is not None:
            conditions.append(TransactionRow.charge_point_id == criteria.charge_point_id)
        if criteria.id_tag is not None:
            conditions.append(TransactionRow.id_tag == criteria.id_tag)
        if criteria.started_from is not None:
            conditions.append(TransactionRow.started_at >= criteria.started_from)
        if criteria.started_to is not None:
            conditions.append(TransactionRow.started_at < criteria.started_to)
        if criteria.active is True:
            conditions.append(TransactionRow.stopped_at.is_(None))
        elif criteria.active is False:
            conditions.append(TransactionRow.stopped_at.is_not(None))
        total = await self._session.scalar(
            select(func.count()).select_from(TransactionRow).where(*conditions)
        )
        rows = await self._session.scalars(
            select(TransactionRow)
            .where(*conditions)
            .order_by(TransactionRow.started_at.desc(), TransactionRow.id.desc())
            .limit(criteria.limit)
            .offset(criteria.offset)
        )
        return TransactionPage([_transaction(row) for row in rows], total or 0)

    async def add_meter_samples(self, samples: Sequence[MeterSample]) -> None:
        self._session.add_all(
            MeterSampleRow(
                charge_point_id=s.charge_point_id,
                connector_id=s.connector_id,
                transaction_id=s.transaction_id,
                timestamp=s.timestamp,
                measurand=s.measurand,
                raw_value=s.raw_value,
                value=s.value,
                unit=s.unit,
                phase=s.phase,
                context=s.context,
                location=s.location,
                format=s.format,
            )
            for s in samples
        )
        await self._session.flush()

    async def list_meter_samples(self, transaction_id: int) -> list[MeterSample]:
        rows = await self._session.scalars(
            select(MeterSampleRow)
            .where(MeterSampleRow.transaction_id == transaction_id)
            .order_by(MeterSampleRow.timestamp, MeterSampleRow.id)
        )
        return [
            MeterSample(
                charge_point_id=row.charge_point_id,
                connector_id=row.connector_id,
                transaction_id=row.transaction_id,
                timestamp=row.timestamp,
                measurand=row.measurand,
                raw_value=row.raw_value,
                value=row.value,
                unit=row.unit,
                phase=row.phase,
                context=row.context,
                location=row.location,
                format=row.format,
            )
            for row in rows
        ]


def _transaction(row: TransactionRow) -> Transaction:
    return Transaction(
        id=row.id,
        charge_point_id=row.charge_point_id,
        connector_id=row.connector_id,
        id_tag=row.id_tag,
        meter_start_wh=row.meter_start_wh,
        started_at=row.started_at,
        authorization_status=AuthorizationStatus(row.authorization_status),
        reservation_id=row.reservation_id,
        meter_stop_wh=row.meter_stop_wh,
        stopped_at=row.stopped_at,
        stop_reason=row.stop_reason,
        stop_id_tag=row.stop_id_tag,
    )


class SqlStationEventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, event: StationEvent) -> None:
        self._session.add(
            StationEventRow(
                charge_point_id=event.charge_point_id,
                kind=event.kind.value,
                occurred_at=event.occurred_at,
                detail=event.detail,
            )
        )
        await self._session.flush()

    async def recent(self, charge_point_id: str | None, limit: int) -> list[StationEvent]:
        query = select(StationEventRow)
        if charge_point_id is not None:
            query = query.where(StationEventRow.charge_point_id == charge_point_id)
        rows = await self._session.scalars(query.order_by(StationEventRow.id.desc()).limit(limit))
        return [
            StationEvent(
                charge_point_id=row.charge_point_id,
                kind=EventKind(row.kind),
                occurred_at=row.occurred_at,
                detail=row.detail,
                id=row.id,
            )
            for row in rows
        ]
