"""OCPP 2.0.1 functional blocks F (Remote Control), G (Availability) and H (Reservation),
CSMS side."""

from __future__ import annotations

from typing import Any

from ev_charging_system.application import Application
from tests.conformance.ocpp201 import AVAILABILITY, REMOTE_CONTROL, RESERVATION, SUITE
from tests.conformance.ocpp201.support import (
    ACCEPTED,
    EVSE_1,
    Transaction,
    authorize,
    energy,
    status,
    token,
)
from tests.conformance.station import OCPP201, Operator, RawStation, at, raw_station

CENTRAL = "Central"  # the token type the CSMS uses for tokens it hands to a station


async def remote_start(
    station: RawStation, operator: Operator, id_tag: str, answer: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """RequestStartTransaction for EVSE 1; returns (remoteStartId, REST result)."""
    request, response = await operator.command(
        station,
        "remote-start",
        {"id_tag": id_tag, "connector_id": 1},
        "RequestStartTransaction",
        answer,
    )
    remote_start_id = request.payload["remoteStartId"]
    assert request.payload == {
        "idToken": {"idToken": id_tag, "type": CENTRAL},
        "remoteStartId": remote_start_id,
        "evseId": 1,
    }
    result: dict[str, Any] = response.json()
    return remote_start_id, result


@SUITE.case("TC_F_01_CSMS", "Remote start transaction - Cable plugin first", REMOTE_CONTROL)
async def test_remote_start_cable_first(csms: Application, operator: Operator) -> None:
    await operator.create_tag("F01-TAG")
    async with raw_station(csms, "TC_F_01", OCPP201) as station:
        await status(station, 1, 1, "Occupied")
        tx = Transaction(station, "TX-F01")
        plugged = await tx.event(
            "Started", "CablePluggedIn", info={"chargingState": "EVConnected"}, evse=EVSE_1
        )
        assert plugged == {}
        remote_start_id, result = await remote_start(
            station, operator, "F01-TAG", {"status": "Accepted", "transactionId": "TX-F01"}
        )
        assert result["status"] == "Accepted"
        assert result["data"]["transaction_id"] == "TX-F01"
        updated = await tx.event(
            "Updated",
            "RemoteStart",
            1,
            info={"chargingState": "Charging", "remoteStartId": remote_start_id},
            idToken={"idToken": "F01-TAG", "type": CENTRAL},
        )
        assert updated == {"idTokenInfo": ACCEPTED}
    [stored] = await operator.transactions("TC_F_01")
    assert (stored["id_tag"], stored["active"]) == ("F01-TAG", True)


@SUITE.case(
    "TC_F_02_CSMS",
    "Remote start transaction - Remote start first - AuthorizeRemoteStart is true",
    REMOTE_CONTROL,
)
@SUITE.case(
    "TC_F_03_CSMS",
    "Remote start transaction - Remote start first - AuthorizeRemoteStart is false",
    REMOTE_CONTROL,
)
async def test_remote_start_first(csms: Application, operator: Operator) -> None:
    await operator.create_tag("F02-TAG", max_active_transactions=2)
    for station_id, authorize_first in (("TC_F_02", True), ("TC_F_03", False)):
        async with raw_station(csms, station_id, OCPP201) as station:
            remote_start_id, result = await remote_start(station, operator, "F02-TAG", ACCEPTED)
            assert result["status"] == "Accepted"
            if authorize_first:  # AuthorizeRemoteStart: the station checks the token first
                assert await authorize(station, "F02-TAG", CENTRAL) == ACCEPTED
            tx = Transaction(station, f"TX-{station_id}")
            started = await tx.event(
                "Started",
                "RemoteStart",
                info={"remoteStartId": remote_start_id},
                idToken={"idToken": "F02-TAG", "type": CENTRAL},
                evse=EVSE_1,
            )
            assert started == {"idTokenInfo": ACCEPTED}
            await status(station, 1, 1, "Occupied")
            charging = await tx.event(
                "Updated", "ChargingStateChanged", 2, info={"chargingState": "Charging"}
            )
            assert charging == {}
        [stored] = await operator.transactions(station_id)
        assert stored["id_tag"] == "F02-TAG"


@SUITE.case(
    "TC_F_04_CSMS",
    "Remote start transaction - Remote start first - Cable plugin timeout",
    REMOTE_CONTROL,
)
async def test_remote_start_cable_timeout(csms: Application, operator: Operator) -> None:
    await operator.create_tag("F04-TAG")
    async with raw_station(csms, "TC_F_04", OCPP201) as station:
        remote_start_id, _ = await remote_start(station, operator, "F04-TAG", ACCEPTED)
        tx = Transaction(station, "TX-F04")
        started = await tx.event(
            "Started",
            "RemoteStart",
            info={"remoteStartId": remote_start_id},
            idToken={"idToken": "F04-TAG", "type": CENTRAL},
            evse=EVSE_1,
        )
        assert started == {"idTokenInfo": ACCEPTED}
        ended = await tx.event("Ended", "EVConnectTimeout", 2, info={"stoppedReason": "Timeout"})
        assert ended == {}
    [stored] = await operator.transactions("TC_F_04")
    assert (stored["active"], stored["stop_reason"]) == (False, "Timeout")


@SUITE.case(
    "TC_F_06_CSMS",
    "Remote unlock Connector - Without ongoing transaction - Accepted",
    REMOTE_CONTROL,
)
async def test_unlock_connector(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_F_06", OCPP201) as station:
        request, response = await operator.command(
            station,
            "unlock-connector",
            {"connector_id": 1},
            "UnlockConnector",
            {"status": "Unlocked"},
        )
        assert request.payload == {"evseId": 1, "connectorId": 1}
        assert response.json()["status"] == "Unlocked"


async def trigger(
    station: RawStation, operator: Operator, body: object, answer: str = "Accepted"
) -> dict[str, Any]:
    request, response = await operator.command(
        station, "trigger-message", body, "TriggerMessage", {"status": answer}
    )
    assert response.json()["status"] == answer
    payload: dict[str, Any] = request.payload
    return payload


@SUITE.case("TC_F_11_CSMS", "Trigger message - MeterValues - Specific EVSE", REMOTE_CONTROL)
@SUITE.case("TC_F_12_CSMS", "Trigger message - MeterValues - All EVSE", REMOTE_CONTROL)
async def test_trigger_meter_values(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_F_11", OCPP201) as station:
        for body, expected, evses in [
            (
                {"message": "MeterValues", "connector_id": 1},
                {"requestedMessage": "MeterValues", "evse": {"id": 1}},
                (1,),
            ),
            ({"message": "MeterValues"}, {"requestedMessage": "MeterValues"}, (1, 2)),
        ]:
            assert await trigger(station, operator, body) == expected
            for evse in evses:
                answer = await station.call(
                    "MeterValues", {"evseId": evse, "meterValue": energy(100 * evse, "Trigger")}
                )
                assert answer == {}


@SUITE.case("TC_F_13_CSMS", "Trigger message - TransactionEvent - Specific EVSE", REMOTE_CONTROL)
@SUITE.case("TC_F_14_CSMS", "Trigger message - TransactionEvent - All EVSE", REMOTE_CONTROL)
async def test_trigger_transaction_event(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_F_13", OCPP201) as station:
        tx = Transaction(station, "TX-F13")
        assert await tx.event("Started", "CablePluggedIn", evse=EVSE_1) == {}
        for body, expected in [
            (
                {"message": "TransactionEvent", "connector_id": 1},
                {"requestedMessage": "TransactionEvent", "evse": {"id": 1}},
            ),
            ({"message": "TransactionEvent"}, {"requestedMessage": "TransactionEvent"}),
        ]:
            assert await trigger(station, operator, body) == expected
            answer = await tx.event(
                "Updated",
                "Trigger",
                1,
                info={"chargingState": "Charging"},
                meterValue=energy(500, "Trigger", 1),
            )
            assert answer == {}


@SUITE.case("TC_F_15_CSMS", "Trigger message - LogStatusNotification - Idle", REMOTE_CONTROL)
@SUITE.case("TC_F_18_CSMS", "Trigger message - FirmwareStatusNotification - Idle", REMOTE_CONTROL)
@SUITE.case("TC_F_20_CSMS", "Trigger message - Heartbeat", REMOTE_CONTROL)
async def test_trigger_notifications(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_F_15", OCPP201) as station:
        for message, action, payload, answer_keys in [
            ("DiagnosticsStatusNotification", "LogStatusNotification", {"status": "Idle"}, set()),
            ("FirmwareStatusNotification", "FirmwareStatusNotification", {"status": "Idle"}, set()),
            ("Heartbeat", "Heartbeat", {}, {"currentTime"}),
        ]:
            assert await trigger(station, operator, {"message": message}) == {
                "requestedMessage": action
            }
            assert set(await station.call(action, payload)) == answer_keys


@SUITE.case(
    "TC_F_23_CSMS",
    "Trigger message - StatusNotification - Specific EVSE - Available",
    REMOTE_CONTROL,
)
@SUITE.case(
    "TC_F_24_CSMS",
    "Trigger message - StatusNotification - Specific EVSE - Occupied",
    REMOTE_CONTROL,
)
async def test_trigger_status_notification(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_F_23", OCPP201) as station:
        for state in ("Available", "Occupied"):
            await status(station, 1, 1, state)
            sent = await trigger(
                station, operator, {"message": "StatusNotification", "connector_id": 1}
            )
            # F06.FR.13: a StatusNotification trigger always names the EVSE.
            assert sent == {"requestedMessage": "StatusNotification", "evse": {"id": 1}}
            await status(station, 1, 1, state, 1)
        refused = await operator.post(
            "/api/charge-points/TC_F_23/commands/trigger-message",
            {"message": "StatusNotification"},
        )
        assert refused.status_code == 422
        assert station.pending_calls() == 0


@SUITE.case("TC_F_27_CSMS", "Trigger message - NotImplemented", REMOTE_CONTROL)
async def test_trigger_not_implemented(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_F_27", OCPP201) as station:
        await trigger(station, operator, {"message": "MeterValues"}, answer="NotImplemented")


@SUITE.case("TC_G_01_CSMS", "Status Notification", AVAILABILITY)
async def test_status_notification(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_G_01", OCPP201) as station:
        for minutes, state in enumerate(
            ("Available", "Occupied", "Reserved", "Unavailable", "Faulted", "Available")
        ):
            await status(station, 1, 1, state, minutes)
    history = await operator.get("/api/charge-points/TC_G_01/status-history", connector_id=1)
    assert [h["status"] for h in reversed(history)] == [
        "Available",
        "Occupied",
        "Reserved",
        "Unavailable",
        "Faulted",
        "Available",
    ]


@SUITE.case("TC_G_03_CSMS", "Change Availability EVSE - Operative to inoperative", AVAILABILITY)
@SUITE.case("TC_G_04_CSMS", "Change Availability EVSE - Inoperative to operative", AVAILABILITY)
@SUITE.case(
    "TC_G_05_CSMS", "Change Availability Charging Station - Operative to inoperative", AVAILABILITY
)
@SUITE.case(
    "TC_G_06_CSMS", "Change Availability Charging Station - Inoperative to operative", AVAILABILITY
)
async def test_change_availability(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_G_03", OCPP201) as station:
        for body, expected, state in [
            (
                {"operative": False, "connector_id": 1},
                {"operationalStatus": "Inoperative", "evse": {"id": 1}},
                "Unavailable",
            ),
            (
                {"operative": True, "connector_id": 1},
                {"operationalStatus": "Operative", "evse": {"id": 1}},
                "Available",
            ),
            ({"operative": False}, {"operationalStatus": "Inoperative"}, "Unavailable"),
            ({"operative": True}, {"operationalStatus": "Operative"}, "Available"),
        ]:
            request, response = await operator.command(
                station, "change-availability", body, "ChangeAvailability", ACCEPTED
            )
            assert request.payload == expected
            assert response.json()["status"] == "Accepted"
            await status(station, 1, 1, state)


@SUITE.case("TC_G_11_CSMS", "Change Availability EVSE - With ongoing transaction", AVAILABILITY)
@SUITE.case(
    "TC_G_14_CSMS", "Change Availability Charging Station - With ongoing transaction", AVAILABILITY
)
async def test_change_availability_while_charging(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_G_11", OCPP201) as station:
        tx = Transaction(station, "TX-G11")
        assert await tx.event("Started", "CablePluggedIn", evse=EVSE_1) == {}
        for body in ({"operative": False, "connector_id": 1}, {"operative": False}):
            _, response = await operator.command(
                station, "change-availability", body, "ChangeAvailability", {"status": "Scheduled"}
            )
            assert response.json()["status"] == "Scheduled"
        ended = await tx.event(
            "Ended", "EVCommunicationLost", 5, info={"stoppedReason": "EVDisconnected"}
        )
        assert ended == {}
        await status(station, 1, 1, "Unavailable", 5)


@SUITE.case("TC_G_20_CSMS", "Connector status Notification - Lock Failure", AVAILABILITY)
async def test_lock_failure_event(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_G_20", OCPP201) as station:
        answer = await station.call(
            "NotifyEvent",
            {
                "generatedAt": at(0),
                "seqNo": 0,
                "eventData": [
                    {
                        "eventId": 1,
                        "timestamp": at(0),
                        "trigger": "Delta",
                        "actualValue": "true",
                        "eventNotificationType": "HardWiredNotification",
                        "component": {"name": "ConnectorPlugRetentionLock", "evse": EVSE_1},
                        "variable": {"name": "Problem"},
                    }
                ],
            },
        )
        assert answer == {}
    events = await operator.get("/api/charge-points/TC_G_20/events")
    [event] = [e for e in events if e["kind"] == "notify_event"]
    assert event["detail"]["event_data"][0]["component"]["name"] == "ConnectorPlugRetentionLock"


async def reserve(
    station: RawStation,
    operator: Operator,
    body: dict[str, Any],
    answer: str = "Accepted",
) -> dict[str, Any]:
    request, response = await operator.command(
        station,
        "reserve-now",
        {"expiry": "2026-05-01T10:00:00Z", **body},
        "ReserveNow",
        {"status": answer},
    )
    assert response.json()["status"] == answer
    payload: dict[str, Any] = request.payload
    return payload


@SUITE.case("TC_H_01_CSMS", "Reserve a specific EVSE - Accepted - Valid idToken", RESERVATION)
async def test_reserve_a_specific_evse(csms: Application, operator: Operator) -> None:
    await operator.create_tag("H01-TAG")
    async with raw_station(csms, "TC_H_01", OCPP201) as station:
        sent = await reserve(
            station, operator, {"reservation_id": 101, "id_tag": "H01-TAG", "connector_id": 1}
        )
        assert sent == {
            "id": 101,
            "expiryDateTime": "2026-05-01T10:00:00.000Z",
            "idToken": {"idToken": "H01-TAG", "type": CENTRAL},
            "evseId": 1,
        }
        await status(station, 1, 1, "Reserved")
        assert await authorize(station, "H01-TAG") == ACCEPTED
        tx = Transaction(station, "TX-H01")
        started = await tx.event(
            "Started", "Authorized", idToken=token("H01-TAG"), evse=EVSE_1, reservationId=101
        )
        assert started == {"idTokenInfo": ACCEPTED}
    [stored] = await operator.transactions("TC_H_01")
    assert stored["reservation_id"] == 101


@SUITE.case("TC_H_07_CSMS", "Reserve a specific EVSE - Reservation Ended / not used", RESERVATION)
@SUITE.case("TC_H_20_CSMS", "Charging Station cancels reservation when Faulted", RESERVATION)
async def test_reservation_status_updates(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_H_07", OCPP201) as station:
        await reserve(
            station, operator, {"reservation_id": 107, "id_tag": "H07", "connector_id": 1}
        )
        await reserve(
            station, operator, {"reservation_id": 120, "id_tag": "H20", "connector_id": 2}
        )
        await status(station, 1, 1, "Reserved")
        for reservation, outcome in ((107, "Expired"), (120, "Removed")):
            if outcome == "Removed":
                await status(station, 2, 1, "Faulted")
            answer = await station.call(
                "ReservationStatusUpdate",
                {"reservationId": reservation, "reservationUpdateStatus": outcome},
            )
            assert answer == {}
        await status(station, 1, 1, "Available")
    events = await operator.get("/api/charge-points/TC_H_07/events")
    updates = [e["detail"] for e in events if e["kind"] == "reservation_status"]
    assert sorted((u["reservation_id"], u["status"]) for u in updates) == [
        (107, "Expired"),
        (120, "Removed"),
    ]


@SUITE.case("TC_H_08_CSMS", "Reserve an unspecified EVSE - Accepted", RESERVATION)
@SUITE.case("TC_H_14_CSMS", "Reserve an unspecified EVSE - EVSEs equals reservations", RESERVATION)
@SUITE.case("TC_H_22_CSMS", "Reserve a specific EVSE - Configured to Reject", RESERVATION)
async def test_reservation_answers(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_H_08", OCPP201) as station:
        sent = await reserve(station, operator, {"reservation_id": 108, "id_tag": "H08"})
        assert "evseId" not in sent
        await reserve(station, operator, {"reservation_id": 114, "id_tag": "H14"}, "Occupied")
        await reserve(
            station,
            operator,
            {"reservation_id": 122, "id_tag": "H22", "connector_id": 1},
            "Rejected",
        )


@SUITE.case("TC_H_17_CSMS", "Cancel reservation of an EVSE - Success", RESERVATION)
async def test_cancel_reservation(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_H_17", OCPP201) as station:
        await reserve(
            station, operator, {"reservation_id": 117, "id_tag": "H17", "connector_id": 1}
        )
        await status(station, 1, 1, "Reserved")
        request, response = await operator.command(
            station, "cancel-reservation", {"reservation_id": 117}, "CancelReservation", ACCEPTED
        )
        assert request.payload == {"reservationId": 117}
        assert response.json()["status"] == "Accepted"
        await status(station, 1, 1, "Available")


@SUITE.case(
    "TC_H_19_CSMS", "Reserve a specific EVSE - Use a reserved EVSE with GroupId", RESERVATION
)
async def test_reservation_used_by_the_group(csms: Application, operator: Operator) -> None:
    await operator.create_tag("H19-FLEET")
    await operator.create_tag("H19-A", parent_id_tag="H19-FLEET")
    await operator.create_tag("H19-B", parent_id_tag="H19-FLEET")
    group = {"idToken": "H19-FLEET", "type": CENTRAL}
    async with raw_station(csms, "TC_H_19", OCPP201) as station:
        sent = await reserve(
            station,
            operator,
            {
                "reservation_id": 119,
                "id_tag": "H19-A",
                "connector_id": 1,
                "parent_id_tag": "H19-FLEET",
            },
        )
        assert sent["groupIdToken"] == group
        await status(station, 1, 1, "Reserved")
        # Another card of the group: the station matches the reservation by group.
        assert await authorize(station, "H19-B") == {"status": "Accepted", "groupIdToken": group}


for case_id, title, block, reason in [
    (
        "TC_G_07_CSMS",
        "Change Availability Connector - Operative to inoperative",
        AVAILABILITY,
        "ChangeAvailability addresses a whole EVSE or the station; no connector within an EVSE",
    ),
    (
        "TC_G_08_CSMS",
        "Change Availability Connector - Inoperative to operative",
        AVAILABILITY,
        "ChangeAvailability addresses a whole EVSE or the station; no connector within an EVSE",
    ),
    (
        "TC_G_17_CSMS",
        "Change Availability Connector - With ongoing transaction",
        AVAILABILITY,
        "ChangeAvailability addresses a whole EVSE or the station; no connector within an EVSE",
    ),
    (
        "TC_H_15_CSMS",
        "Reserve a connector with a specific type - Success",
        RESERVATION,
        "ReserveNow carries no connectorType (an operator reserves an EVSE or the station)",
    ),
]:
    SUITE.not_supported(case_id, title, block, reason)
