"""MCP tools through the SDK's in-memory client: listing, roles, confirmation, audit, errors.

The tools are derived from the operations catalogue. Both protocol eras are exercised
where they differ (confirmation by elicitation): "auto" negotiates 2026-07-28 (questions
travel in InputRequiredResult), "legacy" the 2025-11-25 handshake (a server-to-client
elicitation request).
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, ElicitResult

from ev_charging_system.business_logic.operations import build_catalogue
from ev_charging_system.business_logic.operations.actor import Actor, Channel, Role
from ev_charging_system.business_logic.operations.confirmation_tokens import ConfirmationTokens
from ev_charging_system.llm_integration.mcp_operations import CONFIRMATION_META_KEY
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

CATALOGUE = build_catalogue()
TOOLS = {o.name: o for o in CATALOGUE.tools()}
# Tools people and scripts already use: they must keep their names.
EXISTING_TOOLS = {
    "list_charge_points",
    "get_charge_point_status",
    "list_available_connectors",
    "list_transactions",
    "list_station_events",
    "get_id_tag",
    "diagnose_charge_point",
    "report",
    "get_configuration",
    "start_charging_session",
    "stop_charging_session",
    "send_remote_reset",
    "unlock_connector",
    "change_availability",
    "set_configuration",
    "set_charging_limit",
    "trigger_message",
    "get_energy_status",
    "explain_energy_plan",
    "set_energy_policy",
}


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

    assert set(tools) == set(TOOLS)
    assert set(tools) >= EXISTING_TOOLS
    for name, tool in tools.items():
        operation = TOOLS[name]
        hints = tool.annotations
        assert hints is not None and tool.output_schema is not None, name
        assert hints.read_only_hint is operation.read_only, name
        needs_confirmation = (tool.meta or {}).get(CONFIRMATION_META_KEY) == "required"
        assert needs_confirmation is operation.needs_confirmation, name
        assert ("confirm_token" in tool.input_schema["properties"]) is needs_confirmation
        described = set(operation.input.model_json_schema().get("properties", {}))
        assert described <= set(tool.input_schema["properties"]), name
    assert not {"set_station_password", "create_id_tag", "delete_id_tag"} & set(tools)
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
    assert [cp["id"] for cp in listed.structured_content["items"]] == ["CP-1"]
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
    assert result.is_error and "needs a signed-in viewer" in result.content[0].text  # type: ignore[union-attr]


async def test_a_read_token_cannot_operate_and_the_refusal_is_audited(world: World) -> None:
    with as_caller(READER):
        async with Client(world.endpoint().server) as client:
            result = await client.call_tool("send_remote_reset", {"charge_point_id": "CP-1"})
            trigger = await client.call_tool(
                "trigger_message", {"charge_point_id": "CP-1", "message": "Heartbeat"}
            )

    for refused in (result, trigger):
        assert refused.is_error
        assert "needs the operator role" in refused.content[0].text  # type: ignore[union-attr]
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
    assert executed.arguments == {**arguments, "when": "Immediate"}
    assert executed.result["status"] == "Accepted"
    assert executed.channel == "mcp" and executed.actor == "mcp:operate-token"


async def test_a_confirm_token_is_personal_and_expires(world: World) -> None:
    endpoint = world.endpoint(ttl_seconds=30)
    now = [1000.0]
    tokens = endpoint.tools.tokens
    assert isinstance(tokens, ConfirmationTokens)  # one process: in memory
    tokens._monotonic = lambda: now[0]
    arguments = {"charge_point_id": "CP-1", "connector_id": 1}
    with as_caller(OPERATOR):
        async with Client(endpoint.server) as client:
            first = await client.call_tool("unlock_connector", arguments)
            assert first.structured_content is not None
            token = first.structured_content["confirm_token"]
    other_operator = Actor("mcp:someone-else", Channel.MCP, Role.OPERATOR)
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
    ("tool", "arguments", "field"),
    [
        ("list_transactions", {"limit": 0}, "limit"),
        ("list_transactions", {"limit": 501}, "limit"),
        (
            "list_transactions",
            {"started_from": "2026-02-01T00:00:00Z", "started_to": "2026-01-01T00:00:00Z"},
            "",
        ),
        ("diagnose_charge_point", {"charge_point_id": "CP-1", "days": 400}, "days"),
        ("get_charge_point_status", {"charge_point_id": ""}, "charge_point_id"),
        ("report", {"group_by": "week"}, "group_by"),
        ("send_remote_reset", {"charge_point_id": "CP-1", "type": "Gentle"}, "type"),
        ("send_remote_reset", {"charge_point_id": "CP-1", "typo": "Hard"}, "typo"),
        ("set_charging_limit", {"charge_point_id": "CP-1", "limit": -1}, "limit"),
        ("set_charging_limit", {"charge_point_id": "CP-1", "limit": 5000}, ""),
    ],
)
async def test_invalid_arguments_are_a_jsonrpc_invalid_params_error_with_the_fields(
    world: World, tool: str, arguments: dict[str, Any], field: str
) -> None:
    with as_caller(OPERATOR):
        async with Client(world.endpoint().server) as client:
            with pytest.raises(MCPError) as raised:
                await client.call_tool(tool, arguments)
    assert raised.value.error.code == INVALID_PARAMS
    data = raised.value.error.data
    assert isinstance(data, dict)
    assert field in [problem["field"] for problem in data["errors"]]
    assert world.gateway.sent == []


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("get_id_tag", {"id_tag": "NOPE"}, "id tag 'NOPE' not found; look it up with list_id_tags"),
        ("get_charge_point_status", {"charge_point_id": "CP-9"}, "list_charge_points"),
        ("no_such_tool", {}, "Unknown tool"),
    ],
)
async def test_lookups_that_find_nothing_say_where_to_look(
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
    assert result.structured_content == {"status": "Accepted", "data": {}}
    assert audit_outcomes(world, "trigger_message") == [AuditOutcome.OK]


async def test_energy_actions_have_the_same_safety_as_station_actions(world: World) -> None:
    with as_caller(OPERATOR):
        async with Client(world.endpoint().server) as client:
            first = await client.call_tool("set_energy_policy", {"policy": "optimize"})
            assert first.structured_content is not None
            token = first.structured_content["confirm_token"]
            assert world.coordinator.policy == "rule"
            done = await client.call_tool(
                "set_energy_policy", {"policy": "optimize", "confirm_token": token}
            )
            with pytest.raises(MCPError) as unknown:
                await client.call_tool("set_energy_policy", {"policy": "magic"})
            prompt = await client.get_prompt("explain_todays_energy", {})

    assert done.structured_content is not None
    assert done.structured_content["state"] == "executed"
    assert done.structured_content["data"]["policy"] == "optimize"
    assert world.coordinator.policy == "optimize"
    assert unknown.value.error.code == INVALID_PARAMS and "policy" in str(unknown.value)
    assert "get_energy_status for the site's current flows" in prompt.messages[0].content.text  # type: ignore[union-attr]
    assert audit_outcomes(world, "set_energy_policy") == [
        AuditOutcome.CONFIRMATION_REQUIRED,
        AuditOutcome.OK,
    ]


async def test_a_callers_acting_calls_are_limited_per_minute_reads_are_not(world: World) -> None:
    endpoint = world.endpoint(actions_per_minute=2)
    arguments = {"charge_point_id": "CP-1", "connector_id": 1}
    with as_caller(OPERATOR):
        async with Client(endpoint.server) as client:
            answers = [await client.call_tool("unlock_connector", arguments) for _ in range(3)]
            listed = await client.call_tool("list_charge_points", {})
    assert [a.is_error for a in answers] == [False, False, True]
    assert "rate limit: at most 2 actions per minute" in str(answers[2].content)
    assert not listed.is_error
