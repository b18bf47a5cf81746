"""In-memory fakes of the service ports: unit tests of services run without a database.

The fakes keep the contract of the SQL repositories (tests/contract/test_repositories.py runs
one suite against both):

- A unit of work reads the committed state as it was at its first read, plus its own writes.
  `commit()` publishes its writes atomically; leaving without commit (or with an exception)
  forgets them. Writes are kept as a journal of changes and replayed on the committed state at
  commit, so two units of work writing different rows both keep their writes, as in the
  database.
- What the database refuses, the fakes refuse: a duplicate key or a reference to a missing
  row raises ConstraintViolationError (DuplicateTransactionError where the SQL repository
  says so), and the unit of work is then spoiled like a session whose flush failed: every
  further use raises SpoiledUnitOfWorkError.
- What comes back is what the database would give back: a private copy, datetimes in UTC,
  JSON columns through a JSON round trip, lists in the order of the SQL queries.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeVar

from ev_charging_system.business_logic.ports import DuplicateNameError, DuplicateTransactionError
from ev_charging_system.models.access import ApiToken
from ev_charging_system.models.alarm import Alarm
from ev_charging_system.models.audit import AuditEntry, ChatMessage, Conversation
from ev_charging_system.models.charge_point import (
    BootRecord,
    ChargePoint,
    ConnectorStatus,
    RegistrationStatus,
    StatusChange,
)
from ev_charging_system.models.commands import CommandRecord
from ev_charging_system.models.device_model import DeviceModelEntry
from ev_charging_system.models.diagnostics import UsageGrouping, UsageRow
from ev_charging_system.models.id_token import AuthorizationStatus, IdTag
from ev_charging_system.models.listing import (
    AuditQuery,
    CommandQuery,
    IdTagQuery,
    IdTagSort,
    SortOrder,
    StationFilter,
    StationPage,
    StationQuery,
    StationSort,
    TransactionSort,
)
from ev_charging_system.models.meter_rollup import PowerPoint
from ev_charging_system.models.site import OFFLINE_CONNECTOR, Site, SiteCounts, SiteDetails
from ev_charging_system.models.station_event import StationEvent
from ev_charging_system.models.transaction import (
    EventKey,
    MeterSample,
    NewTransaction,
    RecordedEvent,
    Transaction,
    TransactionEventInput,
    TransactionFilter,
    TransactionPage,
)

T = TypeVar("T")
_Numbered = TypeVar("_Numbered", StationEvent, CommandRecord, AuditEntry)


class FakeClock:
    def __init__(self, start: datetime = datetime(2026, 1, 1, 12, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class ConstraintViolationError(Exception):
    """A write the database refuses: a duplicate key or a reference to a missing row.

    The SQL repositories raise sqlalchemy's IntegrityError in the same places.
    """


class SpoiledUnitOfWorkError(Exception):
    """A unit of work used after one of its writes was refused (SQL: PendingRollbackError)."""


# --- the tables --------------------------------------------------------------------------


@dataclass
class Tables:
    """Every stored row, by table. The values are private copies, never handed out."""

    charge_points: dict[str, ChargePoint] = field(default_factory=dict)
    status_changes: list[StatusChange] = field(default_factory=list)
    id_tags: dict[str, IdTag] = field(default_factory=dict)
    transactions: dict[int, Transaction] = field(default_factory=dict)
    samples: list[MeterSample] = field(default_factory=list)
    events: list[StationEvent] = field(default_factory=list)
    transaction_events: set[tuple[str, str, int]] = field(default_factory=set)
    commands: list[CommandRecord] = field(default_factory=list)
    device_model: dict[str, list[DeviceModelEntry]] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    conversations: dict[str, Conversation] = field(default_factory=dict)
    api_tokens: dict[str, ApiToken] = field(default_factory=dict)
    sites: dict[int, Site] = field(default_factory=dict)  # station_count is not stored
    # (station, remoteStartId) -> the id tag a RequestStartTransaction asked for
    remote_starts: dict[tuple[str, int], str] = field(default_factory=dict)

    def copy(self) -> Tables:
        return Tables(**{f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(Tables)})

    def require_station(self, charge_point_id: str) -> None:
        """The foreign key of every table that belongs to a station."""
        if charge_point_id not in self.charge_points:
            raise ConstraintViolationError(f"no charge point {charge_point_id!r}")


Change = Callable[[Tables], None]


class FakeStore(Tables):
    """The 'database': the committed tables shared by all units of work.

    Tests read the committed outcome from its attributes (`store.transactions`, `store.audit`
    ...). Ids come from sequences that a rollback does not give back, as in PostgreSQL.
    """

    def __init__(self) -> None:
        super().__init__()
        self.commits = 0
        self._sequences: defaultdict[str, Iterator[int]] = defaultdict(lambda: itertools.count(1))

    def next_id(self, table: str) -> int:
        return next(self._sequences[table])

    def publish(self, tables: Tables) -> None:
        """Replace the committed rows, in place: tests may hold on to `store.audit` & co."""
        for f in fields(Tables):
            target, source = getattr(self, f.name), getattr(tables, f.name)
            if isinstance(target, list):
                target[:] = source
            else:
                target.clear()
                target.update(source)

    def seed_station(self, charge_point_id: str, at: datetime | None = None) -> ChargePoint:
        """A committed, accepted station: what tests need before its sessions can be stored."""
        station = ChargePoint(
            id=charge_point_id,
            registration_status=RegistrationStatus.ACCEPTED,
            created_at=at or datetime(2026, 1, 1, tzinfo=UTC),
        )
        self.charge_points[charge_point_id] = _stored(station)
        return station


class _Session:
    """One unit of work's view of the store: a snapshot taken at its first read + a journal."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self._tables: Tables | None = None
        self._journal: list[Change] = []
        self._failure: Exception | None = None
        self._closed = False

    def close(self) -> None:
        self._closed = True
        self._tables = None
        self._journal.clear()

    def read(self) -> Tables:
        if self._closed:
            raise RuntimeError("this unit of work has ended; open another")
        if self._failure is not None:
            raise SpoiledUnitOfWorkError(
                "a write of this unit of work was refused; start another"
            ) from self._failure
        if self._tables is None:
            self._tables = self.store.copy()
        return self._tables

    def write(self, change: Change) -> None:
        """Apply the change to this unit of work's tables, and remember it for the commit.

        A change checks its constraints before it touches anything, so a refused one leaves
        the tables as they were.
        """
        tables = self.read()
        try:
            change(tables)
        except Exception as error:
            self._failure = error
            raise
        self._journal.append(change)

    def commit(self) -> None:
        self.read()
        if not self._journal:
            self.store.commits += 1
            self._tables = None
            return
        candidate = self.store.copy()
        try:
            for change in self._journal:
                change(candidate)
        except Exception as error:
            # Another unit of work committed a conflicting row in the meantime.
            self._failure = error
            raise
        self.store.publish(candidate)
        self.store.commits += 1
        self._journal.clear()
        self._tables = None  # the next read starts from the new committed state


