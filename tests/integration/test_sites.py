"""Sites over real HTTP, on both databases: inventory, station assignment and the list's
site filter, the overview's counts per site, usage grouped by site, a site's power, and
the migration's "Home" site."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus
from sqlalchemy import text

from ev_charging_system.application import Application
from ev_charging_system.data.database import create_engine
from tests.conftest import ocpp_url
from tests.integration.test_migrations import alembic, empty_database  # noqa: F401 (fixture)
from tests.integration.test_paged_lists import add_stations
from tools.simulated_charge_point import connected_station


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def test_sites_are_created_changed_assigned_and_deleted_only_when_empty(
    app: Application, rest: httpx.AsyncClient
) -> None:
    depot = await ok(
        await rest.post(
            "/api/sites",
            json={
                "name": "Depot North",
                "address": "Rua A, 1",
                "latitude": -23.55,
                "longitude": -46.63,
                "grid_limit_kw": 150,
            },
        ),
        201,
    )
    assert (depot["name"], depot["station_count"], depot["energy_planner"]) == (
        "Depot North",
        0,
        False,
    )
    clash = await rest.post("/api/sites", json={"name": "Depot North"})
    assert clash.status_code == 409, clash.text
    half = await rest.post("/api/sites", json={"name": "X", "latitude": 1})
    assert half.status_code == 422
    changed = await ok(
        await rest.put(f"/api/sites/{depot['id']}", json={"name": "Depot N", "address": "Rua B"})
    )
    assert (changed["name"], changed["latitude"], changed["grid_limit_kw"]) == (
        "Depot N",
        None,
        None,
    )

    await add_stations(app, 3)  # ST-0000 .. ST-0002
    station = await ok(
        await rest.put("/api/charge-points/ST-0001/site", json={"site_id": depot["id"]})
    )
    assert station["site_id"] == depot["id"]
    unknown = await rest.put("/api/charge-points/ST-0001/site", json={"site_id": 999_999})
    assert unknown.status_code == 404
    at_depot = await ok(await rest.get("/api/charge-points", params={"site": depot["id"]}))
    assert [s["id"] for s in at_depot["items"]] == ["ST-0001"]
    nowhere = await ok(await rest.get("/api/charge-points", params={"site": "none"}))
    assert [s["id"] for s in nowhere["items"]] == ["ST-0000", "ST-0002"]
    assert (await rest.get("/api/charge-points", params={"site": "x"})).status_code == 422

    refused = await rest.delete(f"/api/sites/{depot['id']}")
    assert refused.status_code == 409
    assert "still has 1 station" in refused.json()["detail"]
    await ok(await rest.put("/api/charge-points/ST-0001/site", json={"site_id": None}))
    assert (await rest.delete(f"/api/sites/{depot['id']}")).status_code == 204
    assert (await rest.get(f"/api/sites/{depot['id']}")).status_code == 404

    # The energy planner's site is one of them, made on first use, and can move.
    listed = await ok(await rest.get("/api/sites"))
    assert [(s["name"], s["energy_planner"]) for s in listed["items"]] == [("Home", True)]
    other = await ok(await rest.post("/api/sites", json={"name": "Casa"}), 201)
    moved = await ok(await rest.put("/api/sites/energy-planner", json={"site_id": other["id"]}))
    assert moved["energy_planner"]
    assert (await ok(await rest.get("/api/sites/energy-planner")))["name"] == "Casa"


async def test_the_overview_counts_stations_per_site_from_one_grouped_read(
    app: Application, rest: httpx.AsyncClient
) -> None:
    depot = await ok(await rest.post("/api/sites", json={"name": "Depot"}), 201)
    await add_stations(app, 5)  # every fifth Pending (ST-0000), every third booted
    for station in ("ST-0000", "ST-0001"):
        await ok(
            await rest.put(f"/api/charge-points/{station}/site", json={"site_id": depot["id"]})
        )
    async with connected_station(ocpp_url(app), "ST-0001") as live:
        await live.boot()
        await live.status(1, ChargePointStatus.faulted, ChargePointErrorCode.ground_failure)
        await live.status(2, ChargePointStatus.available)
        summary = await ok(await rest.get("/api/overview"))
    total = summary["total"]
    assert (total["stations"], total["online"], total["pending"]) == (5, 1, 1)
    by_name = {s["name"]: s for s in summary["sites"]}
    assert list(by_name) == ["Depot", None]  # sites by name, then stations of no site
    at_depot = by_name["Depot"]
    assert (at_depot["stations"], at_depot["online"], at_depot["offline"]) == (2, 1, 1)
    assert (at_depot["faulted"], at_depot["pending"], at_depot["booted"]) == (1, 1, 2)
    assert at_depot["connectors"] == {"Available": 1, "Faulted": 1}
    assert by_name[None]["stations"] == 3
    assert by_name[None]["offline_accepted"] == 3


async def test_usage_is_reported_by_site_and_a_sites_power_adds_its_stations(
    app: Application, rest: httpx.AsyncClient
) -> None:
    depot = await ok(await rest.post("/api/sites", json={"name": "Depot"}), 201)
    await ok(await rest.post("/api/id-tags", json={"id_tag": "TAG-SITE"}), 201)
    started_at = datetime.now(UTC) - timedelta(minutes=5)
    stamp = started_at.isoformat().replace("+00:00", "Z")
    async with (
        connected_station(ocpp_url(app), "CP-A") as a,
        connected_station(ocpp_url(app), "CP-B") as b,
        connected_station(ocpp_url(app), "CP-C") as c,
    ):
        for station in (a, b, c):
            await station.boot()
        for name in ("CP-A", "CP-B"):
            await ok(
                await rest.put(f"/api/charge-points/{name}/site", json={"site_id": depot["id"]})
            )
        sessions = []
        for station, power_w, wh in ((a, 7_000, 1_000), (b, 11_000, 2_000), (c, 50_000, 4_000)):
            started = await station.start_transaction(1, "TAG-SITE", 0, timestamp=stamp)
            await station.meter_values(1, started.transaction_id, wh / 2, power_w=power_w)
            sessions.append((station, started.transaction_id, wh))
        for station, transaction_id, wh in sessions:
            await station.stop_transaction(transaction_id, wh)

    usage = await ok(await rest.get("/api/reports/usage", params={"group_by": "site"}))
    assert [(r["key"], r["sessions"], r["energy_wh"]) for r in usage] == [
        ("", 1, 4_000),  # CP-C stands at no site
        ("Depot", 2, 3_000),
    ]
    chart = await ok(await rest.get(f"/api/sites/{depot['id']}/power", params={"hours": 1}))
    assert (chart["name"], chart["station_count"], chart["bucket_minutes"]) == ("Depot", 2, 15)
    peak = max((p["maximum_w"] or 0) for p in chart["points"])
    assert peak == 18_000  # CP-A and CP-B; CP-C's 50 kW is another site's (none)
    assert (await rest.get("/api/sites/999999/power")).status_code == 404


async def test_the_migration_makes_home_the_planners_site_when_stations_exist(
    empty_database: str,  # noqa: F811 (the fixture imported above)
) -> None:
    assert alembic(empty_database, "upgrade", "0014").returncode == 0
    engine = create_engine(empty_database)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO charge_points (id, registration_status, created_at) "
                    "VALUES ('CP-OLD', 'Accepted', :at)"
                ),
                {"at": datetime(2026, 1, 1, tzinfo=UTC)},
            )
            await connection.execute(
                text(
                    "INSERT INTO meter_rollups (charge_point_id, connector_id, measurand, phase, "
                    "bucket_start, count, total, minimum, maximum, last, last_at) VALUES "
                    "('CP-OLD', 1, 'Power.Active.Import', '', :at, 1, '1', '1', '1', '1', :at)"
                ),
                {"at": datetime(2026, 1, 1, tzinfo=UTC)},
            )
        upgraded = alembic(empty_database, "upgrade", "head")
        assert upgraded.returncode == 0, upgraded.stderr
        async with engine.connect() as connection:
            sites = (await connection.execute(text("SELECT name, energy_planner FROM sites"))).all()
            assert [(name, bool(flag)) for name, flag in sites] == [("Home", True)]
            station = (
                await connection.execute(text("SELECT site_id FROM charge_points"))
            ).scalar_one()
            assert station is None  # stations stay where they were: at no site
            # Adding the column kept what references stations (no table copy on SQLite).
            kept = (await connection.execute(text("SELECT count(*) FROM meter_rollups"))).scalar()
            assert kept == 1
    finally:
        await engine.dispose()
