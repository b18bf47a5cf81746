"""How long until a station's status change is on an open /api/events stream?

    .venv/bin/python -m benchmarks.event_stream --stations 20 --changes 20 --database postgresql

Starts `python main.py` as its own process, opens one Server-Sent Events client on
`/api/events?type=connector.status_changed`, connects N stations over real WebSockets
(raw OCPP 1.6 frames) and has each send StatusNotifications that flip between Available
and Charging. For each change it measures, from the moment the frame is sent:
- the station's own answer (CALL -> CALLRESULT): the reference, measured in the same run;
- the event's arrival at the SSE client.
The issue's target is arrival within 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import tempfile
import time
from collections.abc import Sequence

import httpx
from websockets.asyncio.client import connect

from benchmarks.csms_process import database, free_port, start_csms


def percentiles(values: Sequence[float]) -> str:
    ordered = sorted(values)
    if not ordered:
        return "- | - | - | -"

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return f"{at(0.5):.1f} | {at(0.95):.1f} | {at(0.99):.1f} | {ordered[-1] * 1000:.1f}"


async def station(
    url: str,
    index: int,
    changes: int,
    sent_at: dict[tuple[str, int], float],
    answers: list[float],
) -> None:
    name = f"EV-{index:04d}"
    async with connect(f"{url}/{name}", subprotocols=["ocpp1.6"], open_timeout=60) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps(
                [2, "b", "BootNotification", {"chargePointVendor": "B", "chargePointModel": "E"}]
            )
        )
        await ws.recv()
        for change in range(changes):
            status = "Charging" if change % 2 else "Available"
            sent = time.perf_counter()
            sent_at[(name, change)] = sent
            await ws.send(
                json.dumps(
                    [
                        2,
                        f"s{change}",
                        "StatusNotification",
                        {
                            "connectorId": 1,
                            "errorCode": "NoError",
                            "status": status,
                            "info": str(change),
                        },
                    ]
                )
            )
            await ws.recv()
            answers.append(time.perf_counter() - sent)
            await asyncio.sleep(0.05 + (index % 10) / 100)


async def listen(
    rest_url: str,
    expected: int,
    sent_at: dict[tuple[str, int], float],
    arrivals: list[float],
    ready: asyncio.Event,
) -> None:
    params = {"type": "connector.status_changed"}
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream("GET", f"{rest_url}/api/events", params=params) as response,
    ):
        ready.set()
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            arrived = time.perf_counter()
            data = json.loads(line.removeprefix("data: "))
            key = (data["charge_point_id"], int(data["info"]))
            if key in sent_at:
                arrivals.append(arrived - sent_at[key])
            if len(arrivals) >= expected:
                return


async def run(stations: int, changes: int, kind: str) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        rest_port = free_port()
        process, ocpp_port = start_csms(database(kind, workdir), rest_port=rest_port)
        try:
            sent_at: dict[tuple[str, int], float] = {}
            answers: list[float] = []
            arrivals: list[float] = []
            ready = asyncio.Event()
            listener = asyncio.create_task(
                listen(
                    f"http://127.0.0.1:{rest_port}", stations * changes, sent_at, arrivals, ready
                )
            )
            await asyncio.wait_for(ready.wait(), 30)
            await asyncio.gather(
                *(
                    station(f"ws://127.0.0.1:{ocpp_port}", i, changes, sent_at, answers)
                    for i in range(stations)
                )
            )
            try:
                await asyncio.wait_for(listener, 30)
            except TimeoutError:
                listener.cancel()
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(30)
    late = sum(1 for a in arrivals if a > 1.0)
    print(
        f"\n{stations} stations x {changes} status changes, database {kind}: "
        f"{len(arrivals)} of {stations * changes} events arrived, {late} later than 1 s\n"
    )
    print("| measured from sending the frame | count | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| station gets its CALLRESULT (reference) | {len(answers)} | {percentiles(answers)} |")
    print(f"| event arrives on /api/events | {len(arrivals)} | {percentiles(arrivals)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=20)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    args = parser.parse_args()
    asyncio.run(run(args.stations, args.changes, args.database))


if __name__ == "__main__":
    main()