# --- what the database gives back --------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    # The UTCDateTime column: naive means UTC, and everything comes back in UTC.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _json(document: Any) -> Any:
    # A JSON column: tuples come back as lists, keys as strings, anything else is refused.
    return json.loads(json.dumps(document))


def _stored_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc(value)
    if is_dataclass(value) and not isinstance(value, type):
        return _stored(value)
    if isinstance(value, list) and all(is_dataclass(item) for item in value):
        return [_stored(item) for item in value]  # child rows (connectors, chat messages)
    if isinstance(value, (dict, list, tuple)):
        return _json(value)
    return value


def _stored(row: T) -> T:
    """A private copy of a domain object as a database round trip would return it."""
    assert is_dataclass(row) and not isinstance(row, type)
    changes = {f.name: _stored_value(getattr(row, f.name)) for f in fields(row)}
    return replace(row, **changes)


def _later(stored: datetime | None, new: datetime | None) -> datetime | None:
    """`last_seen_at` only moves forward."""
    if new is None:
        return stored
    if stored is None or new > stored:
        return new
    return stored


# --- repositories ------------------------------------------------------------------------


def _connector_key(connector: ConnectorStatus) -> tuple[int, int]:
    return connector.connector_id, connector.evse_connector_id or 0


def _station_matches(station: ChargePoint, query: StationQuery) -> bool:
    boot = station.boot
    online = station.id in query.online_ids
    words = [station.id]
    if boot is not None:
        words += [boot.vendor, boot.model, boot.serial_number or "", boot.firmware_version or ""]
        words.append(boot.charge_box_serial_number or "")
    registration = station.registration_status.value.lower()
    checks = {
        StationFilter.ALL: True,
        StationFilter.ONLINE: online,
        StationFilter.OFFLINE: not online,
        StationFilter.ACCEPTED: registration == "accepted",
        StationFilter.PENDING: registration == "pending",
        StationFilter.REJECTED: registration == "rejected",
        StationFilter.FAULTED: online and any(c.status == "Faulted" for c in station.connectors),
        StationFilter.BOOTED: station.last_boot_at is not None,
        StationFilter.NEVER_BOOTED: station.last_boot_at is None,
    }
    return (
        checks[query.status]
        and (not query.text or any(query.text.lower() in w.lower() for w in words))
        and (query.vendor is None or (boot is not None and boot.vendor == query.vendor))
        and (query.model is None or (boot is not None and boot.model == query.model))
        and (query.site_id is None or station.site_id == query.site_id)
        and (not query.without_site or station.site_id is None)
    )


def _missing_last(value: Any) -> tuple[bool, Any]:
    return value is None, value if value is not None else ""


_STATION_SORT_KEYS: dict[StationSort, Callable[[ChargePoint, StationQuery], Any]] = {
    StationSort.ID: lambda s, q: 0,
    StationSort.ONLINE: lambda s, q: s.id not in q.online_ids,
    StationSort.REGISTRATION: lambda s, q: s.registration_status.value,
    StationSort.VENDOR: lambda s, q: _missing_last(s.boot and (s.boot.vendor, s.boot.model)),
    StationSort.FIRMWARE: lambda s, q: _missing_last(s.boot and s.boot.firmware_version),
    StationSort.LAST_SEEN: lambda s, q: _missing_last(s.last_seen_at),
    StationSort.LAST_BOOT: lambda s, q: _missing_last(s.last_boot_at),
    StationSort.CREATED: lambda s, q: s.created_at,
}


