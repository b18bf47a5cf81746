"""OCPP payloads a simulated station sends, 1.6J and 2.0.1 (raw JSON, no `ocpp` library:
the generator must stay cheaper than the server it measures).

Timestamps follow a per-station clock that starts 12 hours ago and moves one second per
message: every sample gets a distinct timestamp (a replay-dedupe key includes it) and
none lies in the future, however long the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Payload = dict[str, Any]
OCPP16 = "ocpp1.6"
OCPP201 = "ocpp2.0.1"
VENDOR = "Bench"
MODEL = "Load-1"
STATUS_CYCLE_16 = ("Available", "Preparing", "Charging", "Finishing")
ENERGY_STEP_WH = 100
POWER_W = 7400


@dataclass(slots=True)
class StationClock:
    """Station time: distinct, increasing, in the past."""

    at: datetime = field(
        default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - timedelta(hours=12)
    )

    def tick(self) -> str:
        self.at += timedelta(seconds=1)
        return self.at.strftime("%Y-%m-%dT%H:%M:%SZ")


def call(message_id: str, action: str, payload: Payload) -> list[Any]:
    return [2, message_id, action, payload]


# --- OCPP 1.6J ---------------------------------------------------------------------


def boot16() -> Payload:
    return {"chargePointVendor": VENDOR, "chargePointModel": MODEL}


def status16(status: str, timestamp: str) -> Payload:
    return {"connectorId": 1, "errorCode": "NoError", "status": status, "timestamp": timestamp}


def authorize16(id_tag: str) -> Payload:
    return {"idTag": id_tag}


def start16(id_tag: str, meter_wh: int, timestamp: str) -> Payload:
    return {"connectorId": 1, "idTag": id_tag, "meterStart": meter_wh, "timestamp": timestamp}


def meter_values16(transaction_id: int | None, meter_wh: int, timestamp: str) -> Payload:
    """Two sampled values, as most chargers send: the energy register and the power."""
    payload: Payload = {
        "connectorId": 1,
        "meterValue": [
            {
                "timestamp": timestamp,
                "sampledValue": [
                    {
                        "value": str(meter_wh),
                        "context": "Sample.Periodic",
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                    },
                    {
                        "value": str(POWER_W),
                        "context": "Sample.Periodic",
                        "measurand": "Power.Active.Import",
                        "unit": "W",
                    },
                ],
            }
        ],
    }
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    return payload


def stop16(transaction_id: int, id_tag: str, meter_wh: int, timestamp: str) -> Payload:
    return {
        "transactionId": transaction_id,
        "idTag": id_tag,
        "meterStop": meter_wh,
        "timestamp": timestamp,
        "reason": "Local",
    }


# --- OCPP 2.0.1 --------------------------------------------------------------------


def boot201() -> Payload:
    return {"reason": "PowerUp", "chargingStation": {"vendorName": VENDOR, "model": MODEL}}


def status201(status: str, timestamp: str) -> Payload:
    return {"timestamp": timestamp, "connectorStatus": status, "evseId": 1, "connectorId": 1}


def id_token201(id_tag: str) -> Payload:
    return {"idToken": id_tag, "type": "ISO14443"}


def authorize201(id_tag: str) -> Payload:
    return {"idToken": id_token201(id_tag)}


def _meter_value201(meter_wh: int, timestamp: str, context: str, power: bool) -> Payload:
    sampled: list[Payload] = [
        {
            "value": meter_wh,
            "context": context,
            "measurand": "Energy.Active.Import.Register",
            "unitOfMeasure": {"unit": "Wh"},
        }
    ]
    if power:
        sampled.append(
            {
                "value": POWER_W,
                "context": context,
                "measurand": "Power.Active.Import",
                "unitOfMeasure": {"unit": "W"},
            }
        )
    return {"timestamp": timestamp, "sampledValue": sampled}


def transaction_event201(
    event: str, transaction_id: str, seq_no: int, meter_wh: int, timestamp: str, id_tag: str
) -> Payload:
    """Started (with the id token), Updated (periodic meter values: energy and power) or
    Ended (final register value, stopped locally)."""
    trigger, context, state = {
        "Started": ("Authorized", "Transaction.Begin", "Charging"),
        "Updated": ("MeterValuePeriodic", "Sample.Periodic", "Charging"),
        "Ended": ("StopAuthorized", "Transaction.End", "EVConnected"),
    }[event]
    info: Payload = {"transactionId": transaction_id, "chargingState": state}
    if event == "Ended":
        info["stoppedReason"] = "Local"
    payload: Payload = {
        "eventType": event,
        "timestamp": timestamp,
        "triggerReason": trigger,
        "seqNo": seq_no,
        "transactionInfo": info,
        "meterValue": [_meter_value201(meter_wh, timestamp, context, event == "Updated")],
    }
    if event == "Started":
        payload["idToken"] = id_token201(id_tag)
        payload["evse"] = {"id": 1, "connectorId": 1}
    return payload


def boot(protocol: str) -> Payload:
    return boot16() if protocol == OCPP16 else boot201()
