"""MCP tools through the SDK's in-memory client: listing, scopes, confirmation, audit, errors.

Both protocol eras are exercised where they differ (confirmation by elicitation): "auto"
negotiates 2026-07-28 (questions travel in InputRequiredResult), "legacy" the 2025-11-25
handshake (a server-to-client elicitation request).
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.types import ElicitResult

from ev_charging_system.llm_integration.mcp_auth import READ, require
from ev_charging_system.llm_integration.mcp_models import ActionOutcome, ConfirmToken
from ev_charging_system.llm_integration.mcp_server import McpExtension, McpSettings, build_mcp
from ev_charging_system.llm_integration.mcp_toolkit import (
    CONFIRMATION_META_KEY,
    Confirmation,
    Toolkit,
    acting,
    nothing_to_check,
    read_only,
)
from ev_charging_system.models.audit import AuditOutcome
from ev_charging_system.models.commands import (
    ChangeAvailability,
    CommandResult,
    Reset,
    ResetType,
    SetChargingProfile,
    UnlockConnector,
)
from ev_charging_system.models.errors import StationCallError, StationOfflineError
from tests.unit.test_mcp_support import OPERATOR, READER, World, as_caller

READ_TOOLS = {
    "list_charge_points",
    "get_charge_point_status",
    "list_available_connectors",
    "list_transactions",
    "list_station_events",
    "get_id_tag",
    "diagnose_charge_point",
    "report",
    "get_configuration",
}
CONFIRMED_TOOLS = {
    "start_charging_session",
    "stop_charging_session",
    "send_remote_reset",
    "unlock_connector",
    "change_availability",
    "set_configuration",
    "set_charging_limit",
}
ALL_TOOLS = READ_TOOLS | CONFIRMED_TOOLS | {"trigger_message"}


@pytest.fixture
async def world() -> World:
    world = World()
    await world.station("CP-1", "Available", "Charging")
    await world.station("CP-2", "Faulted", online=False)
    return world


def audit_outcomes(world: World, tool: str) -> list[AuditOutcome]:
    return [e.outcome for e in world.store.audit if e.tool == tool]


async def test_tools_are_listed_with_true_annotations_and_confirmation_marked(
    world: World,
) -> None:
    async with Client(world.endpoint().server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}

    assert set(tools) == ALL_TOOLS
    for name, tool in tools.items():
        hints = tool.annotations
        assert hints is not None and tool.output_schema is not None, name
        assert hints.read_only_hint is (name in READ_TOOLS), name
        needs_confirmation = (tool.meta or {}).get(CONFIRMATION_META_KEY) == "required"
        assert needs_confirmation is (name in CONFIRMED_TOOLS), name
        assert ("confirm_token" in tool.input_schema["properties"]) is needs_confirmation
    assert tools["send_remote_reset"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert tools["send_remote_reset"].annotations.idempotent_hint is False  # type: ignore[union-attr]
    assert tools["start_charging_session"].annotations.destructive_hint is False  # type: ignore[union-attr]
    assert tools["trigger_message"].annotations.destructive_hint is False  # type: ignore[union-attr]
    assert tools["get_configuration"].annotations.open_world_hint is True  # type: ignore[union-attr]
    assert tools["list_charge_points"].annotations.open_world_hint is False  # type: ignore[union-attr]


async def test_read_tools_answer_from_the_services(world: World) -> None:
    with as_caller(READER):
        async with Client(world.endpoint().server) as client:
            listed = await client.call_tool("list_charge_points", {"online_only": True})
            free = await client.call_tool("list_available_connectors", {})
            status = await client.call_tool("get_charge_point_status", {"charge_point_id": "CP-2"})

    assert listed.structured_content is not None
    assert [cp["id"] for cp in listed.structured_content["charge_points"]] == ["CP-1"]
    assert free.structured_content == {
        "connectors": [
            {
                "charge_point_id": "CP-1",
                "connector_id": 1,
                "status": "Available",
                "since": free.structured_content["connectors"][0]["since"],
            }
        ],
        "count": 1,
    }
    assert status.structured_content is not None
    station = status.structured_content["charge_point"]
    assert station["online"] is False and station["connectors"][0]["error_code"] == "GroundFailure"
    assert "password_hash" not in str(status.structured_content)


async def test_without_a_caller_nothing_is_answered(world: World) -> None:
    async with Client(world.endpoint().server) as client:
        result = await client.call_tool("list_charge_points", {})
    assert result.is_error and "not authenticated" in result.content[0].text  # type: ignore[union-attr]


async def test_a_read_token_cannot_operate_and_the_refusal_is_audited(world: World) -> None:
    with as_caller(READER):
        async with Client(world.endpoint().server) as client:
            result = await client.call_tool("send_remote_reset", {"charge_point_id": "CP-1"})
            trigger = await client.call_tool(
                "trigger_message", {"charge_point_id": "CP-1", "message": "Heartbeat"}
            )

    for refused in (result, trigger):
        assert refused.is_error
        assert "operate" in refused.content[0].text  # type: ignore[union-attr]
    assert world.gateway.sent == []
    assert audit_outcomes(world, "send_remote_reset") == [AuditOutcome.DENIED]
    assert audit_outcomes(world, "trigger_message") == [AuditOutcome.DENIED]
    assert world.store.audit[0].actor == "mcp:read-token"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_an_action_needs_a_confirm_token_bound_to_the_same_call(
    world: World, mode: str
) -> None:
    arguments = {"charge_point_id": "CP-1", "type": "Hard"}
    with as_caller(OPERATOR):
        async with Client(world.endpoint().server, mode=mode) as client:
            first = await client.call_tool("send_remote_reset", arguments)
            assert first.structured_content is not None
            assert first.structured_content["state"] == "confirmation_required"
            assert world.gateway.sent == []  # nothing happened yet
            token = first.structured_content["confirm_token"]

            other = await client.call_tool(
                "send_remote_reset", {"charge_point_id": "CP-1", "confirm_token": token}
            )
            assert other.is_error and "different call" in other.content[0].text  # type: ignore[union-attr]

            done = await client.call_tool(
                "send_remote_reset", {**arguments, "confirm_token": token}
            )
            again = await client.call_tool(
                "send_remote_reset", {**arguments, "confirm_token": token}
            )

    assert done.structured_content is not None
    assert done.structured_content["state"] == "executed"
    assert done.structured_content["status"] == "Accepted"
    assert world.gateway.sent == [("CP-1", Reset(ResetType.HARD))]
    assert again.is_error and "already used" in again.content[0].text  # type: ignore[union-attr]
    assert audit_outcomes(world, "send_remote_reset") == [
        AuditOutcome.CONFIRMATION_REQUIRED,
        AuditOutcome.DENIED,
        AuditOutcome.OK,
        AuditOutcome.DENIED,
    ]
    executed = next(e for e in world.store.audit if e.outcome is AuditOutcome.OK)
    assert executed.arguments == arguments and executed.result["status"] == "Accepted"
    assert executed.channel == "mcp" and executed.actor == "mcp:operate-token"


async def test_a_confirm_token_is_personal_and_expires(world: World) -> None:
    endpoint = world.endpoint(ttl_seconds=30)
    now = [1000.0]
    endpoint.toolkit.tokens._monotonic = lambda: now[0]
    arguments = {"charge_point_id": "CP-1", "connector_id": 1}
    with as_caller(OPERATOR):
        async with Client(endpoint.server) as client:
            first = await client.call_tool("unlock_connector", arguments)
            assert first.structured_content is not None
            token = first.structured_content["confirm_token"]
    other_operator = OPERATOR.__class__("mcp:someone-else", "mcp", OPERATOR.scopes)
    with as_caller(other_operator):
        async with Client(endpoint.server) as client:
            stolen = await client.call_tool(
                "unlock_connector", {**arguments, "confirm_token": token}
            )
    now[0] += 31
    with as_caller(OPERATOR):
        async with Client(endpoint.server) as client:
            late = await client.call_tool("unlock_connector", {**arguments, "confirm_token": token})

    assert stolen.is_error and "another caller" in stolen.content[0].text  # type: ignore[union-attr]
    assert late.is_error and "expired" in late.content[0].text  # type: ignore[union-attr]
    assert world.gateway.sent == []


def answering(confirm: bool | None, asked: list[str]) -> Any:
    async def callback(_context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        if confirm is None:
            return ElicitResult(action="cancel")
        return ElicitResult(action="accept", content={"confirm": confirm})

    return callback


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_clients_that_can_elicit_confirm_in_one_call(world: World, mode: str) -> None:
    asked: list[str] = []
    with as_caller(OPERATOR):
        async with Client(
            world.endpoint().server,
            mode=mode,
            elicitation_callback=answering(True, asked),
        ) as client:
            result = await client.call_tool(
                "change_availability", {"charge_point_id": "CP-1", "operative": False}
            )

    assert result.structured_content is not None
    assert result.structured_content["state"] == "executed"
    assert asked == ["Make CP-1 inoperative (out of service). Do you want to do this now?"]
    assert world.gateway.sent == [("CP-1", ChangeAvailability(False, None))]
    assert audit_outcomes(world, "change_availability") == [AuditOutcome.OK]


@pytest.mark.parametrize("answer", [False, None])
async def test_a_declined_or_dismissed_form_cancels_the_action(
    world: World, answer: bool | None
) -> None:
    with as_caller(OPERATOR):
        async with Client(
            world.endpoint().server, elicitation_callback=answering(answer, [])
        ) as client:
            result = await client.call_tool(
                "unlock_connector", {"charge_point_id": "CP-1", "connector_id": 2}
            )

    assert result.structured_content is not None
    assert result.structured_content["state"] == "cancelled"
    assert world.gateway.sent == []
    assert audit_outcomes(world, "unlock_connector") == [AuditOutcome.CANCELLED]


async def test_nobody_is_asked_to_confirm_an_impossible_action(world: World) -> None:
    asked: list[str] = []
    with as_caller(OPERATOR):
        async with Client(
            world.endpoint().server, elicitation_callback=answering(True, asked)
        ) as client:
            unknown = await client.call_tool("send_remote_reset", {"charge_point_id": "CP-9"})
            no_session = await client.call_tool(
                "stop_charging_session", {"charge_point_id": "CP-1", "transaction_id": 42}
            )

    assert asked == []
    assert unknown.is_error
    assert "'CP-9' not found; look it up with list_charge_points" in unknown.content[0].text  # type: ignore[union-attr]
    assert no_session.is_error and "list_transactions" in no_session.content[0].text  # type: ignore[union-attr]


async def test_station_failures_become_actionable_tool_errors(world: World) -> None:
    world.gateway.answers[UnlockConnector] = StationOfflineError("CP-1")
    world.gateway.answers[Reset] = StationCallError("CP-1", "Reset", "InternalError", "boom")
    with as_caller(OPERATOR):
        async with Client(world.endpoint().server, elicitation_callback=answering(True, [])) as c:
            offline = await c.call_tool(
                "unlock_connector", {"charge_point_id": "CP-1", "connector_id": 1}
            )
            refused = await c.call_tool("send_remote_reset", {"charge_point_id": "CP-1"})

    assert offline.is_error
    assert "not connected" in offline.content[0].text  # type: ignore[union-attr]
    assert "retry when get_charge_point_status shows it online" in offline.content[0].text  # type: ignore[union-attr]
    assert refused.is_error and "CALLERROR InternalError: boom" in refused.content[0].text  # type: ignore[union-attr]
    assert "Traceback" not in str(offline.content) + str(refused.content)
    errors = [e for e in world.store.audit if e.outcome is AuditOutcome.ERROR]
    assert [e.tool for e in errors] == ["unlock_connector", "send_remote_reset"]


async def test_a_station_that_says_no_is_reported_as_such(world: World) -> None:
    world.gateway.answers[SetChargingProfile] = CommandResult("Rejected")
    with as_caller(OPERATOR):
        async with Client(world.endpoint().server, elicitation_callback=answering(True, [])) as c:
            result = await c.call_tool(
                "set_charging_limit",
                {"charge_point_id": "CP-1", "limit": 16, "unit": "A", "connector_id": 1},
            )

    assert result.structured_content is not None
    assert result.structured_content["status"] == "Rejected"
    assert "did not carry out" in result.structured_content["message"]
    [(_, command)] = world.gateway.sent
    assert isinstance(command, SetChargingProfile) and command.connector_id == 1
    assert command.profile.purpose.value == "TxDefaultProfile"
    assert command.profile.periods[0].limit == 16


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("list_transactions", {"limit": 0}, "greater than or equal to 1"),
        ("list_transactions", {"limit": 500}, "less than or equal to 100"),
        ("list_transactions", {"charge_point_id": "CP-9"}, "'CP-9' not found"),
        (
            "list_transactions",
            {"started_from": "2026-02-01T00:00:00Z", "started_to": "2026-01-01T00:00:00Z"},
            "started_from must be before started_to",
        ),
        ("diagnose_charge_point", {"charge_point_id": "CP-1", "days": 400}, "less than or equal"),
        ("get_charge_point_status", {"charge_point_id": ""}, "at least 1 character"),
        ("get_id_tag", {"id_tag": "NOPE"}, "id tag 'NOPE' not found"),
        ("report", {"group_by": "week"}, "charge_point"),
        ("no_such_tool", {}, "Unknown tool"),
    ],
)
async def test_bad_arguments_give_clear_tool_errors(
    world: World, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    with as_caller(READER):
        async with Client(world.endpoint().server) as client:
            result = await client.call_tool(tool, arguments)
    assert result.is_error
    assert expected in result.content[0].text  # type: ignore[union-attr]


async def test_trigger_message_needs_no_confirmation_but_is_audited(world: World) -> None:
    with as_caller(OPERATOR):
        async with Client(world.endpoint().server) as client:
            result = await client.call_tool(
                "trigger_message",
                {"charge_point_id": "CP-1", "message": "StatusNotification", "connector_id": 1},
            )
    assert result.structured_content is not None
    assert result.structured_content["state"] == "executed"
    assert audit_outcomes(world, "trigger_message") == [AuditOutcome.OK]


def energy_extension(policies: list[str]) -> McpExtension:
    """What the energy tools will look like: one read tool and one confirmed action."""

    def register(kit: Toolkit) -> None:
        @kit.server.tool(title="Energy status", annotations=read_only())
        async def get_energy_status() -> dict[str, str]:
            """Site energy flows."""
            require(READ)
            return {"policy": policies[-1]}

        @kit.server.tool(title="Energy plan", annotations=read_only())
        async def explain_energy_plan() -> dict[str, str]:
            """Why the plan is what it is."""
            return {"why": "cheap at night"}

        @kit.action(
            title="Set energy policy",
            annotations=acting(destructive=True, idempotent=True),
            describe=lambda a: f"Switch the energy policy to {a['policy']}",
            precheck=nothing_to_check,
        )
        async def set_energy_policy(
            policy: str, confirm_token: ConfirmToken = None, *, confirmation: Confirmation
        ) -> ActionOutcome:
            """Change the planning policy."""

            async def execute(_actor: str) -> CommandResult:
                policies.append(policy)
                return CommandResult("Accepted", {"policy": policy})

            return await kit.perform(
                "set_energy_policy",
                {"policy": policy},
                confirmation,
                confirm_token,
                execute,
                answered_by="the energy coordinator",
            )

    return register


async def test_extensions_add_tools_with_the_same_safety(world: World) -> None:
    policies = ["rule"]
    settings = McpSettings("read-secret", "operate-secret")
    endpoint = build_mcp(world.services, settings, extensions=[energy_extension(policies)])
    with as_caller(OPERATOR):
        async with Client(endpoint.server) as client:
            first = await client.call_tool("set_energy_policy", {"policy": "optimize"})
            assert first.structured_content is not None
            token = first.structured_content["confirm_token"]
            assert policies == ["rule"]
            done = await client.call_tool(
                "set_energy_policy", {"policy": "optimize", "confirm_token": token}
            )
            prompt = await client.get_prompt("explain_todays_energy", {})

    assert done.structured_content is not None
    assert done.structured_content["message"] == "The energy coordinator answered Accepted."
    assert policies == ["rule", "optimize"]
    assert "get_energy_status for the site's current flows" in prompt.messages[0].content.text  # type: ignore[union-attr]
    assert audit_outcomes(world, "set_energy_policy") == [
        AuditOutcome.CONFIRMATION_REQUIRED,
        AuditOutcome.OK,
    ]
