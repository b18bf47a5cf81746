"""StationPresence across the cluster: connected here, or held by another live node.

Services ask `is_online` synchronously (listing stations, health reports), so the answer
comes from memory: this node's own connections, plus a map of the other nodes' stations
kept current by their connect/disconnect events (as they arrive over NATS) and replaced
from PostgreSQL's live ownership on every lease renewal, so that a dead node's stations
drop out within a lease period and a missed event is repaired.
"""

from __future__ import annotations

from ev_charging_system.business_logic.events import (
    DomainEvent,
    StationConnected,
    StationDisconnected,
)
from ev_charging_system.business_logic.ports import StationPresence


class ClusterPresence:
    def __init__(self, local: StationPresence, node_id: str) -> None:
        self._local = local
        self._node_id = node_id
        self._remote: dict[str, str] = {}  # station -> node holding it

    def is_online(self, charge_point_id: str) -> bool:
        return self._local.is_online(charge_point_id) or charge_point_id in self._remote

    def online_ids(self) -> frozenset[str]:
        return self._local.online_ids() | frozenset(self._remote)

    def remote_owner(self, charge_point_id: str) -> str | None:
        return self._remote.get(charge_point_id)

    def observe(self, node_id: str, event: DomainEvent) -> None:
        """An event another node published (the event bus's remote tap)."""
        station = event.charge_point_id
        if station is None:
            return
        if isinstance(event, StationConnected):
            self._remote[station] = node_id
        elif (
            isinstance(event, StationDisconnected)
            and not event.replaced_by_newer_connection
            and self._remote.get(station) == node_id  # not if it has moved on since
        ):
            del self._remote[station]

    def replace(self, owners: dict[str, str]) -> None:
        """Live ownership as read from the database (other nodes' stations only)."""
        self._remote = {s: n for s, n in owners.items() if n != self._node_id}
