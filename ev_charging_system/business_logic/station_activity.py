"""What stations write when they come, boot, report their connectors and go, in batches.

After a CSMS restart or a network outage every station reconnects at once, and each one's
setup writes: its connection (the station registered if new, its OCPP version, an event,
an Online entry in the status history), its BootNotification (boot fields, an event) and
a StatusNotification per connector. One ORM unit of work per message cost about 10 ms of
CPU per station (reads before writes, ORM flushes, BEGIN/COMMIT round trips): the process
was CPU-bound at ~100 stations per second. Here every such record goes through one group
commit (group_commit.py): records arriving while a batch commits share the next one, one
transaction of a few multi-row statements. A record is acknowledged (the station's
connection kept, its message answered) only once its batch is committed, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ev_charging_system.business_logic.group_commit import BatchStats, GroupCommit
from ev_charging_system.business_logic.ports import UnitOfWork, UnitOfWorkFactory
from ev_charging_system.models.charge_point import (
    BootInfo,
    BootRecord,
    ChargePoint,
    ConnectorStatus,
    RegistrationStatus,
    StatusChange,
)
from ev_charging_system.models.station_event import EventKind, StationEvent

ONLINE, OFFLINE = "Online", "Offline"  # connectivity entries of the status history
MAX_INFO_LENGTH = 500  # the status history's info column


@dataclass(frozen=True, slots=True)
class Connected:
    charge_point_id: str
    ocpp_version: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Disconnected:
    charge_point_id: str
    reason: str
    went_offline: bool  # False when a newer connection of the station replaced this one
    at: datetime


@dataclass(frozen=True, slots=True)
class Booted:
    charge_point_id: str
    boot: BootInfo
    reason: str | None  # 2.0.1's boot reason
    at: datetime


@dataclass(frozen=True, slots=True)
class StatusReported:
    charge_point_id: str
    status: ConnectorStatus
    received_at: datetime


StationRecord = Connected | Disconnected | Booted | StatusReported


class StationActivityWriter:
    """Writes station records in shared transactions; `write` answers, for a connection or
    a boot, the station's registration status as stored in that transaction."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        initial_status: RegistrationStatus,
        timeout_seconds: float,
        concurrent_writes: int,
    ) -> None:
        self._uow_factory = uow_factory
        self._initial_status = initial_status  # of a station never seen before
        self._writes: GroupCommit[StationRecord, RegistrationStatus | None] = GroupCommit(
            self._flush, timeout_seconds, in_flight=concurrent_writes
        )

    def stats(self) -> BatchStats:
        return self._writes.stats()

    async def write(self, record: StationRecord) -> RegistrationStatus | None:
        return await self._writes.submit(record)

    async def registration_of(self, record: Connected | Booted) -> RegistrationStatus:
        status = await self.write(record)
        if status is None:  # the batch stored the station, so it has a status
            raise RuntimeError(f"charge point {record.charge_point_id!r} has no registration")
        return status

    async def _flush(self, records: Sequence[StationRecord]) -> list[RegistrationStatus | None]:
        async with self._uow_factory() as uow:
            # Connections first: a station's boot or status in the same batch needs its row.
            statuses = await uow.charge_points.register_connections(
                [
                    ChargePoint(
                        id=r.charge_point_id,
                        registration_status=self._initial_status,
                        created_at=r.at,
                        ocpp_version=r.ocpp_version,
                    )
                    for r in records
                    if isinstance(r, Connected)
                ]
            )
            booted = await self._boots(uow, [r for r in records if isinstance(r, Booted)])
            await uow.charge_points.save_connector_statuses(
                [(r.charge_point_id, r.status) for r in records if isinstance(r, StatusReported)]
            )
            await uow.events.add_many([e for r in records if (e := _event(r, booted)) is not None])
            await uow.charge_points.add_status_changes(
                [c for r in records if (c := _status_change(r)) is not None]
            )
            await uow.commit()
        return [
            booted.get(r.charge_point_id)
            if isinstance(r, Booted)
            else statuses.get(r.charge_point_id)
            if isinstance(r, Connected)
            else None
            for r in records
        ]

    async def _boots(
        self, uow: UnitOfWork, boots: Sequence[Booted]
    ) -> dict[str, RegistrationStatus]:
        records = [BootRecord(b.charge_point_id, b.boot, b.at) for b in boots]
        statuses = await uow.charge_points.record_boots(records)
        missing = [r for r in records if r.charge_point_id not in statuses]
        if missing:
            # A boot from a station whose connection was never recorded (services driven
            # without the OCPP server): registered here, as a connection would have.
            for record in missing:
                await uow.charge_points.add_if_missing(
                    ChargePoint(record.charge_point_id, self._initial_status, record.at)
                )
            statuses.update(await uow.charge_points.record_boots(missing))
        return statuses


def _event(record: StationRecord, booted: dict[str, RegistrationStatus]) -> StationEvent | None:
    detail: dict[str, Any]
    match record:
        case Connected():
            kind, detail = EventKind.CONNECTED, {"ocpp": record.ocpp_version}
        case Disconnected():
            kind = EventKind.DISCONNECTED
            detail = {
                "reason": record.reason,
                "replaced_by_newer_connection": not record.went_offline,
            }
        case Booted():
            kind = EventKind.BOOT
            detail = {
                "vendor": record.boot.vendor,
                "model": record.boot.model,
                "firmware_version": record.boot.firmware_version,
                "registration_status": booted[record.charge_point_id].value,
                "reason": record.reason,
            }
        case StatusReported():
            return None
    return StationEvent(record.charge_point_id, kind, record.at, detail)


def _status_change(record: StationRecord) -> StatusChange | None:
    """A reported status, or the station's connectivity (connector 0) going on or off."""
    match record:
        case StatusReported(status=s):
            return StatusChange(
                charge_point_id=record.charge_point_id,
                connector_id=s.connector_id,
                status=s.status,
                error_code=s.error_code,
                reported_at=s.reported_at,
                received_at=record.received_at,
                info=s.info,
                vendor_id=s.vendor_id,
                vendor_error_code=s.vendor_error_code,
                evse_connector_id=s.evse_connector_id,
            )
        case Connected():
            return _connectivity(
                record.charge_point_id, ONLINE, f"OCPP {record.ocpp_version}", record.at
            )
        case Disconnected(went_offline=True):
            return _connectivity(record.charge_point_id, OFFLINE, record.reason, record.at)
    return None


def _connectivity(charge_point_id: str, status: str, info: str, at: datetime) -> StatusChange:
    return StatusChange(
        charge_point_id=charge_point_id,
        connector_id=0,
        status=status,
        error_code="NoError",
        reported_at=at,
        received_at=at,
        info=info[:MAX_INFO_LENGTH],
    )