class FakeChargePoints:
    def __init__(self, session: _Session) -> None:
        self._session = session

    async def get(
        self, charge_point_id: str, *, with_connectors: bool = True
    ) -> ChargePoint | None:
        station = self._session.read().charge_points.get(charge_point_id)
        if station is None:
            return None
        found = copy.deepcopy(station)
        if not with_connectors:
            found.connectors = []
        return found

    async def get_many(self, charge_point_ids: Collection[str]) -> list[ChargePoint]:
        stations = self._session.read().charge_points
        return [
            replace(copy.deepcopy(stations[i]), connectors=[])
            for i in set(charge_point_ids)
            if i in stations
        ]

    async def add(self, charge_point: ChargePoint) -> None:
        # Connectors are stored by save_connector_status only, as in SQL.
        new = replace(_stored(charge_point), connectors=[])

        def insert(tables: Tables) -> None:
            if new.id in tables.charge_points:
                raise ConstraintViolationError(f"charge point {new.id!r} exists")
            tables.charge_points[new.id] = copy.deepcopy(new)

        self._session.write(insert)

    async def add_if_missing(self, charge_point: ChargePoint) -> bool:
        if charge_point.id in self._session.read().charge_points:
            return False
        new = replace(_stored(charge_point), connectors=[])

        def insert(tables: Tables) -> None:  # at commit, a concurrent insert may have won
            tables.charge_points.setdefault(new.id, copy.deepcopy(new))

        self._session.write(insert)
        return True

    async def update(self, charge_point: ChargePoint) -> None:
        if charge_point.id not in self._session.read().charge_points:
            raise LookupError(charge_point.id)
        new = _stored(charge_point)

        def apply(tables: Tables) -> None:
            stored = tables.charge_points.get(new.id)
            if stored is None:
                raise LookupError(new.id)
            tables.charge_points[new.id] = replace(
                copy.deepcopy(new),
                connectors=stored.connectors,
                boot=new.boot if new.boot is not None else stored.boot,
                last_seen_at=_later(stored.last_seen_at, new.last_seen_at),
                site_id=stored.site_id,  # written by assign_station only, as in SQL
            )

        self._session.write(apply)

    async def register_connections(
        self, stations: Sequence[ChargePoint]
    ) -> dict[str, RegistrationStatus]:
        latest = {station.id: station for station in stations}  # the last of one id counts
        new = [replace(_stored(station), connectors=[]) for station in latest.values()]

        def upsert(tables: Tables) -> None:
            for station in new:
                stored = tables.charge_points.get(station.id)
                if stored is None:
                    tables.charge_points[station.id] = copy.deepcopy(station)
                else:
                    tables.charge_points[station.id] = replace(
                        stored, ocpp_version=station.ocpp_version
                    )

        self._session.write(upsert)
        stored = self._session.read().charge_points
        return {s.id: stored[s.id].registration_status for s in new}

    async def record_boots(self, boots: Sequence[BootRecord]) -> dict[str, RegistrationStatus]:
        known = [b for b in boots if b.charge_point_id in self._session.read().charge_points]

        def apply(tables: Tables) -> None:
            for boot in known:
                stored = tables.charge_points[boot.charge_point_id]
                at = _utc(boot.at)
                tables.charge_points[boot.charge_point_id] = replace(
                    stored,
                    boot=boot.boot,
                    last_boot_at=at,
                    last_seen_at=_later(stored.last_seen_at, at),
                )

        self._session.write(apply)
        stored = self._session.read().charge_points
        return {b.charge_point_id: stored[b.charge_point_id].registration_status for b in known}

    async def all(self) -> list[ChargePoint]:
        stations = self._session.read().charge_points
        return [copy.deepcopy(stations[key]) for key in sorted(stations)]

    async def page_after(self, after_id: str | None, limit: int) -> list[ChargePoint]:
        stations = self._session.read().charge_points
        ids = [key for key in sorted(stations) if after_id is None or key > after_id]
        return [copy.deepcopy(stations[key]) for key in ids[:limit]]

    async def search(self, query: StationQuery) -> StationPage:
        stations = list(self._session.read().charge_points.values())
        matching = [s for s in stations if _station_matches(s, query)]
        key = _STATION_SORT_KEYS[query.sort]
        matching.sort(key=lambda s: s.id, reverse=query.order is SortOrder.DESC)
        matching.sort(key=lambda s: key(s, query), reverse=query.order is SortOrder.DESC)
        page = matching[query.offset : query.offset + query.limit]
        vendors = sorted({s.boot.vendor for s in stations if s.boot is not None})
        return StationPage(
            items=[copy.deepcopy(s) for s in page], total=len(matching), vendors=vendors
        )

    async def record_last_seen(self, last_seen: Mapping[str, datetime]) -> None:
        seen = {station: _utc(at) for station, at in last_seen.items()}

        def apply(tables: Tables) -> None:
            for station_id, at in seen.items():
                station = tables.charge_points.get(station_id)
                if station is not None:  # an unknown station is no error, as in SQL
                    tables.charge_points[station_id] = replace(
                        station, last_seen_at=_later(station.last_seen_at, at)
                    )

        self._session.write(apply)

    async def save_connector_status(self, charge_point_id: str, status: ConnectorStatus) -> None:
        new = _stored(status)

        def upsert(tables: Tables) -> None:
            tables.require_station(charge_point_id)
            station = tables.charge_points[charge_point_id]
            # A connector is keyed by its EVSE (or 1.6 connector) and its connector within it.
            others = [c for c in station.connectors if _connector_key(c) != _connector_key(new)]
            connectors = sorted([*others, copy.deepcopy(new)], key=_connector_key)
            tables.charge_points[charge_point_id] = replace(station, connectors=connectors)

        self._session.write(upsert)

    async def save_connector_statuses(
        self, statuses: Sequence[tuple[str, ConnectorStatus]]
    ) -> None:
        for charge_point_id, status in statuses:
            await self.save_connector_status(charge_point_id, status)

    async def add_status_changes(self, changes: Sequence[StatusChange]) -> None:
        for change in changes:
            await self.add_status_change(change)

    async def add_status_change(self, change: StatusChange) -> None:
        new = _stored(change)

        def insert(tables: Tables) -> None:
            tables.require_station(new.charge_point_id)
            tables.status_changes.append(new)

        self._session.write(insert)

    async def list_status_changes(
        self, charge_point_id: str, connector_id: int | None, limit: int
    ) -> list[StatusChange]:
        changes = [
            c
            for c in self._session.read().status_changes
            if c.charge_point_id == charge_point_id
            and (connector_id is None or c.connector_id == connector_id)
        ]
        return list(reversed(changes))[:limit]


