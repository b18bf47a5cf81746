"""A simulated OCPP 1.6J charge point, built on the `ocpp` library's own ChargePoint.

It sends what a station sends (boot, status, authorize, transactions, meter values) and
answers every CSMS-initiated call of the Core, Firmware Management, Local Auth List
Management, Reservation, Smart Charging and Remote Trigger profiles the way a station
would, follow-up messages included. The station model it shares with the 2.0.1 simulator
and the 1.6 translation live in tools/station_sim/; tests script failures per action with
`station.behave(...)` (tools/station_sim/behaviour.py) and observe its state.

Used by the README tour and by the tests. Run stations against a running system:

    .venv/bin/python -m tools.simulated_charge_point --id CP-1 --id-tag RFID-0001
    .venv/bin/python -m tools.simulated_charge_point --url ws://host:9000 --id CP \\
        --password secret --count 10 --stay
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tools.station_sim import cli
from tools.station_sim.behaviour import Behaviour, now_iso
from tools.station_sim.session import SessionPlan
from tools.station_sim.v16 import SimulatedStation, connected_station

__all__ = [
    "Behaviour",
    "SimulatedStation",
    "charging_session",
    "connected_station",
    "main",
    "now_iso",
]


async def charging_session(
    url: str,
    station_id: str,
    id_tag: str,
    energy_wh: int,
    samples: int,
    stay: bool = False,
    password: str | None = None,
) -> bool:
    """Boot, authorize and charge `energy_wh` once, printing what the CSMS answered."""
    plan = SessionPlan(id_tag=id_tag, energy_wh=energy_wh, samples=samples)
    return await cli.run_station(connected_station, url, station_id, password, plan, stay)


def main(argv: Sequence[str] | None = None) -> int:
    description = "Run simulated OCPP 1.6J charge points, each charging once."
    return cli.main(connected_station, description, "CP-1", argv)


if __name__ == "__main__":
    sys.exit(main())
