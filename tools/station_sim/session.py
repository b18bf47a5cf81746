"""The scripted charging session of the command line, the same for both OCPP versions.

It only uses the version-neutral messages of StationAdapter (power_up, send_statuses,
authorization_status, begin/end_transaction, report_energy).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.station_sim.adapter import ACCEPTED, DEAUTHORIZED, Start, StationAdapter
from tools.station_sim.model import IdToken

METER_START_WH = 1_000_000
Say = Callable[[str], None]

_ADVICE = {  # what a user can do about a refused id tag
    "Invalid": "register it through the REST API (POST /api/id-tags) first",
    "ConcurrentTx": "it is charging elsewhere; with --count, give it max_active_transactions",
}


@dataclass(frozen=True)
class SessionPlan:
    id_tag: str = "RFID-0001"
    energy_wh: int = 7400
    samples: int = 5
    sample_seconds: float = 0.2
    connector_id: int = 1


async def charge_once(station: StationAdapter[Any], plan: SessionPlan, say: Say) -> bool:
    """Boot, authorize, charge `plan.energy_wh` in `plan.samples` meter readings, stop.

    False when the CSMS refused the station, the id tag or the transaction.
    """
    boot = await station.power_up(firmware_version="1.0.0", serial_number="SIM-0001")
    say(f"BootNotification -> {boot.status} (heartbeat every {boot.interval} s)")
    if boot.status != ACCEPTED:
        say("The CSMS did not accept this station: accept it through the REST API first.")
        return False
    await station.send_statuses(station.status_connectors)
    token = IdToken(plan.id_tag)
    authorized = await station.authorization_status(token)
    say(f"Authorize {plan.id_tag} -> {authorized}")
    if authorized != ACCEPTED:
        say(_refused(plan.id_tag, authorized))
        return False
    connector = plan.connector_id
    station.meter_wh[connector] = METER_START_WH
    transaction_id, status = await station.begin_transaction(Start(connector, token))
    say(f"Transaction {transaction_id} started -> {status}")
    if status != ACCEPTED:
        await station.end_transaction(connector, transaction_id, DEAUTHORIZED)
        say(f"Transaction {transaction_id} stopped at once: " + _refused(plan.id_tag, status))
        return False
    await station.send_statuses([connector])
    for step in range(1, plan.samples + 1):
        await asyncio.sleep(plan.sample_seconds)
        await station.report_energy(
            connector, METER_START_WH + plan.energy_wh * step / plan.samples
        )
    await station.end_transaction(connector, transaction_id, "Local", stopped_by=plan.id_tag)
    await station.send_statuses([connector])
    say(f"Transaction {transaction_id} stopped -> {plan.energy_wh} Wh charged")
    return True


def _refused(id_tag: str, status: str) -> str:
    advice = _ADVICE.get(status)
    return f"the CSMS refused {id_tag} ({status})" + (f": {advice}" if advice else "")