class FakeIdTags:
    def __init__(self, session: _Session) -> None:
        self._session = session

    async def get(self, id_tag: str) -> IdTag | None:
        tag = self._session.read().id_tags.get(id_tag)
        return copy.deepcopy(tag) if tag else None

    async def add(self, tag: IdTag) -> None:
        new = _stored(tag)

        def insert(tables: Tables) -> None:
            if new.id_tag in tables.id_tags:
                raise ConstraintViolationError(f"id tag {new.id_tag!r} exists")
            tables.id_tags[new.id_tag] = copy.deepcopy(new)

        self._session.write(insert)

    async def update(self, tag: IdTag) -> None:
        if tag.id_tag not in self._session.read().id_tags:
            raise LookupError(tag.id_tag)
        new = _stored(tag)

        def apply(tables: Tables) -> None:
            if new.id_tag not in tables.id_tags:
                raise LookupError(new.id_tag)
            tables.id_tags[new.id_tag] = copy.deepcopy(new)

        self._session.write(apply)

    async def delete(self, id_tag: str) -> None:
        def remove(tables: Tables) -> None:
            tables.id_tags.pop(id_tag, None)  # deleting a missing tag is no error, as in SQL

        self._session.write(remove)

    async def page(self, limit: int, offset: int) -> tuple[list[IdTag], int]:
        tags = self._session.read().id_tags
        ordered = [copy.deepcopy(tags[key]) for key in sorted(tags)]
        return ordered[offset : offset + limit], len(ordered)

    async def search(self, query: IdTagQuery) -> tuple[list[IdTag], int]:
        needle = (query.text or "").lower()
        found = [
            t
            for t in self._session.read().id_tags.values()
            if (not needle or needle in t.id_tag.lower() or needle in (t.name or "").lower())
            and query.status in (None, t.status.value)
            and query.parent_id_tag in (None, t.parent_id_tag)
        ]
        key: dict[IdTagSort, Callable[[IdTag], Any]] = {
            IdTagSort.ID_TAG: lambda t: 0,
            IdTagSort.NAME: lambda t: _missing_last(t.name),
            IdTagSort.STATUS: lambda t: t.status.value,
            IdTagSort.EXPIRY: lambda t: _missing_last(t.expiry_date),
            IdTagSort.CREATED: lambda t: t.created_at,
        }
        descending = query.order is SortOrder.DESC
        found.sort(key=lambda t: t.id_tag, reverse=descending)
        found.sort(key=key[query.sort], reverse=descending)
        page = found[query.offset : query.offset + query.limit]
        return [copy.deepcopy(t) for t in page], len(found)


_START_KEY = ("charge_point_id", "connector_id", "id_tag", "meter_start_wh", "started_at")
_UPDATABLE = (
    "connector_id",
    "id_tag",
    "authorization_status",
    "reservation_id",
    "meter_start_wh",
    "started_at",
    "meter_stop_wh",
    "stopped_at",
    "stop_reason",
    "stop_id_tag",
    "offline",
    "remote_start_id",
    "closed_by_csms",
)
_STOP_FIELDS = ("meter_stop_wh", "stopped_at", "stop_reason", "stop_id_tag", "closed_by_csms")


def _start_key(transaction: Transaction | NewTransaction) -> tuple[object, ...]:
    return tuple(getattr(transaction, name) for name in _START_KEY)


def _clashing_key(tables: Tables, transaction: Transaction) -> str | None:
    """Which unique key of the transactions table `transaction` would break, if any."""
    for other in tables.transactions.values():
        if other.id == transaction.id:
            continue
        if _start_key(other) == _start_key(transaction):
            return "start key"
        if (
            transaction.ocpp_transaction_id is not None
            and other.charge_point_id == transaction.charge_point_id
            and other.ocpp_transaction_id == transaction.ocpp_transaction_id
        ):
            return "station's transaction id"
    return None


def _matches(transaction: Transaction, criteria: TransactionFilter) -> bool:
    return (
        criteria.charge_point_id in (None, transaction.charge_point_id)
        and criteria.id_tag in (None, transaction.id_tag)
        and (criteria.started_from is None or transaction.started_at >= criteria.started_from)
        and (criteria.started_to is None or transaction.started_at < criteria.started_to)
        and criteria.active in (None, transaction.active)
    )


