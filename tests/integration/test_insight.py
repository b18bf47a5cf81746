"""Diagnosis and usage reports computed from what stations really sent."""

from __future__ import annotations

import httpx
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from ev_charging_system.application import Application
from tests.conftest import ocpp_url
from tools.simulated_charge_point import connected_station


async def test_a_faulty_station_gets_a_low_score_with_evidence_and_advice(
    app: Application, rest: httpx.AsyncClient
) -> None:
    async with connected_station(ocpp_url(app), "CP-SICK") as station:
        for _ in range(3):
            await station.boot()
        for _ in range(5):
            await station.status(
                1,
                ChargePointStatus.faulted,
                ChargePointErrorCode.ground_failure,
                vendor_error_code="GF-7",
            )
        for n in range(4):
            started = await station.start_transaction(1, f"T{n}", 100)
            await station.stop_transaction(started.transaction_id, 100)  # no energy
    report = (await rest.get("/api/charge-points/CP-SICK/diagnosis?days=1")).json()
    assert report["score"] < 60 and report["grade"] == "failing"
    titles = " | ".join(f["title"] for f in report["findings"])
    assert "fault reports" in titles and "no energy" in titles and "reboots" in titles
    fault = next(f for f in report["findings"] if "fault" in f["title"])
    assert fault["evidence"]["error_codes"] == {"GroundFailure": 5}
    assert fault["evidence"]["vendor_error_codes"] == {"GF-7": 5}
    assert fault["suggested_action"]


async def test_a_healthy_station_scores_full_marks(
    app: Application, rest: httpx.AsyncClient
) -> None:
    async with connected_station(ocpp_url(app), "CP-FINE") as station:
        await station.boot()
        await station.status(1)
        report = (await rest.get("/api/charge-points/CP-FINE/diagnosis")).json()
    assert report == report | {"score": 100, "grade": "healthy", "findings": [], "online": True}


async def test_usage_report_per_station_and_tag(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    for name, meter in (("CP-A", 1_000), ("CP-B", 2_500)):
        async with connected_station(ocpp_url(app), name) as station:
            await station.boot()
            for tag in ("ALICE", "BOB"):
                started = await station.start_transaction(1, tag, 0)
                await station.stop_transaction(started.transaction_id, meter)
    per_station = (await rest.get("/api/reports/usage")).json()
    assert per_station == [
        {"key": "CP-A", "sessions": 2, "energy_wh": 2_000},
        {"key": "CP-B", "sessions": 2, "energy_wh": 5_000},
    ]
    per_tag = (await rest.get("/api/reports/usage", params={"group_by": "id_tag"})).json()
    assert [(r["key"], r["energy_wh"]) for r in per_tag] == [("ALICE", 3_500), ("BOB", 3_500)]
    per_day = (await rest.get("/api/reports/usage", params={"group_by": "day"})).json()
    assert len(per_day) == 1 and per_day[0]["sessions"] == 4 and len(per_day[0]["key"]) == 10
    assert (await rest.get("/api/charge-points/NOPE/diagnosis")).status_code == 404
