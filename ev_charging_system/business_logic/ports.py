"""The ports through which services reach the outside world.

Adapters implement these (SQLAlchemy repositories, the OCPP connection manager, ...);
services depend only on the protocols, so unit tests can use in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from ev_charging_system.models.access import ApiToken
from ev_charging_system.models.alarm import Alarm
from ev_charging_system.models.audit import AuditEntry, ChatMessage, Conversation
from ev_charging_system.models.certificates import IssuedCertificate
from ev_charging_system.models.charge_point import (
    BootRecord,
    ChargePoint,
    ConnectorStatus,
    RegistrationStatus,
    StatusChange,
)
from ev_charging_system.models.commands import Command, CommandRecord, CommandResult
from ev_charging_system.models.device_model import DeviceModelEntry
from ev_charging_system.models.diagnostics import UsageGrouping, UsageRow
from ev_charging_system.models.id_token import IdTag
from ev_charging_system.models.listing import (
    AuditQuery,
    CommandQuery,
    IdTagQuery,
    StationPage,
    StationQuery,
)
from ev_charging_system.models.meter_rollup import PowerPoint
from ev_charging_system.models.site import Site, SiteCounts, SiteDetails
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

Clock = Callable[[], datetime]


class ChargePointRepository(Protocol):
    async def get(
        self, charge_point_id: str, *, with_connectors: bool = True
    ) -> ChargePoint | None:
        """The station; `with_connectors=False` skips their query (hot paths, checks)."""

    async def get_many(self, charge_point_ids: Collection[str]) -> list[ChargePoint]:
        """The stations of these ids that exist, without their connectors, in no order."""

    async def add(self, charge_point: ChargePoint) -> None: ...

    async def add_if_missing(self, charge_point: ChargePoint) -> bool:
        """Insert unless a station with this id exists (a concurrent first connection of
        the same station may have inserted it a moment ago); True when inserted."""

    async def update(self, charge_point: ChargePoint) -> None:
        """Persist the charge point's own fields (not its connectors)."""

    async def register_connections(
        self, stations: Sequence[ChargePoint]
    ) -> dict[str, RegistrationStatus]:
        """Insert each station unless its id is stored, and set its `ocpp_version` either
        way (an upsert: two first connections of one id never collide); the registration
        status each one has now, by id. Only id, registration_status, created_at and
        ocpp_version of the stations are read; of two with one id, the last counts."""

    async def record_boots(self, boots: Sequence[BootRecord]) -> dict[str, RegistrationStatus]:
        """Store each boot: the station's boot fields, `last_boot_at`, and `last_seen_at`
        moved forward to it; the registration status of each station stored, by id (a
        station not stored is missing from the answer, and nothing is written for it)."""

    async def all(self) -> list[ChargePoint]: ...

    async def page_after(self, after_id: str | None, limit: int) -> list[ChargePoint]:
        """Up to `limit` stations with their connectors, by id, after `after_id` (from the
        first when None): a job over every station reads them a bounded piece at a time."""

    async def search(self, query: StationQuery) -> StationPage:
        """One page of stations matching `query`, and how many match in all."""

    async def record_last_seen(self, last_seen: Mapping[str, datetime]) -> None:
        """Move `last_seen_at` forward (never backward) for many stations at once."""

    async def save_connector_status(self, charge_point_id: str, status: ConnectorStatus) -> None:
        """Upsert the connector's current status."""

    async def save_connector_statuses(
        self, statuses: Sequence[tuple[str, ConnectorStatus]]
    ) -> None:
        """Upsert many connectors' current status, given as (station id, status); of two
        for one connector, the last counts."""

    async def add_status_change(self, change: StatusChange) -> None: ...

    async def add_status_changes(self, changes: Sequence[StatusChange]) -> None:
        """Append to the status history, in the given order."""

    async def list_status_changes(
        self, charge_point_id: str, connector_id: int | None, limit: int
    ) -> list[StatusChange]: ...


