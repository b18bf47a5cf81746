"""Other nodes' charging sessions into this node's energy planner.

The planner runs on the leader only, but a vehicle's station may be connected to any
node. The node holding a station tells its own planner directly (the SessionObserver
port, called by the transaction services); every other node learns the same facts from
the events that node publishes — `transaction.started`, `transaction.ended` and
`meter.sample_stored` — translated here into the same observer calls. Followers feed
their (idle) planners too, so a node that becomes leader already knows what is plugged in.

A `meter.sample_stored` event carries the latest whole-connector value per measurand in
canonical units (W, Wh, %: business_logic/metering.py) and the time it was stored, which
stands for the sample time (they differ by the message's processing time).
"""

from __future__ import annotations

from decimal import Decimal

from ev_charging_system.business_logic.events import (
    DomainEvent,
    MeterSamplesStored,
    TransactionEnded,
    TransactionStarted,
)
from ev_charging_system.business_logic.ports import SessionObserver
from ev_charging_system.cluster.event_bus import RemoteEventTap
from ev_charging_system.models.transaction import MeterSample

# The measurands the planner reads, in the canonical unit metering gives them.
CANONICAL_UNITS = {
    "Power.Active.Import": "W",
    "Energy.Active.Import.Register": "Wh",
    "SoC": "Percent",
}


def remote_session_feed(observer: SessionObserver) -> RemoteEventTap:
    def tap(_node_id: str, event: DomainEvent) -> None:
        station = event.charge_point_id
        if station is None:
            return
        if isinstance(event, TransactionStarted):
            observer.session_changed(
                station, event.connector_id, True, event.started_at, float(event.meter_start_wh)
            )
        elif isinstance(event, TransactionEnded):
            observer.session_changed(
                station, event.connector_id, False, event.stopped_at or event.at
            )
        elif isinstance(event, MeterSamplesStored):
            samples = samples_of(event)
            if samples:
                observer.meter_samples(station, event.connector_id, samples)

    return tap


def samples_of(event: MeterSamplesStored) -> list[MeterSample]:
    assert event.charge_point_id is not None
    return [
        MeterSample(
            charge_point_id=event.charge_point_id,
            connector_id=event.connector_id,
            transaction_id=event.transaction_id,
            timestamp=event.at,
            measurand=measurand,
            raw_value=repr(value),
            value=Decimal(repr(value)),
            unit=CANONICAL_UNITS[measurand],
        )
        for measurand, value in event.latest.items()
        if measurand in CANONICAL_UNITS
    ]
