"""The chat's view of the MCP tools: the same registered tools, called in-process.

The chat does not open an MCP client session to its own server: it asks the `MCPServer`
for its tool list (names, descriptions, JSON schemas, annotations, _meta) and calls
`MCPServer.call_tool` directly, inside `acting_as(chat caller)`. So the model sees the
same tools an MCP client sees, and every call runs the same code, including the scope
check, the confirmation gate and the audit, without an HTTP round trip to ourselves and
without a bearer token to configure for it.

Two differences, both deliberate:
- `confirm_token` is hidden from the model: the chat confirms through the user
  (POST /api/chat/{id}/confirm), not through the model repeating a call;
- tools whose _meta says confirmation is required are held by the chat engine.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, TextContent

from ev_charging_system.llm_integration.mcp_auth import Caller, acting_as
from ev_charging_system.llm_integration.mcp_toolkit import CONFIRMATION_META_KEY

CONFIRM_TOKEN = "confirm_token"
MAX_RESULT_CHARACTERS = 20_000  # what the model gets back from one tool call

Outcome = Literal["ok", "error", "confirmation_required", "cancelled"]


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    outcome: Outcome
    content: str  # what goes into the tool_result block
    structured: dict[str, Any] | None = None

    @property
    def is_error(self) -> bool:
        # A declined action did not happen: flag it so the model cannot mistake it for done.
        return self.outcome in ("error", "cancelled")


def _result_text(result: CallToolResult) -> str:
    if result.structured_content is not None:
        return json.dumps(result.structured_content, default=str, separators=(",", ":"))
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


class McpToolBridge:
    def __init__(self, server: MCPServer[Any]) -> None:
        self._server = server
        self._definitions: list[dict[str, Any]] | None = None
        self._held: frozenset[str] = frozenset()

    async def definitions(self) -> list[dict[str, Any]]:
        """Anthropic tool definitions (name, description, input_schema) of the MCP tools."""
        if self._definitions is None:
            tools = await self._server.list_tools()
            definitions = []
            for tool in tools:
                schema = copy.deepcopy(tool.input_schema)
                schema.get("properties", {}).pop(CONFIRM_TOKEN, None)
                if CONFIRM_TOKEN in schema.get("required", []):
                    schema["required"].remove(CONFIRM_TOKEN)
                definitions.append(
                    {
                        "name": tool.name,
                        "description": tool.description or tool.title or tool.name,
                        "input_schema": schema,
                    }
                )
            self._definitions = definitions
            self._held = frozenset(
                t.name for t in tools if (t.meta or {}).get(CONFIRMATION_META_KEY) == "required"
            )
        return self._definitions

    async def needs_confirmation(self, name: str) -> bool:
        await self.definitions()
        return name in self._held

    async def call(
        self, caller: Caller, name: str, arguments: dict[str, Any], confirm_token: str | None = None
    ) -> ToolOutcome:
        arguments = {k: v for k, v in arguments.items() if k != CONFIRM_TOKEN}
        if confirm_token is not None:
            arguments[CONFIRM_TOKEN] = confirm_token
        try:
            with acting_as(caller):
                result = await self._server.call_tool(name, arguments)
        except (ToolError, MCPError) as error:  # the SDK's own "not found"/validation errors too
            return ToolOutcome("error", str(error))
        if not isinstance(result, CallToolResult):  # an InputRequiredResult: never for us
            return ToolOutcome("error", f"tool {name} asked for input the chat cannot give")
        text = _result_text(result)[:MAX_RESULT_CHARACTERS]
        if result.is_error:
            return ToolOutcome("error", text)
        structured = result.structured_content
        state = structured.get("state") if structured else None
        if state == "confirmation_required":
            return ToolOutcome("confirmation_required", text, structured)
        if state == "cancelled":
            return ToolOutcome("cancelled", text, structured)
        return ToolOutcome("ok", text, structured)
