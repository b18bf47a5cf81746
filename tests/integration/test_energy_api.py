"""Site energy over REST: the seed's contract, validation, stored settings, real chargers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ev_charging_system.application import Application
from ev_charging_system.energy.history import slot_index
from tests.conftest import ADMIN_HEADERS, AppFactory, expecting, ocpp_url
from tools.simulated_charge_point import connected_station
from tools.simulated_charge_point_v201 import connected_station_201

SEED_REQUEST = {
    "solar": {"production_kw": 9.5},
    "load": {"critical_load_kw": 5.0, "flexible_load_kw": 3.0},
    "battery": {"state_of_charge_kwh": 6.0},
    "vehicle": {"connected": True, "state_of_charge_kwh": 40.0},
}


async def test_the_seeds_example_returns_the_seeds_answer_with_the_rule_policy(
    rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    response = await rest.post(
        "/energy/coordinate", params={"policy": "rule"}, json=SEED_REQUEST, headers=operator
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["actions"] == {
        "battery": {"mode": "charge", "power_kw": 1.5},
        "vehicle": {"mode": "idle", "power_kw": 0.0},
        "load": {"shed_kw": 0.0},
    }
    assert set(body["status"]) == {"solar", "battery", "vehicle", "load"}
    assert body["status"]["solar"]["production_kw"] == 9.5
    assert body["plan"]["policy"] == "rule" and body["plan"]["reason"]


async def test_the_default_policy_answers_in_the_same_shape(
    rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    body = (await rest.post("/energy/coordinate", json=SEED_REQUEST, headers=operator)).json()
    assert set(body["actions"]) == {"battery", "vehicle", "load"}
    assert body["plan"]["requested_policy"] == "optimize"
    # How the plan came about is said, in the plan and counted in the health.
    status = body["plan"]["solver_status"]
    assert status in ("optimal", "feasible", "time_limit_feasible", "heuristic")
    health = (await rest.get("/energy/health", headers=operator)).json()
    assert health["plan_outcomes"].get(status, 0) >= 1
    assert health["forecast"] is not None and "pv_mae_day_ahead_kw" in health["forecast"]


@pytest.mark.parametrize(
    ("path", "payload", "status"),
    [
        # What no site can have: refused as invalid input.
        ("/energy/coordinate", {**SEED_REQUEST, "solar": {"production_kw": -1}}, 422),
        ("/energy/battery/control", {"mode": "sideways", "power_kw": 1}, 422),
        # What this site, as configured, cannot have: a conflict with its configuration.
        ("/energy/coordinate", {**SEED_REQUEST, "battery": {"state_of_charge_kwh": 999}}, 409),
        ("/energy/battery/control", {"mode": "charge", "power_kw": 500}, 409),
        ("/energy/load/shed", {"shed_kw": 1000}, 409),
    ],
)
async def test_impossible_values_are_refused_and_change_nothing(
    rest: httpx.AsyncClient, path: str, payload: dict[str, Any], status: int
) -> None:
    before = (await rest.get("/energy/status")).json()
    response = await rest.post(path, json=payload)
    assert response.status_code == status
    assert "detail" in response.json()
    after = (await rest.get("/energy/status")).json()
    for agent in ("solar", "battery", "load"):
        assert after[agent] == before[agent]


async def test_energy_needs_a_token(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.post("/energy/coordinate", json=SEED_REQUEST)).status_code == 401
    assert (await anonymous.get("/energy/health")).status_code == 401


async def test_dynamic_prices_sent_out_of_order_are_kept_in_time_order(
    rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    tariff = {
        "kind": "dynamic",
        "points": [
            {"start": "2030-01-01T12:00:00Z", "import_price": 0.40},
            {"start": "2030-01-01T00:00:00Z", "import_price": 0.10},
            {"start": "2030-01-01T06:00:00+03:00", "import_price": 0.25},
        ],
        "fallback_import_price": 0.30,
    }
    saved = await rest.put("/energy/tariff", json=tariff, headers=operator)
    assert saved.status_code == 200, saved.text
    stored = (await rest.get("/energy/tariff")).json()
    assert [point["import_price"] for point in stored["points"]] == [0.10, 0.25, 0.40]


async def test_site_settings_survive_a_restart(
    app_factory: AppFactory, operator: dict[str, str]
) -> None:
    first = await app_factory()
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{first.rest_port}", headers=ADMIN_HEADERS
    ) as rest:
        config = (await rest.get("/energy/config")).json()
        config["battery"]["capacity_kwh"] = 13.5
        config["grid"]["import_limit_kw"] = 17.0
        saved = await rest.put("/energy/config", json=config, headers=operator)
        assert saved.status_code == 200, saved.text
        tariff = {
            "kind": "time_of_use",
            "default_import_price": 0.32,
            "windows": [{"start": "00:00", "end": "06:00", "import_price": 0.18}],
            "feed_in_price": 0.07,
        }
        assert (await rest.put("/energy/tariff", json=tariff, headers=operator)).status_code == 200
        policy = await rest.put("/energy/policy", json={"policy": "pv_surplus"}, headers=operator)
        assert policy.json()["policy"] == "pv_surplus"
        bad = await rest.put("/energy/policy", json={"policy": "magic"}, headers=operator)
        assert bad.status_code == 422
    # What the PV and house measured over the last day is kept for the forecasts too.
    now = datetime.now(UTC)
    yesterday = [(slot_index(now) - 96 + k, 5.0, 0.4, 0.1) for k in range(96)]
    await first.history_store.save(yesterday)
    await first.stop()

    second = await app_factory()
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{second.rest_port}", headers=ADMIN_HEADERS
    ) as rest:
        config = (await rest.get("/energy/config")).json()
        assert config["battery"]["capacity_kwh"] == 13.5
        assert config["grid"]["import_limit_kw"] == 17.0
        assert (await rest.get("/energy/tariff")).json()["kind"] == "time_of_use"
        assert (await rest.get("/energy/policy")).json()["policy"] == "pv_surplus"
        plans = (await rest.get("/energy/plans")).json()
        assert plans and plans[0]["policy"] and plans[0]["reason"]
    pv, _, _ = second.coordinator.history.series(before=now)
    assert (pv[-96:] == 5.0).all()


@pytest.mark.parametrize("ocpp", ["1.6", "2.0.1"])
async def test_a_bound_station_receives_charging_profiles_that_follow_the_plan(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str], ocpp: str
) -> None:
    await rest.post("/api/id-tags", json={"id_tag": "CARD"}, headers=operator)
    config = (await rest.get("/energy/config")).json()
    config["vehicles"][0] |= {"charge_point_id": "CP-EV", "connector_id": 1}
    assert (await rest.put("/energy/config", json=config, headers=operator)).status_code == 200
    connect = connected_station if ocpp == "1.6" else connected_station_201
    async with connect(ocpp_url(app), "CP-EV") as connected:
        station: Any = connected
        await station.boot()
        if ocpp == "1.6":
            await station.start_transaction(1, "CARD", 0)
        else:
            await station.start_session(1, "CARD", meter_wh=0)
        # An operator's manual setpoint goes to the charger at once ...
        manual = await rest.post(
            "/energy/vehicle/control", json={"mode": "charge", "power_kw": 7.0}, headers=operator
        )
        assert manual.status_code == 200, manual.text
        assert installed_watts(station) == 7000

        # ... and every plan after it sets the limit the plan chose for the vehicle.
        async with expecting(app, "command.completed", "CP-EV") as sent:
            plan = (
                await rest.post(
                    "/energy/coordinate",
                    json={"solar": {"production_kw": 10.0}, "vehicle": {"connected": True}},
                    headers=operator,
                )
            ).json()
            assert "actions" in plan, plan
            answered = await sent()
        assert answered.payload()["action"] == "SetChargingProfile"
        planned_w = plan["actions"]["vehicle"]["power_kw"] * 1000
        assert installed_watts(station) == pytest.approx(planned_w, abs=1)
        assert planned_w > 0  # 10 kW of sun at noon: the car charges

        # What the station meters is what the vehicle agent knows.
        for register_wh in (1_000, 3_500):
            if ocpp == "1.6":
                transaction = station.transactions[1]
                await station.meter_values(1, transaction.transaction_id, register_wh)
            else:
                await station.update_session(1, meter_wh=register_wh)
        vehicle = (await rest.get("/energy/status")).json()["vehicle"]
        assert vehicle["bound"] is True and vehicle["connected"] is True
        assert vehicle["session_energy_kwh"] == pytest.approx(3.5)  # from meterStart 0

    commands = (await rest.get("/api/charge-points/CP-EV/commands")).json()["items"]
    assert {c["requested_by"] for c in commands} == {"energy:coordinator"}
    assert all(c["action"] == "SetChargingProfile" for c in commands)


def installed_watts(station: Any) -> float:
    profile = station.charging_profiles[9001]
    if hasattr(profile, "periods"):
        periods = profile.periods
    else:
        periods = profile.schedule["charging_schedule_period"]
    return float(periods[0]["limit"])


async def test_old_plans_are_pruned_after_the_retention_period(app: Application) -> None:
    import dataclasses
    from datetime import datetime, timedelta

    from ev_charging_system.data.database import create_session_factory
    from ev_charging_system.data.energy_store import SqlPlanLog

    log = SqlPlanLog(create_session_factory(app.engine), retention=timedelta(days=14))
    log.PRUNE_EVERY = 1
    plan = await app.coordinator.tick()
    await log.record(dataclasses.replace(plan, created_at=plan.created_at - timedelta(days=30)))
    await log.record(plan)
    remaining = [datetime.fromisoformat(p["created_at"]) for p in await log.recent(100)]
    assert plan.created_at in remaining
    assert all(at >= plan.created_at - timedelta(days=14) for at in remaining)


async def test_vehicles_circuits_and_deferrable_loads_are_managed_over_rest(
    app: Application, rest: httpx.AsyncClient
) -> None:
    garage = {"circuit_id": "garage", "max_kw": 16.0}
    assert (await rest.put("/energy/circuits", json=[garage])).json() == [garage]
    second = {
        "vehicle_id": "ev2",
        "battery_capacity_kwh": 40.0,
        "max_charge_kw": 7.4,
        "phases": 1,
        "charge_point_id": "CP-G2",
        "connector_id": 1,
        "circuit_id": "garage",
        "departure_time": "07:30",
    }
    response = await rest.put("/energy/vehicles", json=second)
    assert response.status_code == 200, response.text
    assert response.json()["departure_time"] == "07:30:00"
    listed = {v["vehicle_id"]: v for v in (await rest.get("/energy/vehicles")).json()}
    assert set(listed) == {"ev1", "ev2"} and listed["ev2"]["circuit_id"] == "garage"
    # A circuit nobody configured, a connector another car is bound to: conflicts.
    unknown_circuit = {**second, "vehicle_id": "ev3", "connector_id": 2, "circuit_id": "shed"}
    assert (await rest.put("/energy/vehicles", json=unknown_circuit)).status_code == 409
    same_connector = {**second, "vehicle_id": "ev3"}
    assert (await rest.put("/energy/vehicles", json=same_connector)).status_code == 409
    # Removing the circuit while ev2 is on it is refused too.
    assert (await rest.put("/energy/circuits", json=[])).status_code == 409

    now = datetime.now(UTC)
    dishwasher = {
        "load_id": "dishwasher",
        "power_kw": 1.0,
        "energy_kwh": 1.5,
        "earliest_start": now.isoformat(),
        "deadline": (now + timedelta(hours=10)).isoformat(),
        "interruptible": False,
        "name": "Dishwasher, eco programme",
    }
    added = await rest.post("/energy/deferrable-loads", json=dishwasher)
    assert added.status_code == 201, added.text
    assert added.json()["remaining_kwh"] == 1.5 and added.json()["done"] is False
    assert (await rest.post("/energy/deferrable-loads", json=dishwasher)).status_code == 409
    late = {**dishwasher, "load_id": "late", "deadline": (now - timedelta(hours=1)).isoformat()}
    assert (await rest.post("/energy/deferrable-loads", json=late)).status_code in (409, 422)
    jobs = (await rest.get("/energy/deferrable-loads")).json()
    assert [job["config"]["load_id"] for job in jobs] == ["dishwasher"]

    # The planner schedules the job and both cars; the stored site keeps them.
    plan = (await rest.post("/energy/tick")).json()
    assert plan["solver_status"] in ("optimal", "feasible", "time_limit_feasible")
    current = (await rest.get("/energy/plan")).json()
    assert [d["load_id"] for d in current["actions"]["deferrables"]] == ["dishwasher"]
    assert len(current["actions"]["vehicles"]) == 2
    config = (await rest.get("/energy/config")).json()
    assert [d["load_id"] for d in config["deferrable_loads"]] == ["dishwasher"]

    assert (await rest.delete("/energy/deferrable-loads/dishwasher")).status_code == 204
    assert (await rest.delete("/energy/deferrable-loads/dishwasher")).status_code == 404
    assert (await rest.delete("/energy/vehicles/ev2")).status_code == 204
    assert (await rest.delete("/energy/vehicles/ev2")).status_code == 404
    assert [v["vehicle_id"] for v in (await rest.get("/energy/vehicles")).json()] == ["ev1"]


async def test_a_deferrable_jobs_progress_survives_a_restart(app_factory: AppFactory) -> None:
    first = await app_factory()
    now = datetime.now(UTC)
    # The window holds exactly the run: the planner must start it at once.
    dishwasher = {
        "load_id": "dishwasher",
        "power_kw": 1.0,
        "energy_kwh": 1.0,
        "earliest_start": now.isoformat(),
        "deadline": (now + timedelta(hours=1)).isoformat(),
    }
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{first.rest_port}", headers=ADMIN_HEADERS
    ) as rest:
        assert (await rest.post("/energy/deferrable-loads", json=dishwasher)).status_code == 201
        assert (await rest.post("/energy/tick")).status_code == 200
        await asyncio.sleep(0.5)
        assert (await rest.post("/energy/tick")).status_code == 200
        before = (await rest.get("/energy/deferrable-loads")).json()[0]
    assert before["state"]["started"] and before["state"]["delivered_kwh"] > 0
    await first.stop()

    second = await app_factory()
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{second.rest_port}", headers=ADMIN_HEADERS
    ) as rest:
        after = (await rest.get("/energy/deferrable-loads")).json()[0]
    # What was counted at the last plan is kept (not a fresh job of 1 kWh), and the
    # programme is known to be running: it is not started a second time.
    assert after["state"]["started"] is True
    assert after["state"]["delivered_kwh"] == pytest.approx(before["state"]["delivered_kwh"])
    assert after["remaining_kwh"] < 1.0


async def test_forecast_errors_survive_a_restart(app_factory: AppFactory) -> None:
    from ev_charging_system.energy.models import Forecast

    first = await app_factory()
    # Two days ahead: no slot the running planner scores during the test.
    start = datetime.fromtimestamp((slot_index(datetime.now(UTC)) + 192) * 900, UTC)
    tracker = first.coordinator.forecast_tracker
    tracker.record(Forecast(start, (1.0,) * 96, (0.5,) * 96, (0.0,) * 96))
    tracker.observe(slot_index(start) + 4, pv_kw=1.5, load_kw=0.5)  # hour ahead: 0.5 off
    await first.stop()  # stores the scores and the day-ahead forecast still pending

    second = await app_factory()
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{second.rest_port}", headers=ADMIN_HEADERS
    ) as rest:
        forecast = (await rest.get("/energy/health")).json()["forecast"]
    assert forecast["pv_mae_hour_ahead_kw"] == pytest.approx(0.5)
    # The day-ahead forecast made before the restart is scored after it.
    restored = second.coordinator.forecast_tracker
    restored.observe(slot_index(start) + 95, pv_kw=0.0, load_kw=1.0)
    assert restored.accuracy().pv_bias_day_ahead_kw == pytest.approx(1.0)
    # Stored again once something new was scored (the application does it every minute).
    assert await second.forecast_errors.keep() is True
    assert await second.forecast_errors.keep() is False
    stored = await second.history_store.load_forecast_errors()
    assert stored is not None and len(stored["errors"]["day"]) == 1
