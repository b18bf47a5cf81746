"""Signed meter values (Eichrecht): the number counts, and the signed data is kept beside it.

Reproduces issue #13: a 2.0.1 sampled value carrying `signedMeterValue` was discarded, so
signing stations lost energy and sessions were recorded with 0 Wh.
"""

from __future__ import annotations

from typing import Any

from ev_charging_system.application import Application
from ev_charging_system.models.transaction import TransactionFilter
from tests.conformance.station import OCPP16, OCPP201, at, raw_station

OCMF_BEGIN = 'OCMF|{"FV":"1.0","RD":[{"TX":"B","RV":10.000,"RU":"kWh"}]}|{"SD":"3045"}'
OCMF_END = 'OCMF|{"FV":"1.0","RD":[{"TX":"E","RV":12.500,"RU":"kWh"}]}|{"SD":"3046"}'
PUBLIC_KEY = "3059301306072A8648CE3D020106082A8648CE3D030107034200"


def signed_energy(kwh: float, context: str, minutes: float, blob: str) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": at(minutes),
            "sampledValue": [
                {
                    "value": kwh,
                    "context": context,
                    "measurand": "Energy.Active.Import.Register",
                    "unitOfMeasure": {"unit": "kWh"},
                    "signedMeterValue": {
                        "signedMeterData": blob,
                        "signingMethod": "ECDSA-secp256r1-SHA256",
                        "encodingMethod": "OCMF",
                        "publicKey": PUBLIC_KEY,
                    },
                }
            ],
        }
    ]


async def test_a_201_signed_session_keeps_its_energy_and_its_signed_data(
    app: Application,
) -> None:
    async with raw_station(app, "CP-EICH", OCPP201) as station:
        base = {"transactionInfo": {"transactionId": "TX-S"}, "evse": {"id": 1, "connectorId": 1}}
        await station.call(
            "TransactionEvent",
            {
                "eventType": "Started",
                "timestamp": at(0),
                "triggerReason": "CablePluggedIn",
                "seqNo": 0,
                "meterValue": signed_energy(10.0, "Transaction.Begin", 0, OCMF_BEGIN),
                **base,
            },
        )
        await station.call(
            "TransactionEvent",
            {
                "eventType": "Ended",
                "timestamp": at(30),
                "triggerReason": "EVCommunicationLost",
                "seqNo": 1,
                "meterValue": signed_energy(12.5, "Transaction.End", 30, OCMF_END),
                "transactionInfo": {"transactionId": "TX-S", "stoppedReason": "EVDisconnected"},
            },
        )
    page = await app.services.transactions.list_transactions(
        TransactionFilter(charge_point_id="CP-EICH")
    )
    [transaction] = page.items
    assert transaction.energy_wh == 2500
    detail = await app.services.transactions.get_transaction(transaction.id)
    begin, end = detail.meter_samples
    assert begin.value == 10_000 and end.value == 12_500
    assert begin.signed is not None and end.signed is not None
    assert begin.signed.signed_meter_data == OCMF_BEGIN
    assert end.signed.signed_meter_data == OCMF_END
    assert end.signed.signing_method == "ECDSA-secp256r1-SHA256"
    assert end.signed.encoding_method == "OCMF"
    assert end.signed.public_key == PUBLIC_KEY


async def test_a_16_signed_data_value_is_kept_as_signed_data(app: Application) -> None:
    async with raw_station(app, "CP-EICH16", OCPP16) as station:
        started = await station.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "ANY", "meterStart": 10_000, "timestamp": at(0)},
        )
        transaction_id = started["transactionId"]
        await station.call(
            "StopTransaction",
            {
                "transactionId": transaction_id,
                "meterStop": 12_500,
                "timestamp": at(30),
                "transactionData": [
                    {
                        "timestamp": at(30),
                        "sampledValue": [
                            {
                                "value": "12500",
                                "context": "Transaction.End",
                                "measurand": "Energy.Active.Import.Register",
                                "unit": "Wh",
                            },
                            {
                                "value": OCMF_END,
                                "format": "SignedData",
                                "context": "Transaction.End",
                                "measurand": "Energy.Active.Import.Register",
                            },
                        ],
                    }
                ],
            },
        )
    detail = await app.services.transactions.get_transaction(transaction_id)
    assert detail.transaction.energy_wh == 2500
    raw, signed = detail.meter_samples
    assert raw.value == 12_500 and raw.signed is None
    assert signed.value is None  # a 1.6 SignedData value is the signature, not a number
    assert signed.format == "SignedData"
    assert signed.signed is not None
    assert signed.signed.signed_meter_data == OCMF_END
    assert signed.signed.encoding_method == "OCMF"  # recognised from the data itself
