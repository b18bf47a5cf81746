"""Cluster presence: a station counts as online where it is held now, not where it was."""

from __future__ import annotations

from datetime import UTC, datetime

from ev_charging_system.business_logic.events import StationConnected, StationDisconnected
from ev_charging_system.cluster.presence import ClusterPresence

AT = datetime(2026, 12, 7, tzinfo=UTC)


class Local:
    def __init__(self, *ids: str) -> None:
        self.ids = frozenset(ids)

    def is_online(self, charge_point_id: str) -> bool:
        return charge_point_id in self.ids

    def online_ids(self) -> frozenset[str]:
        return self.ids


def connected(station: str) -> StationConnected:
    return StationConnected(at=AT, charge_point_id=station, ocpp_version="1.6")


def disconnected(station: str, replaced: bool = False) -> StationDisconnected:
    return StationDisconnected(
        at=AT, charge_point_id=station, reason="closed", replaced_by_newer_connection=replaced
    )


def test_a_late_disconnect_from_the_old_node_does_not_hide_a_moved_station() -> None:
    presence = ClusterPresence(Local("CP-HERE"), "node-c")
    presence.observe("node-a", connected("CP-1"))
    presence.observe("node-b", connected("CP-1"))  # it moved to B
    presence.observe("node-a", disconnected("CP-1"))  # A notices its old socket died
    assert presence.is_online("CP-1") and presence.remote_owner("CP-1") == "node-b"
    presence.observe("node-b", disconnected("CP-1", replaced=True))  # B: newer socket won
    assert presence.is_online("CP-1")
    presence.observe("node-b", disconnected("CP-1"))
    assert not presence.is_online("CP-1")
    assert presence.online_ids() == {"CP-HERE"}


def test_the_database_view_replaces_the_map_without_this_nodes_own_rows() -> None:
    presence = ClusterPresence(Local(), "node-c")
    presence.observe("node-dead", connected("CP-GONE"))
    presence.replace({"CP-1": "node-a", "CP-MINE": "node-c"})
    assert presence.online_ids() == {"CP-1"}  # CP-MINE is not connected here any more
    assert presence.remote_owner("CP-GONE") is None
