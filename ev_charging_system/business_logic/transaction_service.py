"""The life of a charging session: start, meter values, stop; replay-safe."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from ev_charging_system.business_logic.auth_service import AuthService
from ev_charging_system.business_logic.events import (
    EventPublisher,
    MeterAnomalyDetected,
    MeterSamplesStored,
    NoEvents,
    TransactionEnded,
    TransactionStarted,
)
from ev_charging_system.business_logic.group_commit import BatchStats, GroupCommit
from ev_charging_system.business_logic.metering import normalise_samples
from ev_charging_system.business_logic.ports import (
    DEFAULT_BATCHED_WRITES,
    BatchedWrites,
    Clock,
    DuplicateTransactionError,
    SessionObserver,
    UnitOfWork,
    UnitOfWorkFactory,
)
from ev_charging_system.business_logic.superseded_transactions import (
    close_superseded,
    record_closed_by_csms,
)
from ev_charging_system.models.errors import NotFoundError
from ev_charging_system.models.id_token import AuthorizationStatus, IdTagInfo
from ev_charging_system.models.station_event import EventKind, StationEvent
from ev_charging_system.models.transaction import (
    CONNECTOR_AVAILABLE_REASON,
    MeterSample,
    NewTransaction,
    RawSampledValue,
    Transaction,
    TransactionFilter,
    TransactionPage,
)

MAX_PAGE_SIZE = 500
# Which station a transaction belongs to never changes: remembered for the meter values
# of running sessions, so that storing them needs no read. Bounded, least recent out.
OWNER_CACHE_SIZE = 100_000


@dataclass(frozen=True, slots=True)
class SampleWrite:
    """One MeterValues message's samples, waiting for a shared commit."""

    samples: list[MeterSample]


@dataclass(frozen=True, slots=True)
class StartResult:
    transaction: Transaction
    id_tag_info: IdTagInfo
    replayed: bool


@dataclass(frozen=True, slots=True)
class StopResult:
    transaction: Transaction | None
    id_tag_info: IdTagInfo | None
    replayed: bool


@dataclass(frozen=True, slots=True)
class TransactionDetail:
    transaction: Transaction
    meter_samples: list[MeterSample]


