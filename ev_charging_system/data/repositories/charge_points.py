"""SQL repository of stations, their connectors and status history."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Row,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from ev_charging_system.data.orm import (
    ChargePointRow,
    ConnectorRow,
    StatusChangeRow,
)
from ev_charging_system.data.sql_dialects import (
    dialect_name,
    insert_ignoring_duplicates,
    json_rows,
    upsert,
)
from ev_charging_system.models.charge_point import (
    BootInfo,
    BootRecord,
    ChargePoint,
    ConnectorStatus,
    RegistrationStatus,
    SecurityProfile,
    StatusChange,
)
from ev_charging_system.models.listing import (
    SortOrder,
    StationFilter,
    StationPage,
    StationQuery,
    StationSort,
    like_pattern,
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

    async def get_many(self, charge_point_ids: Collection[str]) -> list[ChargePoint]:
        if not charge_point_ids:
            return []
        rows = await self._session.scalars(
            select(ChargePointRow).where(ChargePointRow.id.in_(list(charge_point_ids)))
        )
        return [_charge_point(row, []) for row in rows]

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

    async def register_connections(
        self, stations: Sequence[ChargePoint]
    ) -> dict[str, RegistrationStatus]:
        """One multi-row upsert, RETURNING what each station's registration is."""
        latest = {station.id: station for station in stations}
        if not latest:
            return {}
        table = _table(ChargePointRow)
        # In id order: two batches committing at once then lock shared rows in one order.
        rows = [
            {
                "id": station.id,
                "registration_status": station.registration_status.value,
                "created_at": station.created_at,
                "ocpp_version": station.ocpp_version,
                "security_profile": int(SecurityProfile.BASIC_AUTH),
            }
            for _, station in sorted(latest.items())
        ]
        statement = upsert(
            self._session, table, ("id",), ("ocpp_version",), ("id", "registration_status")
        )
        result = await self._session.execute(statement, rows)
        return {row.id: RegistrationStatus(row.registration_status) for row in result}

    async def record_boots(self, boots: Sequence[BootRecord]) -> dict[str, RegistrationStatus]:
        """PostgreSQL: one UPDATE ... RETURNING over the boots as one JSON document.
        SQLite: one UPDATE run per boot, then one SELECT of the registrations."""
        latest = {boot.charge_point_id: boot for boot in boots}
        if not latest:
            return {}
        if dialect_name(self._session) == "postgresql":
            rows = [
                {
                    "id": station_id,
                    "last_boot_at": boot.at,
                    **{name: getattr(boot.boot, name) for name in _BOOT_FIELDS},
                }
                for station_id, boot in sorted(latest.items())
            ]
            updated = await self._session.execute(_BOOTS_UPDATE, {"rows": json_rows(rows)})
            return {row.id: RegistrationStatus(row.registration_status) for row in updated}
        table = _table(ChargePointRow)
        at = bindparam("b_at", type_=table.c.last_boot_at.type)
        fields = {name: bindparam(f"b_{name}", type_=table.c[name].type) for name in _BOOT_FIELDS}
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                **fields,
                last_boot_at=at,
                last_seen_at=case(
                    (or_(table.c.last_seen_at.is_(None), table.c.last_seen_at < at), at),
                    else_=table.c.last_seen_at,
                ),
            )
        )
        params = [
            {
                "b_id": station_id,
                "b_at": boot.at,
                **{f"b_{name}": getattr(boot.boot, name) for name in _BOOT_FIELDS},
            }
            for station_id, boot in sorted(latest.items())
        ]
        connection = await self._session.connection()
        await connection.execute(statement, params)
        stored = await connection.execute(
            select(table.c.id, table.c.registration_status).where(table.c.id.in_(list(latest)))
        )
        return {row.id: RegistrationStatus(row.registration_status) for row in stored}

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

    async def page_after(self, after_id: str | None, limit: int) -> list[ChargePoint]:
        # Plain rows, not ORM objects: a page costs the loop a few ms, not tens.
        stations = cast(Table, ChargePointRow.__table__)
        connectors_table = cast(Table, ConnectorRow.__table__)
        statement = select(stations).order_by(stations.c.id).limit(limit)
        if after_id is not None:
            statement = statement.where(stations.c.id > after_id)
        rows = list(await self._session.execute(statement))
        connectors: dict[str, list[Row[Any]]] = {}
        if rows:
            for connector in await self._session.execute(
                select(connectors_table)
                .where(connectors_table.c.charge_point_id.in_([row.id for row in rows]))
                .order_by(
                    connectors_table.c.charge_point_id,
                    connectors_table.c.connector_id,
                    connectors_table.c.evse_connector_id,
                )
            ):
                connectors.setdefault(connector.charge_point_id, []).append(connector)
        return [_charge_point(row, connectors.get(row.id, [])) for row in rows]

    async def search(self, query: StationQuery) -> StationPage:
        """One page, filtered and sorted in SQL; connectors are read for that page only."""
        conditions = _station_conditions(query)
        total = await self._session.scalar(
            select(func.count()).select_from(ChargePointRow).where(*conditions)
        )
        rows = list(
            await self._session.scalars(
                select(ChargePointRow)
                .where(*conditions)
                .order_by(*_station_order(query))
                .limit(query.limit)
                .offset(query.offset)
            )
        )
        connectors: dict[str, list[ConnectorRow]] = {}
        if rows:
            for connector in await self._session.scalars(
                select(ConnectorRow)
                .where(ConnectorRow.charge_point_id.in_([row.id for row in rows]))
                .order_by(
                    ConnectorRow.charge_point_id,
                    ConnectorRow.connector_id,
                    ConnectorRow.evse_connector_id,
                )
            ):
                connectors.setdefault(connector.charge_point_id, []).append(connector)
        vendors = await self._session.scalars(
            select(ChargePointRow.vendor)
            .where(ChargePointRow.vendor.is_not(None))
            .distinct()
            .order_by(ChargePointRow.vendor)
            .limit(MAX_VENDORS)
        )
        return StationPage(
            items=[_charge_point(row, connectors.get(row.id, [])) for row in rows],
            total=total or 0,
            vendors=[v for v in vendors if v],
        )

    async def record_last_seen(self, last_seen: Mapping[str, datetime]) -> None:
        """One UPDATE for every station seen (on PostgreSQL one statement over arrays:
        a flush for 10,000 stations is then one round trip, not 10,000 statements whose
        results the event loop would work through)."""
        if dialect_name(self._session) == "postgresql":
            await self._session.execute(
                text(
                    "UPDATE charge_points AS c SET last_seen_at = v.seen "
                    "FROM unnest(CAST(:stations AS VARCHAR[]), "
                    "CAST(:seen AS TIMESTAMP WITH TIME ZONE[])) AS v(id, seen) "
                    "WHERE c.id = v.id AND (c.last_seen_at IS NULL OR c.last_seen_at < v.seen)"
                ),
                {"stations": list(last_seen), "seen": list(last_seen.values())},
            )
            return
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
        await self.save_connector_statuses([(charge_point_id, status)])

    async def save_connector_statuses(
        self, statuses: Sequence[tuple[str, ConnectorStatus]]
    ) -> None:
        latest = {
            (station_id, s.connector_id, s.evse_connector_id or NO_EVSE_CONNECTOR): s
            for station_id, s in statuses
        }
        if not latest:
            return
        rows = [
            {
                "charge_point_id": station_id,
                "connector_id": connector_id,
                "evse_connector_id": evse_connector_id,
                "status": s.status,
                "error_code": s.error_code,
                "info": s.info,
                "vendor_id": s.vendor_id,
                "vendor_error_code": s.vendor_error_code,
                "reported_at": s.reported_at,
            }
            for (station_id, connector_id, evse_connector_id), s in sorted(latest.items())
        ]
        statement = upsert(
            self._session,
            _table(ConnectorRow),
            ("charge_point_id", "connector_id", "evse_connector_id"),
            _CONNECTOR_STATUS_FIELDS,
        )
        await self._session.execute(statement, rows)

    async def add_status_change(self, change: StatusChange) -> None:
        await self.add_status_changes([change])

    async def add_status_changes(self, changes: Sequence[StatusChange]) -> None:
        if not changes:
            return
        rows = [
            {
                "charge_point_id": change.charge_point_id,
                "connector_id": change.connector_id,
                "evse_connector_id": change.evse_connector_id,
                "status": change.status,
                "error_code": change.error_code,
                "info": change.info,
                "vendor_id": change.vendor_id,
                "vendor_error_code": change.vendor_error_code,
                "reported_at": change.reported_at,
                "received_at": change.received_at,
            }
            for change in changes
        ]
        await self._session.execute(_STATUS_CHANGES_INSERT, rows)

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


