"""What does a site's power chart cost: N stations' 1-minute meter samples over D days?

    .venv/bin/python -m benchmarks.site_power --stations 200 --days 7 --database both

Writes N stations at one site (connector 1 each; a power and an energy-register reading
every minute over D days, the oldest --rolled-days of them as the 15-minute rollups the
retention leaves instead) straight into a scratch database, starts `python main.py` on it,
then times over HTTP the site's chart (GET /api/sites/{id}/power?hours=D*24) and one
station's chart over the same period. Prints a table; the databases are dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import signal
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx

from benchmarks.csms_process import database, free_port, start_csms
from ev_charging_system.data.database import create_engine, migrate_to_head

HEADERS = {"Authorization": "Bearer dev-token"}
POWER = "Power.Active.Import"
REGISTER = "Energy.Active.Import.Register"
SAMPLE_COLUMNS = (
    "sample_key",
    "charge_point_id",
    "connector_id",
    "timestamp",
    "measurand",
    "raw_value",
    "value",
    "unit",
    "context",
)
ROLLUP_COLUMNS = (
    "charge_point_id",
    "connector_id",
    "measurand",
    "phase",
    "bucket_start",
    "count",
    "total",
    "minimum",
    "maximum",
    "last",
    "last_at",
)


def watts(station: int, minute: int) -> int:
    """A station's power in one minute: 0 W a third of the time, 3.7-11 kW otherwise."""
    if (minute // 90 + station) % 3 == 0:
        return 0
    return 3_700 + (station * 37 + minute * 13) % 7_300


def stamp(moment: datetime, kind: str) -> object:
    # SQLite stores naive UTC text as SQLAlchemy writes it; psycopg takes the datetime.
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if kind == "sqlite" else moment


def readings(
    kind: str, stations: int, start: datetime, minutes: int, rolled_minutes: int
) -> tuple[Iterator[tuple[object, ...]], Iterator[tuple[object, ...]]]:
    def samples() -> Iterator[tuple[object, ...]]:
        for n in range(stations):
            station = f"SITE-{n:04d}"
            register = 0.0
            for minute in range(minutes):
                w = watts(n, minute)
                register += w / 60
                if minute < rolled_minutes:
                    continue
                at = start + timedelta(minutes=minute)
                for measurand, value in ((POWER, f"{w}"), (REGISTER, f"{register:.1f}")):
                    key = hashlib.blake2b(
                        f"{station}|{minute}|{measurand}".encode(), digest_size=16
                    ).hexdigest()
                    unit = "W" if measurand == POWER else "Wh"
                    yield (
                        key,
                        station,
                        1,
                        stamp(at, kind),
                        measurand,
                        value,
                        value,
                        unit,
                        "Sample.Periodic",
                    )

    def rollups() -> Iterator[tuple[object, ...]]:
        for n in range(stations):
            station = f"SITE-{n:04d}"
            register = 0.0
            for bucket in range(0, rolled_minutes, 15):
                power = [watts(n, m) for m in range(bucket, bucket + 15)]
                registers = []
                for w in power:
                    register += w / 60
                    registers.append(float(f"{register:.1f}"))
                at = start + timedelta(minutes=bucket)
                last_at = stamp(at + timedelta(minutes=14), kind)
                for measurand, values in ((POWER, power), (REGISTER, registers)):
                    cells = [str(v) for v in (sum(values), min(values), max(values), values[-1])]
                    yield (station, 1, measurand, "", stamp(at, kind), 15, *cells, last_at)

    return samples(), rollups()


async def fill(url: str, kind: str, stations: int, days: int, rolled_days: int) -> int:
    engine = create_engine(url)
    try:
        await migrate_to_head(engine)
    finally:
        await engine.dispose()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(days=days)
    samples, rollups = readings(kind, stations, start, days * 1440, rolled_days * 1440)
    stations_rows: list[tuple[object, ...]] = [
        (f"SITE-{n:04d}", "Accepted", stamp(start, kind)) for n in range(stations)
    ]
    if kind == "sqlite":
        with sqlite3.connect(url.split("///", 1)[1]) as db:
            db.execute(
                "INSERT INTO sites (name, address, energy_planner, created_at) "
                "VALUES ('Bench', '', 0, ?)",
                (stamp(start, kind),),
            )
            site_id = int(db.execute("SELECT id FROM sites WHERE name = 'Bench'").fetchone()[0])
            db.executemany(
                "INSERT INTO charge_points (id, registration_status, created_at, "
                f"site_id) VALUES (?, ?, ?, {site_id})",
                stations_rows,
            )
            db.executemany(
                f"INSERT INTO meter_samples ({', '.join(SAMPLE_COLUMNS)}) VALUES "
                f"({', '.join('?' * len(SAMPLE_COLUMNS))})",
                samples,
            )
            db.executemany(
                f"INSERT INTO meter_rollups ({', '.join(ROLLUP_COLUMNS)}) VALUES "
                f"({', '.join('?' * len(ROLLUP_COLUMNS))})",
                rollups,
            )
            db.execute("ANALYZE")
        return site_id
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as db:
        inserted = db.execute(
            "INSERT INTO sites (name, address, energy_planner, created_at) "
            "VALUES ('Bench', '', false, %s) RETURNING id",
            (start,),
        ).fetchone()
        assert inserted is not None
        site_id = int(inserted[0])
        with db.cursor().copy(
            "COPY charge_points (id, registration_status, created_at, site_id) FROM STDIN"
        ) as copy:
            for row in stations_rows:
                copy.write_row((*row, site_id))
        for table, columns, rows in (
            ("meter_samples", SAMPLE_COLUMNS, samples),
            ("meter_rollups", ROLLUP_COLUMNS, rollups),
        ):
            with db.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        db.execute("ANALYZE")
    return site_id


def drop(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def timed(client: httpx.AsyncClient, path: str, hours: int, runs: int) -> list[float]:
    took = []
    for _ in range(runs):
        began = time.perf_counter()
        response = await client.get(path, params={"hours": hours}, timeout=600)
        took.append(time.perf_counter() - began)
        response.raise_for_status()
        assert len(response.json()["points"]) >= hours * 4
    return took


async def measure(kind: str, args: argparse.Namespace, workdir: str) -> list[tuple[str, ...]]:
    url = database(kind, workdir)
    began = time.perf_counter()
    site_id = await fill(url, kind, args.stations, args.days, args.rolled_days)
    filled = time.perf_counter() - began
    rest_port = free_port()
    # A chart that takes longer than the API's read timeout (15 s) would be a 503: measure it.
    os.environ["API_READ_TIMEOUT_SECONDS"] = "600"
    process, _ = start_csms(url, rest_port)
    rows: list[tuple[str, ...]] = []
    try:
        hours = args.days * 24
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{rest_port}", headers=HEADERS
        ) as client:
            for label, path in (
                (f"site, {args.stations} stations", f"/api/sites/{site_id}/power"),
                ("one station", "/api/charge-points/SITE-0001/power"),
            ):
                took = await timed(client, path, hours, args.runs)
                rows.append(
                    (
                        kind,
                        label,
                        f"{hours} h",
                        f"{statistics.median(took):.3f}",
                        f"{max(took):.3f}",
                    )
                )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        if kind == "postgresql":
            drop(url)
    print(f"{kind}: filled in {filled:.0f} s", flush=True)
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument(
        "--rolled-days",
        type=int,
        default=0,
        help="the oldest days as 15-minute rollups instead of raw samples",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as workdir:
        for kind in kinds:
            rows += await measure(kind, args, workdir)
    samples = args.stations * (args.days - args.rolled_days) * 1440 * 2
    print(
        f"\n{args.stations} stations x {args.days} days, {samples:,} raw samples "
        f"({args.rolled_days} days as rollups), {args.runs} runs each"
    )
    print(f"{'database':<11} {'chart':<22} {'period':<7} {'median s':>9} {'max s':>8}")
    for kind, label, period, median, worst in rows:
        print(f"{kind:<11} {label:<22} {period:<7} {median:>9} {worst:>8}")


if __name__ == "__main__":
    asyncio.run(main())
