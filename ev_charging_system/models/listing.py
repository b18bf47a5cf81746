"""How an operator asks for one page of a long list: filters, order, bounds."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ev_charging_system.models.charge_point import ChargePoint


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


class StationFilter(StrEnum):
    """One word for the station list's filter menu (the dashboard's `status=`)."""

    ALL = "all"
    ONLINE = "online"
    OFFLINE = "offline"
    ACCEPTED = "accepted"
    PENDING = "pending"
    REJECTED = "rejected"
    FAULTED = "faulted"  # connected and a connector reports Faulted now
    BOOTED = "booted"  # has sent a BootNotification
    NEVER_BOOTED = "never_booted"


class StationSort(StrEnum):
    ID = "id"
    ONLINE = "online"
    REGISTRATION = "registration"
    VENDOR = "vendor"  # vendor, then model
    FIRMWARE = "firmware"
    LAST_SEEN = "last_seen"
    LAST_BOOT = "last_boot"
    CREATED = "created"


@dataclass(frozen=True, slots=True)
class StationQuery:
    """A page of stations; `online_ids` is who is connected now (presence, not stored)."""

    text: str | None = None  # in id, vendor, model, serial numbers, firmware
    status: StationFilter = StationFilter.ALL
    vendor: str | None = None
    model: str | None = None
    site_id: int | None = None  # stations of this site
    without_site: bool = False  # stations of no site (site_id is then None)
    sort: StationSort = StationSort.ID
    order: SortOrder = SortOrder.ASC
    limit: int = 50
    offset: int = 0
    online_ids: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class StationPage:
    items: list[ChargePoint]
    total: int  # matching stations in all pages
    vendors: list[str]  # every vendor known, for the filter menu


def like_pattern(text: str) -> str:
    """`text` as a case-insensitive substring LIKE pattern, with `\\` as the escape."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True, slots=True)
class CommandQuery:
    """Commands sent to stations, by id (the order they were sent)."""

    charge_point_id: str | None = None
    action: str | None = None
    outcome: str | None = None  # a CommandOutcome value
    order: SortOrder = SortOrder.DESC  # newest first
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Audit records, by id (the order they were written)."""

    actor: str | None = None
    tool: str | None = None
    channel: str | None = None
    outcome: str | None = None  # an AuditOutcome value
    order: SortOrder = SortOrder.DESC  # newest first
    limit: int = 100
    offset: int = 0


class TransactionSort(StrEnum):
    STARTED = "started"
    STOPPED = "stopped"  # running sessions (no stop yet) after every stopped one, ascending
    ENERGY = "energy"  # Wh delivered; running sessions last, ascending
    CHARGE_POINT = "charge_point"


class IdTagSort(StrEnum):
    ID_TAG = "id_tag"
    NAME = "name"
    STATUS = "status"
    EXPIRY = "expiry_date"
    CREATED = "created"


@dataclass(frozen=True, slots=True)
class IdTagQuery:
    text: str | None = None  # in the tag or its holder's name
    status: str | None = None  # an AuthorizationStatus value
    parent_id_tag: str | None = None
    sort: IdTagSort = IdTagSort.ID_TAG
    order: SortOrder = SortOrder.ASC
    limit: int = 50
    offset: int = 0