class TransactionService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        auth: AuthService,
        observer: SessionObserver | None = None,
        events: EventPublisher | None = None,
        writes: BatchedWrites = DEFAULT_BATCHED_WRITES,
    ) -> None:
        self._uow_factory = uow_factory
        # A batch of samples is one INSERT: a unit of work without BEGIN/COMMIT suffices.
        self._single_statement_uow_factory = writes.single_statement or uow_factory
        self._clock = clock
        self._auth = auth
        self._observer = observer
        self._events: EventPublisher = events if events is not None else NoEvents()
        self._owners: OrderedDict[int, str] = OrderedDict()
        self._sample_writes: GroupCommit[SampleWrite, list[MeterSample]] = GroupCommit(
            self._write_samples, writes.timeout_seconds, in_flight=writes.in_flight
        )

    def sample_batches(self) -> BatchStats:
        return self._sample_writes.stats()

    async def start(
        self,
        charge_point_id: str,
        connector_id: int,
        id_tag: str,
        meter_start_wh: int,
        started_at: datetime,
        reservation_id: int | None = None,
    ) -> StartResult:
        async with self._uow_factory() as uow:
            key = NewTransaction(
                charge_point_id=charge_point_id,
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start_wh=meter_start_wh,
                started_at=started_at,
                authorization_status=AuthorizationStatus.INVALID,
                reservation_id=reservation_id,
            )
            replay = await self._replayed_start(uow, key)
            if replay is not None:
                return replay
            # Before the tag's sessions are counted: a forgotten one must not hold it.
            superseded = await close_superseded(uow, charge_point_id, connector_id, started_at)
            info = await self._auth.authorize_in(uow, id_tag, check_concurrency=True)
            new = replace(key, authorization_status=info.status)
            try:
                transaction = await uow.transactions.add(new)
                await self._record_superseded(uow, superseded, transaction)
                await uow.commit()
            except DuplicateTransactionError:
                transaction = None
        if transaction is None:
            # A concurrent copy of the same start won the insert; answer as it was answered.
            async with self._uow_factory() as uow:
                replay = await self._replayed_start(uow, new)
            if replay is None:
                raise RuntimeError("duplicate start key reported but no transaction found")
            return replay
        self._remember_owner(transaction.id, charge_point_id)
        if self._observer is not None:
            for old in superseded:
                self._observer.session_changed(
                    charge_point_id, connector_id, False, started_at, float(old.meter_stop_wh or 0)
                )
            self._observer.session_changed(
                charge_point_id, connector_id, True, started_at, float(meter_start_wh)
            )
        for old in superseded:
            self._events.publish(ended_event(self._clock(), old))
        self._events.publish(
            TransactionStarted(
                at=self._clock(),
                charge_point_id=charge_point_id,
                transaction_id=transaction.id,
                connector_id=connector_id,
                started_at=started_at,
                meter_start_wh=meter_start_wh,
            )
        )
        return StartResult(transaction, info, replayed=False)

    async def _record_superseded(
        self, uow: UnitOfWork, superseded: Sequence[Transaction], new: Transaction
    ) -> None:
        for old in superseded:
            await record_closed_by_csms(uow, self._clock, old, new)

    async def _replayed_start(self, uow: UnitOfWork, new: NewTransaction) -> StartResult | None:
        existing = await uow.transactions.find_by_start(new)
        if existing is None:
            return None
        tag = await uow.id_tags.get(existing.id_tag)
        info = IdTagInfo(
            status=existing.authorization_status,
            expiry_date=tag.expiry_date if tag else None,
            parent_id_tag=tag.parent_id_tag if tag else None,
        )
        return StartResult(existing, info, replayed=True)

    async def meter_values(
        self,
        charge_point_id: str,
        connector_id: int,
        transaction_id: int | None,
        values: Sequence[RawSampledValue],
    ) -> None:
        known_id = None
        if transaction_id is not None:
            if await self._belongs_to(charge_point_id, transaction_id):
                known_id = transaction_id
            else:
                async with self._uow_factory() as uow:
                    await self._event(
                        uow,
                        charge_point_id,
                        EventKind.UNKNOWN_TRANSACTION_METER_VALUES,
                        {"transaction_id": transaction_id, "connector_id": connector_id},
                    )
                    await uow.commit()
        # Acknowledged only once durable; concurrent messages share one commit.
        samples = await self._sample_writes.submit(
            SampleWrite(normalise_samples(charge_point_id, connector_id, known_id, values))
        )
        # Only what is new: a replay (a station resending after a reconnect) changes nothing.
        if self._observer is not None and samples:
            self._observer.meter_samples(charge_point_id, connector_id, samples)
        if samples:
            self._events.publish(samples_stored(self._clock(), connector_id, known_id, samples))

    async def _belongs_to(self, charge_point_id: str, transaction_id: int) -> bool:
        owner = self._owners.get(transaction_id)
        if owner is None:
            async with self._uow_factory() as uow:
                transaction = await uow.transactions.get(transaction_id)
            if transaction is None:
                return False
            owner = transaction.charge_point_id
            self._remember_owner(transaction_id, owner)
        else:
            self._owners.move_to_end(transaction_id)
        return owner == charge_point_id

    def _remember_owner(self, transaction_id: int, charge_point_id: str) -> None:
        self._owners[transaction_id] = charge_point_id
        if len(self._owners) > OWNER_CACHE_SIZE:
            self._owners.popitem(last=False)

    async def _write_samples(self, writes: Sequence[SampleWrite]) -> list[list[MeterSample]]:
        """One transaction for every waiting message; each gets back what was new of its own
        samples (a sample sent twice, even by two messages of one batch, is stored once)."""
        async with self._single_statement_uow_factory() as uow:
            stored = await uow.transactions.add_meter_samples(
                [sample for write in writes for sample in write.samples]
            )
            await uow.commit()
        new = {id(sample) for sample in stored}
        return [[sample for sample in write.samples if id(sample) in new] for write in writes]

    async def stop(
        self,
        charge_point_id: str,
        transaction_id: int,
        meter_stop_wh: int,
        stopped_at: datetime,
        reason: str | None = None,
        id_tag: str | None = None,
        transaction_data: Sequence[RawSampledValue] = (),
    ) -> StopResult:
        async with self._uow_factory() as uow:
            info = None
            if id_tag is not None:
                info = await self._auth.authorize_in(uow, id_tag, check_concurrency=False)
            transaction = await self._transaction_of(uow, charge_point_id, transaction_id)
            if transaction is None:
                await self._event(
                    uow,
                    charge_point_id,
                    EventKind.UNKNOWN_TRANSACTION_STOP,
                    {
                        "transaction_id": transaction_id,
                        "meter_stop_wh": meter_stop_wh,
                        "stopped_at": stopped_at.isoformat(),
                        "reason": reason,
                        "id_tag": id_tag,
                    },
                )
                await self._store_samples(uow, charge_point_id, 0, None, transaction_data)
                await uow.commit()
                return StopResult(None, info, replayed=False)
            if not transaction.active and transaction.closed_by_csms:
                # The station's own (late) stop of a session the CSMS closed: its values
                # replace the CSMS's estimate.
                await self._event(
                    uow,
                    charge_point_id,
                    EventKind.LATE_STOP_OF_CLOSED_TRANSACTION,
                    {
                        "transaction_id": transaction_id,
                        "csms_meter_stop_wh": transaction.meter_stop_wh,
                        "meter_stop_wh": meter_stop_wh,
                    },
                )
                transaction = replace(
                    transaction,
                    meter_stop_wh=meter_stop_wh,
                    stopped_at=stopped_at,
                    stop_reason=reason or "Local",
                    stop_id_tag=id_tag,
                    closed_by_csms=False,
                )
                await uow.transactions.update(transaction)
                await self._store_samples(
                    uow, charge_point_id, transaction.connector_id, transaction.id, transaction_data
                )
                await uow.commit()
                self._events.publish(ended_event(self._clock(), transaction))
                return StopResult(transaction, info, replayed=False)
            if not transaction.active:
                await self._event(
                    uow,
                    charge_point_id,
                    EventKind.REPEATED_STOP,
                    {"transaction_id": transaction_id},
                )
                await uow.commit()
                return StopResult(transaction, info, replayed=True)
            transaction.meter_stop_wh = meter_stop_wh
            transaction.stopped_at = stopped_at
            transaction.stop_reason = reason or "Local"
            transaction.stop_id_tag = id_tag
            if not await uow.transactions.stop(transaction):
                return StopResult(transaction, info, replayed=True)
            anomaly = meter_stop_wh < transaction.meter_start_wh
            if anomaly:
                await self._event(
                    uow,
                    charge_point_id,
                    EventKind.METER_ANOMALY,
                    {
                        "transaction_id": transaction_id,
                        "meter_start_wh": transaction.meter_start_wh,
                        "meter_stop_wh": meter_stop_wh,
                    },
                )
            await self._store_samples(
                uow, charge_point_id, transaction.connector_id, transaction.id, transaction_data
            )
            await uow.commit()
        if self._observer is not None:
            self._observer.session_changed(
                charge_point_id, transaction.connector_id, False, stopped_at, float(meter_stop_wh)
            )
        self._events.publish(ended_event(self._clock(), transaction))
        if anomaly:
            self._events.publish(
                MeterAnomalyDetected(
                    at=self._clock(),
                    charge_point_id=charge_point_id,
                    connector_id=transaction.connector_id,
                    transaction_id=transaction.id,
                    detail=f"transaction {transaction.id} stopped at {meter_stop_wh} Wh, below "
                    f"its start of {transaction.meter_start_wh} Wh",
                )
            )
        return StopResult(transaction, info, replayed=False)

    async def connector_available(
        self, charge_point_id: str, connector_id: int, at: datetime | None = None
    ) -> list[Transaction]:
        """A 1.6 connector reported Available: no session can be running on it.

        Transactions still open there are ones the station never stopped (typically a
        start the CSMS refused and the station silently abandoned): they are closed
        like superseded ones. A late StopTransaction still replaces the estimate.
        """
        at = at or self._clock()
        async with self._uow_factory() as uow:
            closed = await close_superseded(
                uow, charge_point_id, connector_id, at, reason=CONNECTOR_AVAILABLE_REASON
            )
            if not closed:
                return []
            for old in closed:
                await record_closed_by_csms(uow, self._clock, old, None)
            await uow.commit()
        if self._observer is not None:
            for old in closed:
                self._observer.session_changed(
                    charge_point_id, connector_id, False, at, float(old.meter_stop_wh or 0)
                )
        for old in closed:
            self._events.publish(ended_event(self._clock(), old))
        return closed

    # --- operator --------------------------------------------------------------------

    async def list_transactions(self, criteria: TransactionFilter) -> TransactionPage:
        if not 1 <= criteria.limit <= MAX_PAGE_SIZE or criteria.offset < 0:
            raise ValueError(f"limit must be 1..{MAX_PAGE_SIZE} and offset >= 0")
        async with self._uow_factory() as uow:
            return await uow.transactions.search(criteria)

    async def get_transaction(self, transaction_id: int) -> TransactionDetail:
        async with self._uow_factory() as uow:
            transaction = await uow.transactions.get(transaction_id)
            if transaction is None:
                raise NotFoundError("transaction", transaction_id)
            samples = await uow.transactions.list_meter_samples(transaction_id)
        return TransactionDetail(transaction, samples)

    # --- internals -------------------------------------------------------------------

    async def _transaction_of(
        self, uow: UnitOfWork, charge_point_id: str, transaction_id: int
    ) -> Transaction | None:
        transaction = await uow.transactions.get(transaction_id)
        if transaction is None or transaction.charge_point_id != charge_point_id:
            return None
        return transaction

    async def _store_samples(
        self,
        uow: UnitOfWork,
        charge_point_id: str,
        connector_id: int,
        transaction_id: int | None,
        values: Sequence[RawSampledValue],
    ) -> None:
        if values:
            samples = normalise_samples(charge_point_id, connector_id, transaction_id, values)
            await uow.transactions.add_meter_samples(samples)

    async def _event(
        self, uow: UnitOfWork, charge_point_id: str, kind: EventKind, detail: dict[str, object]
    ) -> None:
        await uow.events.add(StationEvent(charge_point_id, kind, self._clock(), detail))


def ended_event(at: datetime, transaction: Transaction) -> TransactionEnded:
    return TransactionEnded(
        at=at,
        charge_point_id=transaction.charge_point_id,
        transaction_id=transaction.id,
        connector_id=transaction.connector_id,
        stopped_at=transaction.stopped_at,
        energy_wh=transaction.energy_wh,
        stop_reason=transaction.stop_reason,
    )


def samples_stored(
    at: datetime, connector_id: int, transaction_id: int | None, samples: Sequence[MeterSample]
) -> MeterSamplesStored:
    """The event for stored samples: per measurand (whole-connector values only), the latest."""
    latest: dict[str, tuple[datetime, float]] = {}
    for sample in samples:
        if sample.phase is not None or sample.value is None:
            continue
        seen = latest.get(sample.measurand)
        if seen is None or sample.timestamp >= seen[0]:
            latest[sample.measurand] = (sample.timestamp, float(sample.value))
    return MeterSamplesStored(
        at=at,
        charge_point_id=samples[0].charge_point_id,
        connector_id=connector_id,
        transaction_id=transaction_id,
        count=len(samples),
        latest={measurand: value for measurand, (_, value) in latest.items()},
    )