MAX_VENDORS = 500  # the filter menu's choices, not a page
# Boots on PostgreSQL: the rows travel as one JSON document (sql_dialects.json_rows);
# GREATEST ignores NULL, so last_seen_at only moves forward, and is set when it was none.
# Rows are in id order, so two batches at once lock shared stations in one order.
_BOOTS_UPDATE = text(
    "UPDATE charge_points AS c SET "
    + ", ".join(f"{name} = v.{name}" for name in _BOOT_FIELDS)
    + ", last_boot_at = v.last_boot_at, last_seen_at = GREATEST(c.last_seen_at, v.last_boot_at)"
    " FROM json_populate_recordset(NULL::charge_points, CAST(:rows AS json)) AS v"
    " WHERE c.id = v.id RETURNING c.id, c.registration_status"
)
_STATUS_CHANGES_INSERT = insert(cast(Table, StatusChangeRow.__table__))
_CONNECTOR_STATUS_FIELDS = (
    "status",
    "error_code",
    "info",
    "vendor_id",
    "vendor_error_code",
    "reported_at",
)


def _table(row: type[Any]) -> Table:
    return cast(Table, row.__table__)


def _online(query: StationQuery) -> ColumnElement[bool]:
    # Who is connected lives in memory (presence), not in the table: the ids travel as one
    # bound list (expanding IN), which both databases take for the 10,000 stations a
    # process holds.
    return ChargePointRow.id.in_(sorted(query.online_ids))


