"""The MCP server (streamable HTTP at /mcp) that lets an LLM read and operate the network."""

from __future__ import annotations

from dataclasses import dataclass

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

from ev_charging_system.business_logic.device_management_service import DeviceManagementService
from ev_charging_system.llm_integration.mcp_tools import register_tools

MCP_PATH = "/mcp"
INSTRUCTIONS = (
    "Tools and data of an EV charging-station management system (OCPP). Use the tools to "
    "look up charge points, their connectors and status before answering questions about them."
)
LOCAL_HOSTS = ["localhost:*", "127.0.0.1:*", "[::1]:*"]
LOCAL_ORIGINS = ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]


@dataclass(frozen=True, slots=True)
class McpSecurity:
    """Hosts/origins allowed besides the local ones (DNS-rebinding protection is always on)."""

    allowed_hosts: list[str]
    allowed_origins: list[str]


def build_mcp_server(devices: DeviceManagementService) -> MCPServer:
    server = MCPServer("ev-charging-system", instructions=INSTRUCTIONS, log_level="WARNING")
    register_tools(server, devices)
    return server


def build_mcp_app(server: MCPServer, security: McpSecurity) -> Starlette:
    """A fresh ASGI app; its lifespan runs the session manager (one app per server start)."""
    return server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=[*LOCAL_HOSTS, *security.allowed_hosts],
            allowed_origins=[*LOCAL_ORIGINS, *security.allowed_origins],
        ),
    )
