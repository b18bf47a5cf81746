"""Domain events: what happened, told by the services once it is stored.

Services publish; adapters consume (the SSE stream at /api/events, MCP resource update
notifications, alarms, and in a cluster the other nodes). Publishing never waits: a
consumer that falls behind loses its oldest events and is told how many (see event_bus).

Every event has a `type` such as "connector.status_changed", a time `at`, and the
`charge_point_id` it concerns where one applies; `payload()` is its JSON form.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    type: ClassVar[str] = "event"
    at: datetime
    charge_point_id: str | None = None

    def payload(self) -> dict[str, Any]:
        """JSON-ready fields, `charge_point_id` and `at` included."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# --- stations ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StationConnected(DomainEvent):
    type: ClassVar[str] = "station.connected"
    ocpp_version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StationDisconnected(DomainEvent):
    type: ClassVar[str] = "station.disconnected"
    reason: str
    replaced_by_newer_connection: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class StationBooted(DomainEvent):
    type: ClassVar[str] = "station.booted"
    registration_status: str
    vendor: str
    model: str
    firmware_version: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StationRegistrationChanged(DomainEvent):
    type: ClassVar[str] = "station.registration_changed"
    registration_status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StationAccessChanged(DomainEvent):
    """How the station must authenticate changed (its password or security profile);
    never carries the credential itself."""

    type: ClassVar[str] = "station.access_changed"
    change: str  # "password" or "security_profile"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorStatusChanged(DomainEvent):
    type: ClassVar[str] = "connector.status_changed"
    connector_id: int
    status: str
    error_code: str
    reported_at: datetime
    info: str | None = None


# --- sessions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionStarted(DomainEvent):
    type: ClassVar[str] = "transaction.started"
    transaction_id: int
    connector_id: int
    started_at: datetime
    meter_start_wh: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionUpdated(DomainEvent):
    type: ClassVar[str] = "transaction.updated"
    transaction_id: int
    connector_id: int
    energy_wh: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionEnded(DomainEvent):
    type: ClassVar[str] = "transaction.ended"
    transaction_id: int
    connector_id: int
    stopped_at: datetime | None
    energy_wh: int | None
    stop_reason: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterSamplesStored(DomainEvent):
    """One MeterValues message (or 2.0.1 event with samples) stored; `latest` per measurand."""

    type: ClassVar[str] = "meter.sample_stored"
    connector_id: int
    transaction_id: int | None
    count: int
    latest: dict[str, float]


# --- operations, alarms, energy -----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandCompleted(DomainEvent):
    type: ClassVar[str] = "command.completed"
    action: str
    outcome: str
    status: str | None
    requested_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterAnomalyDetected(DomainEvent):
    """A station reported a reading that cannot be right (e.g. a register going back)."""

    type: ClassVar[str] = "meter.anomaly"
    connector_id: int | None
    transaction_id: int | None
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmRaised(DomainEvent):
    type: ClassVar[str] = "alarm.raised"
    alarm_id: str
    rule: str
    severity: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmCleared(DomainEvent):
    type: ClassVar[str] = "alarm.cleared"
    alarm_id: str
    rule: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanChanged(DomainEvent):
    type: ClassVar[str] = "plan.changed"
    policy: str
    requested_policy: str
    reason: str
    fell_back: bool


EVENT_TYPES: tuple[type[DomainEvent], ...] = (
    StationConnected,
    StationDisconnected,
    StationBooted,
    StationRegistrationChanged,
    StationAccessChanged,
    ConnectorStatusChanged,
    TransactionStarted,
    TransactionUpdated,
    TransactionEnded,
    MeterSamplesStored,
    CommandCompleted,
    MeterAnomalyDetected,
    AlarmRaised,
    AlarmCleared,
    PlanChanged,
)
EVENT_TYPE_NAMES = frozenset(kind.type for kind in EVENT_TYPES)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a consumer wants; empty sets mean "all"."""

    charge_point_ids: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()

    @classmethod
    def of(cls, charge_point_ids: Collection[str] = (), types: Collection[str] = ()) -> EventFilter:
        return cls(frozenset(charge_point_ids), frozenset(types))

    def matches(self, event: DomainEvent) -> bool:
        if self.types and event.type not in self.types:
            return False
        return not self.charge_point_ids or event.charge_point_id in self.charge_point_ids


class EventPublisher(Protocol):
    def publish(self, event: DomainEvent) -> None:
        """Hand the event to every matching consumer; never blocks, never raises."""


class SubscriptionClosedError(Exception):
    """The subscription was closed while its consumer waited for the next event."""


class Subscription(Protocol):
    @property
    def dropped(self) -> int:
        """Events this consumer lost because it fell behind (its oldest went first)."""

    async def next(self) -> DomainEvent:
        """The next event, waiting for one; SubscriptionClosedError once closed."""

    def close(self) -> None: ...


class EventBus(EventPublisher, Protocol):
    """The port consumers subscribe on; in-process today, a broker in a cluster."""

    def subscribe(self, event_filter: EventFilter, max_queued: int) -> Subscription: ...


class PositionedSubscription(Subscription, Protocol):
    @property
    def position(self) -> str | None:
        """Where the event `next()` last returned stands in the bus's log: a client that
        lost its stream resumes after it, through any node (an SSE `id`)."""


@runtime_checkable
class ResumableEventBus(EventBus, Protocol):
    """A bus with a log every node shares (a cluster's): consumers can resume."""

    def subscribe_from(
        self, position: str | None, event_filter: EventFilter, max_queued: int
    ) -> PositionedSubscription:
        """Every event in the log's order, each with its position; with `position`, first
        the events after it that the log still holds (those already gone count as
        dropped)."""


class NoEvents:
    """A publisher that tells nobody (services used outside the application, unit tests)."""

    def publish(self, event: DomainEvent) -> None:
        return None
