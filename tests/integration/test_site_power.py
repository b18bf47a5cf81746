"""A site's power chart, aggregated by the database (SQLite and PostgreSQL): several
stations at the site, one elsewhere; totals and phases; a register alone; a replaced meter;
a bucket the retention has half folded; the bucket before the chart for the first energy.
The per-station chart is the same statement for one station (or connector)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import insert

from ev_charging_system.application import Application
from ev_charging_system.data.orm import ChargePointRow, MeterRollupRow, MeterSampleRow
from ev_charging_system.data.sample_keys import sample_key
from ev_charging_system.models.meter_rollup import BUCKET, POWER, bucket_start

REGISTER = "Energy.Active.Import.Register"
HOURS = 4


async def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def sample(
    station: str, connector: int, at: datetime, measurand: str, value: int, phase: str | None = None
) -> dict[str, Any]:
    key = (station, connector, None, at, measurand, phase, None, "Sample.Periodic", "Raw")
    return {
        "sample_key": sample_key(key),
        "charge_point_id": station,
        "connector_id": connector,
        "timestamp": at,
        "measurand": measurand,
        "raw_value": str(value),
        "value": Decimal(value),
        "phase": phase,
        "context": "Sample.Periodic",
    }


def rollup(
    station: str, at: datetime, measurand: str, values: list[int], last_at: datetime
) -> dict[str, Any]:
    """What the retention leaves of `values` taken in `at`'s bucket (the last at last_at)."""
    return {
        "charge_point_id": station,
        "connector_id": 1,
        "measurand": measurand,
        "phase": "",
        "bucket_start": bucket_start(at),
        "count": len(values),
        "total": Decimal(sum(values)),
        "minimum": Decimal(min(values)),
        "maximum": Decimal(max(values)),
        "last": Decimal(values[-1]),
        "last_at": last_at,
    }


async def chart_start() -> datetime:
    """The first bucket of a chart of the last HOURS asked for now; not within seconds of
    a bucket's end, so the server's clock computes the same one."""
    now = datetime.now(UTC)
    if bucket_start(now) + BUCKET - now < timedelta(seconds=20):
        await asyncio.sleep((bucket_start(now) + BUCKET - now).total_seconds() + 1)
    return bucket_start(datetime.now(UTC) - timedelta(hours=HOURS))


