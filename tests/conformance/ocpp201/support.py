"""Steps a 2.0.1 station takes in many scenarios, each checking the CSMS's exact answer."""

from __future__ import annotations

import itertools
from typing import Any

from tests.conformance.station import RawStation, at

ACCEPTED = {"status": "Accepted"}
EVSE_1 = {"id": 1, "connectorId": 1}


def token(value: str, kind: str = "ISO14443") -> dict[str, str]:
    return {"idToken": value, "type": kind}


async def status(
    station: RawStation, evse: int, connector: int, state: str, minutes: float = 0
) -> None:
    answer = await station.call(
        "StatusNotification",
        {
            "timestamp": at(minutes),
            "connectorStatus": state,
            "evseId": evse,
            "connectorId": connector,
        },
    )
    assert answer == {}


async def authorize(station: RawStation, value: str, kind: str = "ISO14443") -> dict[str, Any]:
    answer = await station.call("Authorize", {"idToken": token(value, kind)})
    assert set(answer) == {"idTokenInfo"}
    info: dict[str, Any] = answer["idTokenInfo"]
    return info


def energy(wh: float, context: str, minutes: float = 0, **sample: Any) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": at(minutes),
            "sampledValue": [
                {
                    "value": wh,
                    "context": context,
                    "measurand": "Energy.Active.Import.Register",
                    "unitOfMeasure": {"unit": "Wh"},
                    **sample,
                }
            ],
        }
    ]


class Transaction:
    """One 2.0.1 transaction as the station reports it: seqNo counts up from 0."""

    def __init__(self, station: RawStation, transaction_id: str) -> None:
        self.station = station
        self.id = transaction_id
        self._seq = itertools.count(0)

    async def event(
        self,
        event_type: str,
        trigger: str,
        minutes: float = 0,
        *,
        info: dict[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Send a TransactionEvent; returns the CSMS's answer payload."""
        return await self.station.call(
            "TransactionEvent",
            {
                "eventType": event_type,
                "timestamp": at(minutes),
                "triggerReason": trigger,
                "seqNo": next(self._seq),
                "transactionInfo": {"transactionId": self.id, **(info or {})},
                **fields,
            },
        )
