"""SIGTERM to the real process while stations' calls are in flight (issue #11): every call
gets its answer before the socket closes with 1001, and the process exits 0.

The calls are held in flight by another client holding the SQLite database locked; it
lets go once the process says it is stopping."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from ev_charging_system.data.database import PROJECT_ROOT
from tests.conformance.station import OCPP16, RawStation, at, boot_payload
from tests.e2e.test_main_smoke import free_port, wait_for_port
from tests.faults import table_locked

pytestmark = pytest.mark.e2e
STATIONS = 3
BOUND = 20.0


def meter_values(n: int) -> dict[str, Any]:
    sampled = [{"value": str(100 + n), "measurand": "Power.Active.Import"}]
    return {"connectorId": 1, "meterValue": [{"timestamp": at(n), "sampledValue": sampled}]}


def wait_for_line(log_path: Path, text: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + BOUND
    while text not in log_path.read_text():
        assert process.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, f"no {text!r} in the log:\n{log_path.read_text()}"
        time.sleep(0.05)


async def test_sigterm_answers_every_call_in_flight_then_closes_1001(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("OCPP_SERVER_PORT", "FASTAPI_PORT", "MCP_SERVER_PORT")}
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'stop.db'}"
    environment = {
        **os.environ,
        **{name: str(port) for name, port in ports.items()},
        "DATABASE_URL": database_url,
        "DATABASE_TIMEOUT_SECONDS": "8",
        "SHUTDOWN_TIMEOUT_SECONDS": "12",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path / "main.log"
    stations: list[RawStation] = []
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "main.py"],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            await asyncio.to_thread(wait_for_port, ports["OCPP_SERVER_PORT"], process)
            for n in range(STATIONS):
                websocket = await connect(
                    f"ws://127.0.0.1:{ports['OCPP_SERVER_PORT']}/CP-TERM-{n}",
                    subprotocols=[Subprotocol(OCPP16)],
                    open_timeout=BOUND,
                )
                stations.append(RawStation(websocket, f"CP-TERM-{n}"))
                answer = await stations[-1].call("BootNotification", boot_payload(OCPP16))
                assert answer["status"] == "Accepted"
            with table_locked(database_url, "meter_samples"):
                for n, station in enumerate(stations):
                    await station.send([2, f"mv-{n}", "MeterValues", meter_values(n)])
                process.send_signal(signal.SIGTERM)
                await asyncio.to_thread(wait_for_line, log_path, "OCPP: stopping", process)
            for n, station in enumerate(stations):
                assert await station.next_reply() == [3, f"mv-{n}", {}]
                assert await station.closed() == 1001
            exit_code = await asyncio.to_thread(process.wait, BOUND)
        finally:
            for station in stations:
                await station.close()
            if process.poll() is None:
                process.kill()
    output = log_path.read_text()
    assert exit_code == 0, output
    assert "Traceback" not in output
    with sqlite3.connect(tmp_path / "stop.db") as connection:
        [(stored,)] = connection.execute("SELECT count(*) FROM meter_samples").fetchall()
    assert stored == STATIONS
