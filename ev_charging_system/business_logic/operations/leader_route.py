"""Operations on what only the leader holds, run on the leader (a cluster's port).

The energy planner keeps its measurements, manual setpoints, deferrable loads' progress
and the current plan in memory, and in a cluster only the leader's planner runs. An
operation marked `on_leader` therefore runs there: the runner on any other node hands
the validated call to a `LeaderRoute` (NATS request/reply in `cluster/leader_calls.py`)
and gets back the operation's answer as JSON, or the domain error raised on the leader.
Authorisation, confirmation and the audit record stay on the node the caller used, as for
every operation; the leader only performs. One process has no route: it is the leader.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from ev_charging_system.business_logic.operations.actor import Actor


class Stage(StrEnum):
    PRECHECK = "precheck"  # what must hold before a person is asked to confirm
    PERFORM = "perform"


@dataclass(frozen=True, slots=True)
class ForwardedCall:
    operation: str
    stage: Stage
    arguments: dict[str, Any]  # the validated input, as JSON data
    actor: Actor


class LeaderRoute(Protocol):
    def runs_here(self) -> bool:
        """Whether this node leads (then the call is performed here)."""
        ...

    async def call(self, forwarded: ForwardedCall) -> bytes:
        """The operation's answer on the leader as JSON (raises the leader's domain error;
        LeaderUnavailableError without a leader, LeaderTimeoutError past the bound)."""
        ...
