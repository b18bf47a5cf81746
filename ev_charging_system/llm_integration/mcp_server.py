"""The MCP server (streamable HTTP at /mcp) that lets an LLM read and operate the network.

`build_mcp(services, settings)` assembles it: bearer-token auth with read/operate scopes
(the SDK's verifier + middleware), tools, resources, prompts, resource-updated
notifications and the confirmation machinery. `McpEndpoint.asgi_app()` makes a fresh ASGI
app per server start (the SDK's session manager runs once per app), with DNS-rebinding
protection always on: the SDK only enables it by itself when bound to a loopback address.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import mcp_types as types
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

from ev_charging_system.llm_integration.confirmation import ConfirmationTokens
from ev_charging_system.llm_integration.llm_prompts import OPERATOR_GUIDE, register_prompts
from ev_charging_system.llm_integration.mcp_auth import READ, StaticTokenVerifier
from ev_charging_system.llm_integration.mcp_resources import register_resources
from ev_charging_system.llm_integration.mcp_status_feed import StationStatusFeed
from ev_charging_system.llm_integration.mcp_toolkit import (
    CsmsMcpServer,
    McpServices,
    Toolkit,
)
from ev_charging_system.llm_integration.mcp_tools import register_tools

__all__ = [
    "MCP_PATH",
    "McpEndpoint",
    "McpExtension",
    "McpServices",
    "McpSettings",
    "build_mcp",
]

MCP_PATH = "/mcp"
SERVER_NAME = "ev-charging-system"
LOCAL_HOSTS = ["localhost:*", "127.0.0.1:*", "[::1]:*"]
LOCAL_ORIGINS = ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]

# Adds tools (and resources/prompts) to the server with the shared toolkit, e.g. the
# energy tools: `build_mcp(services, settings, extensions=[energy_tools(coordinator)])`.
McpExtension = Callable[[Toolkit], None]


@dataclass(frozen=True, slots=True)
class McpSettings:
    read_token: str
    operate_token: str
    confirmation_ttl_seconds: float = 120
    allowed_hosts: Sequence[str] = ()  # besides the loopback ones
    allowed_origins: Sequence[str] = ()
    status_poll_seconds: float = 2.0
    # Static tokens have no OAuth issuer; the SDK requires the field all the same.
    issuer_url: str = "http://localhost"


@dataclass(frozen=True, slots=True)
class McpEndpoint:
    server: CsmsMcpServer
    toolkit: Toolkit
    status_feed: StationStatusFeed
    settings: McpSettings

    def asgi_app(self) -> Starlette:
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
        return app


def build_mcp(
    services: McpServices, settings: McpSettings, extensions: Sequence[McpExtension] = ()
) -> McpEndpoint:
    feed = StationStatusFeed(services.devices, settings.status_poll_seconds)
    server = CsmsMcpServer(
        SERVER_NAME,
        instructions=OPERATOR_GUIDE,
        log_level="WARNING",
        token_verifier=StaticTokenVerifier(settings.read_token, settings.operate_token),
        auth=AuthSettings(
            issuer_url=settings.issuer_url,
            resource_server_url=None,
            required_scopes=[READ],  # both tokens carry it; anything else gets 401/403
        ),
        subscriptions=feed.bus,
    )
    toolkit = Toolkit(
        server,
        services,
        ConfirmationTokens(settings.confirmation_ttl_seconds),
        elicitation_timeout_seconds=settings.confirmation_ttl_seconds,
    )
    server.toolkit = toolkit
    register_tools(toolkit)
    register_resources(toolkit)
    for extension in extensions:
        extension(toolkit)
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
    return McpEndpoint(server, toolkit, feed, settings)


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
