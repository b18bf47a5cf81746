"""The MCP server (streamable HTTP at /mcp) that lets an LLM read and operate the network.

`build_mcp(runner, events, settings)` assembles it: bearer-token auth with read/operate
scopes (the SDK's verifier + middleware), the tools derived from the operations
catalogue, resources, prompts, and resource-updated notifications driven by domain events.
`McpEndpoint.asgi_app()` makes a fresh ASGI app per server start (the SDK's session
manager runs once per app), with DNS-rebinding protection always on: the SDK only enables
it by itself when bound to a loopback address.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import mcp_types as types
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.request_state import RequestStateSecurity
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp

from ev_charging_system.business_logic.events import EventBus
from ev_charging_system.business_logic.operations.confirmation_tokens import (
    ConfirmationTokens,
    ConfirmationTokenStore,
)
from ev_charging_system.business_logic.operations.rate_limits import (
    RateLimiter,
    WindowRateLimiter,
)
from ev_charging_system.business_logic.operations.runner import OperationRunner
from ev_charging_system.business_logic.token_service import Holder
from ev_charging_system.llm_integration.llm_prompts import OPERATOR_GUIDE, register_prompts
from ev_charging_system.llm_integration.mcp_auth import READ, McpTokenVerifier
from ev_charging_system.llm_integration.mcp_operations import CsmsMcpServer, OperationTools
from ev_charging_system.llm_integration.mcp_resources import register_resources
from ev_charging_system.llm_integration.mcp_sessions import NodeSessionIds
from ev_charging_system.llm_integration.mcp_status_feed import StationStatusFeed

__all__ = ["MCP_PATH", "McpEndpoint", "McpSettings", "build_mcp"]

MCP_PATH = "/mcp"
SERVER_NAME = "ev-charging-system"
LOCAL_HOSTS = ["localhost:*", "127.0.0.1:*", "[::1]:*"]
LOCAL_ORIGINS = ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]


@dataclass(frozen=True, slots=True)
class McpSettings:
    read_token: str
    operate_token: str
    confirmation_ttl_seconds: float = 120
    allowed_hosts: Sequence[str] = ()  # besides the loopback ones
    allowed_origins: Sequence[str] = ()
    # Who holds a named API token (they work here too, with their role).
    token_holder: Callable[[str], Awaitable[Holder | None]] | None = None
    # Static tokens have no OAuth issuer; the SDK requires the field all the same.
    issuer_url: str = "http://localhost"
    # Acting tool calls per caller and minute (0: no limit).
    actions_per_minute: int = 0
    # Shared stores (a cluster's); None: this process's memory.
    confirmation_store: ConfirmationTokenStore | None = None
    action_limiter: RateLimiter | None = None
    # A cluster node's NODE_ID: session ids name it, so a balancer keeps sessions there.
    session_node: str | None = None
    # Keys sealing the 2026 protocol's request state (a confirmation's round trip); the
    # same on every node of a cluster. Empty: a key of this process only (the SDK's).
    request_state_keys: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class McpEndpoint:
    server: CsmsMcpServer
    tools: OperationTools
    status_feed: StationStatusFeed
    settings: McpSettings

    def asgi_app(self) -> ASGIApp:
        """A fresh ASGI app whose lifespan runs the SDK session manager and the status feed."""
        app = self.server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            transport_security=TransportSecuritySettings(
                enable_dns_rebinding_protection=True,
                allowed_hosts=[*LOCAL_HOSTS, *self.settings.allowed_hosts],
                allowed_origins=[*LOCAL_ORIGINS, *self.settings.allowed_origins],
            ),
        )
        sdk_lifespan: Callable[[Any], AbstractAsyncContextManager[Any]] = (
            app.router.lifespan_context
        )
        feed = self.status_feed

        @asynccontextmanager
        async def lifespan(application: Any) -> AsyncIterator[Any]:
            async with sdk_lifespan(application) as state, feed.running():
                yield state

        app.router.lifespan_context = lifespan
        if self.settings.session_node is not None:
            return NodeSessionIds(app, self.settings.session_node)
        return app


def build_mcp(runner: OperationRunner, events: EventBus, settings: McpSettings) -> McpEndpoint:
    feed = StationStatusFeed(events)
    server = CsmsMcpServer(
        SERVER_NAME,
        instructions=OPERATOR_GUIDE,
        log_level="WARNING",
        token_verifier=McpTokenVerifier(
            settings.read_token, settings.operate_token, settings.token_holder
        ),
        auth=AuthSettings(
            issuer_url=settings.issuer_url,
            resource_server_url=None,
            required_scopes=[READ],  # both tokens carry it; anything else gets 401/403
        ),
        subscriptions=feed.bus,
        request_state_security=RequestStateSecurity(keys=list(settings.request_state_keys))
        if settings.request_state_keys
        else None,
    )
    limiter = settings.action_limiter
    if limiter is None and settings.actions_per_minute > 0:
        limiter = WindowRateLimiter(settings.actions_per_minute)
    tools = OperationTools(
        runner,
        settings.confirmation_store or ConfirmationTokens(settings.confirmation_ttl_seconds),
        elicitation_timeout_seconds=settings.confirmation_ttl_seconds,
        actions=limiter,
    )
    tools.register(server)
    register_resources(server, runner)
    register_prompts(server)
    # The SDK serves the 2026-07-28 `subscriptions/listen`, not the older
    # resources/subscribe; add that for handshake-era clients (no public hook exists).
    feed.legacy.session_alive = _http_session_alive(server)
    lowlevel = server._lowlevel_server
    lowlevel.add_request_handler(
        "resources/subscribe", types.SubscribeRequestParams, feed.legacy.subscribe
    )
    lowlevel.add_request_handler(
        "resources/unsubscribe", types.UnsubscribeRequestParams, feed.legacy.unsubscribe
    )
    return McpEndpoint(server, tools, feed, settings)


def _http_session_alive(server: MCPServer[Any]) -> Callable[[str], bool]:
    """Whether an Mcp-Session-Id still names a live session of the HTTP transport."""

    def alive(session_id: str) -> bool:
        try:
            # No public accessor: the session manager's registry of open sessions.
            sessions = server.session_manager._server_instances
        except (RuntimeError, AttributeError):  # not served over HTTP (in-memory clients)
            return True
        return session_id in sessions

    return alive
