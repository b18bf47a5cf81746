"""The in-process event bus: filters, and slow consumers that never hold up publishers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ev_charging_system.business_logic.event_bus import InProcessEventBus
from ev_charging_system.business_logic.events import (
    ConnectorStatusChanged,
    EventFilter,
    StationConnected,
    SubscriptionClosedError,
)

AT = datetime(2026, 1, 1, 12, tzinfo=UTC)


def connected(charge_point_id: str) -> StationConnected:
    return StationConnected(at=AT, charge_point_id=charge_point_id, ocpp_version="1.6")


async def test_a_slow_reader_loses_its_oldest_events_and_knows_how_many() -> None:
    bus = InProcessEventBus()
    subscription = bus.subscribe(EventFilter(), max_queued=2)
    for number in range(5):
        bus.publish(connected(f"CP-{number}"))  # never waits for the reader

    first, second = await subscription.next(), await subscription.next()
    assert (first.charge_point_id, second.charge_point_id) == ("CP-3", "CP-4")
    assert subscription.dropped == 3


async def test_filters_by_station_and_type() -> None:
    bus = InProcessEventBus()
    subscription = bus.subscribe(
        EventFilter.of(["CP-1"], ["connector.status_changed"]), max_queued=10
    )
    bus.publish(connected("CP-1"))
    bus.publish(
        ConnectorStatusChanged(
            at=AT,
            charge_point_id="CP-2",
            connector_id=1,
            status="Charging",
            error_code="NoError",
            reported_at=AT,
        )
    )
    wanted = ConnectorStatusChanged(
        at=AT,
        charge_point_id="CP-1",
        connector_id=1,
        status="Faulted",
        error_code="GroundFailure",
        reported_at=AT,
    )
    bus.publish(wanted)
    assert await subscription.next() == wanted
    assert wanted.payload() == {
        "at": AT.isoformat(),
        "charge_point_id": "CP-1",
        "connector_id": 1,
        "status": "Faulted",
        "error_code": "GroundFailure",
        "reported_at": AT.isoformat(),
        "info": None,
    }


async def test_a_closed_subscription_stops_its_reader_and_is_forgotten() -> None:
    bus = InProcessEventBus()
    subscription = bus.subscribe(EventFilter(), max_queued=1)
    assert bus.subscriber_count == 1
    subscription.close()
    assert bus.subscriber_count == 0
    with pytest.raises(SubscriptionClosedError):
        await subscription.next()
    bus.publish(connected("CP-1"))  # nobody listens: nothing to do, nothing raised
