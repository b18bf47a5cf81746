"""Steps a 1.6 station takes in many scenarios, each checking the CSMS's exact answer."""

from __future__ import annotations

from typing import Any

from tests.conformance.station import RawStation, at

ACCEPTED = {"status": "Accepted"}


async def status(
    station: RawStation, connector: int, state: str, error_code: str = "NoError", **extra: Any
) -> None:
    answer = await station.call(
        "StatusNotification",
        {"connectorId": connector, "errorCode": error_code, "status": state, **extra},
    )
    assert answer == {}


async def authorize(station: RawStation, id_tag: str) -> dict[str, Any]:
    answer = await station.call("Authorize", {"idTag": id_tag})
    assert set(answer) == {"idTagInfo"}
    info: dict[str, Any] = answer["idTagInfo"]
    return info


async def start(
    station: RawStation,
    connector: int,
    id_tag: str,
    meter_start: int,
    minutes: float = 0,
    **extra: Any,
) -> tuple[int, dict[str, Any]]:
    """StartTransaction; returns (transactionId, idTagInfo)."""
    answer = await station.call(
        "StartTransaction",
        {
            "connectorId": connector,
            "idTag": id_tag,
            "meterStart": meter_start,
            "timestamp": at(minutes),
            **extra,
        },
    )
    assert set(answer) == {"transactionId", "idTagInfo"}
    assert isinstance(answer["transactionId"], int)
    return answer["transactionId"], answer["idTagInfo"]


async def stop(
    station: RawStation,
    transaction_id: int,
    meter_stop: int,
    minutes: float,
    **extra: Any,
) -> dict[str, Any]:
    answer = await station.call(
        "StopTransaction",
        {
            "transactionId": transaction_id,
            "meterStop": meter_stop,
            "timestamp": at(minutes),
            **extra,
        },
    )
    return answer


async def meter_values(
    station: RawStation, connector: int, transaction_id: int | None, wh: int, minutes: float
) -> None:
    payload: dict[str, Any] = {
        "connectorId": connector,
        "meterValue": [
            {
                "timestamp": at(minutes),
                "sampledValue": [
                    {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
                ],
            }
        ],
    }
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    assert await station.call("MeterValues", payload) == {}


async def charging(
    station: RawStation, id_tag: str, connector: int = 1, meter_start: int = 0
) -> int:
    """Reusable state Charging: plugged in, authorized, transaction started."""
    await status(station, connector, "Preparing")
    assert await authorize(station, id_tag) == {"status": "Accepted"}
    transaction_id, info = await start(station, connector, id_tag, meter_start)
    assert info == {"status": "Accepted"}
    await status(station, connector, "Charging")
    return transaction_id
