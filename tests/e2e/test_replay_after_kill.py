"""Exactly-once across kill -9 and restart (issue #11): a station that resends its
transaction messages to the restarted process (it never saw the answers) stores nothing
twice; the natural keys live in the database, not in the process."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from ev_charging_system.data.database import PROJECT_ROOT
from tests.conformance.station import OCPP16, RawStation, at, boot_payload
from tests.e2e.test_main_smoke import free_port, wait_for_port

pytestmark = pytest.mark.e2e


@asynccontextmanager
async def csms(tmp_path: Path, ocpp_port: int) -> AsyncIterator[subprocess.Popen[str]]:
    environment = {
        **os.environ,
        "OCPP_SERVER_PORT": str(ocpp_port),
        "FASTAPI_PORT": str(free_port()),
        "MCP_SERVER_PORT": str(free_port()),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kill.db'}",
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


def samples(transaction_id: int, minutes: int, wh: int) -> dict[str, Any]:
    sampled = [{"value": str(wh), "measurand": "Energy.Active.Import.Register"}]
    return {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [{"timestamp": at(minutes), "sampledValue": sampled}],
    }


async def test_messages_replayed_to_a_restarted_process_are_stored_once(tmp_path: Path) -> None:
    port = free_port()
    start = {"connectorId": 1, "idTag": "ANY", "meterStart": 1_000, "timestamp": at(0)}
    async with csms(tmp_path, port) as process, station(port) as cp:
        transaction_id = (await cp.call("StartTransaction", start))["transactionId"]
        for minute in (1, 2):
            await cp.call("MeterValues", samples(transaction_id, minute, 1_000 + 500 * minute))
        process.kill()  # SIGKILL: no shutdown, nothing flushed but what was committed
    async with csms(tmp_path, port), station(port) as cp:
        # The station resends what it considers unacknowledged, then carries on.
        assert (await cp.call("StartTransaction", start))["transactionId"] == transaction_id
        for minute in (1, 2, 3):
            await cp.call("MeterValues", samples(transaction_id, minute, 1_000 + 500 * minute))
        stop = {"transactionId": transaction_id, "meterStop": 2_600, "timestamp": at(4)}
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
