"""SQLAlchemy implementations of the repository ports, mapping rows <-> domain objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import String, Table, and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy import cast as sa_cast
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ev_charging_system.business_logic.ports import DuplicateTransactionError
from ev_charging_system.data.orm import (
    AuditRow,
    ChargePointRow,
    ChatMessageRow,
    CommandRow,
    ConnectorRow,
    ConversationRow,
    DeviceModelVariableRow,
    IdTagRow,
    MeterSampleRow,
    StationEventRow,
    StatusChangeRow,
    TransactionEventRow,
    TransactionRow,
)
from ev_charging_system.models.audit import AuditEntry, AuditOutcome, ChatMessage, Conversation
from ev_charging_system.models.charge_point import (
    BootInfo,
    ChargePoint,
    ConnectorStatus,
    RegistrationStatus,
    StatusChange,
)
from ev_charging_system.models.commands import CommandOutcome, CommandRecord
from ev_charging_system.models.device_model import DeviceModelEntry
from ev_charging_system.models.diagnostics import UsageGrouping, UsageRow
from ev_charging_system.models.id_token import AuthorizationStatus, IdTag
from ev_charging_system.models.station_event import EventKind, StationEvent
from ev_charging_system.models.transaction import (
    MeterSample,
    NewTransaction,
    Transaction,
    TransactionEventInput,
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
            ocpp_transaction_id=new.ocpp_transaction_id,
            offline=new.offline,
            remote_start_id=new.remote_start_id,
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

    async def find_by_ocpp_id(
        self, charge_point_id: str, ocpp_transaction_id: str
    ) -> Transaction | None:
        row = await self._session.scalar(
            select(TransactionRow).where(
                TransactionRow.charge_point_id == charge_point_id,
                TransactionRow.ocpp_transaction_id == ocpp_transaction_id,
            )
        )
        return _transaction(row) if row else None

    async def update(self, transaction: Transaction) -> None:
        row = await self._session.get(TransactionRow, transaction.id)
        if row is None:
            raise LookupError(transaction.id)
        row.connector_id = transaction.connector_id
        row.id_tag = transaction.id_tag
        row.authorization_status = transaction.authorization_status.value
        row.reservation_id = transaction.reservation_id
        row.meter_start_wh = transaction.meter_start_wh
        row.started_at = transaction.started_at
        row.meter_stop_wh = transaction.meter_stop_wh
        row.stopped_at = transaction.stopped_at
        row.stop_reason = transaction.stop_reason
        row.stop_id_tag = transaction.stop_id_tag
        row.offline = transaction.offline
        row.remote_start_id = transaction.remote_start_id
        await self._session.flush()

    async def record_event(self, event: TransactionEventInput, received_at: datetime) -> bool:
        seen = await self._session.scalar(
            select(func.count())
            .select_from(TransactionEventRow)
            .where(
                TransactionEventRow.charge_point_id == event.charge_point_id,
                TransactionEventRow.ocpp_transaction_id == event.ocpp_transaction_id,
                TransactionEventRow.seq_no == event.seq_no,
            )
        )
        if seen:
            return False
        self._session.add(
            TransactionEventRow(
                charge_point_id=event.charge_point_id,
                ocpp_transaction_id=event.ocpp_transaction_id,
                seq_no=event.seq_no,
                event_type=event.event_type,
                trigger_reason=event.trigger_reason,
                timestamp=event.timestamp,
                received_at=received_at,
                offline=event.offline,
            )
        )
        try:
            await self._session.flush()
        except IntegrityError as error:
            raise DuplicateTransactionError(str(error.orig)) from error
        return True

    async def count_active_for_tag(self, id_tag: str) -> int:
        count = await self._session.scalar(
            select(func.count())
            .select_from(TransactionRow)
            .where(TransactionRow.id_tag == id_tag, TransactionRow.stopped_at.is_(None))
        )
        return count or 0

    async def search(self, criteria: TransactionFilter) -> TransactionPage:
        conditions = _conditions(criteria)
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

    async def usage(self, criteria: TransactionFilter, group_by: UsageGrouping) -> list[UsageRow]:
        key: Any
        if group_by is UsageGrouping.CHARGE_POINT:
            key = TransactionRow.charge_point_id
        elif group_by is UsageGrouping.ID_TAG:
            key = TransactionRow.id_tag
        else:
            # Day in UTC; both databases can cut an ISO timestamp's date off as text.
            key = func.substr(cast_text(TransactionRow.started_at), 1, 10)
        energy = case(
            (
                TransactionRow.meter_stop_wh >= TransactionRow.meter_start_wh,
                TransactionRow.meter_stop_wh - TransactionRow.meter_start_wh,
            ),
            else_=0,
        )
        rows = await self._session.execute(
            select(key.label("key"), func.count(), func.coalesce(func.sum(energy), 0))
            .where(*_conditions(criteria))
            .group_by(key)
            .order_by(key)
        )
        return [UsageRow(str(k), int(n), int(wh)) for k, n, wh in rows]

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


def _conditions(criteria: TransactionFilter) -> list[Any]:
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
    return conditions


def cast_text(column: Any) -> Any:
    return sa_cast(column, String)


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
        ocpp_transaction_id=row.ocpp_transaction_id,
        offline=row.offline,
        remote_start_id=row.remote_start_id,
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


class SqlCommandLogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, record: CommandRecord) -> CommandRecord:
        row = CommandRow(
            charge_point_id=record.charge_point_id,
            action=record.action,
            parameters=record.parameters,
            requested_by=record.requested_by,
            requested_at=record.requested_at,
            completed_at=record.completed_at,
            outcome=record.outcome.value,
            status=record.status,
            response=record.response,
            error_code=record.error_code,
            error_description=record.error_description,
        )
        self._session.add(row)
        await self._session.flush()
        return _command(row)

    async def recent(self, charge_point_id: str | None, limit: int) -> list[CommandRecord]:
        query = select(CommandRow)
        if charge_point_id is not None:
            query = query.where(CommandRow.charge_point_id == charge_point_id)
        rows = await self._session.scalars(query.order_by(CommandRow.id.desc()).limit(limit))
        return [_command(row) for row in rows]


def _command(row: CommandRow) -> CommandRecord:
    return CommandRecord(
        id=row.id,
        charge_point_id=row.charge_point_id,
        action=row.action,
        parameters=row.parameters,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        completed_at=row.completed_at,
        outcome=CommandOutcome(row.outcome),
        status=row.status,
        response=row.response,
        error_code=row.error_code,
        error_description=row.error_description,
    )


class SqlDeviceModelRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, charge_point_id: str, entries: Sequence[DeviceModelEntry]) -> None:
        for entry in entries:
            row = await self._session.scalar(
                select(DeviceModelVariableRow).where(
                    DeviceModelVariableRow.charge_point_id == charge_point_id,
                    DeviceModelVariableRow.component_name == entry.component_name,
                    DeviceModelVariableRow.component_instance == entry.component_instance,
                    DeviceModelVariableRow.evse_id == entry.evse_id,
                    DeviceModelVariableRow.connector_id == entry.connector_id,
                    DeviceModelVariableRow.variable_name == entry.variable_name,
                    DeviceModelVariableRow.variable_instance == entry.variable_instance,
                    DeviceModelVariableRow.attribute_type == entry.attribute_type,
                )
            )
            if row is None:
                row = DeviceModelVariableRow(
                    charge_point_id=charge_point_id,
                    component_name=entry.component_name,
                    component_instance=entry.component_instance,
                    evse_id=entry.evse_id,
                    connector_id=entry.connector_id,
                    variable_name=entry.variable_name,
                    variable_instance=entry.variable_instance,
                    attribute_type=entry.attribute_type,
                )
                self._session.add(row)
            row.value = entry.value
            row.mutability = entry.mutability
            row.persistent = entry.persistent
            row.constant = entry.constant
            row.characteristics = entry.characteristics
            row.updated_at = entry.updated_at or datetime.now(UTC)
        await self._session.flush()

    async def all(self, charge_point_id: str) -> list[DeviceModelEntry]:
        rows = await self._session.scalars(
            select(DeviceModelVariableRow)
            .where(DeviceModelVariableRow.charge_point_id == charge_point_id)
            .order_by(
                DeviceModelVariableRow.component_name,
                DeviceModelVariableRow.evse_id,
                DeviceModelVariableRow.connector_id,
                DeviceModelVariableRow.component_instance,
                DeviceModelVariableRow.variable_name,
                DeviceModelVariableRow.variable_instance,
                DeviceModelVariableRow.attribute_type,
            )
        )
        return [
            DeviceModelEntry(
                component_name=row.component_name,
                variable_name=row.variable_name,
                attribute_type=row.attribute_type,
                value=row.value,
                component_instance=row.component_instance,
                evse_id=row.evse_id,
                connector_id=row.connector_id,
                variable_instance=row.variable_instance,
                mutability=row.mutability,
                persistent=row.persistent,
                constant=row.constant,
                characteristics=row.characteristics,
                updated_at=row.updated_at,
            )
            for row in rows
        ]


class SqlAuditLogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, entry: AuditEntry) -> AuditEntry:
        row = AuditRow(
            at=entry.at,
            actor=entry.actor,
            channel=entry.channel,
            tool=entry.tool,
            arguments=entry.arguments,
            outcome=entry.outcome.value,
            result=entry.result,
            error=entry.error,
        )
        self._session.add(row)
        await self._session.flush()
        return _audit(row)

    async def recent(
        self, limit: int, actor: str | None = None, tool: str | None = None
    ) -> list[AuditEntry]:
        query = select(AuditRow)
        if actor is not None:
            query = query.where(AuditRow.actor == actor)
        if tool is not None:
            query = query.where(AuditRow.tool == tool)
        rows = await self._session.scalars(query.order_by(AuditRow.id.desc()).limit(limit))
        return [_audit(row) for row in rows]


def _audit(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        channel=row.channel,
        tool=row.tool,
        arguments=row.arguments,
        outcome=AuditOutcome(row.outcome),
        result=row.result,
        error=row.error,
    )


class SqlConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, conversation: Conversation) -> None:
        self._session.add(
            ConversationRow(
                id=conversation.id,
                created_at=conversation.created_at,
                updated_at=conversation.updated_at,
                title=conversation.title,
                pending_action=conversation.pending_action,
            )
        )
        await self._session.flush()
        await self.append(conversation.id, conversation.messages)

    async def get(self, conversation_id: str) -> Conversation | None:
        row = await self._session.get(ConversationRow, conversation_id)
        if row is None:
            return None
        messages = await self._session.scalars(
            select(ChatMessageRow)
            .where(ChatMessageRow.conversation_id == conversation_id)
            .order_by(ChatMessageRow.id)
        )
        conversation = _conversation(row)
        conversation.messages = [
            ChatMessage(role=m.role, content=m.content, created_at=m.created_at) for m in messages
        ]
        return conversation

    async def append(self, conversation_id: str, messages: Sequence[ChatMessage]) -> None:
        self._session.add_all(
            ChatMessageRow(
                conversation_id=conversation_id,
                role=m.role,
                content=m.content,
                created_at=m.created_at,
            )
            for m in messages
        )
        await self._session.flush()

    async def update(self, conversation: Conversation) -> None:
        row = await self._session.get(ConversationRow, conversation.id)
        if row is None:
            raise LookupError(conversation.id)
        row.title = conversation.title
        row.updated_at = conversation.updated_at
        row.pending_action = conversation.pending_action
        await self._session.flush()

    async def recent(self, limit: int) -> list[Conversation]:
        rows = await self._session.scalars(
            select(ConversationRow).order_by(ConversationRow.updated_at.desc()).limit(limit)
        )
        return [_conversation(row) for row in rows]


def _conversation(row: ConversationRow) -> Conversation:
    return Conversation(
        id=row.id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        title=row.title,
        pending_action=row.pending_action,
    )
