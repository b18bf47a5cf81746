"""In-memory fakes of the service ports: unit tests of services run without a database."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from ev_charging_system.business_logic.ports import DuplicateNameError, DuplicateTransactionError
from ev_charging_system.models.access import ApiToken
from ev_charging_system.models.audit import AuditEntry, ChatMessage, Conversation
from ev_charging_system.models.charge_point import ChargePoint, ConnectorStatus, StatusChange
from ev_charging_system.models.commands import CommandRecord
from ev_charging_system.models.device_model import DeviceModelEntry
from ev_charging_system.models.diagnostics import UsageGrouping, UsageRow
from ev_charging_system.models.id_token import IdTag
from ev_charging_system.models.station_event import StationEvent
from ev_charging_system.models.transaction import (
    MeterSample,
    NewTransaction,
    Transaction,
    TransactionEventInput,
    TransactionFilter,
    TransactionPage,
)


class FakeClock:
    def __init__(self, start: datetime = datetime(2026, 1, 1, 12, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class FakeStore:
    """The 'database': committed state shared by all units of work."""

    def __init__(self) -> None:
        self.charge_points: dict[str, ChargePoint] = {}
        self.status_changes: list[StatusChange] = []
        self.id_tags: dict[str, IdTag] = {}
        self.transactions: dict[int, Transaction] = {}
        self.samples: list[MeterSample] = []
        self.events: list[StationEvent] = []
        self.transaction_events: set[tuple[str, str, int]] = set()
        self.commands: list[CommandRecord] = []
        self.device_model: dict[str, list[DeviceModelEntry]] = {}
        self.audit: list[AuditEntry] = []
        self.conversations: dict[str, Conversation] = {}
        self.api_tokens: dict[str, ApiToken] = {}
        self.ids = itertools.count(1)
        self.commits = 0


class FakeChargePoints:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def get(
        self, charge_point_id: str, *, with_connectors: bool = True
    ) -> ChargePoint | None:
        station = self._store.charge_points.get(charge_point_id)
        return replace(station, connectors=list(station.connectors)) if station else None

    async def add(self, charge_point: ChargePoint) -> None:
        self._store.charge_points[charge_point.id] = replace(charge_point)

    async def update(self, charge_point: ChargePoint) -> None:
        stored = self._store.charge_points[charge_point.id]
        self._store.charge_points[charge_point.id] = replace(
            charge_point, connectors=stored.connectors
        )

    async def all(self) -> list[ChargePoint]:
        return [replace(s) for _, s in sorted(self._store.charge_points.items())]

    async def record_last_seen(self, last_seen: Mapping[str, datetime]) -> None:
        for station_id, seen in last_seen.items():
            station = self._store.charge_points.get(station_id)
            if station and (station.last_seen_at is None or station.last_seen_at < seen):
                station.last_seen_at = seen

    async def save_connector_status(self, charge_point_id: str, status: ConnectorStatus) -> None:
        station = self._store.charge_points[charge_point_id]
        others = [c for c in station.connectors if c.connector_id != status.connector_id]
        station.connectors = sorted([*others, status], key=lambda c: c.connector_id)

    async def add_status_change(self, change: StatusChange) -> None:
        self._store.status_changes.append(change)

    async def list_status_changes(
        self, charge_point_id: str, connector_id: int | None, limit: int
    ) -> list[StatusChange]:
        changes = [
            c
            for c in self._store.status_changes
            if c.charge_point_id == charge_point_id
            and (connector_id is None or c.connector_id == connector_id)
        ]
        return list(reversed(changes))[:limit]


class FakeIdTags:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def get(self, id_tag: str) -> IdTag | None:
        tag = self._store.id_tags.get(id_tag)
        return replace(tag) if tag else None

    async def add(self, tag: IdTag) -> None:
        self._store.id_tags[tag.id_tag] = replace(tag)

    async def update(self, tag: IdTag) -> None:
        self._store.id_tags[tag.id_tag] = replace(tag)

    async def delete(self, id_tag: str) -> None:
        self._store.id_tags.pop(id_tag, None)

    async def page(self, limit: int, offset: int) -> tuple[list[IdTag], int]:
        tags = [t for _, t in sorted(self._store.id_tags.items())]
        return tags[offset : offset + limit], len(tags)


class FakeTransactions:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def get(self, transaction_id: int) -> Transaction | None:
        transaction = self._store.transactions.get(transaction_id)
        return replace(transaction) if transaction else None

    async def find_by_start(self, new: NewTransaction) -> Transaction | None:
        for transaction in self._store.transactions.values():
            if (
                transaction.charge_point_id,
                transaction.connector_id,
                transaction.id_tag,
                transaction.meter_start_wh,
                transaction.started_at,
            ) == (
                new.charge_point_id,
                new.connector_id,
                new.id_tag,
                new.meter_start_wh,
                new.started_at,
            ):
                return replace(transaction)
        return None

    async def add(self, new: NewTransaction) -> Transaction:
        if await self.find_by_start(new) is not None:
            raise DuplicateTransactionError(str(new))
        transaction = Transaction(
            id=next(self._store.ids),
            charge_point_id=new.charge_point_id,
            connector_id=new.connector_id,
            id_tag=new.id_tag,
            meter_start_wh=new.meter_start_wh,
            started_at=new.started_at,
            authorization_status=new.authorization_status,
            reservation_id=new.reservation_id,
            ocpp_transaction_id=new.ocpp_transaction_id,
            offline=new.offline,
            remote_start_id=new.remote_start_id,
        )
        self._store.transactions[transaction.id] = transaction
        return replace(transaction)

    async def stop(self, transaction: Transaction) -> bool:
        stored = self._store.transactions[transaction.id]
        if stored.stopped_at is not None:
            return False
        self._store.transactions[transaction.id] = replace(transaction)
        return True

    async def find_by_ocpp_id(
        self, charge_point_id: str, ocpp_transaction_id: str
    ) -> Transaction | None:
        for transaction in self._store.transactions.values():
            if (transaction.charge_point_id, transaction.ocpp_transaction_id) == (
                charge_point_id,
                ocpp_transaction_id,
            ):
                return replace(transaction)
        return None

    async def update(self, transaction: Transaction) -> None:
        self._store.transactions[transaction.id] = replace(transaction)

    async def record_event(self, event: TransactionEventInput, received_at: datetime) -> bool:
        key = (event.charge_point_id, event.ocpp_transaction_id, event.seq_no)
        if key in self._store.transaction_events:
            return False
        self._store.transaction_events.add(key)
        return True

    async def count_active_for_tag(self, id_tag: str) -> int:
        return sum(1 for t in self._store.transactions.values() if t.id_tag == id_tag and t.active)

    async def search(self, criteria: TransactionFilter) -> TransactionPage:
        found = [
            t
            for t in self._store.transactions.values()
            if criteria.charge_point_id in (None, t.charge_point_id)
            and criteria.id_tag in (None, t.id_tag)
            and criteria.active in (None, t.active)
        ]
        found.sort(key=lambda t: (t.started_at, t.id), reverse=True)
        return TransactionPage(
            found[criteria.offset : criteria.offset + criteria.limit], len(found)
        )

    async def usage(self, criteria: TransactionFilter, group_by: UsageGrouping) -> list[UsageRow]:
        page = await self.search(replace(criteria, limit=10**9, offset=0))
        totals: dict[str, tuple[int, int]] = {}
        for t in page.items:
            key = {
                UsageGrouping.CHARGE_POINT: t.charge_point_id,
                UsageGrouping.ID_TAG: t.id_tag,
                UsageGrouping.DAY: t.started_at.date().isoformat(),
            }[group_by]
            sessions, energy = totals.get(key, (0, 0))
            totals[key] = (sessions + 1, energy + (t.energy_wh or 0))
        return [UsageRow(k, n, wh) for k, (n, wh) in sorted(totals.items())]

    async def add_meter_samples(self, samples: Sequence[MeterSample]) -> None:
        self._store.samples.extend(samples)

    async def list_meter_samples(self, transaction_id: int) -> list[MeterSample]:
        return [s for s in self._store.samples if s.transaction_id == transaction_id]


class FakeEvents:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def add(self, event: StationEvent) -> None:
        self._store.events.append(event)

    async def recent(self, charge_point_id: str | None, limit: int) -> list[StationEvent]:
        events = [e for e in self._store.events if charge_point_id in (None, e.charge_point_id)]
        return list(reversed(events))[:limit]


class FakeCommands:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def add(self, record: CommandRecord) -> CommandRecord:
        stored = replace(record, id=len(self._store.commands) + 1)
        self._store.commands.append(stored)
        return stored

    async def recent(self, charge_point_id: str | None, limit: int) -> list[CommandRecord]:
        found = [c for c in self._store.commands if charge_point_id in (None, c.charge_point_id)]
        return list(reversed(found))[:limit]


class FakeDeviceModel:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def upsert(self, charge_point_id: str, entries: Sequence[DeviceModelEntry]) -> None:
        def key(e: DeviceModelEntry) -> tuple[object, ...]:
            return (
                e.component_name,
                e.component_instance,
                e.evse_id,
                e.connector_id,
                e.variable_name,
                e.variable_instance,
                e.attribute_type,
            )

        current = {key(e): e for e in self._store.device_model.get(charge_point_id, [])}
        current.update({key(e): e for e in entries})
        self._store.device_model[charge_point_id] = list(current.values())

    async def all(self, charge_point_id: str) -> list[DeviceModelEntry]:
        return list(self._store.device_model.get(charge_point_id, []))


class FakeAudit:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def add(self, entry: AuditEntry) -> AuditEntry:
        stored = replace(entry, id=len(self._store.audit) + 1)
        self._store.audit.append(stored)
        return stored

    async def recent(
        self,
        limit: int,
        actor: str | None = None,
        tool: str | None = None,
        channel: str | None = None,
    ) -> list[AuditEntry]:
        found = [
            e
            for e in self._store.audit
            if actor in (None, e.actor) and tool in (None, e.tool) and channel in (None, e.channel)
        ]
        return list(reversed(found))[:limit]


class FakeConversations:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def add(self, conversation: Conversation) -> None:
        self._store.conversations[conversation.id] = replace(
            conversation, messages=list(conversation.messages)
        )

    async def get(self, conversation_id: str) -> Conversation | None:
        found = self._store.conversations.get(conversation_id)
        return replace(found, messages=list(found.messages)) if found else None

    async def append(self, conversation_id: str, messages: Sequence[ChatMessage]) -> None:
        self._store.conversations[conversation_id].messages.extend(messages)

    async def update(self, conversation: Conversation) -> None:
        stored = self._store.conversations[conversation.id]
        stored.title = conversation.title
        stored.updated_at = conversation.updated_at
        stored.pending_action = conversation.pending_action

    async def recent(self, limit: int) -> list[Conversation]:
        ordered = sorted(
            self._store.conversations.values(), key=lambda c: c.updated_at, reverse=True
        )
        return [replace(c, messages=[]) for c in ordered[:limit]]


class FakeUnitOfWork:
    """Writes go straight to the store; good enough where tests check committed outcomes."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.charge_points = FakeChargePoints(store)
        self.id_tags = FakeIdTags(store)
        self.transactions = FakeTransactions(store)
        self.events = FakeEvents(store)
        self.commands = FakeCommands(store)
        self.device_model = FakeDeviceModel(store)
        self.audit = FakeAudit(store)
        self.conversations = FakeConversations(store)
        self.api_tokens = FakeApiTokens(store)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def commit(self) -> None:
        self.store.commits += 1


class FakeApiTokens:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def add(self, token: ApiToken) -> None:
        if token.name in self._store.api_tokens:
            raise DuplicateNameError(token.name)
        self._store.api_tokens[token.name] = token

    async def get(self, name: str) -> ApiToken | None:
        return self._store.api_tokens.get(name)

    async def by_digest(self, digest: str) -> ApiToken | None:
        return next((t for t in self._store.api_tokens.values() if t.digest == digest), None)

    async def all(self) -> list[ApiToken]:
        return sorted(self._store.api_tokens.values(), key=lambda t: t.created_at)

    async def revoke(self, name: str, at: datetime) -> bool:
        token = self._store.api_tokens.get(name)
        if token is None or not token.active:
            return False
        self._store.api_tokens[name] = replace(token, revoked_at=at)
        return True
