"""Transactions a station forgot to stop, closed when it starts a new one in their place.

A connector (1.6) or EVSE (2.0.1) charges one session at a time. When a station starts a
session on a connector whose previous session it never stopped (lost StopTransaction,
firmware reset, a refused start it silently aborted), the old one would stay active
forever and corrupt reports. It is closed here: with the last meter reading known for it
(not the new session's meterStart, which would credit it with energy it may never have
delivered), the time the new session started as the latest time it can have ended, and
`closed_by_csms` so nobody mistakes the CSMS's estimate for the station's report.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ev_charging_system.business_logic.metering import transaction_registers
from ev_charging_system.business_logic.ports import Clock, UnitOfWork
from ev_charging_system.models.station_event import EventKind, StationEvent
from ev_charging_system.models.transaction import CLOSED_BY_CSMS_REASON, Transaction


async def close_superseded(
    uow: UnitOfWork,
    charge_point_id: str,
    connector_id: int,
    started_at: datetime,
    exclude_id: int | None = None,
    reason: str = CLOSED_BY_CSMS_REASON,
) -> list[Transaction]:
    """Close the transactions active on the connector that started before `started_at`
    (the moment they were over at the latest), with stop reason `reason`.

    A transaction that started later is left alone: it is newer than the one starting
    now (2.0.1 stations deliver queued offline events late and out of order).
    """
    if connector_id <= 0:
        return []
    closed = []
    for old in await uow.transactions.active_on_connector(charge_point_id, connector_id):
        if old.id == exclude_id or old.started_at >= started_at:
            continue
        _, last_reading = transaction_registers(await uow.transactions.list_meter_samples(old.id))
        stopped = replace(
            old,
            meter_stop_wh=round(last_reading) if last_reading is not None else old.meter_start_wh,
            stopped_at=started_at,
            stop_reason=reason,
            stop_id_tag=None,
            closed_by_csms=True,
        )
        if await uow.transactions.stop(stopped):
            closed.append(stopped)
    return closed


async def record_closed_by_csms(
    uow: UnitOfWork, clock: Clock, old: Transaction, new: Transaction | None
) -> None:
    """Tell the operator which session the CSMS closed, why, and what replaced it."""
    await uow.events.add(
        StationEvent(
            old.charge_point_id,
            EventKind.TRANSACTION_CLOSED_BY_CSMS,
            clock(),
            {
                "transaction_id": old.id,
                "ocpp_transaction_id": old.ocpp_transaction_id,
                "connector_id": old.connector_id,
                "meter_stop_wh": old.meter_stop_wh,
                "reason": old.stop_reason,
                "superseded_by": new.id if new else None,
                "superseded_by_ocpp_transaction_id": new.ocpp_transaction_id if new else None,
            },
        )
    )