class IdTagRepository(Protocol):
    async def get(self, id_tag: str) -> IdTag | None: ...

    async def add(self, tag: IdTag) -> None: ...

    async def update(self, tag: IdTag) -> None: ...

    async def delete(self, id_tag: str) -> None: ...

    async def page(self, limit: int, offset: int) -> tuple[list[IdTag], int]: ...

    async def search(self, query: IdTagQuery) -> tuple[list[IdTag], int]:
        """One page of tags matching `query`, and how many match in all."""


class TransactionRepository(Protocol):
    async def get(self, transaction_id: int) -> Transaction | None: ...

    async def find_by_start(self, new: NewTransaction) -> Transaction | None:
        """The transaction with the same natural start key, if a station replays a start."""

    async def add(self, new: NewTransaction) -> Transaction:
        """Insert and return with the database-assigned id.

        Raises DuplicateTransactionError when the natural start key already exists.
        """

    async def stop(self, transaction: Transaction) -> bool:
        """Store the stop fields; False when the transaction was already stopped."""

    async def find_by_ocpp_id(
        self, charge_point_id: str, ocpp_transaction_id: str
    ) -> Transaction | None: ...

    async def update(self, transaction: Transaction) -> None:
        """Persist every mutable field (2.0.1 events refine a transaction over time)."""

    async def record_event(self, event: TransactionEventInput, received_at: datetime) -> bool:
        """Remember a 2.0.1 event; False when (station, transaction, seqNo) was seen before."""

    async def add_events_and_samples(
        self, events: Sequence[RecordedEvent]
    ) -> tuple[set[EventKey], list[MeterSample]]:
        """Remember 2.0.1 events with their samples, atomically, as if one by one: a
        replayed event stores nothing. The keys of the new events, the samples stored."""

    async def count_active_for_tag(self, id_tag: str) -> int:
        """Active transactions the tag holds: started with status Accepted, not stopped."""

    async def active_on_connector(
        self, charge_point_id: str, connector_id: int
    ) -> list[Transaction]:
        """Transactions not stopped on this connector (1.6) or EVSE (2.0.1), oldest first."""

    async def remember_remote_start(
        self, charge_point_id: str, remote_start_id: int, id_tag: str, requested_at: datetime
    ) -> None:
        """Which token a remote start asked for (replaces an older use of the same id)."""

    async def remote_start_tag(self, charge_point_id: str, remote_start_id: int) -> str | None: ...

    async def search(self, criteria: TransactionFilter) -> TransactionPage: ...

    async def usage(self, criteria: TransactionFilter, group_by: UsageGrouping) -> list[UsageRow]:
        """Sessions and energy of finished transactions matching `criteria`, grouped."""

    async def add_meter_samples(self, samples: Sequence[MeterSample]) -> list[MeterSample]:
        """Store samples not stored before; return those (in the given order).

        A sample whose natural key (MeterSample.natural_key) is already stored, by an
        earlier message or earlier in `samples`, is a replay: it is ignored, not an error.
        """

    async def list_meter_samples(self, transaction_id: int) -> list[MeterSample]: ...


class StationEventRepository(Protocol):
    async def add(self, event: StationEvent) -> None: ...

    async def add_many(self, events: Sequence[StationEvent]) -> None:
        """Store the events in the given order (their ids follow it)."""

    async def recent(self, charge_point_id: str | None, limit: int) -> list[StationEvent]: ...


class DeviceModelRepository(Protocol):
    async def upsert(self, charge_point_id: str, entries: Sequence[DeviceModelEntry]) -> None: ...

    async def all(self, charge_point_id: str) -> list[DeviceModelEntry]: ...


class AuditLogRepository(Protocol):
    async def add(self, entry: AuditEntry) -> AuditEntry: ...

    async def recent(
        self,
        limit: int,
        actor: str | None = None,
        tool: str | None = None,
        channel: str | None = None,
    ) -> list[AuditEntry]: ...

    async def search(self, query: AuditQuery) -> tuple[list[AuditEntry], int]:
        """One page of records matching `query`, and how many match in all."""


