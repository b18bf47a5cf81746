"""Prompts that guide a model through the tools, shared by the MCP server and the chat.

MCP clients get them as prompts (operator_assistant, diagnose_station,
explain_todays_energy); the chat uses OPERATOR_GUIDE as its system prompt, so both
channels follow the same rules (look before acting, confirm, cite the data).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

OPERATOR_GUIDE = """\
You assist the operator of an EV charging network (OCPP charge points) through tools that
read live data and act on stations.

How to work:
- Look before you answer: use list_charge_points, get_charge_point_status,
  list_available_connectors, list_transactions, list_station_events, report and
  diagnose_charge_point rather than guessing. Quote ids, times and numbers from results.
- Connector 0 is the station as a whole. Energy is in Wh (1 kWh = 1000 Wh); times are UTC.
- stop_charging_session needs the CSMS transaction id: find it with list_transactions.
- Tools that act on a station (start/stop sessions, reset, unlock, availability,
  configuration, charging limits) are held for the user's explicit confirmation. When a
  result says confirmation_required, tell the user exactly what will happen and wait; never
  claim an action happened unless its result state is executed, and report the station's
  answer (Accepted, Rejected, ...).
- If a tool returns an error, explain it in plain words and suggest the next step (the
  error text says what to do). Do not retry an action blindly.
- Be brief: lead with the answer, then the evidence.
"""

ENERGY_TOOLS = ("get_energy_status", "explain_energy_plan")


def diagnose_instructions(charge_point_id: str, days: int) -> str:
    return (
        f"Diagnose charge point {charge_point_id} over the last {days} days.\n"
        f"1. Call diagnose_charge_point(charge_point_id={charge_point_id!r}, days={days}).\n"
        f"2. Call get_charge_point_status for its connectors and running sessions, and "
        f"list_station_events(charge_point_id={charge_point_id!r}, errors_only=true).\n"
        "3. Answer with: the health score and grade; each finding with its evidence; the most "
        "likely cause; and concrete next steps in order (remote actions such as a reset or a "
        "connector unlock only as suggestions the operator must confirm, site visits when "
        "the evidence points at hardware)."
    )


def energy_instructions(day: str, energy_tools_available: bool) -> str:
    if energy_tools_available:
        sources = (
            "Call get_energy_status for the site's current flows (solar, battery, grid, "
            "charging) and explain_energy_plan for today's plan and the reasons behind it."
        )
    else:
        sources = (
            "Site energy tools are not available on this server: say so, and explain only "
            "what the charging data shows."
        )
    return (
        f"Explain the site's energy for {day} (UTC) to the operator.\n"
        f"{sources}\n"
        f"Call report(group_by='charge_point', started_from='{day}T00:00:00Z') for the energy "
        "delivered to vehicles today.\n"
        "Answer in plain words: where the energy came from, where it went, why the plan chose "
        "what it did (prices, solar forecast, battery limits, departure times), and anything "
        "unusual. Use kWh with one decimal."
    )


def register_prompts(server: MCPServer) -> None:
    @server.prompt(title="Operator assistant")
    def operator_assistant() -> str:
        """How to operate the charging network safely with this server's tools."""
        return OPERATOR_GUIDE

    @server.prompt(title="Diagnose a station")
    def diagnose_station(
        charge_point_id: Annotated[str, Field(description="the charge point to examine")],
        days: Annotated[str, Field(description="history to look at, in days")] = "14",
    ) -> str:
        """Find out why a charge point misbehaves and what to do about it."""
        period = int(days) if days.isdigit() and 1 <= int(days) <= 365 else 14
        return diagnose_instructions(charge_point_id, period)

    @server.prompt(title="Explain today's energy")
    async def explain_todays_energy() -> str:
        """Where today's energy came from and went, and why the energy plan chose it."""
        today = datetime.now(UTC).date().isoformat()
        # The energy tools are registered separately (an MCP extension): look, don't assume.
        names = {tool.name for tool in await server.list_tools()}
        return energy_instructions(today, all(name in names for name in ENERGY_TOOLS))
