"""Who performs an operation, through which channel, with which role."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ev_charging_system.models.access import Role

__all__ = ["SYSTEM_ACTOR", "Actor", "Channel", "Role"]


class Channel(StrEnum):
    REST = "rest"
    MCP = "mcp"
    CHAT = "chat"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """The principal behind one call, as the audit log names it.

    `name` identifies the credential or conversation ("rest:api-token", "mcp:operate-token",
    "chat:<conversation id>"); `client` the other end where known (an address, an MCP
    session), so two clients with one token can be told apart.
    """

    name: str
    channel: Channel
    role: Role
    client: str | None = None
    authenticated: bool = True  # False: nobody signed in (reads may still be open)

    def may(self, role: Role) -> bool:
        return self.role >= role


SYSTEM_ACTOR = Actor("system", Channel.SYSTEM, Role.ADMIN)