async def test_a_sites_power_adds_its_stations_up_in_the_database(
    app: Application, rest: httpx.AsyncClient
) -> None:
    s = await chart_start()

    def at(minutes: int) -> datetime:
        return s + timedelta(minutes=minutes)

    async with app.engine.begin() as connection:
        await connection.execute(
            insert(ChargePointRow),
            [
                {"id": name, "registration_status": "Accepted", "created_at": at(-60)}
                for name in ("CP-A", "CP-B", "CP-C", "CP-X")
            ],
        )
        await connection.execute(
            insert(MeterSampleRow),
            [
                # CP-A: a total power and a register on connector 1.
                sample("CP-A", 1, at(-5), POWER, 99_999),  # before the chart: not shown
                sample("CP-A", 1, at(1), POWER, 7_000),
                sample("CP-A", 1, at(6), POWER, 11_000),
                sample("CP-A", 1, at(1), REGISTER, 0),
                sample("CP-A", 1, at(6), REGISTER, 2_000),
                # ... in the second bucket, what the retention has not folded yet
                sample("CP-A", 1, at(25), POWER, 4_000),
                sample("CP-A", 1, at(27), REGISTER, 3_500),
                # ... in the third, a total and its phases (the total counts), and a
                # replaced meter (its register went down: no energy)
                sample("CP-A", 1, at(31), POWER, 9_000),
                *(sample("CP-A", 1, at(31), POWER, 3_000, phase) for phase in ("L1", "L2", "L3")),
                sample("CP-A", 1, at(44), REGISTER, 1_000),
                # ... nothing in the fourth; in the fifth, its register alone
                sample("CP-A", 1, at(61), REGISTER, 1_600),
                # CP-B: phases only, on two connectors, in the second bucket
                sample("CP-B", 1, at(16), POWER, 2_000, "L1"),
                sample("CP-B", 1, at(20), POWER, 3_000, "L1"),
                sample("CP-B", 1, at(16), POWER, 2_000, "L2"),
                sample("CP-B", 1, at(16), POWER, 2_000, "L3"),
                sample("CP-B", 2, at(17), POWER, 1_000, "L1"),
                # CP-C: a register only; its reading before the chart starts the first bucket
                sample("CP-C", 1, at(-10), REGISTER, 1_000),
                sample("CP-C", 1, at(5), REGISTER, 1_500),
                sample("CP-C", 1, at(10), REGISTER, 1_600),
                # CP-X stands at no site
                sample("CP-X", 1, at(1), POWER, 50_000),
                sample("CP-X", 1, at(1), REGISTER, 10_000),
                sample("CP-X", 1, at(14), REGISTER, 20_000),
            ],
        )
        # CP-A's second bucket, partly folded by the retention already.
        await connection.execute(
            insert(MeterRollupRow),
            [
                rollup("CP-A", at(15), POWER, [10_000, 10_000], last_at=at(17)),
                rollup("CP-A", at(15), REGISTER, [2_500, 3_000], last_at=at(20)),
            ],
        )
    depot = (await rest.post("/api/sites", json={"name": "Depot"})).json()
    for station in ("CP-A", "CP-B", "CP-C"):
        await ok(
            await rest.put(f"/api/charge-points/{station}/site", json={"site_id": depot["id"]})
        )

    site = await ok(await rest.get(f"/api/sites/{depot['id']}/power", params={"hours": HOURS}))
    points = site["points"]
    assert datetime.fromisoformat(points[0]["bucket_start"]) == s
    assert len(points) == HOURS * 4 + 1  # the bucket running now included
    chart = [(p["average_w"], p["maximum_w"], p["energy_wh"]) for p in points[:6]]
    assert chart == [
        # A: 9 kW mean, 11 kW peak, 2 kWh; C: 600 Wh (from 1,000 before the chart), so
        # 2.4 kW mean and no peak.
        (9_000 + 2_400, 11_000, 2_000 + 600),
        # A: (2 x 10 kW folded + 4 kW raw) / 3 = 8 kW, peak 10 kW, 3,500 - 2,000 Wh;
        # B: phases 2.5 + 2 + 2 kW on connector 1 and 1 kW on connector 2.
        (8_000 + 7_500, 10_000 + 8_000, 1_500),
        (9_000, 9_000, None),  # A's total, not total + phases; the new meter: no energy
        (None, None, None),
        (2_400, None, 600),  # A's register alone: 1,600 - 1,000 Wh
        (None, None, None),
    ]
    assert all(p["average_w"] is None for p in points[6:])

    # One station's chart is the same arithmetic over one station, or one connector.
    a = await ok(
        await rest.get("/api/charge-points/CP-A/power", params={"hours": HOURS, "connector_id": 1})
    )
    assert [(p["average_w"], p["maximum_w"], p["energy_wh"]) for p in a["points"][:5]] == [
        (9_000, 11_000, 2_000),
        (8_000, 10_000, 1_500),
        (9_000, 9_000, None),
        (None, None, None),
        (2_400, None, 600),
    ]
    b = await ok(await rest.get("/api/charge-points/CP-B/power", params={"hours": HOURS}))
    assert [p["average_w"] for p in b["points"][:3]] == [None, 7_500, None]
    b2 = await ok(
        await rest.get("/api/charge-points/CP-B/power", params={"hours": HOURS, "connector_id": 2})
    )
    assert [(p["average_w"], p["maximum_w"]) for p in b2["points"][:2]] == [
        (None, None),
        (1_000, 1_000),
    ]
    x = await ok(await rest.get("/api/charge-points/CP-X/power", params={"hours": HOURS}))
    assert (x["points"][0]["average_w"], x["points"][0]["energy_wh"]) == (50_000, 10_000)
