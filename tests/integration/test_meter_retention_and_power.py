"""Raw meter samples age into 15-minute rollups (nothing counted twice, evidence kept), and
a station's power chart reads both without a seam."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from ocpp.v16 import call
from sqlalchemy import func, select

from ev_charging_system.data.database import create_engine
from ev_charging_system.data.orm import MeterSampleRow
from tests.conftest import ADMIN_HEADERS, AppFactory, ocpp_url
from tools.simulated_charge_point import connected_station

STEP = timedelta(minutes=5)
WH_PER_STEP = 1_000  # 12 kW


def reading(at: datetime, register_wh: float, power_w: float) -> dict[str, Any]:
    return {
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "sampled_value": [
            {
                "value": f"{register_wh:.1f}",
                "measurand": "Energy.Active.Import.Register",
                "unit": "Wh",
                "context": "Sample.Periodic",
            },
            {
                "value": f"{power_w:.1f}",
                "measurand": "Power.Active.Import",
                "unit": "W",
                "context": "Sample.Periodic",
            },
        ],
    }


async def raw_samples(app_url: str) -> dict[str | None, int]:
    engine = create_engine(app_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(MeterSampleRow.context, func.count()).group_by(MeterSampleRow.context)
            )
            return {context: count for context, count in rows}
    finally:
        await engine.dispose()


async def test_old_samples_fold_into_rollups_and_the_chart_reads_both(
    app_factory: AppFactory,
) -> None:
    app = await app_factory(meter_sample_retention_days=1 / 24)  # an hour, for the test
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    # Readings 2.5 minutes off the hour marks: the retention cut-off (an hour before the
    # moment the fold runs, a few seconds after `now`) never falls next to one.
    first = now - timedelta(hours=3) + timedelta(seconds=150)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{app.rest_port}", headers=ADMIN_HEADERS
    ) as rest:
        await rest.post("/api/id-tags", json={"id_tag": "TAG-POWER"})
        async with connected_station(ocpp_url(app), "CP-POWER") as station:
            await station.boot()
            started = await station.start_transaction(
                1, "TAG-POWER", meter_start=0, timestamp=first.isoformat().replace("+00:00", "Z")
            )
            steps = int((now - first) / STEP)
            for n in range(1, steps + 1):
                await station.call(
                    call.MeterValues(
                        connector_id=1,
                        transaction_id=started.transaction_id,
                        meter_value=[reading(first + n * STEP, n * WH_PER_STEP, 12_000)],
                    )
                )
            # Evidence, old as it is: a session's begin reading and a signed reading.
            evidence = {"timestamp": (first + STEP).isoformat().replace("+00:00", "Z")}
            await station.call(
                call.MeterValues(
                    connector_id=2,
                    meter_value=[
                        evidence
                        | {"sampled_value": [{"value": "500", "context": "Transaction.Begin"}]},
                        evidence
                        | {
                            "sampled_value": [
                                {"value": "AP;0;3;ALCV3ABBBISIAIUA", "format": "SignedData"}
                            ]
                        },
                    ],
                )
            )
        before = await raw_samples(app.settings.database_url)
        assert before["Sample.Periodic"] == 2 * steps + 1  # 1.6's default context: signed too

        folded = await app.meter_history.roll_up()
        after = await raw_samples(app.settings.database_url)
        # Samples older than an hour are gone from the raw table, the rest stay.
        assert folded == 2 * sum(
            1 for n in range(1, steps + 1) if first + n * STEP < now - timedelta(hours=1)
        )
        assert after["Sample.Periodic"] == before["Sample.Periodic"] - folded
        assert after["Transaction.Begin"] == before["Transaction.Begin"] >= 1
        # The signed reading is among the periodic ones left (`folded` counts no signed one).
        assert await app.meter_history.roll_up() == 0  # nothing folds twice

        chart = await rest.get(
            "/api/charge-points/CP-POWER/power", params={"hours": 4, "connector_id": 1}
        )
        assert chart.status_code == 200, chart.text
        points = chart.json()["points"]
        assert chart.json()["bucket_minutes"] == 15
        # Every full 15-minute bucket of the session, rolled up or raw: 12 kW, 3 kWh.
        full = [
            p
            for p in points
            if first + timedelta(minutes=15) <= datetime.fromisoformat(p["bucket_start"])
            and datetime.fromisoformat(p["bucket_start"]) + timedelta(minutes=15) <= now
        ]
        assert len(full) >= 8
        assert {p["average_w"] for p in full} == {12_000}
        assert {p["maximum_w"] for p in full} == {12_000}
        assert {p["energy_wh"] for p in full} == {3 * WH_PER_STEP}
        total = sum(p["energy_wh"] or 0 for p in points)
        assert total == (steps - 1) * WH_PER_STEP  # from the first reading to the last

        assert (await rest.get("/api/charge-points/NOPE/power")).status_code == 404
        assert (
            await rest.get("/api/charge-points/CP-POWER/power", params={"hours": 1000})
        ).status_code == 422
