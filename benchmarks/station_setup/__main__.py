"""CPU the CSMS spends to set one station up: connect, BootNotification, StatusNotifications.

    .venv/bin/python -m benchmarks.station_setup --stations 600 --database postgresql

A reconnect storm is CPU-bound in the CSMS process: how fast stations get booted is
how much CPU each one costs. Wall-clock storm times depend on what else the machine
runs; the CPU seconds the process itself used (/proc/PID/stat) do much less, so this
reports those, per station, for each step of setting a station up:

- connect + BootNotification of stations never seen before;
- a StatusNotification per connector (0, 1, 2: what a 1.6 station sends after booting);
- their disconnection;
- the same steps for the same stations, now known to the process (a network outage);
- and again after a CSMS restart: known to the database only (the usual storm).

Stations are set up `--concurrency` at a time (the CSMS's admission limit is 50 by
default; a refused handshake is retried after a short pause and counted).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import InvalidStatus

from benchmarks.csms_process import database, start_csms
from benchmarks.ocpp_load import client
from benchmarks.ocpp_load.limits import cpu_reading, raise_open_files_limit

OPEN_TIMEOUT = 30.0
REPLY_TIMEOUT = 30.0
CONNECTORS = (0, 1, 2)
QUIET_SECONDS = 1.0  # CPU read after the process has been idle this long


@dataclass(slots=True)
class Station:
    station_id: str
    ws: client.Connection | None = None
    next_id: int = 0

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.ws is not None
        self.next_id += 1
        message_id = str(self.next_id)
        await self.ws.send(json.dumps([2, message_id, action, payload]))
        async with asyncio.timeout(REPLY_TIMEOUT):
            while True:
                frame = json.loads(await self.ws.recv())
                if frame[0] == 2:  # the CSMS asks something: answer generically
                    await self.ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
                elif frame[1] == message_id:
                    if frame[0] != 3:
                        raise RuntimeError(f"{self.station_id} {action}: {frame}")
                    answer: dict[str, Any] = frame[2]
                    return answer


@dataclass(slots=True)
class Counts:
    refused: int = 0
    failures: list[str] = field(default_factory=list)


async def boot(url: str, station: Station, counts: Counts) -> None:
    while True:
        try:
            station.ws = await client.connect(
                f"{url}/{station.station_id}", "ocpp1.6", OPEN_TIMEOUT
            )
            break
        except InvalidStatus:
            counts.refused += 1
            await asyncio.sleep(0.2)
    answer = await station.call(
        "BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "Setup-1"}
    )
    if answer.get("status") != "Accepted":
        raise RuntimeError(f"{station.station_id} not accepted: {answer}")


async def statuses(station: Station, status: str) -> None:
    for connector in CONNECTORS:
        await station.call(
            "StatusNotification",
            {"connectorId": connector, "errorCode": "NoError", "status": status},
        )


async def close(station: Station) -> None:
    if station.ws is not None:
        await station.ws.close()
        await station.ws.wait_closed()
        station.ws = None


async def each(concurrency: int, stations: list[Station], step: Any) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(station: Station) -> None:
        async with gate:
            await step(station)

    await asyncio.gather(*(one(s) for s in stations))


def cpu(pid: int) -> float:
    return cpu_reading(pid, time.monotonic()).cpu_seconds


async def quiet_cpu(pid: int) -> float:
    """The process's CPU once it stopped using any (what it still had queued is done)."""
    last = cpu(pid)
    while True:
        await asyncio.sleep(QUIET_SECONDS)
        now = cpu(pid)
        if now - last < 0.02:
            return now
        last = now


async def measure(
    args: argparse.Namespace, url: str, pid: int, restarted: bool
) -> list[tuple[str, float]]:
    """Run every step over the stations and read the CPU the CSMS spent on each.

    On a fresh CSMS (`restarted` False) the stations are new, then known (the same
    process reconnects them); on a restarted one they are known to the database only.
    """
    counts = Counts()
    # Warm-up (statements compiled, pools filled), measured by no step.
    warm = [Station(f"WARM-{n:04d}") for n in range(50)]
    await each(args.concurrency, warm, lambda s: boot(url, s, counts))
    await each(args.concurrency, warm, lambda s: statuses(s, args.status))
    await each(args.concurrency, warm, close)
    stations = [Station(f"SETUP-{n:05d}") for n in range(args.stations)]
    rows: list[tuple[str, float]] = []
    idle_from = await quiet_cpu(pid)
    started = time.monotonic()
    await asyncio.sleep(2)
    idle = (cpu(pid) - idle_from) / (time.monotonic() - started)
    rows.append(("idle (CPU s per s, not subtracted)", idle))

    async def step(label: str, action: Any) -> None:
        before = await quiet_cpu(pid)
        began = time.monotonic()
        await each(args.concurrency, stations, action)
        took = time.monotonic() - began
        after = await quiet_cpu(pid)
        rows.append((f"{label} (ms CPU per station)", 1000 * (after - before) / len(stations)))
        print(f"  {label}: {took:.1f} s wall", flush=True)

    rounds = ["restarted, known"] if restarted else ["new", "known"]
    for name in rounds:
        await step(f"{name}: connect + BootNotification", lambda s: boot(url, s, counts))
        await step(f"{name}: StatusNotification x3", lambda s: statuses(s, args.status))
        await step(f"{name}: disconnect", close)
    rows.append(("handshakes refused (retried)", counts.refused))
    return rows


def run_csms(args: argparse.Namespace, database_url: str, restarted: bool) -> None:
    process, port = start_csms(database_url)
    try:
        rows = asyncio.run(measure(args, f"ws://127.0.0.1:{port}/ocpp", process.pid, restarted))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    print(
        f"\n{args.stations} OCPP 1.6 stations, {args.concurrency} at a time, {args.database}, "
        f"status {args.status}"
    )
    for label, value in rows:
        print(f"{label:<56} {value:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    # 1.6 "Available" on a connector also closes sessions the station never stopped there
    # (a read of its open transactions); another status measures the status alone.
    parser.add_argument("--status", default="Available")
    args = parser.parse_args()
    raise_open_files_limit()
    with tempfile.TemporaryDirectory() as workdir:
        os.environ["DATA_DIR"] = workdir
        database_url = database(args.database, workdir)
        run_csms(args, database_url, restarted=False)
        run_csms(args, database_url, restarted=True)


if __name__ == "__main__":
    main()
