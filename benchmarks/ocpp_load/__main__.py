"""OCPP load benchmark: many stations on one CSMS process, latency per message kind.

    .venv/bin/python -m benchmarks.ocpp_load --stations 1000 --seconds 20 --database sqlite

Starts `python main.py` as a separate process (so the load generator does not share its
event loop), connects N stations over real WebSockets (raw OCPP-J frames: cheap enough to
run a thousand from one client process), boots them all at once (a reconnect burst), then
has each send Heartbeats and MeterValues in a loop. The baseline, measured in the same run,
is a bare WebSocket echo server on the same machine: the table shows what the CSMS adds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Recorder:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)

    def table_row(self, kind: str, baseline_p50: float | None) -> str:
        values = sorted(self.latencies[kind])
        if not values:
            return f"| {kind} | 0 | - | - | - | - | {self.errors[kind]} |"

        def pct(p: float) -> float:
            return values[min(len(values) - 1, int(p * len(values)))] * 1000

        ratio = f"{pct(0.5) / baseline_p50:.1f}x" if baseline_p50 else "-"
        return (
            f"| {kind} | {len(values)} | {pct(0.5):.2f} | {pct(0.95):.2f} | {pct(0.99):.2f} "
            f"| {ratio} | {self.errors[kind]} |"
        )


async def call(
    ws: ClientConnection, action: str, payload: dict[str, object], rec: Recorder
) -> dict[str, object]:
    message_id = uuid.uuid4().hex[:12]
    started = time.perf_counter()
    await ws.send(json.dumps([2, message_id, action, payload]))
    reply = json.loads(await ws.recv())
    elapsed = time.perf_counter() - started
    if reply[0] != 3:
        rec.errors[action] += 1
        return {}
    rec.latencies[action].append(elapsed)
    return reply[2]  # type: ignore[no-any-return]


async def station(url: str, index: int, until: float, rec: Recorder, start: asyncio.Event) -> None:
    async with connect(f"{url}/LOAD-{index:05d}", subprotocols=["ocpp1.6"], open_timeout=60) as ws:  # type: ignore[list-item]
        await start.wait()
        await call(
            ws, "BootNotification", {"chargePointVendor": "Load", "chargePointModel": "L1"}, rec
        )
        await call(
            ws,
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
            rec,
        )
        started = await call(
            ws,
            "StartTransaction",
            {"connectorId": 1, "idTag": f"T{index}", "meterStart": 0, "timestamp": now()},
            rec,
        )
        transaction_id = started.get("transactionId")
        meter = 0
        while time.monotonic() < until:
            await asyncio.sleep(1 + (index % 10) / 10)  # spread the load
            await call(ws, "Heartbeat", {}, rec)
            meter += 100
            await call(
                ws,
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": transaction_id,
                    "meterValue": [{"timestamp": now(), "sampledValue": [{"value": str(meter)}]}],
                },
                rec,
            )


async def echo_baseline(stations: int, seconds: float) -> Recorder:
    async def echo(ws: ServerConnection) -> None:
        async for message in ws:
            frame = json.loads(message)
            await ws.send(json.dumps([3, frame[1], {}]))

    rec = Recorder()
    port = free_port()
    async with serve(echo, "127.0.0.1", port):
        url = f"ws://127.0.0.1:{port}"
        start = asyncio.Event()

        async def client(index: int, until: float) -> None:
            async with connect(f"{url}/E{index}") as ws:
                await start.wait()
                while time.monotonic() < until:
                    await asyncio.sleep(1 + (index % 10) / 10)
                    await call(ws, "Echo", {}, rec)

        until = time.monotonic() + seconds
        tasks = [asyncio.create_task(client(i, until)) for i in range(stations)]
        await asyncio.sleep(1)
        start.set()
        await asyncio.gather(*tasks)
    return rec


def start_csms(database_url: str, rest_port: int = 0) -> tuple[subprocess.Popen[bytes], int]:
    ocpp_port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "OCPP_SERVER_PORT": str(ocpp_port),
        "OCPP_SERVER_HOST": "127.0.0.1",
        "FASTAPI_PORT": str(rest_port or free_port()),
        "MCP_SERVER_PORT": str(free_port()),
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", ocpp_port)) == 0:
                return process, ocpp_port
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the CSMS did not start")


def database(kind: str, workdir: str) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{workdir}/load.db"
    import psycopg

    name = f"evcs_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


async def run(stations: int, seconds: float, kind: str) -> None:
    baseline = await echo_baseline(stations, seconds)
    baseline_p50 = statistics.median(baseline.latencies["Echo"]) * 1000
    with tempfile.TemporaryDirectory() as workdir:
        process, port = start_csms(database(kind, workdir))
        try:
            rec = Recorder()
            start = asyncio.Event()
            until = time.monotonic() + seconds + 5
            tasks = [
                asyncio.create_task(station(f"ws://127.0.0.1:{port}", i, until, rec, start))
                for i in range(stations)
            ]
            await asyncio.sleep(min(10, 1 + stations / 200))  # let the connections open
            burst = time.perf_counter()
            start.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            elapsed = time.perf_counter() - burst
            failures = [r for r in results if isinstance(r, BaseException)]
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(30)
    total = sum(len(v) for v in rec.latencies.values())
    print(
        f"\n{stations} stations, {seconds:.0f} s of traffic, database {kind}, "
        f"{total} answered calls ({total / elapsed:.0f}/s), {len(failures)} stations failed\n"
    )
    print("| message | answered | p50 ms | p95 ms | p99 ms | p50 vs bare echo | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(baseline.table_row("Echo", None).replace("| - |", "| 1.0x |", 1))
    for kind_ in (
        "BootNotification",
        "StatusNotification",
        "StartTransaction",
        "Heartbeat",
        "MeterValues",
    ):
        print(rec.table_row(kind_, baseline_p50))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    args = parser.parse_args()
    asyncio.run(run(args.stations, args.seconds, args.database))


if __name__ == "__main__":
    main()
