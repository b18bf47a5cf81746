"""Station inventory, registration, liveness and the notifications stations send."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ev_charging_system.business_logic.events import (
    ConnectorStatusChanged,
    EventPublisher,
    NoEvents,
    StationAccessChanged,
    StationBooted,
    StationConnected,
    StationDisconnected,
    StationRegistrationChanged,
)
from ev_charging_system.business_logic.group_commit import BatchStats, GroupCommit
from ev_charging_system.business_logic.last_seen import LastSeenTracker
from ev_charging_system.business_logic.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    verify_password,
)
from ev_charging_system.business_logic.ports import (
    Clock,
    StationPresence,
    UnitOfWork,
    UnitOfWorkFactory,
)
from ev_charging_system.business_logic.redaction import REDACTED, is_secret_key
from ev_charging_system.business_logic.station_activity import (
    Booted,
    Connected,
    Disconnected,
    StationActivityWriter,
    StatusReported,
)
from ev_charging_system.models.charge_point import (
    AccessRefusal,
    BootInfo,
    ChargePoint,
    ChargePointView,
    ConnectorStatus,
    RegistrationStatus,
    SecurityProfile,
    StationChannel,
    StatusChange,
    UnknownStationPolicy,
)
from ev_charging_system.models.device_model import DeviceModelEntry
from ev_charging_system.models.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StationNotAcceptedError,
)
from ev_charging_system.models.listing import StationQuery
from ev_charging_system.models.station_event import EventKind, StationEvent

MAX_CHARGE_POINT_ID_LENGTH = 48  # OCPP 2.0.1 identity: identifierString[48]
# OCPP-J (2.0.1 part 4, 3.1.1): the identity is an identifierString (a-z A-Z 0-9 * - _ = :
# + | @ .) without ':', which separates user and password in HTTP Basic authentication.
# The same rule is applied to 1.6 stations: any other character needs percent-encoding in
# the connection URL and makes the station awkward to address in REST paths.
CHARGE_POINT_ID_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-_=+|@."
)
CHARGE_POINT_ID_RULE = (
    f"a charge point id is 1 to {MAX_CHARGE_POINT_ID_LENGTH} characters of the OCPP "
    "identifierString set without ':' (a-z A-Z 0-9 * - _ = + | @ .)"
)
# A batch of station records waits at most this long for the database (the OCPP server
# bounds its own waits too).
DEFAULT_WRITE_TIMEOUT_SECONDS = 5.0
# Stations per read of a job over all of them: a page is read and built in a few ms.
STATION_PAGE = 100


@dataclass(frozen=True, slots=True)
class RegistrationPolicy:
    unknown_stations: UnknownStationPolicy
    heartbeat_interval_seconds: int
    retry_interval_seconds: int


@dataclass(frozen=True, slots=True)
class BootResult:
    status: RegistrationStatus
    interval_seconds: int
    current_time: datetime


@dataclass(frozen=True, slots=True)
class StatusReport:
    connector_id: int
    status: str
    error_code: str
    timestamp: datetime | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    evse_connector_id: int | None = None  # the connector within a 2.0.1 EVSE


_INITIAL_STATUS = {
    UnknownStationPolicy.ACCEPT: RegistrationStatus.ACCEPTED,
    UnknownStationPolicy.PENDING: RegistrationStatus.PENDING,
    UnknownStationPolicy.REJECT: RegistrationStatus.REJECTED,
}


class NoStations:
    """Presence for processes without an OCPP server (tools, tests of services)."""

    def is_online(self, charge_point_id: str) -> bool:
        return False

    def online_ids(self) -> frozenset[str]:
        return frozenset()


@dataclass(frozen=True, slots=True)
class StationAccess:
    """How a known station authenticates, as remembered between its handshakes."""

    security_profile: SecurityProfile
    password_hash: str | None
    matched: bytes | None = None  # keyed digest of the last password that verified


class DeviceManagementService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        policy: RegistrationPolicy,
        last_seen: LastSeenTracker,
        presence: StationPresence | None = None,
        events: EventPublisher | None = None,
        write_timeout_seconds: float = DEFAULT_WRITE_TIMEOUT_SECONDS,
        concurrent_writes: int = 1,
        read_uow_factory: UnitOfWorkFactory | None = None,
    ) -> None:
        """`read_uow_factory`: units of work for a single read (PostgreSQL: autocommit,
        so no BEGIN and ROLLBACK round trips around it); the usual ones by default."""
        self._uow_factory = uow_factory
        self._events: EventPublisher = events if events is not None else NoEvents()
        self._clock = clock
        self._policy = policy
        self._last_seen = last_seen
        self._presence: StationPresence = presence if presence is not None else NoStations()
        # Registration is read on every message; keep it in memory, write through.
        self._registration: dict[str, RegistrationStatus] = {}
        self._access: dict[str, StationAccess] = {}
        # Keys the in-memory memo of matched passwords; never leaves this process.
        self._password_memo_key = secrets.token_bytes(32)
        # Connections, boots and connector statuses: batched (a reconnect storm's bulk).
        self._activity = StationActivityWriter(
            uow_factory,
            _INITIAL_STATUS[policy.unknown_stations],
            write_timeout_seconds,
            concurrent_writes,
        )
        # A station not remembered (every one after a restart) is read at its handshake;
        # in a storm those reads share one query per batch, like the writes.
        self._read_uow_factory = read_uow_factory or uow_factory
        self._lookups: GroupCommit[str, ChargePoint | None] = GroupCommit(
            self._read_stations, write_timeout_seconds, in_flight=2
        )

    def activity_batches(self) -> BatchStats:
        return self._activity.stats()

    def attach_presence(self, presence: StationPresence) -> None:
        self._presence = presence

    def forget_registration(self, charge_point_id: str) -> None:
        """Another process changed the station's registration: read it again when the
        station next sends something (a cluster node's registration cache)."""
        self._registration.pop(charge_point_id, None)
        self._access.pop(charge_point_id, None)

    # --- station-initiated -----------------------------------------------------------

    async def station_connected(self, charge_point_id: str, ocpp_version: str) -> None:
        now = self._clock()
        status = await self._activity.registration_of(Connected(charge_point_id, ocpp_version, now))
        self._registration[charge_point_id] = status
        self._last_seen.record(charge_point_id, now)
        self._events.publish(
            StationConnected(at=now, charge_point_id=charge_point_id, ocpp_version=ocpp_version)
        )

    async def station_disconnected(
        self, charge_point_id: str, reason: str, went_offline: bool = True
    ) -> None:
        """A connection ended; `went_offline` is False when a newer one replaced it."""
        now = self._clock()
        await self._activity.write(Disconnected(charge_point_id, reason, went_offline, now))
        self._events.publish(
            StationDisconnected(
                at=now,
                charge_point_id=charge_point_id,
                reason=reason,
                replaced_by_newer_connection=not went_offline,
            )
        )

    async def boot(
        self, charge_point_id: str, boot: BootInfo, reason: str | None = None
    ) -> BootResult:
        now = self._clock()
        status = await self._activity.registration_of(Booted(charge_point_id, boot, reason, now))
        self._registration[charge_point_id] = status
        self._events.publish(
            StationBooted(
                at=now,
                charge_point_id=charge_point_id,
                registration_status=status.value,
                vendor=boot.vendor,
                model=boot.model,
                firmware_version=boot.firmware_version,
            )
        )
        interval = (
            self._policy.heartbeat_interval_seconds
            if status is RegistrationStatus.ACCEPTED
            else self._policy.retry_interval_seconds
        )
        return BootResult(status, interval, now)

    async def ensure_accepted(self, charge_point_id: str) -> None:
        status = self._registration.get(charge_point_id)
        if status is None:
            station = await self._lookups.submit(charge_point_id)
            status = station.registration_status if station else RegistrationStatus.REJECTED
            self._registration[charge_point_id] = status
        if status is not RegistrationStatus.ACCEPTED:
            raise StationNotAcceptedError(charge_point_id, status.value)

    def heartbeat(self, charge_point_id: str) -> datetime:
        now = self._clock()
        self._last_seen.record(charge_point_id, now)
        return now

    def seen(self, charge_point_id: str) -> None:
        self._last_seen.record(charge_point_id, self._clock())

    async def status_notification(self, charge_point_id: str, report: StatusReport) -> None:
        now = self._clock()
        reported_at = report.timestamp or now
        status = ConnectorStatus(
            connector_id=report.connector_id,
            status=report.status,
            error_code=report.error_code,
            reported_at=reported_at,
            info=report.info,
            vendor_id=report.vendor_id,
            vendor_error_code=report.vendor_error_code,
            evse_connector_id=report.evse_connector_id,
        )
        await self._activity.write(StatusReported(charge_point_id, status, now))
        self._events.publish(
            ConnectorStatusChanged(
                at=now,
                charge_point_id=charge_point_id,
                connector_id=report.connector_id,
                status=report.status,
                error_code=report.error_code,
                reported_at=reported_at,
                info=report.info,
            )
        )

    async def firmware_status(self, charge_point_id: str, status: str) -> None:
        def apply(station: ChargePoint) -> None:
            station.firmware_status = status

        await self._update_station(charge_point_id, EventKind.FIRMWARE_STATUS, status, apply)

    async def diagnostics_status(self, charge_point_id: str, status: str) -> None:
        def apply(station: ChargePoint) -> None:
            station.diagnostics_status = status

        await self._update_station(charge_point_id, EventKind.DIAGNOSTICS_STATUS, status, apply)

    async def record_event(
        self, charge_point_id: str, kind: EventKind, detail: dict[str, Any]
    ) -> None:
        async with self._uow_factory() as uow:
            await self._event(uow, charge_point_id, kind, detail)
            await uow.commit()

    async def check_station_access(
        self, charge_point_id: str, password: str | None, channel: StationChannel
    ) -> AccessRefusal | None:
        """None when the station may open this connection, else why not.

        The station's security profile decides: 1 needs its password when one is set;
        2 needs TLS and the password; 3 needs TLS with a client certificate issued to this
        very station id. A certificate issued to another station is refused on any profile.
        Stations nobody registered are let through: their BootNotification meets the
        unknown-station policy.

        A known station's profile and password hash are kept in memory (forgotten when
        they change, here or, through its event, on another node), and so is the last
        password that matched: a reconnect costs neither a database read nor a scrypt.
        """
        subject = channel.certificate_subject
        if subject is not None and subject != charge_point_id:
            return AccessRefusal(f"the client certificate belongs to {subject!r}")
        access = self._access.get(charge_point_id)
        if access is None:
            station = await self._lookups.submit(charge_point_id)
            if station is None:
                return None  # not remembered: it may be registered elsewhere any moment
            access = StationAccess(station.security_profile, station.password_hash)
            self._access[charge_point_id] = access
        profile = access.security_profile
        if profile is not SecurityProfile.BASIC_AUTH and not channel.tls:
            return AccessRefusal(f"security profile {profile.value} requires TLS (wss://)")
        if profile is SecurityProfile.TLS_CLIENT_CERTIFICATE:
            if subject is None:
                return AccessRefusal("security profile 3 requires a client certificate")
            return None
        if access.password_hash is None:
            if profile is SecurityProfile.TLS_BASIC_AUTH:
                return AccessRefusal("security profile 2 requires a station password; none is set")
            return None
        if password is None:
            return AccessRefusal("a password is required", credentials_missing=True)
        digest = hmac.new(self._password_memo_key, password.encode(), hashlib.sha256).digest()
        if access.matched is not None and hmac.compare_digest(access.matched, digest):
            return None
        # scrypt is deliberately slow: keep it off the event loop.
        if not await asyncio.to_thread(verify_password, password, access.password_hash):
            return AccessRefusal("wrong password", credentials_missing=True)
        if self._access.get(charge_point_id) is access:  # unchanged while scrypt ran
            self._access[charge_point_id] = replace(access, matched=digest)
        return None

    def _access_changed(self, charge_point_id: str, change: str) -> None:
        self._access.pop(charge_point_id, None)
        self._events.publish(
            StationAccessChanged(at=self._clock(), charge_point_id=charge_point_id, change=change)
        )

    async def set_security_profile(
        self, charge_point_id: str, profile: SecurityProfile
    ) -> ChargePointView:
        async with self._uow_factory() as uow:
            station = await self._require(uow, charge_point_id)
            if profile is SecurityProfile.TLS_BASIC_AUTH and station.password_hash is None:
                raise ConflictError(
                    "security profile 2 authenticates with the station's password: set one first"
                )
            previous = station.security_profile
            station.security_profile = profile
            await uow.charge_points.update(station)
            await self._event(
                uow,
                charge_point_id,
                EventKind.SECURITY_PROFILE_CHANGED,
                {"from": previous.value, "to": profile.value},
            )
            await uow.commit()
        self._access_changed(charge_point_id, "security_profile")
        return self._view(station)

    async def store_device_model(
        self, charge_point_id: str, entries: Sequence[DeviceModelEntry]
    ) -> None:
        now = self._clock()
        kept = [
            replace(
                e,
                updated_at=e.updated_at or now,
                # A station that reports a credential's value: keep that it has one, not what.
                value=REDACTED if e.value and is_secret_key(e.variable_name) else e.value,
            )
            for e in entries
        ]
        async with self._uow_factory() as uow:
            await uow.device_model.upsert(charge_point_id, kept)
            await uow.commit()

    # --- operator --------------------------------------------------------------------

    async def device_model(self, charge_point_id: str) -> list[DeviceModelEntry]:
        async with self._uow_factory() as uow:
            await self._require(uow, charge_point_id)
            return await uow.device_model.all(charge_point_id)

    def online_count(self) -> int:
        return len(self._presence.online_ids())

    def online_ids(self) -> frozenset[str]:
        """Who is connected now (presence, not stored)."""
        return self._presence.online_ids()

    def accepted_online_count(self) -> int:
        """Connected stations whose registration is Accepted (as far as this process knows)."""
        accepted = RegistrationStatus.ACCEPTED
        return sum(1 for i in self._presence.online_ids() if self._registration.get(i) is accepted)

    async def list_charge_points(self) -> list[ChargePointView]:
        async with self._uow_factory() as uow:
            stations = await uow.charge_points.all()
        return [self._view(station) for station in stations]

    async def charge_points_in_pages(
        self, page_size: int = STATION_PAGE
    ) -> AsyncIterator[list[ChargePointView]]:
        """Every station, `page_size` at a time (by id), each page read on its own: a job
        over the whole network (the alarm sweep) never holds the event loop for all of
        them at once (10,000 stations read and built in one go: about half a second)."""
        after: str | None = None
        while True:
            async with self._read_uow_factory() as uow:
                stations = await uow.charge_points.page_after(after, page_size)
            if not stations:
                return
            yield [self._view(station) for station in stations]
            if len(stations) < page_size:
                return
            after = stations[-1].id

    async def page_charge_points(
        self, query: StationQuery
    ) -> tuple[list[ChargePointView], int, list[str]]:
        """One page of stations (filtered and sorted by the database), the number matching,
        and the vendors known."""
        query = replace(query, online_ids=self._presence.online_ids())
        async with self._uow_factory() as uow:
            page = await uow.charge_points.search(query)
        # "online" as the query saw it, so a row never contradicts the filter it passed
        online = query.online_ids
        views = [self._view(station, station.id in online) for station in page.items]
        return views, page.total, page.vendors

    async def get_charge_point(self, charge_point_id: str) -> ChargePointView:
        async with self._uow_factory() as uow:
            station = await uow.charge_points.get(charge_point_id)
        if station is None:
            raise NotFoundError("charge point", charge_point_id)
        return self._view(station)

    async def create_charge_point(
        self,
        charge_point_id: str,
        password: str | None = None,
        registration_status: RegistrationStatus = RegistrationStatus.ACCEPTED,
    ) -> ChargePointView:
        _check_charge_point_id(charge_point_id)
        password_hash = await _hash_new_password(password) if password is not None else None
        async with self._uow_factory() as uow:
            if await uow.charge_points.get(charge_point_id, with_connectors=False) is not None:
                raise ConflictError(f"charge point {charge_point_id!r} already exists")
            station = ChargePoint(
                id=charge_point_id,
                registration_status=registration_status,
                created_at=self._clock(),
                password_hash=password_hash,
            )
            await uow.charge_points.add(station)
            await uow.commit()
        self._registration[charge_point_id] = registration_status
        return self._view(station)

    async def set_registration_status(
        self, charge_point_id: str, status: RegistrationStatus
    ) -> ChargePointView:
        async with self._uow_factory() as uow:
            station = await self._require(uow, charge_point_id)
            previous = station.registration_status
            station.registration_status = status
            await uow.charge_points.update(station)
            await self._event(
                uow,
                charge_point_id,
                EventKind.REGISTRATION_CHANGED,
                {"from": previous.value, "to": status.value},
            )
            await uow.commit()
        self._registration[charge_point_id] = status
        self._events.publish(
            StationRegistrationChanged(
                at=self._clock(), charge_point_id=charge_point_id, registration_status=status.value
            )
        )
        return self._view(station)

    async def set_password(self, charge_point_id: str, password: str | None) -> ChargePointView:
        password_hash = await _hash_new_password(password) if password is not None else None
        async with self._uow_factory() as uow:
            station = await self._require(uow, charge_point_id)
            station.password_hash = password_hash
            await uow.charge_points.update(station)
            await uow.commit()
        self._access_changed(charge_point_id, "password")
        return self._view(station)

    async def status_history(
        self, charge_point_id: str, connector_id: int | None = None, limit: int = 100
    ) -> list[StatusChange]:
        async with self._uow_factory() as uow:
            await self._require(uow, charge_point_id)
            return await uow.charge_points.list_status_changes(charge_point_id, connector_id, limit)

    async def list_events(
        self, charge_point_id: str | None = None, limit: int = 100
    ) -> list[StationEvent]:
        async with self._uow_factory() as uow:
            if charge_point_id is not None:
                await self._require(uow, charge_point_id)
            return await uow.events.recent(charge_point_id, limit)

    # --- internals -------------------------------------------------------------------

    def _view(self, station: ChargePoint, online: bool | None = None) -> ChargePointView:
        pending = self._last_seen.pending(station.id)
        if pending is not None and (station.last_seen_at is None or pending > station.last_seen_at):
            station = replace(station, last_seen_at=pending)
        if online is None:
            online = self._presence.is_online(station.id)
        return ChargePointView(station, online=online)

    async def _read_stations(self, charge_point_ids: Sequence[str]) -> list[ChargePoint | None]:
        async with self._read_uow_factory() as uow:
            stations = await uow.charge_points.get_many(charge_point_ids)
        found = {station.id: station for station in stations}
        return [found.get(charge_point_id) for charge_point_id in charge_point_ids]

    async def _require(self, uow: UnitOfWork, charge_point_id: str) -> ChargePoint:
        station = await uow.charge_points.get(charge_point_id)
        if station is None:
            raise NotFoundError("charge point", charge_point_id)
        return station

    async def _update_station(
        self,
        charge_point_id: str,
        kind: EventKind,
        status: str,
        apply: Callable[[ChargePoint], None],
    ) -> None:
        async with self._uow_factory() as uow:
            station = await self._require(uow, charge_point_id)
            apply(station)
            await uow.charge_points.update(station)
            await self._event(uow, charge_point_id, kind, {"status": status})
            await uow.commit()

    async def _event(
        self, uow: UnitOfWork, charge_point_id: str, kind: EventKind, detail: dict[str, Any]
    ) -> None:
        await uow.events.add(StationEvent(charge_point_id, kind, self._clock(), detail))


def valid_charge_point_id(charge_point_id: str) -> bool:
    return 0 < len(charge_point_id) <= MAX_CHARGE_POINT_ID_LENGTH and all(
        c in CHARGE_POINT_ID_CHARACTERS for c in charge_point_id
    )


def _check_charge_point_id(charge_point_id: str) -> None:
    if not valid_charge_point_id(charge_point_id):
        raise InvalidInputError(CHARGE_POINT_ID_RULE)


async def _hash_new_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInputError(
            f"station password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    return await asyncio.to_thread(hash_password, password)
