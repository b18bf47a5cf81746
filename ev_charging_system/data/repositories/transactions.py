"""SQL repository of charging sessions, their 2.0.1 events and meter samples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, case, func, select, update
from sqlalchemy import cast as sa_cast
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ev_charging_system.business_logic.ports import DuplicateTransactionError
from ev_charging_system.data.orm import (
    ChargePointRow,
    MeterSampleRow,
    RemoteStartRow,
    SiteRow,
    TransactionEventRow,
    TransactionRow,
)
from ev_charging_system.data.sample_keys import sample_key
from ev_charging_system.data.sql_dialects import (
    AFTER,
    NewRows,
    insert_ignoring_duplicates,
    insert_new_rows,
    insert_new_rows_together,
    is_unique_violation,
)
from ev_charging_system.models.diagnostics import UsageGrouping, UsageRow
from ev_charging_system.models.id_token import AuthorizationStatus
from ev_charging_system.models.listing import SortOrder, TransactionSort
from ev_charging_system.models.transaction import (
    EventKey,
    MeterSample,
    NewTransaction,
    RecordedEvent,
    SignedMeterValue,
    Transaction,
    TransactionEventInput,
    TransactionFilter,
    TransactionPage,
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
            # Only a taken start key is a replay; a missing station is a different error.
            if is_unique_violation(error):
                raise DuplicateTransactionError(str(error.orig)) from error
            raise
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
                closed_by_csms=transaction.closed_by_csms,
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
        row.closed_by_csms = transaction.closed_by_csms
        await self._session.flush()

    async def active_on_connector(
        self, charge_point_id: str, connector_id: int
    ) -> list[Transaction]:
        rows = await self._session.scalars(
            select(TransactionRow)
            .where(
                TransactionRow.charge_point_id == charge_point_id,
                TransactionRow.connector_id == connector_id,
                TransactionRow.stopped_at.is_(None),
            )
            .order_by(TransactionRow.started_at, TransactionRow.id)
        )
        return [_transaction(row) for row in rows]

    async def remember_remote_start(
        self, charge_point_id: str, remote_start_id: int, id_tag: str, requested_at: datetime
    ) -> None:
        row = await self._session.get(RemoteStartRow, (charge_point_id, remote_start_id))
        if row is None:
            row = RemoteStartRow(charge_point_id=charge_point_id, remote_start_id=remote_start_id)
            self._session.add(row)
        row.id_tag = id_tag
        row.requested_at = requested_at
        await self._session.flush()

    async def remote_start_tag(self, charge_point_id: str, remote_start_id: int) -> str | None:
        row = await self._session.get(RemoteStartRow, (charge_point_id, remote_start_id))
        return row.id_tag if row else None

    async def record_event(self, event: TransactionEventInput, received_at: datetime) -> bool:
        # One statement, no read first: a concurrent copy of the event cannot slip between.
        table = _table(TransactionEventRow)
        statement = insert_ignoring_duplicates(self._session, table, _EVENT_KEY)
        inserted = await self._session.execute(
            statement.returning(table.c.id), [_event_row(event, received_at)]
        )
        return inserted.first() is not None

    async def add_events_and_samples(
        self, events: Sequence[RecordedEvent]
    ) -> tuple[set[EventKey], list[MeterSample]]:
        """Record 2.0.1 events, each with its samples only if the event is new: the keys of
        the new events and the samples stored (one statement on PostgreSQL). As if one by
        one, in order: a second copy of an event in the call is a replay, and a sample
        sent twice is stored with the first new event that carries it."""
        event_rows: list[dict[str, Any]] = []
        sample_rows: list[dict[str, Any]] = []
        carried: list[tuple[EventKey, str, MeterSample]] = []
        given: set[EventKey] = set()
        for recorded in events:
            event = recorded.event
            if event.key in given:
                continue
            given.add(event.key)
            event_rows.append(_event_row(event, recorded.received_at))
            after = _EVENTS.key_of(event_rows[-1])
            for sample in recorded.samples:
                key = sample_key(sample.natural_key)
                carried.append((event.key, key, sample))
                sample_rows.append(_sample_row(key, sample) | {AFTER: after})
        new_events, new_samples = await insert_new_rows_together(
            self._session,
            [replace(_EVENTS, rows=event_rows), replace(_SAMPLES, rows=sample_rows)],
        )
        new_keys = {key for key in given if _EVENTS.key_of(_key_row(key)) in new_events}
        stored = []
        for event_key, key, sample in carried:
            if event_key in new_keys and key in new_samples:
                new_samples.discard(key)  # the first that carries it
                stored.append(sample)
        return new_keys, stored

    async def count_active_for_tag(self, id_tag: str) -> int:
        count = await self._session.scalar(
            select(func.count())
            .select_from(TransactionRow)
            .where(
                TransactionRow.id_tag == id_tag,
                TransactionRow.stopped_at.is_(None),
                # A start the CSMS refused (ConcurrentTx, Invalid ...) does not hold the tag.
                TransactionRow.authorization_status == AuthorizationStatus.ACCEPTED.value,
            )
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
            .order_by(*_transaction_order(criteria))
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
        elif group_by is UsageGrouping.SITE:
            key = func.coalesce(SiteRow.name, "")
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
        query = select(key.label("key"), func.count(), func.coalesce(func.sum(energy), 0))
        if group_by is UsageGrouping.SITE:
            # The station's site now (a moved station's history moves with it).
            query = query.outerjoin(
                ChargePointRow, ChargePointRow.id == TransactionRow.charge_point_id
            ).outerjoin(SiteRow, SiteRow.id == ChargePointRow.site_id)
        rows = await self._session.execute(
            query.where(*_conditions(criteria)).group_by(key).order_by(key)
        )
        return [UsageRow(str(k), int(n), int(wh)) for k, n, wh in rows]

    async def add_meter_samples(self, samples: Sequence[MeterSample]) -> list[MeterSample]:
        keyed = _keyed_samples(samples)
        if not keyed:
            return []
        rows = [_sample_row(key, sample) for key, sample in keyed.items()]
        stored = await insert_new_rows(self._session, _table(MeterSampleRow), rows, "sample_key")
        return [sample for key, sample in keyed.items() if key in stored]

    async def list_meter_samples(self, transaction_id: int) -> list[MeterSample]:
        rows = await self._session.scalars(
            select(MeterSampleRow)
            .where(MeterSampleRow.transaction_id == transaction_id)
            .order_by(MeterSampleRow.timestamp, MeterSampleRow.id)
        )
        return [meter_sample_of(row) for row in rows]


def meter_sample_of(row: MeterSampleRow) -> MeterSample:
    return MeterSample(
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
        signed=_signed(row),
    )


def _table(row_class: type[Any]) -> Table:
    return cast(Table, row_class.__table__)


_EVENT_KEY = ("charge_point_id", "ocpp_transaction_id", "seq_no")
_EVENTS = NewRows(_table(TransactionEventRow), (), _EVENT_KEY)
# A sample of an event is stored only if its event is new (the first part).
_SAMPLES = NewRows(_table(MeterSampleRow), (), ("sample_key",), after=0)


def _key_row(key: EventKey) -> dict[str, Any]:
    return dict(zip(_EVENT_KEY, key, strict=True))


def _keyed_samples(samples: Sequence[MeterSample]) -> dict[str, MeterSample]:
    keyed: dict[str, MeterSample] = {}
    for sample in samples:  # the first of two equal samples in one message counts
        keyed.setdefault(sample_key(sample.natural_key), sample)
    return keyed


def _event_row(event: TransactionEventInput, received_at: datetime) -> dict[str, Any]:
    return {
        "charge_point_id": event.charge_point_id,
        "ocpp_transaction_id": event.ocpp_transaction_id,
        "seq_no": event.seq_no,
        "event_type": event.event_type,
        "trigger_reason": event.trigger_reason,
        "timestamp": event.timestamp,
        "received_at": received_at,
        "offline": event.offline,
    }


def _sample_row(key: str, s: MeterSample) -> dict[str, Any]:
    return {
        "sample_key": key,
        "charge_point_id": s.charge_point_id,
        "connector_id": s.connector_id,
        "transaction_id": s.transaction_id,
        "timestamp": s.timestamp,
        "measurand": s.measurand,
        "raw_value": s.raw_value,
        "value": s.value,
        "unit": s.unit,
        "phase": s.phase,
        "context": s.context,
        "location": s.location,
        "format": s.format,
        "signed_meter_data": s.signed.signed_meter_data if s.signed else None,
        "signing_method": s.signed.signing_method if s.signed else None,
        "encoding_method": s.signed.encoding_method if s.signed else None,
        "public_key": s.signed.public_key if s.signed else None,
    }


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
        closed_by_csms=row.closed_by_csms,
    )


def _signed(row: MeterSampleRow) -> SignedMeterValue | None:
    if row.signed_meter_data is None:
        return None
    return SignedMeterValue(
        signed_meter_data=row.signed_meter_data,
        signing_method=row.signing_method,
        encoding_method=row.encoding_method,
        public_key=row.public_key,
    )


def _transaction_order(criteria: TransactionFilter) -> list[Any]:
    """ORDER BY for the list, ending in the id so pages neither skip nor repeat rows."""
    stopped = TransactionRow.stopped_at
    # as Transaction.energy_wh: a meter that went backwards delivered nothing
    start, stop = TransactionRow.meter_start_wh, TransactionRow.meter_stop_wh
    energy = case((stop >= start, stop - start), else_=0)
    orders: dict[TransactionSort, list[Any]] = {
        TransactionSort.STARTED: [TransactionRow.started_at],
        TransactionSort.STOPPED: [case((stopped.is_(None), 1), else_=0), stopped],
        TransactionSort.ENERGY: [
            case((TransactionRow.meter_stop_wh.is_(None), 1), else_=0),
            energy,
        ],
        TransactionSort.CHARGE_POINT: [TransactionRow.charge_point_id, TransactionRow.started_at],
    }
    keys = orders[criteria.sort]
    keys.append(TransactionRow.id)
    if criteria.order is SortOrder.DESC:
        return [key.desc() for key in keys]
    return keys
