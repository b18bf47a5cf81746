"""A simulated OCPP 1.6J charge point, built on the `ocpp` library's own ChargePoint.

Used by the README tour and by the tests. Run it against a running system:

    .venv/bin/python -m tools.simulated_charge_point --id CP-1 --id-tag RFID-0001
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SimulatedStation(ChargePoint):  # type: ignore[misc]
    """The station side of OCPP 1.6: convenience calls that return the CSMS's answers."""

    websocket: ClientConnection

    async def boot(
        self, vendor: str = "Simulated", model: str = "SIM-1", **optional: str
    ) -> call_result.BootNotification:
        return await self.call(
            call.BootNotification(charge_point_vendor=vendor, charge_point_model=model, **optional),
            suppress=False,
        )

    async def heartbeat(self) -> call_result.Heartbeat:
        return await self.call(call.Heartbeat(), suppress=False)

    async def status(
        self,
        connector_id: int,
        status: ChargePointStatus = ChargePointStatus.available,
        error_code: ChargePointErrorCode = ChargePointErrorCode.no_error,
        **optional: Any,
    ) -> call_result.StatusNotification:
        return await self.call(
            call.StatusNotification(
                connector_id=connector_id,
                error_code=error_code,
                status=status,
                timestamp=now_iso(),
                **optional,
            ),
            suppress=False,
        )

    async def authorize(self, id_tag: str) -> call_result.Authorize:
        return await self.call(call.Authorize(id_tag=id_tag), suppress=False)

    async def start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str | None = None
    ) -> call_result.StartTransaction:
        return await self.call(
            call.StartTransaction(
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start=meter_start,
                timestamp=timestamp or now_iso(),
            ),
            suppress=False,
        )

    async def meter_values(
        self,
        connector_id: int,
        transaction_id: int | None,
        energy_wh: float,
        power_w: float | None = None,
        unit: str = "Wh",
    ) -> call_result.MeterValues:
        value = energy_wh / 1000 if unit == "kWh" else energy_wh
        sampled: list[dict[str, Any]] = [
            {
                "value": f"{value:.3f}",
                "measurand": "Energy.Active.Import.Register",
                "unit": unit,
                "context": "Sample.Periodic",
                "location": "Outlet",
            }
        ]
        if power_w is not None:
            sampled.append(
                {"value": f"{power_w:.1f}", "measurand": "Power.Active.Import", "unit": "W"}
            )
        return await self.call(
            call.MeterValues(
                connector_id=connector_id,
                transaction_id=transaction_id,
                meter_value=[{"timestamp": now_iso(), "sampled_value": sampled}],
            ),
            suppress=False,
        )

    async def stop_transaction(
        self,
        transaction_id: int,
        meter_stop: int,
        reason: str | None = "Local",
        id_tag: str | None = None,
        timestamp: str | None = None,
        transaction_data: list[dict[str, Any]] | None = None,
    ) -> call_result.StopTransaction:
        return await self.call(
            call.StopTransaction(
                meter_stop=meter_stop,
                timestamp=timestamp or now_iso(),
                transaction_id=transaction_id,
                reason=reason,
                id_tag=id_tag,
                transaction_data=transaction_data,
            ),
            suppress=False,
        )


@contextlib.asynccontextmanager
async def connected_station(
    url: str,
    station_id: str,
    password: str | None = None,
    subprotocols: tuple[str, ...] = ("ocpp1.6",),
    response_timeout: float = 10,
) -> AsyncIterator[SimulatedStation]:
    """Open a WebSocket to `url/station_id` and run the station's message loop."""
    headers = {}
    if password is not None:
        token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    async with connect(
        f"{url.rstrip('/')}/{station_id}",
        subprotocols=[Subprotocol(p) for p in subprotocols],
        additional_headers=headers,
        open_timeout=10,
    ) as websocket:
        station = SimulatedStation(station_id, websocket, response_timeout=response_timeout)
        station.websocket = websocket
        loop = asyncio.create_task(station.start())
        try:
            yield station
        finally:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await loop


async def charging_session(
    url: str, station_id: str, id_tag: str, energy_wh: int, samples: int
) -> None:
    async with connected_station(url, station_id) as station:
        boot = await station.boot(firmware_version="1.0.0", charge_point_serial_number="SIM-0001")
        print(f"BootNotification -> {boot.status} (heartbeat every {boot.interval} s)")
        if boot.status != "Accepted":
            print("The CSMS did not accept this station: accept it through the REST API first.")
            return
        await station.status(0)
        await station.status(1)
        auth = await station.authorize(id_tag)
        print(f"Authorize {id_tag} -> {auth.id_tag_info['status']}")
        meter_start = 1_000_000
        start = await station.start_transaction(1, id_tag, meter_start)
        transaction_id = start.transaction_id
        print(f"StartTransaction -> id {transaction_id}, {start.id_tag_info['status']}")
        await station.status(1, ChargePointStatus.charging)
        for step in range(1, samples + 1):
            await asyncio.sleep(0.2)
            await station.meter_values(1, transaction_id, meter_start + energy_wh * step / samples)
        await station.stop_transaction(transaction_id, meter_start + energy_wh, id_tag=id_tag)
        await station.status(1)
        print(f"StopTransaction -> {energy_wh} Wh charged in transaction {transaction_id}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="ws://localhost:9000")
    parser.add_argument("--id", default="CP-1", help="charge point id")
    parser.add_argument("--id-tag", default="RFID-0001")
    parser.add_argument("--energy-wh", type=int, default=7400)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(charging_session(args.url, args.id, args.id_tag, args.energy_wh, args.samples))


if __name__ == "__main__":
    main()
