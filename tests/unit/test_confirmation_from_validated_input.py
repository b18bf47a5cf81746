"""What a person is asked to confirm is what runs, even when a model sends loose types.

Models send "false" for false and "16" for 16. Every tool that needs confirmation is
called here with its booleans and numbers as strings, through the MCP elicitation path:
the question must be the sentence of the *validated* input, and the command that reaches
the station must be the one that input describes.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mcp import Client
from mcp.types import ElicitResult

from ev_charging_system.business_logic.device_management_service import StatusReport
from ev_charging_system.business_logic.operations import build_catalogue
from ev_charging_system.business_logic.operations.station_commands import CommandInput
from ev_charging_system.energy.coordinator import Measurements
from ev_charging_system.energy.models import DeferrableLoadConfig
from ev_charging_system.models.commands import (
    Command,
    GetDiagnostics,
    RemoteStart,
    SetChargingProfile,
    UpdateFirmware,
)
from tests.unit.test_mcp_support import OPERATOR, World, as_caller

CATALOGUE = build_catalogue()
PROFILE = {
    "id": "7",
    "stack_level": "2",
    "rate_unit": "W",
    "periods": [{"start_period_seconds": "0", "limit": "7400.5"}],
}

# Arguments as a model might send them: numbers and booleans as text.
LOOSE_ARGUMENTS: dict[str, dict[str, Any]] = {
    "accept_charge_point": {"charge_point_id": "CP-1"},
    "reject_charge_point": {"charge_point_id": "CP-1"},
    "start_charging_session": {"charge_point_id": "CP-1", "id_tag": "TAG-1", "connector_id": "2"},
    "stop_charging_session": {"charge_point_id": "CP-1", "transaction_id": "1"},
    "send_remote_reset": {"charge_point_id": "CP-1", "type": "Hard", "when": "OnIdle"},
    "unlock_connector": {"charge_point_id": "CP-1", "connector_id": "2"},
    "change_availability": {"charge_point_id": "CP-1", "operative": "false", "connector_id": "1"},
    "set_configuration": {
        "charge_point_id": "CP-1",
        "key": "MeterValueSampleInterval",
        "value": "60",
    },
    "clear_cache": {"charge_point_id": "CP-1"},
    "send_local_list": {
        "charge_point_id": "CP-1",
        "version": "3",
        "update_type": "Differential",
        "entries": [{"id_tag": "TAG-9", "status": "Blocked"}],
    },
    "reserve_now": {
        "charge_point_id": "CP-1",
        "reservation_id": "11",
        "id_tag": "TAG-1",
        "expiry": "2026-01-01T15:00:00Z",
        "connector_id": "1",
    },
    "cancel_reservation": {"charge_point_id": "CP-1", "reservation_id": "11"},
    "set_charging_profile": {"charge_point_id": "CP-1", "connector_id": "1", "profile": PROFILE},
    "clear_charging_profile": {"charge_point_id": "CP-1", "profile_id": "7", "connector_id": "0"},
    "update_firmware": {
        "charge_point_id": "CP-1",
        "location": "https://fw.example/v2.bin",
        "retrieve_date": "2026-01-02T03:00:00Z",
        "retries": "3",
    },
    "get_diagnostics": {"charge_point_id": "CP-1", "location": "ftp://logs.example/up"},
    "data_transfer": {"charge_point_id": "CP-1", "vendor_id": "com.acme", "message_id": "Ping"},
    "set_charging_limit": {
        "charge_point_id": "CP-1",
        "limit": "16",
        "unit": "A",
        "connector_id": "2",
        "duration_seconds": "3600",
    },
    "control_battery": {"mode": "charge", "power_kw": "2.5"},
    "control_vehicle": {"mode": "idle", "power_kw": "0"},
    "shed_load": {"shed_kw": "1.5"},
    "set_energy_policy": {"policy": "optimize"},
    "remove_deferrable_load": {"load_id": "dishwasher"},
}


def saying_yes(asked: list[str]) -> Any:
    """An elicitation callback that confirms and remembers what it was asked."""

    async def callback(_context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    return callback


def test_every_tool_that_needs_confirmation_is_covered() -> None:
    confirmed = {o.name for o in CATALOGUE.tools() if o.needs_confirmation}
    assert set(LOOSE_ARGUMENTS) == confirmed


@pytest.fixture
async def world() -> World:
    world = World()
    await world.station("CP-1", "Available", "Charging")
    await world.services.auth.create_id_tag("TAG-1")
    await world.devices.status_notification(
        "CP-1", StatusReport(2, "Charging", "NoError", world.clock())
    )
    await world.services.transactions.start("CP-1", 2, "TAG-1", 1000, world.clock())
    world.coordinator.update_measurements(Measurements(flexible_load_kw=3.0))
    start = datetime(2026, 6, 1, 12, tzinfo=UTC)  # the coordinator's clock in this world
    world.coordinator.add_deferrable_load(
        DeferrableLoadConfig("dishwasher", 2.0, 1.5, start, start + timedelta(hours=8))
    )
    return world


@pytest.mark.parametrize("tool", sorted(LOOSE_ARGUMENTS))
async def test_the_question_and_the_action_come_from_the_validated_input(
    world: World, tool: str
) -> None:
    operation = CATALOGUE.get(tool)
    loose = LOOSE_ARGUMENTS[tool]
    validated = operation.input.model_validate(loose)
    asked: list[str] = []

    with as_caller(OPERATOR):
        async with Client(
            world.endpoint().server, elicitation_callback=saying_yes(asked)
        ) as client:
            result = await client.call_tool(tool, loose)

    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["state"] == "executed"
    assert asked == [f"{operation.sentence(validated)}. Do you want to do this now?"]
    assert result.structured_content["action"] == operation.sentence(validated)
    if isinstance(validated, CommandInput):
        station, sent = world.gateway.sent[-1]
        assert (station, without_correlation(sent)) == ("CP-1", validated.to_command())


def without_correlation(command: Command) -> Command:
    """The ids the service adds to correlate a request with later notifications."""
    if isinstance(command, RemoteStart):
        return dataclasses.replace(command, remote_start_id=None)
    if isinstance(command, UpdateFirmware | GetDiagnostics):
        return dataclasses.replace(command, request_id=0)
    return command


async def test_a_string_false_makes_a_connector_inoperative_in_words_and_in_deed(
    world: World,
) -> None:
    asked: list[str] = []

    with as_caller(OPERATOR):
        async with Client(
            world.endpoint().server, elicitation_callback=saying_yes(asked)
        ) as client:
            await client.call_tool(
                "change_availability", {"charge_point_id": "CP-1", "operative": "false"}
            )
    assert asked == ["Make CP-1 inoperative (out of service). Do you want to do this now?"]
    [(_, command)] = world.gateway.sent
    assert command.operative is False  # type: ignore[union-attr]


async def test_a_text_limit_is_sent_as_the_number_it_says(world: World) -> None:
    confirm = saying_yes([])

    with as_caller(OPERATOR):
        async with Client(world.endpoint().server, elicitation_callback=confirm) as client:
            result = await client.call_tool(
                "set_charging_limit",
                {"charge_point_id": "CP-1", "limit": "16", "transaction_id": "1"},
            )
    assert result.structured_content is not None
    assert result.structured_content["action"] == "Limit session 1 of CP-1 to 16 A"
    [(_, command)] = world.gateway.sent
    assert isinstance(command, SetChargingProfile)
    assert command.connector_id == 2 and command.profile.periods[0].limit == 16.0
    assert command.profile.transaction_id == "1"
