"""Per-process caches kept true across nodes by the events other nodes publish.

A registration changed through node A (accept, reject) must apply on node B, which holds
the station and caches its registration for every message: B forgets its cached status
when A's `station.registration_changed` arrives (milliseconds), and reads it again. The
same for how a station authenticates (`station.access_changed`: password, profile), which
every node caches for the station's next handshake.
"""

from __future__ import annotations

from collections.abc import Callable

from ev_charging_system.business_logic.events import (
    DomainEvent,
    StationAccessChanged,
    StationRegistrationChanged,
)
from ev_charging_system.cluster.event_bus import RemoteEventTap


def registration_invalidator(forget: Callable[[str], None]) -> RemoteEventTap:
    def tap(_node_id: str, event: DomainEvent) -> None:
        changed = StationRegistrationChanged | StationAccessChanged
        if isinstance(event, changed) and event.charge_point_id is not None:
            forget(event.charge_point_id)

    return tap
