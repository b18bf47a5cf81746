"""A simulated OCPP 2.0.1 charging station, built on the `ocpp` library's own ChargePoint.

The 2.0.1 counterpart of tools/simulated_charge_point.py, on the same station model
(tools/station_sim/): convenience calls for what a station sends (boot, status,
authorize, TransactionEvent sessions, meter values, reports) and handlers for every
CSMS-initiated call, follow-up messages included (a remote start is followed by
TransactionEvent Started, GetBaseReport by NotifyReport pages, ...). Tests script failures
per action with `station.behave(...)` (tools/station_sim/behaviour.py).

Run stations against a running system:

    .venv/bin/python -m tools.simulated_charge_point_v201 --id CS-1 --id-tag RFID-0001
    .venv/bin/python -m tools.simulated_charge_point_v201 --url ws://host:9000 --id CS \\
        --password secret --count 10 --stay
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tools.station_sim import cli
from tools.station_sim.behaviour import Behaviour, now_iso
from tools.station_sim.settings import VariableKey
from tools.station_sim.v201 import (
    SimulatedStation201,
    connected_station_201,
    energy_sample,
    id_token_of,
)

__all__ = [
    "Behaviour",
    "SimulatedStation201",
    "VariableKey",
    "connected_station_201",
    "energy_sample",
    "id_token_of",
    "main",
    "now_iso",
]


def main(argv: Sequence[str] | None = None) -> int:
    description = "Run simulated OCPP 2.0.1 charging stations, each charging once."
    return cli.main(connected_station_201, description, "CS-1", argv)


if __name__ == "__main__":
    sys.exit(main())
