"""Who is calling an MCP tool, and what they may do.

Two static bearer tokens (settings MCP_READ_TOKEN / MCP_OPERATE_TOKEN) are checked by the
SDK's own bearer middleware through `StaticTokenVerifier`; the SDK has no per-tool scopes,
so every tool and resource asks `require(scope)` itself.

The chat calls the same tools in-process, without HTTP: it names its caller with
`acting_as(...)`. A network request can never set that context variable, so it cannot
borrow the chat's identity.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver.exceptions import ResourceError, ToolError

READ = "read"
OPERATE = "operate"

READ_CLIENT = "read-token"
OPERATE_CLIENT = "operate-token"


@dataclass(frozen=True, slots=True)
class Caller:
    """The principal behind one tool call, as written to the audit log."""

    actor: str  # "mcp:operate-token", "chat:<conversation id>"
    channel: str  # "mcp" | "chat"
    scopes: frozenset[str]

    def may(self, scope: str) -> bool:
        return scope in self.scopes


class StaticTokenVerifier:
    """The SDK's `TokenVerifier` for the two configured tokens (constant-time compare)."""

    def __init__(self, read_token: str, operate_token: str) -> None:
        if not read_token or not operate_token or read_token == operate_token:
            raise ValueError("the MCP read and operate tokens must be set and differ")
        self._tokens = (
            (operate_token.encode(), OPERATE_CLIENT, [READ, OPERATE]),
            (read_token.encode(), READ_CLIENT, [READ]),
        )

    async def verify_token(self, token: str) -> AccessToken | None:
        offered = token.encode()
        found: AccessToken | None = None
        for secret, client_id, scopes in self._tokens:
            # Compare against every token so timing does not tell which one nearly matched.
            if secrets.compare_digest(offered, secret):
                found = AccessToken(token=token, client_id=client_id, scopes=list(scopes))
        return found


_in_process_caller: ContextVar[Caller | None] = ContextVar("mcp_in_process_caller", default=None)


@contextmanager
def acting_as(caller: Caller) -> Iterator[Caller]:
    """Run in-process tool calls (chat, tests) as `caller`."""
    reset = _in_process_caller.set(caller)
    try:
        yield caller
    finally:
        _in_process_caller.reset(reset)


def current_caller() -> Caller | None:
    token = get_access_token()
    if token is not None:
        return Caller(f"mcp:{token.client_id}", "mcp", frozenset(token.scopes))
    return _in_process_caller.get()


def missing_scope_message(scope: str) -> str:
    if scope == OPERATE:
        return (
            "this tool acts on stations and needs the 'operate' scope; the token in use is "
            "read-only. Reconnect with MCP_OPERATE_TOKEN to operate stations."
        )
    return f"this needs the {scope!r} scope"


def require(scope: str) -> Caller:
    """The caller, if allowed `scope`; a tool error the model can relay otherwise."""
    caller = current_caller()
    if caller is None:
        raise ToolError("not authenticated: send 'Authorization: Bearer <MCP token>'")
    if not caller.may(scope):
        raise ToolError(missing_scope_message(scope))
    return caller


def require_for_resource(scope: str) -> Caller:
    try:
        return require(scope)
    except ToolError as error:
        raise ResourceError(str(error)) from None
