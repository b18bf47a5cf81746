"""OCPP 2.0.1 functional block K (Smart Charging), CSMS side."""

from __future__ import annotations

from typing import Any

from ev_charging_system.application import Application
from tests.conformance.ocpp201 import SMART_CHARGING, SUITE
from tests.conformance.ocpp201.support import ACCEPTED, EVSE_1, Transaction
from tests.conformance.station import OCPP201, Operator, RawStation, at, raw_station


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


def sent_profile(profile_id: int, purpose: str, limit: float = 16.0) -> dict[str, Any]:
    """The chargingProfile the CSMS must send for `profile(profile_id, purpose)`."""
    return {
        "id": profile_id,
        "stackLevel": 0,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {
                "id": profile_id,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            }
        ],
    }


async def set_profile(
    station: RawStation,
    operator: Operator,
    evse: int,
    body: dict[str, Any],
    answer: str = "Accepted",
) -> dict[str, Any]:
    request, response = await operator.command(
        station,
        "set-charging-profile",
        {"connector_id": evse, "profile": body},
        "SetChargingProfile",
        {"status": answer},
    )
    assert response.json()["status"] == answer
    payload: dict[str, Any] = request.payload
    return payload


@SUITE.case(
    "TC_K_01_CSMS", "Set Charging Profile - TxDefaultProfile - Specific EVSE", SMART_CHARGING
)
@SUITE.case("TC_K_10_CSMS", "Set Charging Profile - TxDefaultProfile - All EVSE", SMART_CHARGING)
@SUITE.case("TC_K_03_CSMS", "Set Charging Profile - ChargingStationMaxProfile", SMART_CHARGING)
async def test_set_default_and_station_profiles(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_K_01", OCPP201) as station:
        for evse, profile_id, purpose in [
            (1, 201, "TxDefaultProfile"),
            (0, 210, "TxDefaultProfile"),
            (0, 203, "ChargingStationMaxProfile"),
        ]:
            sent = await set_profile(station, operator, evse, profile(profile_id, purpose))
            assert sent == {"evseId": evse, "chargingProfile": sent_profile(profile_id, purpose)}


@SUITE.case(
    "TC_K_02_CSMS",
    "Set Charging Profile - TxProfile without ongoing transaction on the specified EVSE",
    SMART_CHARGING,
)
@SUITE.case(
    "TC_K_60_CSMS",
    "Set Charging Profile - TxProfile with ongoing transaction on the specified EVSE",
    SMART_CHARGING,
)
async def test_tx_profiles(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_K_02", OCPP201) as station:
        sent = await set_profile(
            station,
            operator,
            1,
            profile(202, "TxProfile", transaction_id="TX-NOT-RUNNING"),
            answer="Rejected",
        )
        assert sent["chargingProfile"]["transactionId"] == "TX-NOT-RUNNING"
        tx = Transaction(station, "TX-K60")
        assert await tx.event("Started", "CablePluggedIn", evse=EVSE_1) == {}
        sent = await set_profile(
            station, operator, 1, profile(260, "TxProfile", transaction_id="TX-K60")
        )
        assert sent == {
            "evseId": 1,
            "chargingProfile": {**sent_profile(260, "TxProfile"), "transactionId": "TX-K60"},
        }


@SUITE.case("TC_K_04_CSMS", "Replace charging profile - With chargingProfileId", SMART_CHARGING)
@SUITE.case("TC_K_05_CSMS", "Clear Charging Profile - With chargingProfileId", SMART_CHARGING)
@SUITE.case(
    "TC_K_06_CSMS",
    "Clear Charging Profile - With stackLevel/purpose combination for one profile",
    SMART_CHARGING,
)
@SUITE.case(
    "TC_K_08_CSMS", "Clear Charging Profile - Without previous charging profile", SMART_CHARGING
)
async def test_replace_and_clear(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_K_04", OCPP201) as station:
        await set_profile(station, operator, 1, profile(204, "TxDefaultProfile"))
        replaced = await set_profile(
            station,
            operator,
            1,
            profile(204, "TxDefaultProfile", periods=[{"start_period_seconds": 0, "limit": 10}]),
        )
        assert replaced["chargingProfile"] == sent_profile(204, "TxDefaultProfile", 10.0)
        for body, expected, answer in [
            ({"profile_id": 204}, {"chargingProfileId": 204}, "Accepted"),
            (
                {"purpose": "TxDefaultProfile", "stack_level": 0},
                {
                    "chargingProfileCriteria": {
                        "chargingProfilePurpose": "TxDefaultProfile",
                        "stackLevel": 0,
                    }
                },
                "Accepted",
            ),
            ({"profile_id": 999}, {"chargingProfileId": 999}, "Unknown"),
        ]:
            request, response = await operator.command(
                station, "clear-charging-profile", body, "ClearChargingProfile", {"status": answer}
            )
            assert request.payload == expected
            assert response.json()["status"] == answer


@SUITE.case("TC_K_15_CSMS", "Set Charging Profile - Not Supported", SMART_CHARGING)
async def test_station_without_smart_charging(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_K_15", OCPP201) as station:

        async def not_supported(incoming: Any) -> None:
            await station.reply_error(incoming, "NotSupported", "no smart charging here")

        _, response = await operator.command(
            station,
            "set-charging-profile",
            {"connector_id": 1, "profile": profile(215, "TxDefaultProfile")},
            "SetChargingProfile",
            not_supported,
        )
    assert response.status_code == 502
    assert response.json()["error_code"] == "NotSupported"


@SUITE.case(
    "TC_K_19_CSMS", "Set Charging Profile - ChargingProfileKind is Recurring", SMART_CHARGING
)
async def test_recurring_profile(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_K_19", OCPP201) as station:
        sent = await set_profile(
            station,
            operator,
            0,
            profile(
                219,
                "TxDefaultProfile",
                kind="Recurring",
                recurrency="Daily",
                start_schedule="2026-05-01T00:00:00Z",
                duration_seconds=86_400,
            ),
        )
    charging_profile = sent["chargingProfile"]
    assert (charging_profile["chargingProfileKind"], charging_profile["recurrencyKind"]) == (
        "Recurring",
        "Daily",
    )
    [schedule] = charging_profile["chargingSchedule"]
    assert (schedule["startSchedule"], schedule["duration"]) == ("2026-05-01T00:00:00.000Z", 86_400)


@SUITE.case("TC_K_29_CSMS", "Get Charging Profile - EvseId 0", SMART_CHARGING)
@SUITE.case("TC_K_30_CSMS", "Get Charging Profile - EvseId > 0", SMART_CHARGING)
@SUITE.case("TC_K_31_CSMS", "Get Charging Profile - No EvseId", SMART_CHARGING)
@SUITE.case(
    "TC_K_35_CSMS", "Get Charging Profile - EvseId > 0 + chargingProfilePurpose", SMART_CHARGING
)
async def test_get_charging_profiles(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_K_29", OCPP201) as station:
        for body, criteria in [
            ({"connector_id": 0}, {"evseId": 0, "chargingProfile": {}}),
            ({"connector_id": 1}, {"evseId": 1, "chargingProfile": {}}),
            ({}, {"chargingProfile": {}}),
            (
                {"connector_id": 1, "purpose": "TxDefaultProfile"},
                {"evseId": 1, "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"}},
            ),
        ]:
            request, response = await operator.command(
                station, "get-charging-profiles", body, "GetChargingProfiles", ACCEPTED
            )
            request_id = request.payload.pop("requestId")
            assert request.payload == criteria
            assert response.json()["data"] == {"request_id": request_id}
            report = await station.call(
                "ReportChargingProfiles",
                {
                    "requestId": request_id,
                    "chargingLimitSource": "CSO",
                    "evseId": criteria.get("evseId", 1),
                    "chargingProfile": [sent_profile(229, "TxDefaultProfile")],
                    "tbc": False,
                },
            )
            assert report == {}


@SUITE.case("TC_K_43_CSMS", "Get Composite Schedule - Specific EVSE", SMART_CHARGING)
@SUITE.case("TC_K_44_CSMS", "Get Composite Schedule - Charging Station", SMART_CHARGING)
async def test_get_composite_schedule(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_K_43", OCPP201) as station:
        for evse in (1, 0):
            schedule = {
                "evseId": evse,
                "duration": 3600,
                "scheduleStart": at(0),
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            }
            request, response = await operator.command(
                station,
                "get-composite-schedule",
                {"connector_id": evse, "duration_seconds": 3600, "rate_unit": "A"},
                "GetCompositeSchedule",
                {"status": "Accepted", "schedule": schedule},
            )
            assert request.payload == {"duration": 3600, "evseId": evse, "chargingRateUnit": "A"}
            result = response.json()
            assert result["status"] == "Accepted"
            assert result["data"]["schedule"]["evse_id"] == evse


@SUITE.case(
    "TC_K_48_CSMS",
    "EMS Control - Set / Update External Charging Limit (not on a transaction)",
    SMART_CHARGING,
)
@SUITE.case(
    "TC_K_50_CSMS",
    "EMS Control - Reset / release external charging limit - Without ongoing transaction",
    SMART_CHARGING,
)
@SUITE.case(
    "TC_K_51_CSMS",
    "EMS Control - Reset / release external charging limit - With ongoing transaction",
    SMART_CHARGING,
)
async def test_external_charging_limits(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_K_48", OCPP201) as station:
        limit = await station.call(
            "NotifyChargingLimit",
            {
                "chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": False},
                "evseId": 1,
                "chargingSchedule": [
                    {
                        "id": 1,
                        "chargingRateUnit": "W",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}],
                    }
                ],
            },
        )
        assert limit == {}
        assert (
            await station.call("ClearedChargingLimit", {"chargingLimitSource": "EMS", "evseId": 1})
            == {}
        )
        tx = Transaction(station, "TX-K51")
        assert await tx.event("Started", "CablePluggedIn", evse=EVSE_1) == {}
        assert await station.call("ClearedChargingLimit", {"chargingLimitSource": "EMS"}) == {}
        changed = await tx.event(
            "Updated", "ChargingRateChanged", 1, info={"chargingState": "Charging"}
        )
        assert changed == {}
    events = await operator.get("/api/charge-points/TC_K_48/events")
    assert [
        e["detail"].get("cleared", False) for e in reversed(events) if e["kind"] == "charging_limit"
    ] == [
        False,
        True,
        True,
    ]


SUITE.not_supported(
    "TC_K_37_CSMS",
    "Remote start transaction with charging profile - Success",
    SMART_CHARGING,
    "the CSMS core sends the profile, but the REST API refuses a TxProfile without "
    "transaction_id, which is exactly what RequestStartTransaction needs (the transaction "
    "does not exist yet); no operator channel can ask for it",
)
for case_id, title, criterion in [
    ("TC_K_32_CSMS", "Get Charging Profile - chargingProfileId", "chargingProfileId"),
    ("TC_K_33_CSMS", "Get Charging Profile - EvseId > 0 + stackLevel", "stackLevel"),
    (
        "TC_K_34_CSMS",
        "Get Charging Profile - EvseId > 0 + chargingLimitSource",
        "chargingLimitSource",
    ),
    (
        "TC_K_36_CSMS",
        "Get Charging Profile - EvseId > 0 + chargingProfilePurpose + stackLevel",
        "stackLevel",
    ),
]:
    SUITE.not_supported(
        case_id,
        title,
        SMART_CHARGING,
        f"GetChargingProfiles criteria are EVSE and purpose only; {criterion} cannot be given",
    )
for case_id, title in [
    ("TC_K_53_CSMS", "Charging with load leveling based on High Level Communication - Success"),
    (
        "TC_K_55_CSMS",
        "Charging with load leveling based on High Level Communication - "
        "EV charging profile exceeds limits",
    ),
]:
    SUITE.not_supported(
        case_id,
        title,
        SMART_CHARGING,
        "no ISO 15118 schedule is computed: NotifyEVChargingNeeds is answered Rejected and "
        "recorded, NotifyEVChargingSchedule is recorded",
    )