class ConversationRepository(Protocol):
    async def add(self, conversation: Conversation) -> None: ...

    async def get(self, conversation_id: str) -> Conversation | None: ...

    async def append(self, conversation_id: str, messages: Sequence[ChatMessage]) -> None: ...

    async def update(self, conversation: Conversation) -> None:
        """Title, updated_at and pending action (not the messages)."""

    async def recent(self, limit: int) -> list[Conversation]:
        """Newest first, without their messages."""


class CommandLogRepository(Protocol):
    async def add(self, record: CommandRecord) -> CommandRecord: ...

    async def recent(self, charge_point_id: str | None, limit: int) -> list[CommandRecord]: ...

    async def search(self, query: CommandQuery) -> tuple[list[CommandRecord], int]:
        """One page of commands matching `query`, and how many match in all."""


class SiteRepository(Protocol):
    async def get(self, site_id: int) -> Site | None:
        """The site with the number of stations assigned to it."""
        ...

    async def by_name(self, name: str) -> Site | None: ...

    async def add(self, details: SiteDetails, created_at: datetime, energy_planner: bool) -> Site:
        """Store a new site; DuplicateNameError when the name is taken."""
        ...

    async def update(self, site_id: int, details: SiteDetails) -> None:
        """DuplicateNameError when another site has the name."""
        ...

    async def delete(self, site_id: int) -> None: ...

    async def page(self, text: str | None, limit: int, offset: int) -> tuple[list[Site], int]:
        """Sites by name (with their station counts), and how many match in all."""
        ...

    async def energy_site(self) -> Site | None:
        """The site the energy planner plans for, if one is marked."""
        ...

    async def mark_energy_site(self, site_id: int) -> None:
        """Make this site the energy planner's (and no other)."""
        ...

    async def assign_station(self, charge_point_id: str, site_id: int | None) -> None: ...

    async def station_ids(self, site_id: int) -> list[str]: ...

    async def counts(self, online_ids: frozenset[str]) -> list[SiteCounts]:
        """Stations per site (None: without one) by state, and their connectors by
        status, counted by the database (grouped queries, not a read of every station)."""
        ...


class UnitOfWork(Protocol):
    """One database transaction: commit explicitly, roll back on exit otherwise."""

    @property
    def charge_points(self) -> ChargePointRepository: ...

    @property
    def id_tags(self) -> IdTagRepository: ...

    @property
    def transactions(self) -> TransactionRepository: ...

    @property
    def events(self) -> StationEventRepository: ...

    @property
    def commands(self) -> CommandLogRepository: ...

    @property
    def device_model(self) -> DeviceModelRepository: ...

    @property
    def audit(self) -> AuditLogRepository: ...

    @property
    def conversations(self) -> ConversationRepository: ...

    @property
    def api_tokens(self) -> ApiTokenRepository: ...

    @property
    def sites(self) -> SiteRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True, slots=True)
class BatchedWrites:
    """How a service's group-committed writes go to the database."""

    timeout_seconds: float = 5.0  # each batch's bound
    in_flight: int = 1  # batches committing at once (SQLite has one writer anyway)
    # Units of work whose statements commit on their own, for batches that are one
    # statement (no BEGIN/COMMIT: two round trips fewer); None: the ordinary ones.
    single_statement: UnitOfWorkFactory | None = None


DEFAULT_BATCHED_WRITES = BatchedWrites()


class StationPresence(Protocol):
    """Who is connected right now (in this process today; shared storage later)."""

    def is_online(self, charge_point_id: str) -> bool: ...

    def online_ids(self) -> frozenset[str]: ...


class MeterArchive(Protocol):
    """Raw meter samples and their 15-minute rollups."""

    async def roll_up(self, before: datetime, limit: int) -> int:
        """Fold up to `limit` of the oldest periodic samples taken before `before` into
        rollups and delete them, in one transaction; the number folded (0: none left).
        Signed samples and transaction begin/end readings are kept: they are evidence."""
        ...

    async def power(
        self,
        charge_point_ids: Collection[str],
        connector_id: int | None,
        since: datetime,
        until: datetime,
    ) -> list[PowerPoint]:
        """The stations' (or one connector's) power and energy per 15-minute bucket from
        `since` (bucket-aligned) to `until`, added up, from raw samples and rollups alike;
        only buckets with data, in order. Aggregated where the samples are: a week of a
        few hundred stations is millions of samples."""
        ...


