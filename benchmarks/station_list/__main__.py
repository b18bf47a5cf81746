"""What does one page of the station list cost at 10,000 stations, against reading them all?

    .venv/bin/python -m benchmarks.station_list --stations 10000 --database postgresql

Starts `python main.py`, writes N stations (two connectors each, a third of them booted
with a vendor) straight into its database, then times over HTTP, in the same run:
- the reference: every station, read as the overview's store does (pages of 500);
- single pages of 50 as the dashboard's list asks for them: first page, a deep page,
  sorted by vendor, a text search, a vendor filter.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import insert

from benchmarks.csms_process import database, free_port, start_csms
from ev_charging_system.data.database import create_engine
from ev_charging_system.data.orm import ChargePointRow, ConnectorRow

HEADERS = {"Authorization": "Bearer dev-token"}


async def fill(url: str, stations: int) -> None:
    engine = create_engine(url)
    now = datetime.now(UTC)
    rows, connectors = [], []
    for n in range(stations):
        booted = n % 3 == 0
        station = f"BENCH-{n:05d}"
        rows.append(
            {
                "id": station,
                "registration_status": "Accepted",
                "created_at": now,
                "vendor": f"Vendor-{n % 7}" if booted else None,
                "model": f"M{n % 4}" if booted else None,
                "last_boot_at": now - timedelta(minutes=n) if booted else None,
                "last_seen_at": now - timedelta(seconds=n),
            }
        )
        for connector in (1, 2):
            connectors.append(
                {
                    "charge_point_id": station,
                    "connector_id": connector,
                    "evse_connector_id": 0,
                    "status": "Available",
                    "error_code": "NoError",
                    "reported_at": now,
                }
            )
    try:
        async with engine.begin() as connection:
            for start in range(0, stations, 2000):
                await connection.execute(insert(ChargePointRow), rows[start : start + 2000])
                await connection.execute(
                    insert(ConnectorRow), connectors[2 * start : 2 * (start + 2000)]
                )
    finally:
        await engine.dispose()


async def timed(call: Callable[[], Awaitable[int]], repeat: int) -> tuple[float, int]:
    durations, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        size = await call()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations) * 1000, size


async def run(stations: int, kind: str, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        url = database(kind, workdir)
        rest_port = free_port()
        process, _ = start_csms(url, rest_port)
        try:
            base = f"http://127.0.0.1:{rest_port}"
            async with httpx.AsyncClient(base_url=base, headers=HEADERS, timeout=60) as http:
                for _ in range(100):
                    if (await http.get("/api/health")).status_code == 200:
                        break
                    await asyncio.sleep(0.2)
                await fill(url, stations)

                async def every_station() -> int:
                    size, offset = 0, 0
                    while True:
                        page = await http.get(
                            "/api/charge-points", params={"limit": 500, "offset": offset}
                        )
                        size += len(page.content)
                        offset += 500
                        if offset >= page.json()["total"]:
                            return size

                def one(**params: str | int) -> Callable[[], Awaitable[int]]:
                    async def call() -> int:
                        answer = await http.get(
                            "/api/charge-points", params={"limit": 50, **params}
                        )
                        assert answer.status_code == 200, answer.text
                        return len(answer.content)

                    return call

                cases = [
                    ("every station (pages of 500)", every_station),
                    ("first page of 50", one()),
                    ("a page three quarters in", one(offset=stations * 3 // 4)),
                    ("sorted by vendor, descending", one(sort="vendor", order="desc")),
                    ("search 'bench-0999'", one(q="bench-0999")),
                    ("vendor filter", one(vendor="Vendor-3")),
                    ("sorted by last heartbeat", one(sort="last_seen")),
                ]
                results = [
                    (name, *await timed(call, max(1, repeat // 5) if i == 0 else repeat))
                    for i, (name, call) in enumerate(cases)
                ]
                reference = results[0][1]
                print(f"\n{stations} stations, {kind}, median of {repeat} requests\n")
                print("| request | ms | bytes | share of reading every station |")
                print("|---|---:|---:|---:|")
                for name, ms, size in results:
                    print(f"| {name} | {ms:.1f} | {size:,} | {ms / reference:.3f} |")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.stations, arguments.database, arguments.repeat))


if __name__ == "__main__":
    main()
