"""Operator commands reach stations in a form they accept, and odd answers are explained.

Reproduces issue #13: a CALLRESULT failing schema validation was reported as if the
station had sent a CALLERROR; 2.0.1 Reset Hard+OnIdle silently became OnIdle; 1.6 charging
limits were not rounded to one decimal; clearing a 2.0.1 local list sent an empty list
(minItems 1: the list must be omitted).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from ev_charging_system.application import Application
from ev_charging_system.models.commands import GetConfiguration
from ev_charging_system.models.errors import StationAnswerInvalidError
from tests.conformance.station import OCPP16, OCPP201, Operator, raw_station

LIMIT_PROFILE: dict[str, Any] = {
    "id": 7,
    "purpose": "TxDefaultProfile",
    "rate_unit": "A",
    "periods": [{"start_period_seconds": 0, "limit": 16.66}],
    "min_charging_rate": 6.04,
}


async def test_an_invalid_answer_is_reported_as_such_with_the_payload(
    app: Application, rest: httpx.AsyncClient
) -> None:
    invalid = {"configurationKey": "not-a-list"}
    async with raw_station(app, "CP-ODD", OCPP16) as station:
        _, response = await Operator(rest).command(
            station, "get-configuration", {}, "GetConfiguration", invalid
        )
        assert response.status_code == 502
        assert "invalid" in response.json()["detail"]

        pending = asyncio.create_task(
            app.services.commands.execute("CP-ODD", GetConfiguration(), "test")
        )
        await station.reply(await station.expect_call("GetConfiguration"), invalid)
        with pytest.raises(StationAnswerInvalidError) as error:
            await pending
    assert error.value.payload == invalid
    assert error.value.action == "GetConfiguration"
    assert "not valid OCPP 1.6" in str(error.value)
    assert "not-a-list" in str(error.value)


async def test_a_201_hard_reset_on_idle_is_refused_with_an_explanation(
    app: Application, rest: httpx.AsyncClient
) -> None:
    async with raw_station(app, "CP-RST", OCPP201) as station:
        refused = await Operator(rest).post(
            "/api/charge-points/CP-RST/commands/reset", {"type": "Hard", "when": "OnIdle"}
        )
        assert refused.status_code == 422
        assert "OnIdle" in refused.json()["detail"] and "Hard" in refused.json()["detail"]
        assert station.pending_calls() == 0
        request, accepted = await Operator(rest).command(
            station, "reset", {"type": "Soft", "when": "OnIdle"}, "Reset", {"status": "Scheduled"}
        )
        assert accepted.status_code == 200 and request.payload == {"type": "OnIdle"}


@pytest.mark.parametrize("version", [OCPP16, OCPP201])
async def test_charging_limits_are_sent_with_one_decimal_never_above_the_request(
    app: Application, rest: httpx.AsyncClient, version: str
) -> None:
    async with raw_station(app, "CP-LIM", version) as station:
        request, response = await Operator(rest).command(
            station,
            "set-charging-profile",
            {"connector_id": 1, "profile": LIMIT_PROFILE},
            "SetChargingProfile",
            {"status": "Accepted"},
        )
    assert response.status_code == 200, response.text
    profile = request.payload.get("csChargingProfiles") or request.payload["chargingProfile"]
    schedule = profile["chargingSchedule"]
    schedule = schedule[0] if isinstance(schedule, list) else schedule
    assert schedule["chargingSchedulePeriod"][0]["limit"] == 16.6
    assert schedule["minChargingRate"] == 6.0


async def test_clearing_a_201_local_list_omits_the_list(
    app: Application, rest: httpx.AsyncClient
) -> None:
    async with raw_station(app, "CP-LL", OCPP201) as station:
        request, response = await Operator(rest).command(
            station,
            "send-local-list",
            {"version": 3, "update_type": "Full", "entries": []},
            "SendLocalList",
            {"status": "Accepted"},
        )
    assert response.status_code == 200, response.text
    assert request.payload == {"versionNumber": 3, "updateType": "Full"}


async def test_a_request_the_16_schema_cannot_carry_is_refused_before_sending(
    app: Application, rest: httpx.AsyncClient
) -> None:
    async with raw_station(app, "CP-LONG", OCPP16) as station:
        refused = await Operator(rest).post(
            "/api/charge-points/CP-LONG/commands/remote-start",
            {"id_tag": "T" * 25, "connector_id": 1},
        )
        assert refused.status_code == 422
        assert "OCPP 1.6" in refused.json()["detail"]
        assert station.pending_calls() == 0
