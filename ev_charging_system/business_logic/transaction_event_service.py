"""OCPP 2.0.1 TransactionEvent onto the same transaction model as 1.6.

Events can arrive twice (replays after a reconnect) and out of order (queued offline):
each (station, transactionId, seqNo) is applied once, and a transaction's times, token
and energy are refined by whichever events have arrived, so an Ended without its Started
still gives a complete record.

Most events of a session are `Updated` with meter values, and change nothing of the
transaction itself: those of a transaction running on this node (known from its earlier
events) are only recorded with their samples, group-committed with other stations' (one
statement per batch), as MeterValues are. Anything else is a unit of work of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ev_charging_system.business_logic.auth_service import AuthService
from ev_charging_system.business_logic.events import (
    EventPublisher,
    NoEvents,
    TransactionStarted,
    TransactionUpdated,
)
from ev_charging_system.business_logic.group_commit import BatchStats, GroupCommit
from ev_charging_system.business_logic.metering import RegisterReadings, normalise_samples
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
from ev_charging_system.business_logic.transaction_service import (
    ended_event,
    samples_stored,
)
from ev_charging_system.models.id_token import AuthorizationStatus, IdTagInfo
from ev_charging_system.models.station_event import EventKind, StationEvent
from ev_charging_system.models.transaction import (
    MeterSample,
    NewTransaction,
    RecordedEvent,
    Transaction,
    TransactionEventInput,
)

ENDED = "Ended"
UPDATED = "Updated"
# Running sessions remembered per station (a station rarely has more than one per EVSE);
# beyond this many the least recent is read again when needed.
REGISTERS_PER_STATION = 8
# Tokens the station vouches for itself: no id tag to look up.
SELF_AUTHORIZED_TOKEN_TYPES = frozenset({"NoAuthorization"})


@dataclass(frozen=True, slots=True)
class Token:
    """Who a transaction belongs to: the id tag and its authorization status."""

    id_tag: str
    status: AuthorizationStatus


@dataclass(frozen=True, slots=True)
class TransactionEventResult:
    transaction: Transaction | None
    id_tag_info: IdTagInfo | None
    replayed: bool


@dataclass(frozen=True, slots=True)
class RunningTransaction:
    """A running transaction as committed, with its register readings so far."""

    transaction: Transaction
    readings: RegisterReadings


@dataclass(frozen=True, slots=True)
class SamplesOnlyWritten:
    new_event: bool  # False: a replay, nothing of it was stored again
    samples: list[MeterSample]  # those of its samples that were new


class TransactionEventService:
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
        # A batch of samples-only events is one statement on PostgreSQL (no BEGIN/COMMIT).
        self._single_statement_uow_factory = writes.single_statement or uow_factory
        self._clock = clock
        self._auth = auth
        self._observer = observer
        self._events: EventPublisher = events if events is not None else NoEvents()
        # station -> OCPP transactionId -> the running transaction. Valid while the
        # station stays connected here: only its own messages change its 2.0.1
        # transactions, and on a new connection (maybe after sending to another node)
        # they are read again.
        self._running: dict[str, dict[str, RunningTransaction]] = {}
        self._samples_only: GroupCommit[RecordedEvent, SamplesOnlyWritten] = GroupCommit(
            self._write_samples_only, writes.timeout_seconds, in_flight=writes.in_flight
        )

    def station_connected(self, charge_point_id: str) -> None:
        self._running.pop(charge_point_id, None)

    def event_batches(self) -> BatchStats:
        return self._samples_only.stats()

    async def authorize_token(self, id_token: str, token_type: str) -> IdTagInfo:
        if token_type in SELF_AUTHORIZED_TOKEN_TYPES:
            return IdTagInfo(AuthorizationStatus.ACCEPTED)
        return await self._auth.authorize(id_token)

    async def remote_start_requested(
        self, charge_point_id: str, remote_start_id: int, id_tag: str
    ) -> None:
        """Remember the token of a RequestStartTransaction before it is sent.

        The station may start the transaction with only the remoteStartId (2.0.1 allows
        omitting the idToken then); this is how the session still gets its token.
        """
        async with self._uow_factory() as uow:
            await uow.transactions.remember_remote_start(
                charge_point_id, remote_start_id, id_tag, self._clock()
            )
            await uow.commit()

    async def handle(self, event: TransactionEventInput) -> TransactionEventResult:
        samples_only = self._samples_only_event(event)
        if samples_only is not None:
            return await self._add_samples(*samples_only)
        try:
            return await self._apply(event)
        except DuplicateTransactionError:
            # A concurrent copy of this very event won the race: answer it as a replay.
            return await self._apply(event)

    async def _apply(self, event: TransactionEventInput) -> TransactionEventResult:
        async with self._uow_factory() as uow:
            is_new = await uow.transactions.record_event(event, self._clock())
            existing = await uow.transactions.find_by_ocpp_id(
                event.charge_point_id, event.ocpp_transaction_id
            )
            info = await self._token_info(uow, event, existing)
            if not is_new:
                return TransactionEventResult(existing, info, replayed=True)
            token = await self._token(uow, event, existing, info)
            transaction = existing or await self._create(uow, event, token)
            was_active = existing.active if existing is not None else None
            transaction = await self._refine(uow, transaction, event, token)
            superseded: list[Transaction] = []
            if existing is None or existing.connector_id == 0:  # its EVSE is known just now
                superseded = await close_superseded(
                    uow,
                    event.charge_point_id,
                    transaction.connector_id,
                    transaction.started_at,
                    exclude_id=transaction.id,
                )
                for old in superseded:
                    await record_closed_by_csms(uow, self._clock, old, transaction)
            samples = await uow.transactions.add_meter_samples(
                normalise_samples(
                    event.charge_point_id,
                    transaction.connector_id,
                    transaction.id,
                    event.meter_values,
                )
            )
            readings = await self._readings(uow, transaction, samples)
            transaction = _with_energy(transaction, readings)
            await uow.transactions.update(transaction)
            await uow.commit()
        self._keep(RunningTransaction(transaction, readings), superseded)
        if self._observer is not None:
            connector = transaction.connector_id
            if superseded:  # the forgotten session on this EVSE ended when this one started
                self._observer.session_changed(
                    event.charge_point_id, connector, False, transaction.started_at
                )
            self._observer.session_changed(
                event.charge_point_id, connector, transaction.active, event.timestamp
            )
            self._observer.meter_samples(event.charge_point_id, connector, samples)
        for old in superseded:
            self._events.publish(ended_event(self._clock(), old))
        self._publish(transaction, was_active, samples)
        return TransactionEventResult(transaction, info, replayed=False)

    def _publish(
        self, transaction: Transaction, was_active: bool | None, samples: list[MeterSample]
    ) -> None:
        """Events in the order they happened: started, samples, then updated or ended."""
        now = self._clock()
        cp, tx, connector = transaction.charge_point_id, transaction.id, transaction.connector_id
        if was_active is None:
            self._events.publish(
                TransactionStarted(
                    at=now,
                    charge_point_id=cp,
                    transaction_id=tx,
                    connector_id=connector,
                    started_at=transaction.started_at,
                    meter_start_wh=transaction.meter_start_wh,
                )
            )
        if samples:
            self._events.publish(samples_stored(now, connector, tx, samples))
        if not transaction.active and was_active is not False:
            self._events.publish(ended_event(now, transaction))
        elif was_active is not None:
            self._events.publish(
                TransactionUpdated(
                    at=now,
                    charge_point_id=cp,
                    transaction_id=tx,
                    connector_id=connector,
                    energy_wh=transaction.energy_wh,
                )
            )

    async def _token_info(
        self, uow: UnitOfWork, event: TransactionEventInput, existing: Transaction | None
    ) -> IdTagInfo | None:
        if event.id_tag is None:
            return None
        if event.id_tag_type in SELF_AUTHORIZED_TOKEN_TYPES:
            return IdTagInfo(AuthorizationStatus.ACCEPTED)
        # A token already bound to this transaction must not count it as "another" session.
        concurrency = existing is None or existing.id_tag != event.id_tag
        return await self._auth.authorize_in(uow, event.id_tag, check_concurrency=concurrency)

    async def _token(
        self,
        uow: UnitOfWork,
        event: TransactionEventInput,
        existing: Transaction | None,
        info: IdTagInfo | None,
    ) -> Token | None:
        """The token this event gives the transaction, if it has none yet."""
        if existing is not None and existing.id_tag:
            return None
        if event.id_tag is not None and info is not None:
            return Token(event.id_tag, info.status)
        if event.remote_start_id is None:
            return None
        id_tag = await uow.transactions.remote_start_tag(
            event.charge_point_id, event.remote_start_id
        )
        if id_tag is None:
            return None
        remote = await self._auth.authorize_in(uow, id_tag, check_concurrency=False)
        return Token(id_tag, remote.status)

    async def _create(
        self, uow: UnitOfWork, event: TransactionEventInput, token: Token | None
    ) -> Transaction:
        return await uow.transactions.add(
            NewTransaction(
                charge_point_id=event.charge_point_id,
                connector_id=event.connector_id or 0,
                id_tag=token.id_tag if token else "",
                meter_start_wh=0,
                started_at=event.timestamp,
                authorization_status=token.status if token else AuthorizationStatus.UNKNOWN,
                reservation_id=event.reservation_id,
                ocpp_transaction_id=event.ocpp_transaction_id,
                offline=event.offline,
                remote_start_id=event.remote_start_id,
            )
        )

    async def _refine(
        self,
        uow: UnitOfWork,
        transaction: Transaction,
        event: TransactionEventInput,
        token: Token | None,
    ) -> Transaction:
        updated = replace(
            transaction,
            started_at=min(transaction.started_at, event.timestamp),
            offline=transaction.offline or event.offline,
            connector_id=transaction.connector_id or event.connector_id or 0,
            remote_start_id=transaction.remote_start_id or event.remote_start_id,
            reservation_id=transaction.reservation_id or event.reservation_id,
        )
        if token is not None and not transaction.id_tag:
            updated = replace(updated, id_tag=token.id_tag, authorization_status=token.status)
        if event.event_type == ENDED and (
            transaction.stopped_at is None or transaction.closed_by_csms
        ):
            if transaction.closed_by_csms:
                # The station's own end of a transaction the CSMS closed: it is the truth.
                await uow.events.add(
                    StationEvent(
                        event.charge_point_id,
                        EventKind.LATE_STOP_OF_CLOSED_TRANSACTION,
                        self._clock(),
                        {
                            "transaction_id": transaction.id,
                            "ocpp_transaction_id": transaction.ocpp_transaction_id,
                        },
                    )
                )
            updated = replace(
                updated,
                stopped_at=event.timestamp,
                stop_reason=event.stopped_reason or "Local",
                stop_id_tag=event.id_tag,
                closed_by_csms=False,
            )
        return updated

    def _samples_only_event(
        self, event: TransactionEventInput
    ) -> tuple[RecordedEvent, RunningTransaction] | None:
        """The event and its running transaction if all it does is add samples to it;
        None if it may change the transaction (its start, end, token, EVSE or energy)."""
        if event.event_type != UPDATED or event.id_tag is not None:
            return None
        running = self._running.get(event.charge_point_id, {}).get(event.ocpp_transaction_id)
        if running is None:
            return None
        transaction = running.transaction
        if (
            transaction.connector_id == 0  # the event may name its EVSE only now
            or event.connector_id not in (None, transaction.connector_id)
            or event.timestamp < transaction.started_at
            or (event.offline and not transaction.offline)
            or event.remote_start_id not in (None, transaction.remote_start_id)
            or event.reservation_id not in (None, transaction.reservation_id)
        ):
            return None
        samples = normalise_samples(
            event.charge_point_id, transaction.connector_id, transaction.id, event.meter_values
        )
        # A register reading that moves the session's start (a Transaction.Begin one, or
        # one earlier than any so far) changes the transaction's energy.
        if _with_energy(transaction, running.readings.add(samples)) != transaction:
            return None
        return RecordedEvent(event, self._clock(), tuple(samples)), running

    async def _add_samples(
        self, write: RecordedEvent, running: RunningTransaction
    ) -> TransactionEventResult:
        written = await self._samples_only.submit(write)
        transaction = running.transaction
        if not written.new_event:
            return TransactionEventResult(transaction, None, replayed=True)
        # Only the new samples, in the order stored, as the unit-of-work path adds them.
        self._keep(replace(running, readings=running.readings.add(written.samples)), ())
        event = write.event
        if self._observer is not None:
            connector = transaction.connector_id
            self._observer.session_changed(event.charge_point_id, connector, True, event.timestamp)
            self._observer.meter_samples(event.charge_point_id, connector, written.samples)
        self._publish(transaction, True, written.samples)
        return TransactionEventResult(transaction, None, replayed=False)

    async def _write_samples_only(
        self, writes: Sequence[RecordedEvent]
    ) -> list[SamplesOnlyWritten]:
        async with self._single_statement_uow_factory() as uow:
            new_events, stored = await uow.transactions.add_events_and_samples(writes)
            await uow.commit()
        new_samples = {id(sample) for sample in stored}
        written = []
        for write in writes:
            key = write.event.key
            new_event = key in new_events
            new_events.discard(key)  # two copies of one event in a batch: the first is new
            samples = [sample for sample in write.samples if id(sample) in new_samples]
            written.append(SamplesOnlyWritten(new_event, samples))
        return written

    async def _readings(
        self, uow: UnitOfWork, transaction: Transaction, new_samples: list[MeterSample]
    ) -> RegisterReadings:
        running = self._running.get(transaction.charge_point_id, {}).get(
            transaction.ocpp_transaction_id or ""
        )
        if running is not None and running.transaction.id == transaction.id:
            return running.readings.add(new_samples)
        # Includes the samples just inserted: the same database transaction.
        return RegisterReadings().add(await uow.transactions.list_meter_samples(transaction.id))

    def _keep(self, running: RunningTransaction, superseded: Sequence[Transaction]) -> None:
        """Remember a transaction as committed while it runs; forget ended ones."""
        transaction = running.transaction
        station = self._running.setdefault(transaction.charge_point_id, {})
        for old in (*superseded, transaction):
            station.pop(old.ocpp_transaction_id or "", None)
        if transaction.active and transaction.ocpp_transaction_id is not None:
            station[transaction.ocpp_transaction_id] = running
            if len(station) > REGISTERS_PER_STATION:
                del station[next(iter(station))]
        elif not station:
            del self._running[transaction.charge_point_id]


def _with_energy(transaction: Transaction, readings: RegisterReadings) -> Transaction:
    begin, end = readings.registers()
    meter_start = round(begin) if begin is not None else transaction.meter_start_wh
    meter_stop = None
    if transaction.stopped_at is not None:
        meter_stop = round(end) if end is not None else meter_start
    return replace(transaction, meter_start_wh=meter_start, meter_stop_wh=meter_stop)