def _station_conditions(query: StationQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.text:
        pattern = like_pattern(query.text)
        conditions.append(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (
                        ChargePointRow.id,
                        ChargePointRow.vendor,
                        ChargePointRow.model,
                        ChargePointRow.serial_number,
                        ChargePointRow.charge_box_serial_number,
                        ChargePointRow.firmware_version,
                    )
                )
            )
        )
    if query.vendor is not None:
        conditions.append(ChargePointRow.vendor == query.vendor)
    if query.model is not None:
        conditions.append(ChargePointRow.model == query.model)
    if query.site_id is not None:
        conditions.append(ChargePointRow.site_id == query.site_id)
    elif query.without_site:
        conditions.append(ChargePointRow.site_id.is_(None))
    status = query.status
    if status is StationFilter.ONLINE:
        conditions.append(_online(query))
    elif status is StationFilter.OFFLINE:
        conditions.append(~_online(query))
    elif status is StationFilter.ACCEPTED:
        conditions.append(ChargePointRow.registration_status == RegistrationStatus.ACCEPTED.value)
    elif status is StationFilter.PENDING:
        conditions.append(ChargePointRow.registration_status == RegistrationStatus.PENDING.value)
    elif status is StationFilter.REJECTED:
        conditions.append(ChargePointRow.registration_status == RegistrationStatus.REJECTED.value)
    elif status is StationFilter.BOOTED:
        conditions.append(ChargePointRow.last_boot_at.is_not(None))
    elif status is StationFilter.NEVER_BOOTED:
        conditions.append(ChargePointRow.last_boot_at.is_(None))
    elif status is StationFilter.FAULTED:
        # As the dashboard counts it: an offline station's last status is history.
        conditions.append(_online(query))
        conditions.append(
            exists().where(
                ConnectorRow.charge_point_id == ChargePointRow.id,
                ConnectorRow.status == "Faulted",
            )
        )
    return conditions


SortKey = ColumnElement[Any] | InstrumentedAttribute[Any]


def _station_order(query: StationQuery) -> list[SortKey]:
    columns: list[SortKey]
    match query.sort:
        case StationSort.ID:
            columns = []
        case StationSort.ONLINE:
            # "online first" reads as the ascending order, as in the dashboard
            columns = [case((_online(query), 0), else_=1)]
        case StationSort.REGISTRATION:
            columns = [ChargePointRow.registration_status]
        case StationSort.VENDOR:
            columns = [*_nulls_last(ChargePointRow.vendor), ChargePointRow.model]
        case StationSort.FIRMWARE:
            columns = _nulls_last(ChargePointRow.firmware_version)
        case StationSort.LAST_SEEN:
            columns = _nulls_last(ChargePointRow.last_seen_at)
        case StationSort.LAST_BOOT:
            columns = _nulls_last(ChargePointRow.last_boot_at)
        case StationSort.CREATED:
            columns = [ChargePointRow.created_at]
    columns.append(ChargePointRow.id)  # a total order, so pages neither skip nor repeat
    if query.order is SortOrder.DESC:
        return [column.desc() for column in columns]
    return columns


def _nulls_last(column: InstrumentedAttribute[Any]) -> list[SortKey]:
    """Sort key putting NULL after every value (ascending), on SQLite and PostgreSQL."""
    return [case((column.is_(None), 1), else_=0), column]


def _copy_charge_point(charge_point: ChargePoint, row: ChargePointRow) -> None:
    row.registration_status = charge_point.registration_status.value
    row.created_at = charge_point.created_at
    row.ocpp_version = charge_point.ocpp_version
    row.password_hash = charge_point.password_hash
    row.security_profile = int(charge_point.security_profile)
    row.last_boot_at = charge_point.last_boot_at
    row.firmware_status = charge_point.firmware_status
    row.diagnostics_status = charge_point.diagnostics_status
    # site_id is written by the site repository only (assign_station): a station's own
    # updates (a boot, a status) carry the site they read and must not undo an assignment.
    if charge_point.last_seen_at is not None and (
        row.last_seen_at is None or charge_point.last_seen_at > row.last_seen_at
    ):
        row.last_seen_at = charge_point.last_seen_at
    if charge_point.boot is not None:
        for name in _BOOT_FIELDS:
            setattr(row, name, getattr(charge_point.boot, name))


def _charge_point(
    row: ChargePointRow | Row[Any], connectors: Sequence[ConnectorRow | Row[Any]]
) -> ChargePoint:
    """From ORM objects or plain rows of the same tables (same attribute names)."""
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
        site_id=row.site_id,
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