class AlarmStore(Protocol):
    """Alarms kept across restarts, with their history."""

    async def active(self) -> list[Alarm]: ...

    async def add(self, alarm: Alarm) -> Alarm:
        """Store a new alarm; the answer carries its id."""
        ...

    async def update(self, alarm: Alarm) -> None: ...

    async def get(self, alarm_id: int) -> Alarm | None: ...

    async def page(
        self, *, active_only: bool, charge_point_id: str | None, limit: int, offset: int
    ) -> tuple[list[Alarm], int]:
        """Newest first, and how many match in all."""
        ...


class AlarmNotifier(Protocol):
    """Tells someone outside (a webhook) that an alarm was raised or cleared."""

    async def notify(self, alarm: Alarm, change: str) -> None:
        """Never raises: a notification that cannot be delivered is logged and dropped."""


class StationCertificateSigner(Protocol):
    """The certificate authority that signs station certificates (security profile 3)."""

    @property
    def certificate_pem(self) -> str: ...

    def sign_station_csr(self, csr_pem: str, charge_point_id: str) -> IssuedCertificate:
        """Raises CertificateRequestRejectedError with the reason when it will not sign."""
        ...


class ChargerGateway(Protocol):
    """Sends an operation to a connected station, whatever its OCPP version.

    Returns the station's answer; raises StationOfflineError, CommandTimeoutError,
    StationCallError, CommandNotSupportedError or CommandQueueFullError otherwise.
    """

    async def send(self, charge_point_id: str, command: Command) -> CommandResult: ...


class SessionObserver(Protocol):
    """Told about sessions and meter samples once they are stored (e.g. energy agents)."""

    def session_changed(
        self,
        charge_point_id: str,
        connector_id: int,
        active: bool,
        at: datetime,
        register_wh: float | None = None,
    ) -> None:
        """A session started or ended; `register_wh` is the meter reading then, if known."""

    def meter_samples(
        self, charge_point_id: str, connector_id: int, samples: Sequence[MeterSample]
    ) -> None: ...


class StorageHealth(Protocol):
    """The database as everything that uses it sees it: callers report failures and
    successes, the implementation logs one line per change (not one per failed call)."""

    @property
    def available(self) -> bool: ...

    def failed(self, reason: str) -> None:
        """A database call failed for want of a database (timeout, refused, lost)."""

    def succeeded(self) -> None:
        """A database call succeeded."""

    async def probe(self, within: float) -> bool:
        """Ask the database, waiting at most `within` seconds; True when it answered."""


class DuplicateTransactionError(Exception):
    """Raised by TransactionRepository.add when the start key is taken (a concurrent replay
    won the insert); a reference to a missing station is a different error."""


class ApiTokenRepository(Protocol):
    async def add(self, token: ApiToken) -> None:
        """Raises DuplicateNameError when a token of that name exists (even revoked)."""

    async def get(self, name: str) -> ApiToken | None: ...

    async def by_digest(self, digest: str) -> ApiToken | None: ...

    async def all(self) -> list[ApiToken]: ...

    async def revoke(self, name: str, at: datetime) -> bool:
        """False when there is no active token of that name."""


class DuplicateNameError(Exception):
    """Raised by a repository when a unique name is taken (a concurrent create won)."""


class SecretBox(Protocol):
    """Encrypts what must be kept but must not be readable at rest (a held chat action's
    arguments, a private key): authenticated encryption with a key from the settings."""

    def seal(self, plain: str) -> str: ...

    def open(self, sealed: str) -> str:
        """Raises SealedDataError when `sealed` was not sealed with this key."""


class SealedDataError(Exception):
    """Sealed data that this key cannot open (another key, or tampered with)."""
