"""OCPP 1.6 Smart Charging and Remote Trigger profiles, CSMS side."""

from __future__ import annotations

from typing import Any

from ev_charging_system.application import Application
from tests.conformance.ocpp16 import REMOTE_TRIGGER, SMART_CHARGING, SUITE
from tests.conformance.ocpp16.support import ACCEPTED, charging
from tests.conformance.station import OCPP16, Operator, RawStation, raw_station


def profile(profile_id: int, purpose: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": profile_id,
        "purpose": purpose,
        "stack_level": 0,
        "kind": "Relative",
        "rate_unit": "A",
        "periods": [{"start_period_seconds": 0, "limit": 16}],
        **extra,
    }


async def set_profile(
    station: RawStation, operator: Operator, connector: int, body: dict[str, Any]
) -> dict[str, Any]:
    request, response = await operator.command(
        station,
        "set-charging-profile",
        {"connector_id": connector, "profile": body},
        "SetChargingProfile",
        ACCEPTED,
    )
    assert response.json()["status"] == "Accepted"
    payload: dict[str, Any] = request.payload
    return payload


@SUITE.case("TC_056_CSMS", "Central Smart Charging - TxDefaultProfile", SMART_CHARGING)
async def test_tx_default_profile(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_056", OCPP16) as station:
        request = await set_profile(station, operator, 1, profile(56, "TxDefaultProfile"))
        assert request == {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 56,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Relative",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
                },
            },
        }


@SUITE.case("TC_057_CSMS", "Central Smart Charging - TxProfile", SMART_CHARGING)
async def test_tx_profile(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-057")
    async with raw_station(csms, "TC_057", OCPP16) as station:
        transaction_id = await charging(station, "TAG-057")
        request = await set_profile(
            station,
            operator,
            1,
            profile(57, "TxProfile", transaction_id=str(transaction_id), duration_seconds=3600),
        )
        sent = request["csChargingProfiles"]
        assert request["connectorId"] == 1
        assert sent["chargingProfilePurpose"] == "TxProfile"
        assert sent["transactionId"] == transaction_id
        assert sent["chargingProfileKind"] == "Relative"
        assert "recurrencyKind" not in sent and "startSchedule" not in sent["chargingSchedule"]


@SUITE.case("TC_066_CSMS", "Get Composite Schedule", SMART_CHARGING)
async def test_get_composite_schedule(csms: Application, operator: Operator) -> None:
    schedule = {
        "chargingRateUnit": "A",
        "duration": 3600,
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
    }
    async with raw_station(csms, "TC_066", OCPP16) as station:
        request, response = await operator.command(
            station,
            "get-composite-schedule",
            {"connector_id": 1, "duration_seconds": 3600, "rate_unit": "A"},
            "GetCompositeSchedule",
            {
                "status": "Accepted",
                "connectorId": 1,
                "scheduleStart": "2026-05-01T08:00:00Z",
                "chargingSchedule": schedule,
            },
        )
    assert request.payload == {"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"}
    result = response.json()
    assert result["status"] == "Accepted"
    assert result["data"]["charging_schedule"]["charging_schedule_period"] == [
        {"start_period": 0, "limit": 16.0}
    ]


@SUITE.case("TC_067_CSMS", "Clear Charging Profile", SMART_CHARGING)
async def test_clear_charging_profile(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-067")
    async with raw_station(csms, "TC_067", OCPP16) as station:
        transaction_id = await charging(station, "TAG-067")
        first = await set_profile(station, operator, 0, profile(671, "ChargingStationMaxProfile"))
        assert first["connectorId"] == 0
        assert first["csChargingProfiles"]["chargingProfilePurpose"] == "ChargePointMaxProfile"
        assert "transactionId" not in first["csChargingProfiles"]
        await set_profile(station, operator, 1, profile(672, "TxDefaultProfile"))
        await set_profile(
            station, operator, 1, profile(673, "TxProfile", transaction_id=str(transaction_id))
        )
        for body, expected in [
            ({"profile_id": 671}, {"id": 671}),
            (
                {"connector_id": 1, "purpose": "TxDefaultProfile", "stack_level": 0},
                {"connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 0},
            ),
            ({}, {}),  # everything that is left
        ]:
            request, response = await operator.command(
                station, "clear-charging-profile", body, "ClearChargingProfile", ACCEPTED
            )
            assert request.payload == expected
            assert response.json()["status"] == "Accepted"


# What the station sends when triggered, and the keys of the CSMS's answer.
TRIGGERED: list[tuple[str, int | None, dict[str, Any], set[str]]] = [
    (
        "StatusNotification",
        1,
        {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
        set(),
    ),
    ("Heartbeat", None, {}, {"currentTime"}),
    (
        "BootNotification",
        None,
        {"chargePointVendor": "Acme", "chargePointModel": "Raw-1"},
        {"status", "currentTime", "interval"},
    ),
    (
        "MeterValues",
        1,
        {
            "connectorId": 1,
            "meterValue": [
                {
                    "timestamp": "2026-05-01T08:00:00Z",
                    "sampledValue": [{"value": "1234", "context": "Trigger"}],
                }
            ],
        },
        set(),
    ),
    ("DiagnosticsStatusNotification", None, {"status": "Idle"}, set()),
    ("FirmwareStatusNotification", None, {"status": "Idle"}, set()),
]


@SUITE.case("TC_054_CSMS", "Trigger Message", REMOTE_TRIGGER)
async def test_trigger_message(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_054", OCPP16) as station:
        for message, connector, follow_up, answer_keys in TRIGGERED:
            body: dict[str, Any] = {"message": message}
            expected: dict[str, Any] = {"requestedMessage": message}
            if connector is not None:
                body["connector_id"] = expected["connectorId"] = connector
            request, response = await operator.command(
                station, "trigger-message", body, "TriggerMessage", ACCEPTED
            )
            assert request.payload == expected
            assert response.json()["status"] == "Accepted"
            # The station sends what was asked; the CSMS answers it like any other.
            assert set(await station.call(message, follow_up)) == answer_keys


@SUITE.case("TC_055_CSMS", "Trigger Message - Rejected", REMOTE_TRIGGER)
async def test_trigger_message_rejected(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_055", OCPP16) as station:
        request, response = await operator.command(
            station,
            "trigger-message",
            {"message": "MeterValues", "connector_id": 7},
            "TriggerMessage",
            {"status": "Rejected"},
        )
        assert request.payload == {"requestedMessage": "MeterValues", "connectorId": 7}
        assert response.json()["status"] == "Rejected"


SUITE.not_supported(
    "TC_059_CSMS",
    "Remote Start Transaction with Charging Profile",
    SMART_CHARGING,
    "the CSMS core sends the profile, but the REST API refuses a TxProfile without "
    "transaction_id, which is exactly what RemoteStartTransaction needs (the transaction "
    "does not exist yet); no operator channel can ask for it",
)
