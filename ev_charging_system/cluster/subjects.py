"""The NATS subjects of one cluster (CLUSTER_NAME keeps clusters on one server apart)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Subjects:
    cluster: str

    def events_of(self, node_id: str) -> str:
        """Where a node publishes its domain events: one publisher per subject keeps each
        station's events in order (a station is held by one node at a time)."""
        return f"{self.cluster}.events.{node_id}"

    @property
    def all_events(self) -> str:
        return f"{self.cluster}.events.*"

    @property
    def stream(self) -> str:
        """The JetStream stream that logs every node's events (event_log.py)."""
        return f"{self.cluster}_events"

    def commands_of(self, node_id: str) -> str:
        """Where a node takes commands for the stations it holds (request/reply)."""
        return f"{self.cluster}.commands.{node_id}"

    @property
    def site_changed(self) -> str:
        """Announced by the node through which the energy site's settings changed."""
        return f"{self.cluster}.site.changed"

    @property
    def leader_calls(self) -> str:
        """Operations on the energy planner, answered by the leader only (leader_calls.py)."""
        return f"{self.cluster}.leader.calls"
