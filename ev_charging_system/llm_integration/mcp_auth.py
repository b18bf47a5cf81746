"""Who is calling an MCP tool or resource, and with which role.

Bearer tokens are checked by the SDK's own bearer middleware through `McpTokenVerifier`:
the two static MCP tokens (settings MCP_READ_TOKEN / MCP_OPERATE_TOKEN, scopes `read` and
`read operate`), and the named API tokens every channel accepts (`python main.py
create-token`), whose role becomes their scopes. Scopes map onto the roles every channel
shares: `read` is a viewer, `operate` an operator, `admin` an admin. The SDK has no
per-tool scopes; the OperationRunner checks the role of every call.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context

from ev_charging_system.business_logic.operations.actor import Actor, Channel, Role
from ev_charging_system.business_logic.token_service import Holder

READ = "read"
OPERATE = "operate"
ADMIN = "admin"
SCOPES_OF_ROLE = {
    Role.VIEWER: [READ],
    Role.OPERATOR: [READ, OPERATE],
    Role.ADMIN: [READ, OPERATE, ADMIN],
}

READ_CLIENT = "read-token"
OPERATE_CLIENT = "operate-token"


class McpTokenVerifier:
    """The SDK's `TokenVerifier`: the two MCP tokens (constant-time compare), then the
    named API tokens."""

    def __init__(
        self,
        read_token: str,
        operate_token: str,
        holder: Callable[[str], Awaitable[Holder | None]] | None = None,
    ) -> None:
        if not read_token or not operate_token or read_token == operate_token:
            raise ValueError("the MCP read and operate tokens must be set and differ")
        self._tokens = (
            (operate_token.encode(), OPERATE_CLIENT, SCOPES_OF_ROLE[Role.OPERATOR]),
            (read_token.encode(), READ_CLIENT, SCOPES_OF_ROLE[Role.VIEWER]),
        )
        self._holder = holder

    async def verify_token(self, token: str) -> AccessToken | None:
        offered = token.encode()
        found: AccessToken | None = None
        for secret, client_id, scopes in self._tokens:
            # Compare against every token so timing does not tell which one nearly matched.
            if secrets.compare_digest(offered, secret):
                found = AccessToken(token=token, client_id=client_id, scopes=list(scopes))
        if found is None and self._holder is not None:
            holder = await self._holder(token)
            if holder is not None and holder.role in SCOPES_OF_ROLE:
                scopes = SCOPES_OF_ROLE[holder.role]
                found = AccessToken(token=token, client_id=holder.name, scopes=list(scopes))
        return found


def role_of(scopes: list[str] | frozenset[str]) -> Role:
    if ADMIN in scopes:
        return Role.ADMIN
    if OPERATE in scopes:
        return Role.OPERATOR
    return Role.VIEWER if READ in scopes else Role.ANONYMOUS


_in_process_actor: ContextVar[Actor | None] = ContextVar("mcp_in_process_actor", default=None)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Run in-process tool calls (tests with the SDK's in-memory client) as `actor`."""
    reset = _in_process_actor.set(actor)
    try:
        yield actor
    finally:
        _in_process_actor.reset(reset)


def client_of(ctx: Context[Any, Any] | None) -> str | None:
    """The other end: the MCP session (Mcp-Session-Id) where the protocol has one, else
    the peer's address (2026-07-28 is sessionless)."""
    if ctx is None:
        return None
    try:
        request = ctx.request_context.request
    except ValueError:  # not inside a request (in-process)
        return None
    headers = getattr(request, "headers", None)
    session = headers.get("mcp-session-id") if headers is not None else None
    if session:
        return f"mcp-session:{session}"
    peer = getattr(request, "client", None)
    return f"{peer.host}:{peer.port}" if peer is not None else None


def current_actor(ctx: Context[Any, Any] | None = None) -> Actor:
    """The caller of this request; anonymous when nobody signed in (the SDK stops those
    at the door over HTTP, so this only happens in-process)."""
    token = get_access_token()
    if token is not None:
        return Actor(f"mcp:{token.client_id}", Channel.MCP, role_of(token.scopes), client_of(ctx))
    actor = _in_process_actor.get()
    if actor is not None:
        return actor
    return Actor("mcp:anonymous", Channel.MCP, Role.ANONYMOUS, authenticated=False)