class FakeTransactions:
    def __init__(self, session: _Session) -> None:
        self._session = session

    async def get(self, transaction_id: int) -> Transaction | None:
        transaction = self._session.read().transactions.get(transaction_id)
        return copy.deepcopy(transaction) if transaction else None

    async def find_by_start(self, new: NewTransaction) -> Transaction | None:
        key = _start_key(_stored(new))
        for transaction in self._session.read().transactions.values():
            if _start_key(transaction) == key:
                return copy.deepcopy(transaction)
        return None

    async def add(self, new: NewTransaction) -> Transaction:
        transaction = _stored(
            Transaction(
                id=self._session.store.next_id("transactions"),
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
        )

        def insert(tables: Tables) -> None:
            tables.require_station(transaction.charge_point_id)
            clash = _clashing_key(tables, transaction)
            if clash is not None:
                raise DuplicateTransactionError(f"a transaction with this {clash} exists")
            tables.transactions[transaction.id] = copy.deepcopy(transaction)

        self._session.write(insert)
        return copy.deepcopy(transaction)

    async def stop(self, transaction: Transaction) -> bool:
        stored = self._session.read().transactions.get(transaction.id)
        if stored is None or stored.stopped_at is not None:
            return False
        stop = {name: _stored_value(getattr(transaction, name)) for name in _STOP_FIELDS}

        def apply(tables: Tables) -> None:
            current = tables.transactions.get(transaction.id)
            # A stop committed meanwhile by another unit of work wins, as the SQL's
            # "WHERE stopped_at IS NULL" lets it.
            if current is not None and current.stopped_at is None:
                tables.transactions[transaction.id] = replace(current, **stop)

        self._session.write(apply)
        return True

    async def find_by_ocpp_id(
        self, charge_point_id: str, ocpp_transaction_id: str
    ) -> Transaction | None:
        for transaction in self._session.read().transactions.values():
            if (transaction.charge_point_id, transaction.ocpp_transaction_id) == (
                charge_point_id,
                ocpp_transaction_id,
            ):
                return copy.deepcopy(transaction)
        return None

    async def update(self, transaction: Transaction) -> None:
        if transaction.id not in self._session.read().transactions:
            raise LookupError(transaction.id)
        # The station and its own transaction id are fixed once stored.
        changes = {name: _stored_value(getattr(transaction, name)) for name in _UPDATABLE}

        def apply(tables: Tables) -> None:
            current = tables.transactions.get(transaction.id)
            if current is None:
                raise LookupError(transaction.id)
            updated = replace(current, **changes)
            clash = _clashing_key(tables, updated)
            if clash is not None:
                raise ConstraintViolationError(f"a transaction with this {clash} exists")
            tables.transactions[transaction.id] = updated

        self._session.write(apply)

    async def record_event(self, event: TransactionEventInput, received_at: datetime) -> bool:
        key = (event.charge_point_id, event.ocpp_transaction_id, event.seq_no)
        if key in self._session.read().transaction_events:
            return False

        def insert(tables: Tables) -> None:
            tables.require_station(event.charge_point_id)
            if key in tables.transaction_events:
                raise DuplicateTransactionError(f"transaction event {key} exists")
            tables.transaction_events.add(key)

        self._session.write(insert)
        return True

    async def add_events_and_samples(
        self, events: Sequence[RecordedEvent]
    ) -> tuple[set[EventKey], list[MeterSample]]:
        """All or nothing; as if one by one: a replayed event stores nothing, and like the
        database, the samples stored are those given (not copies)."""
        tables_now = self._session.read()
        recorded = set(tables_now.transaction_events)
        seen = {s.natural_key for s in tables_now.samples}
        new_events: set[EventKey] = set()
        fresh: list[MeterSample] = []
        for given in events:
            if given.event.key in recorded:
                continue
            recorded.add(given.event.key)
            new_events.add(given.event.key)
            for sample in given.samples:
                if sample.natural_key not in seen:
                    seen.add(sample.natural_key)
                    fresh.append(sample)

        def insert(tables: Tables) -> None:
            for given in events:
                tables.require_station(given.event.charge_point_id)
            for sample in fresh:
                tables.require_station(sample.charge_point_id)
                if sample.transaction_id not in (None, *tables.transactions):
                    raise ConstraintViolationError(f"no transaction {sample.transaction_id}")
            tables.transaction_events.update(new_events)
            tables.samples.extend(_stored(sample) for sample in fresh)

        self._session.write(insert)
        return new_events, fresh

    async def count_active_for_tag(self, id_tag: str) -> int:
        transactions = self._session.read().transactions.values()
        return sum(
            1
            for t in transactions
            if t.id_tag == id_tag
            and t.active
            and t.authorization_status is AuthorizationStatus.ACCEPTED
        )

    async def active_on_connector(
        self, charge_point_id: str, connector_id: int
    ) -> list[Transaction]:
        found = [
            copy.deepcopy(t)
            for t in self._session.read().transactions.values()
            if (t.charge_point_id, t.connector_id) == (charge_point_id, connector_id) and t.active
        ]
        return sorted(found, key=lambda t: (t.started_at, t.id))

    async def remember_remote_start(
        self, charge_point_id: str, remote_start_id: int, id_tag: str, requested_at: datetime
    ) -> None:
        def upsert(tables: Tables) -> None:
            tables.require_station(charge_point_id)
            tables.remote_starts[(charge_point_id, remote_start_id)] = id_tag

        self._session.write(upsert)

    async def remote_start_tag(self, charge_point_id: str, remote_start_id: int) -> str | None:
        return self._session.read().remote_starts.get((charge_point_id, remote_start_id))

    async def search(self, criteria: TransactionFilter) -> TransactionPage:
        found = [t for t in self._session.read().transactions.values() if _matches(t, criteria)]
        descending = criteria.order is SortOrder.DESC
        keys: dict[TransactionSort, Callable[[Transaction], Any]] = {
            TransactionSort.STARTED: lambda t: t.started_at,
            TransactionSort.STOPPED: lambda t: _missing_last(t.stopped_at),
            TransactionSort.ENERGY: lambda t: _missing_last(t.energy_wh),
            TransactionSort.CHARGE_POINT: lambda t: (t.charge_point_id, t.started_at),
        }
        found.sort(key=lambda t: t.id, reverse=descending)
        found.sort(key=keys[criteria.sort], reverse=descending)
        page = found[criteria.offset : criteria.offset + criteria.limit]
        return TransactionPage([copy.deepcopy(t) for t in page], len(found))

    async def usage(self, criteria: TransactionFilter, group_by: UsageGrouping) -> list[UsageRow]:
        totals: dict[str, tuple[int, int]] = {}
        tables = self._session.read()
        for t in tables.transactions.values():
            if not _matches(t, criteria):
                continue
            site = tables.sites.get(tables.charge_points[t.charge_point_id].site_id or 0)
            key = {
                UsageGrouping.SITE: site.name if site is not None else "",
                UsageGrouping.CHARGE_POINT: t.charge_point_id,
                UsageGrouping.ID_TAG: t.id_tag,
                UsageGrouping.DAY: t.started_at.date().isoformat(),  # stored in UTC
            }[group_by]
            sessions, energy = totals.get(key, (0, 0))
            totals[key] = (sessions + 1, energy + (t.energy_wh or 0))
        return [UsageRow(k, n, wh) for k, (n, wh) in sorted(totals.items())]

    async def add_meter_samples(self, samples: Sequence[MeterSample]) -> list[MeterSample]:
        """The unique key on the natural key: replays are ignored, the rest returned."""
        seen = {s.natural_key for s in self._session.read().samples}
        fresh: list[MeterSample] = []
        for sample in samples:
            if sample.natural_key not in seen:
                seen.add(sample.natural_key)
                fresh.append(_stored(sample))

        def insert(tables: Tables) -> None:
            for sample in fresh:
                tables.require_station(sample.charge_point_id)
                if sample.transaction_id is not None and (
                    sample.transaction_id not in tables.transactions
                ):
                    raise ConstraintViolationError(f"no transaction {sample.transaction_id}")
            present = {s.natural_key for s in tables.samples}
            tables.samples.extend(s for s in fresh if s.natural_key not in present)

        self._session.write(insert)
        return [copy.deepcopy(s) for s in fresh]

    async def list_meter_samples(self, transaction_id: int) -> list[MeterSample]:
        found = [s for s in self._session.read().samples if s.transaction_id == transaction_id]
        return sorted(found, key=lambda s: s.timestamp)  # stable: insertion order breaks ties


def _newest_first(rows: Sequence[_Numbered], limit: int) -> list[_Numbered]:
    """ORDER BY id DESC LIMIT n: ids are drawn when written, rows are appended at commit."""
    ordered = sorted(rows, key=lambda row: row.id or 0, reverse=True)
    return [copy.deepcopy(row) for row in ordered[:limit]]


def _page_by_id(
    rows: Sequence[_Numbered], order: SortOrder, limit: int, offset: int
) -> list[_Numbered]:
    ordered = sorted(rows, key=lambda row: row.id or 0, reverse=order is SortOrder.DESC)
    return [copy.deepcopy(row) for row in ordered[offset : offset + limit]]


class FakeEvents:
    def __init__(self, session: _Session) -> None:
        self._session = session

    async def add(self, event: StationEvent) -> None:
        new = _stored(replace(event, id=self._session.store.next_id("events")))
        self._session.write(lambda tables: tables.events.append(new))

    async def add_many(self, events: Sequence[StationEvent]) -> None:
        for event in events:
            await self.add(event)

    async def recent(self, charge_point_id: str | None, limit: int) -> list[StationEvent]:
        events = self._session.read().events
        return _newest_first(
            [e for e in events if charge_point_id in (None, e.charge_point_id)], limit
        )


class FakeCommands:
    def __init__(self, session: _Session) -> None:
        self._session = session

    async def add(self, record: CommandRecord) -> CommandRecord:
        new = _stored(replace(record, id=self._session.store.next_id("commands")))
        self._session.write(lambda tables: tables.commands.append(new))
        return copy.deepcopy(new)

    async def recent(self, charge_point_id: str | None, limit: int) -> list[CommandRecord]:
        commands = self._session.read().commands
        return _newest_first(
            [c for c in commands if charge_point_id in (None, c.charge_point_id)], limit
        )

    async def search(self, query: CommandQuery) -> tuple[list[CommandRecord], int]:
        found = [
            c
            for c in self._session.read().commands
            if query.charge_point_id in (None, c.charge_point_id)
            and query.action in (None, c.action)
            and query.outcome in (None, c.outcome.value)
        ]
        return _page_by_id(found, query.order, query.limit, query.offset), len(found)


def _device_model_key(entry: DeviceModelEntry) -> tuple[object, ...]:
    """The unique key, in the order the SQL repository lists entries."""
    return (
        entry.component_name,
        entry.evse_id,
        entry.connector_id,
        entry.component_instance,
        entry.variable_name,
        entry.variable_instance,
        entry.attribute_type,
    )


class FakeDeviceModel:
    def __init__(self, session: _Session) -> None:
        self._session = session

    async def upsert(self, charge_point_id: str, entries: Sequence[DeviceModelEntry]) -> None:
        # Like the SQL repository, an entry without a time is stamped with the wall clock.
        now = datetime.now(UTC)
        new = [_stored(replace(e, updated_at=e.updated_at or now)) for e in entries]

        def upsert(tables: Tables) -> None:
            tables.require_station(charge_point_id)
            current = {
                _device_model_key(e): e for e in tables.device_model.get(charge_point_id, [])
            }
            current.update({_device_model_key(e): e for e in new})
            tables.device_model[charge_point_id] = [current[key] for key in sorted(current)]

        self._session.write(upsert)

    async def all(self, charge_point_id: str) -> list[DeviceModelEntry]:
        return copy.deepcopy(self._session.read().device_model.get(charge_point_id, []))


class FakeAudit:
    def __init__(self, session: _Session) -> None:
        self._session = session

    async def add(self, entry: AuditEntry) -> AuditEntry:
        new = _stored(replace(entry, id=self._session.store.next_id("audit")))
        self._session.write(lambda tables: tables.audit.append(new))
        return copy.deepcopy(new)

    async def recent(
        self,
        limit: int,
        actor: str | None = None,
        tool: str | None = None,
        channel: str | None = None,
    ) -> list[AuditEntry]:
        found = [
            e
            for e in self._session.read().audit
            if actor in (None, e.actor) and tool in (None, e.tool) and channel in (None, e.channel)
        ]
        return _newest_first(found, limit)

    async def search(self, query: AuditQuery) -> tuple[list[AuditEntry], int]:
        found = [
            e
            for e in self._session.read().audit
            if query.actor in (None, e.actor)
            and query.tool in (None, e.tool)
            and query.channel in (None, e.channel)
            and query.outcome in (None, e.outcome.value)
        ]
        return _page_by_id(found, query.order, query.limit, query.offset), len(found)


class FakeConversations:
    def __init__(self, session: _Session) -> None:
        self._session = session

    async def add(self, conversation: Conversation) -> None:
        new = _stored(conversation)

        def insert(tables: Tables) -> None:
            if new.id in tables.conversations:
                raise ConstraintViolationError(f"conversation {new.id!r} exists")
            tables.conversations[new.id] = copy.deepcopy(new)

        self._session.write(insert)

    async def get(self, conversation_id: str) -> Conversation | None:
        found = self._session.read().conversations.get(conversation_id)
        return copy.deepcopy(found) if found else None

    async def append(self, conversation_id: str, messages: Sequence[ChatMessage]) -> None:
        new = [_stored(m) for m in messages]

        def insert(tables: Tables) -> None:
            stored = tables.conversations.get(conversation_id)
            if stored is None:
                raise ConstraintViolationError(f"no conversation {conversation_id!r}")
            tables.conversations[conversation_id] = replace(
                stored, messages=[*stored.messages, *copy.deepcopy(new)]
            )

        self._session.write(insert)

    async def update(self, conversation: Conversation) -> None:
        if conversation.id not in self._session.read().conversations:
            raise LookupError(conversation.id)
        new = _stored(replace(conversation, messages=[]))

        def apply(tables: Tables) -> None:
            stored = tables.conversations.get(new.id)
            if stored is None:
                raise LookupError(new.id)
            tables.conversations[new.id] = replace(
                stored,
                title=new.title,
                updated_at=new.updated_at,
                pending_action=copy.deepcopy(new.pending_action),
            )

        self._session.write(apply)

    async def recent(self, limit: int) -> list[Conversation]:
        ordered = sorted(
            self._session.read().conversations.values(), key=lambda c: c.updated_at, reverse=True
        )
        return [replace(copy.deepcopy(c), messages=[]) for c in ordered[:limit]]


class FakeApiTokens:
    def __init__(self, session: _Session) -> None:
        self._session = session

    async def add(self, token: ApiToken) -> None:
        new = _stored(token)

        def insert(tables: Tables) -> None:
            # Name and digest are both unique; SQL reports either as DuplicateNameError.
            if new.name in tables.api_tokens or any(
                t.digest == new.digest for t in tables.api_tokens.values()
            ):
                raise DuplicateNameError(new.name)
            tables.api_tokens[new.name] = new

        self._session.write(insert)

    async def get(self, name: str) -> ApiToken | None:
        return self._session.read().api_tokens.get(name)  # frozen, no mutable fields

    async def by_digest(self, digest: str) -> ApiToken | None:
        tokens = self._session.read().api_tokens.values()
        return next((t for t in tokens if t.digest == digest), None)

    async def all(self) -> list[ApiToken]:
        return sorted(self._session.read().api_tokens.values(), key=lambda t: t.created_at)

    async def revoke(self, name: str, at: datetime) -> bool:
        token = self._session.read().api_tokens.get(name)
        if token is None or not token.active:
            return False
        revoked_at = _utc(at)

        def apply(tables: Tables) -> None:
            current = tables.api_tokens.get(name)
            if current is not None and current.active:  # a concurrent revoke wins, as in SQL
                tables.api_tokens[name] = replace(current, revoked_at=revoked_at)

        self._session.write(apply)
        return True


class FakeSites:
    def __init__(self, session: _Session) -> None:
        self._session = session

    def _counted(self, site: Site) -> Site:
        stations = self._session.read().charge_points.values()
        return replace(site, station_count=sum(1 for s in stations if s.site_id == site.id))

    async def get(self, site_id: int) -> Site | None:
        site = self._session.read().sites.get(site_id)
        return None if site is None else self._counted(site)

    async def by_name(self, name: str) -> Site | None:
        sites = self._session.read().sites.values()
        return next((self._counted(s) for s in sites if s.name == name), None)

    def _check_unique(self, tables: Tables, site: Site) -> None:
        for other in tables.sites.values():
            if other.id != site.id and (
                other.name == site.name or (other.energy_planner and site.energy_planner)
            ):
                raise DuplicateNameError(site.name)  # SQL: the unique name or planner index

    async def add(self, details: SiteDetails, created_at: datetime, energy_planner: bool) -> Site:
        site = Site(self._session.store.next_id("sites"), details, _utc(created_at), energy_planner)

        def insert(tables: Tables) -> None:
            self._check_unique(tables, site)
            tables.sites[site.id] = site

        self._session.write(insert)
        return site

    async def update(self, site_id: int, details: SiteDetails) -> None:
        if site_id not in self._session.read().sites:
            raise LookupError(site_id)

        def apply(tables: Tables) -> None:
            changed = replace(tables.sites[site_id], details=details)
            self._check_unique(tables, changed)
            tables.sites[site_id] = changed

        self._session.write(apply)

    async def delete(self, site_id: int) -> None:
        def remove(tables: Tables) -> None:
            if any(s.site_id == site_id for s in tables.charge_points.values()):
                raise ConstraintViolationError(f"site {site_id} has stations")  # RESTRICT
            tables.sites.pop(site_id, None)

        self._session.write(remove)

    async def page(self, text: str | None, limit: int, offset: int) -> tuple[list[Site], int]:
        sites = [
            s
            for s in self._session.read().sites.values()
            if not text or any(text.lower() in w.lower() for w in (s.name, s.details.address))
        ]
        sites.sort(key=lambda s: (s.name.lower(), s.id))
        return [self._counted(s) for s in sites[offset : offset + limit]], len(sites)

    async def energy_site(self) -> Site | None:
        sites = self._session.read().sites.values()
        return next((self._counted(s) for s in sites if s.energy_planner), None)

    async def mark_energy_site(self, site_id: int) -> None:
        def apply(tables: Tables) -> None:
            for key, site in tables.sites.items():
                tables.sites[key] = replace(site, energy_planner=key == site_id)

        self._session.write(apply)

    async def assign_station(self, charge_point_id: str, site_id: int | None) -> None:
        def apply(tables: Tables) -> None:
            if site_id is not None and site_id not in tables.sites:
                raise ConstraintViolationError(f"no site {site_id}")
            station = tables.charge_points.get(charge_point_id)
            if station is not None:
                station.site_id = site_id

        self._session.write(apply)

    async def station_ids(self, site_id: int) -> list[str]:
        stations = self._session.read().charge_points.values()
        return sorted(s.id for s in stations if s.site_id == site_id)

    async def counts(self, online_ids: frozenset[str]) -> list[SiteCounts]:
        tables = self._session.read()
        numbers: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        connectors: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for s in tables.charge_points.values():
            online = s.id in online_ids
            registration = s.registration_status
            n = numbers[s.site_id]
            n["stations"] += 1
            n["online"] += online
            n["accepted"] += registration is RegistrationStatus.ACCEPTED
            n["pending"] += registration is RegistrationStatus.PENDING
            n["rejected"] += registration is RegistrationStatus.REJECTED
            n["rejected_online"] += registration is RegistrationStatus.REJECTED and online
            n["booted"] += s.last_boot_at is not None
            n["faulted"] += online and any(c.status == "Faulted" for c in s.connectors)
            n["offline_accepted"] += registration is RegistrationStatus.ACCEPTED and not online
            for c in s.connectors:
                if c.connector_id > 0:
                    connectors[s.site_id][c.status if online else OFFLINE_CONNECTOR] += 1

        def counted(site_id: int | None, name: str | None) -> SiteCounts:
            return SiteCounts(
                site_id, name, **numbers.get(site_id, {}), connectors=dict(connectors[site_id])
            )

        ordered = sorted(tables.sites.values(), key=lambda s: (s.name.lower(), s.id))
        result = [counted(s.id, s.name) for s in ordered]
        if None in numbers:
            result.append(counted(None, None))
        return result


# --- the unit of work --------------------------------------------------------------------


class FakeUnitOfWork:
    """One 'database transaction' over a FakeStore: commit publishes, anything else forgets."""

    charge_points: FakeChargePoints
    id_tags: FakeIdTags
    transactions: FakeTransactions
    events: FakeEvents
    commands: FakeCommands
    device_model: FakeDeviceModel
    audit: FakeAudit
    conversations: FakeConversations
    api_tokens: FakeApiTokens
    sites: FakeSites

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self._session: _Session | None = None

    async def __aenter__(self) -> Self:
        session = _Session(self.store)
        self._session = session
        self.charge_points = FakeChargePoints(session)
        self.id_tags = FakeIdTags(session)
        self.transactions = FakeTransactions(session)
        self.events = FakeEvents(session)
        self.commands = FakeCommands(session)
        self.device_model = FakeDeviceModel(session)
        self.audit = FakeAudit(session)
        self.conversations = FakeConversations(session)
        self.api_tokens = FakeApiTokens(session)
        self.sites = FakeSites(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            self._session.close()  # what was not committed is gone
        self._session = None

    async def commit(self) -> None:
        if self._session is None:
            raise RuntimeError("commit() outside 'async with' of the unit of work")
        self._session.commit()


class MemoryAlarmStore:
    """Alarms kept in a list, numbered like a database would."""

    def __init__(self) -> None:
        self.alarms: dict[int, Alarm] = {}

    async def active(self) -> list[Alarm]:
        return [replace(a) for a in self.alarms.values() if a.active]

    async def add(self, alarm: Alarm) -> Alarm:
        stored = replace(alarm, id=len(self.alarms) + 1)
        self.alarms[stored.id or 0] = stored
        return replace(stored)

    async def update(self, alarm: Alarm) -> None:
        if alarm.id in self.alarms:
            self.alarms[alarm.id] = replace(alarm)

    async def get(self, alarm_id: int) -> Alarm | None:
        found = self.alarms.get(alarm_id)
        return None if found is None else replace(found)

    async def page(
        self, *, active_only: bool, charge_point_id: str | None, limit: int, offset: int
    ) -> tuple[list[Alarm], int]:
        chosen = [
            a
            for a in self.alarms.values()
            if (a.active or not active_only)
            and (charge_point_id is None or a.charge_point_id == charge_point_id)
        ]
        chosen.sort(key=lambda a: (a.raised_at, a.id or 0), reverse=True)
        return [replace(a) for a in chosen[offset : offset + limit]], len(chosen)


class NoMeterArchive:
    """A meter archive with nothing in it (the MCP unit tests chart nothing)."""

    async def roll_up(self, before: datetime, limit: int) -> int:
        return 0

    async def power(self, *args: object) -> list[PowerPoint]:
        return []
