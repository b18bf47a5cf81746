"""Exactly-once across kill -9 and restart (issue #11): a station that resends its
transaction messages to the restarted process (it never saw the answers) stores nothing
twice; the natural keys live in the database, not in the process."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from ev_charging_system.data.database import PROJECT_ROOT
from tests.conformance.station import OCPP16, OCPP201, RawStation, boot_payload
from tests.e2e.test_main_smoke import free_port, wait_for_port

pytestmark = pytest.mark.e2e


@asynccontextmanager
async def csms(
    tmp_path: Path, ocpp_port: int, database_url: str | None = None
) -> AsyncIterator[subprocess.Popen[str]]:
    environment = {
        **os.environ,
        "OCPP_SERVER_PORT": str(ocpp_port),
        "FASTAPI_PORT": str(free_port()),
        "MCP_SERVER_PORT": str(free_port()),
        "DATABASE_URL": database_url or f"sqlite+aiosqlite:///{tmp_path / 'kill.db'}",
    }
    with (tmp_path / "main.log").open("a") as log:
        process = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "main.py"],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            await asyncio.to_thread(wait_for_port, ocpp_port, process)
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            await asyncio.to_thread(process.wait, 30)


@asynccontextmanager
async def station(ocpp_port: int) -> AsyncIterator[RawStation]:
    websocket = await connect(
        f"ws://127.0.0.1:{ocpp_port}/CP-KILL", subprotocols=[Subprotocol(OCPP16)], open_timeout=10
    )
    raw = RawStation(websocket, "CP-KILL")
    try:
        assert (await raw.call("BootNotification", boot_payload(OCPP16)))["status"] == "Accepted"
        yield raw
    finally:
        await raw.close()


async def test_messages_replayed_to_a_restarted_process_are_stored_once(tmp_path: Path) -> None:
    port = free_port()
    start = {"connectorId": 1, "idTag": "ANY", "meterStart": 1_000, "timestamp": recent(0)}
    async with csms(tmp_path, port) as process, station(port) as cp:
        transaction_id = (await cp.call("StartTransaction", start))["transactionId"]
        for minute in (1, 2):
            await cp.call(
                "MeterValues", recent_samples(transaction_id, minute, 1_000 + 500 * minute)
            )
        process.kill()  # SIGKILL: no shutdown, nothing flushed but what was committed
    async with csms(tmp_path, port), station(port) as cp:
        # The station resends what it considers unacknowledged, then carries on.
        assert (await cp.call("StartTransaction", start))["transactionId"] == transaction_id
        for minute in (1, 2, 3):
            await cp.call(
                "MeterValues", recent_samples(transaction_id, minute, 1_000 + 500 * minute)
            )
        stop = {"transactionId": transaction_id, "meterStop": 2_600, "timestamp": recent(4)}
        await cp.call("StopTransaction", stop)
    with sqlite3.connect(tmp_path / "kill.db") as connection:
        stored = connection.execute(
            "SELECT timestamp FROM meter_samples WHERE transaction_id = ? ORDER BY timestamp",
            (transaction_id,),
        ).fetchall()
        [(transactions, energy)] = connection.execute(
            "SELECT count(*), sum(meter_stop_wh - meter_start_wh) FROM transactions"
        ).fetchall()
    assert len(stored) == 3  # minutes 1, 2, 3: once each
    assert (transactions, energy) == (1, 1_600)


# --- kill -9 in the middle of traffic, on PostgreSQL ---------------------------------

STATIONS = 12  # half OCPP 1.6, half 2.0.1, all sending at once: commits are shared
READINGS = 30  # meter readings per session
STEP_WH = 250
# Within the raw-sample retention (older samples are folded into rollups as they come).
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def recent(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


class ReplayingStation:
    """A station as real ones behave: one call at a time; a call whose answer never came
    (the CSMS died) is sent again, as it was, once it is connected again."""

    def __init__(self, port: int, station_id: str, version: str) -> None:
        self.port, self.id, self.version = port, station_id, version
        self.acknowledged = 0
        self.transaction_id: int | None = None  # 1.6: the CSMS's id, learnt from the start

    async def run(self, calls: list[tuple[str, Any]], progress: asyncio.Event) -> None:
        deadline = asyncio.get_running_loop().time() + 120
        sent = 0
        while sent < len(calls):
            assert asyncio.get_running_loop().time() < deadline, f"{self.id} never finished"
            try:
                async with connect(
                    f"ws://127.0.0.1:{self.port}/{self.id}",
                    subprotocols=[Subprotocol(self.version)],
                    open_timeout=5,
                ) as websocket:
                    await self._call(websocket, "BootNotification", boot_payload(self.version))
                    while sent < len(calls):
                        action, payload = calls[sent]
                        answer = await self._call(websocket, action, payload(self))
                        if action == "StartTransaction":
                            self.transaction_id = answer["transactionId"]
                        sent += 1
                        self.acknowledged += 1
                        progress.set()
            except (OSError, ConnectionClosed, TimeoutError, InvalidStatus):
                await asyncio.sleep(0.2)  # the CSMS is down or not up yet: try again

    async def _call(self, websocket: Any, action: str, payload: dict[str, Any]) -> Any:
        await websocket.send(json.dumps([2, f"{action}-{self.acknowledged}", action, payload]))
        reply = json.loads(await asyncio.wait_for(websocket.recv(), 10))
        assert reply[0] == 3, f"{self.id}: {action} answered {reply}"
        return reply[2]


def recent_samples(transaction_id: int | None, minutes: int, wh: int) -> dict[str, Any]:
    sampled = [{"value": str(wh), "measurand": "Energy.Active.Import.Register"}]
    return {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [{"timestamp": recent(minutes), "sampledValue": sampled}],
    }


def session_16() -> list[tuple[str, Any]]:
    start = {"connectorId": 1, "idTag": "ANY", "meterStart": 10_000, "timestamp": recent(0)}
    calls: list[tuple[str, Any]] = [("StartTransaction", lambda s: start)]
    for n in range(1, READINGS + 1):
        calls.append(
            (
                "MeterValues",
                lambda s, n=n: recent_samples(s.transaction_id, n, 10_000 + STEP_WH * n),
            )
        )
    stop = {"meterStop": 10_000 + STEP_WH * READINGS, "timestamp": recent(READINGS + 1)}
    calls.append(("StopTransaction", lambda s: stop | {"transactionId": s.transaction_id}))
    return calls


def session_201(station_id: str) -> list[tuple[str, Any]]:
    def event(seq: int, kind: str, trigger: str, minutes: int, wh: int) -> dict[str, Any]:
        return {
            "eventType": kind,
            "timestamp": recent(minutes),
            "triggerReason": trigger,
            "seqNo": seq,
            "transactionInfo": {"transactionId": f"{station_id}-T1"},
            "evse": {"id": 1, "connectorId": 1},
            "idToken": {"idToken": "ANY", "type": "ISO14443"},
            "meterValue": [
                {"timestamp": recent(minutes), "sampledValue": [{"value": wh}]},
            ],
        }

    calls: list[tuple[str, Any]] = [
        ("TransactionEvent", lambda s: event(0, "Started", "Authorized", 0, 10_000))
    ]
    for n in range(1, READINGS + 1):
        calls.append(
            (
                "TransactionEvent",
                lambda s, n=n: event(n, "Updated", "MeterValuePeriodic", n, 10_000 + STEP_WH * n),
            )
        )
    end = READINGS + 1
    calls.append(
        (
            "TransactionEvent",
            lambda s: (
                event(end, "Ended", "StopAuthorized", end, 10_000 + STEP_WH * READINGS)
                | {
                    "transactionInfo": {
                        "transactionId": f"{station_id}-T1",
                        "stoppedReason": "Local",
                    }
                }
            ),
        )
    )
    return calls


@pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True)
async def test_kill_9_mid_traffic_loses_and_doubles_nothing_on_postgresql(
    tmp_path: Path, database_kind: str, migrated_database: str
) -> None:
    url = migrated_database
    port = free_port()
    stations = [
        ReplayingStation(port, f"KILL-{n:02}", OCPP16 if n % 2 else OCPP201)
        for n in range(STATIONS)
    ]
    progress = asyncio.Event()
    async with csms(tmp_path, port, url) as process:
        runs = [
            asyncio.create_task(
                station.run(
                    session_16() if station.version == OCPP16 else session_201(station.id),
                    progress,
                )
            )
            for station in stations
        ]
        total = STATIONS * (READINGS + 2)
        while sum(station.acknowledged for station in stations) < total * 0.4:
            progress.clear()
            await asyncio.wait_for(progress.wait(), 60)
        process.kill()  # mid-traffic: calls in flight, commits maybe half done
        await asyncio.to_thread(process.wait, 30)
    killed_at = sum(station.acknowledged for station in stations)
    assert killed_at < total, "the kill came after the traffic"
    async with csms(tmp_path, port, url):
        await asyncio.wait_for(asyncio.gather(*runs), 180)

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT t.charge_point_id, count(DISTINCT t.id), "
                        "min(t.meter_stop_wh - t.meter_start_wh), "
                        "(SELECT count(*) FROM meter_samples m "
                        " WHERE m.charge_point_id = t.charge_point_id), "
                        "bool_and(t.stopped_at IS NOT NULL) "
                        "FROM transactions t WHERE t.charge_point_id LIKE 'KILL-%' "
                        "GROUP BY t.charge_point_id ORDER BY 1"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    readings_201 = READINGS + 2  # Started, each Updated and Ended carry one reading
    expected = [
        (
            station.id,
            1,
            STEP_WH * READINGS,
            READINGS if station.version == OCPP16 else readings_201,
            True,
        )
        for station in sorted(stations, key=lambda s: s.id)
    ]
    assert [tuple(row) for row in rows] == expected, [tuple(row) for row in rows]
