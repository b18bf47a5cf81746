"""The same operator scenario against an OCPP 1.6 and an OCPP 2.0.1 station.

Both stations are the `ocpp` library's ChargePoint classes over real WebSockets; the CSMS
must store the same results and give the same REST answers whatever the version.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ev_charging_system.application import Application
from tests.conftest import ADMIN_HEADERS, ocpp_url
from tools.simulated_charge_point import SimulatedStation, connected_station
from tools.simulated_charge_point_v201 import SimulatedStation201, connected_station_201

Station = SimulatedStation | SimulatedStation201


@dataclass(frozen=True)
class Version:
    name: str
    connect: Callable[[str, str], contextlib.AbstractAsyncContextManager[Any]]
    report_energy: Callable[[Any, int, int], Awaitable[object]]


async def report_16(station: SimulatedStation, connector: int, wh: int) -> object:
    transaction = station.transactions[connector]
    return await station.meter_values(connector, transaction.transaction_id, wh)


async def report_201(station: SimulatedStation201, connector: int, wh: int) -> object:
    return await station.update_session(connector, meter_wh=wh)


VERSIONS = [
    Version("1.6", lambda url, sid: connected_station(url, sid), report_16),
    Version("2.0.1", lambda url, sid: connected_station_201(url, sid), report_201),
]


@pytest.fixture(params=VERSIONS, ids=lambda v: f"ocpp{v.name}")
def version(request: pytest.FixtureRequest) -> Version:
    return request.param  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def booted(app: Application, version: Version, station_id: str) -> AsyncIterator[Any]:
    async with version.connect(ocpp_url(app), station_id) as station:
        assert (await station.boot()).status == "Accepted"
        yield station


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def command(
    rest: httpx.AsyncClient, operator: dict[str, str], station: str, name: str, body: object = None
) -> httpx.Response:
    return await rest.post(
        f"/api/charge-points/{station}/commands/{name}", json=body, headers=operator
    )


async def test_the_operator_scenario_gives_the_same_results_on_both_versions(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str], version: Version
) -> None:
    await rest.post("/api/id-tags", json={"id_tag": "CARD-1"}, headers=operator)
    async with booted(app, version, "CP-X") as station:
        authorized = await station.authorize("CARD-1")
        info = authorized.id_tag_info if version.name == "1.6" else authorized.id_token_info
        assert info["status"] == "Accepted"
        # Remote start: the station accepts, then starts the session itself.
        started = await command(
            rest, operator, "CP-X", "remote-start", {"id_tag": "CARD-1", "connector_id": 1}
        )
        assert started.status_code == 200, started.text
        assert started.json()["status"] == "Accepted"

        async def one_active() -> bool:
            page = (await rest.get("/api/transactions", params={"active": "true"})).json()
            return bool(page["total"] == 1)

        await eventually(one_active)
        await station.settle()
        await version.report_energy(station, 1, 2_500)
        active = (await rest.get("/api/transactions", params={"active": "true"})).json()
        transaction_id = active["items"][0]["id"]
        assert active["items"][0]["id_tag"] == "CARD-1"

        stopped = await command(
            rest, operator, "CP-X", "remote-stop", {"transaction_id": transaction_id}
        )
        assert stopped.json()["status"] == "Accepted"

        async def finished() -> bool:
            detail = (await rest.get(f"/api/transactions/{transaction_id}")).json()
            return detail["active"] is False

        await eventually(finished)
        await station.settle()
        detail = (await rest.get(f"/api/transactions/{transaction_id}")).json()
        assert detail["stop_reason"] == "Remote"
        assert detail["energy_wh"] == 2_500

        availability = await command(
            rest, operator, "CP-X", "change-availability", {"connector_id": 1, "operative": False}
        )
        assert availability.json()["status"] == "Accepted"
        assert station.availability[1] == "Inoperative"

        profile = {
            "connector_id": 1,
            "profile": {
                "id": 7,
                "purpose": "TxDefaultProfile",
                "rate_unit": "A",
                "periods": [{"start_period_seconds": 0, "limit": 16}],
            },
        }
        assert (await command(rest, operator, "CP-X", "set-charging-profile", profile)).json()[
            "status"
        ] == "Accepted"
        assert 7 in station.charging_profiles

        configuration = await command(
            rest, operator, "CP-X", "get-configuration", {"keys": ["HeartbeatInterval"]}
        )
        [entry] = configuration.json()["data"]["configuration"]
        assert entry["key"] == "HeartbeatInterval"
        assert int(entry["value"]) == app.settings.heartbeat_interval_seconds

        changed = await command(
            rest,
            operator,
            "CP-X",
            "set-configuration",
            {"key": "HeartbeatInterval", "value": "120"},
        )
        assert changed.json()["status"] == "Accepted"

        when = "Immediate"
        reset = await command(rest, operator, "CP-X", "reset", {"type": "Soft", "when": when})
        assert reset.json()["status"] == "Accepted"
        await station.settle()

    log = (await rest.get("/api/charge-points/CP-X/commands")).json()["items"]
    assert [entry["action"] for entry in reversed(log)] == [
        "RemoteStart",
        "RemoteStop",
        "ChangeAvailability",
        "SetChargingProfile",
        "GetConfiguration",
        "SetConfiguration",
        "Reset",
    ]
    assert all(entry["outcome"] == "answered" for entry in log)
    assert all(entry["requested_by"] == "rest:api-token" for entry in log)


async def test_a_rejection_is_the_stations_answer_not_an_error(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str], version: Version
) -> None:
    from tools.station_behaviour import Behaviour

    async with booted(app, version, "CP-R") as station:
        station.behave("Reset", Behaviour.REJECT)
        answer = await command(rest, operator, "CP-R", "reset", {})
    assert answer.status_code == 200
    assert answer.json()["status"] == "Rejected"


async def test_a_call_error_becomes_502_with_its_code(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str], version: Version
) -> None:
    from tools.station_behaviour import Behaviour

    async with booted(app, version, "CP-E") as station:
        station.behave("UnlockConnector", Behaviour.CALL_ERROR)
        answer = await command(rest, operator, "CP-E", "unlock-connector", {"connector_id": 1})
    assert answer.status_code == 502
    assert answer.json()["error_code"] == "GenericError"
    log = (await rest.get("/api/charge-points/CP-E/commands")).json()["items"]
    assert log[0]["outcome"] == "call_error" and log[0]["error_code"] == "GenericError"


async def test_a_station_that_never_answers_gives_504_and_stays_usable(
    app_factory: Any, operator: dict[str, str], version: Version
) -> None:
    from tools.station_behaviour import Behaviour

    app = await app_factory(ocpp_call_timeout_seconds=0.5)
    async with (
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{app.rest_port}", headers=ADMIN_HEADERS
        ) as rest,
        booted(app, version, "CP-T") as station,
    ):
        station.behave("ClearCache", Behaviour.NO_ANSWER, times=1)
        timed_out = await command(rest, operator, "CP-T", "clear-cache")
        assert timed_out.status_code == 504
        assert "did not answer" in timed_out.json()["detail"]
        again = await command(rest, operator, "CP-T", "clear-cache")
        assert again.status_code == 200 and again.json()["status"] == "Accepted"


async def test_a_station_that_drops_mid_call_is_reported_offline(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str], version: Version
) -> None:
    from tools.station_behaviour import Behaviour

    async with booted(app, version, "CP-D") as station:
        station.behave("ClearCache", Behaviour.DROP)
        answer = await command(rest, operator, "CP-D", "clear-cache")
    assert answer.status_code == 409
    assert "disconnected" in answer.json()["detail"]
    offline = await command(rest, operator, "CP-D", "clear-cache")
    assert offline.status_code == 409 and "not connected" in offline.json()["detail"]


async def test_two_commands_at_once_are_both_answered_one_after_the_other(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str], version: Version
) -> None:
    async with booted(app, version, "CP-2X"):
        first, second = await asyncio.gather(
            command(rest, operator, "CP-2X", "clear-cache"),
            command(rest, operator, "CP-2X", "get-configuration", {"keys": ["HeartbeatInterval"]}),
        )
    assert first.json()["status"] == "Accepted"
    assert second.json()["data"]["configuration"][0]["key"] == "HeartbeatInterval"


async def test_a_composite_schedule_is_answered_and_logged(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str], version: Version
) -> None:
    """A regression: 1.6 schedules arrive as Decimal and broke the command log (HTTP 500)."""
    profile = {
        "connector_id": 1,
        "profile": {
            "id": 3,
            "purpose": "TxDefaultProfile",
            "rate_unit": "A",
            "periods": [{"start_period_seconds": 0, "limit": 13.5}],
        },
    }
    async with booted(app, version, "CP-S"):
        assert (await command(rest, operator, "CP-S", "set-charging-profile", profile)).json()[
            "status"
        ] == "Accepted"
        schedule = await command(
            rest,
            operator,
            "CP-S",
            "get-composite-schedule",
            {"connector_id": 1, "duration_seconds": 3600, "rate_unit": "A"},
        )
    assert schedule.status_code == 200, schedule.text
    assert schedule.json()["status"] == "Accepted"
    log = (await rest.get("/api/charge-points/CP-S/commands")).json()["items"]
    assert log[0]["action"] == "GetCompositeSchedule" and log[0]["outcome"] == "answered"
