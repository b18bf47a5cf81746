"""OCPP 1.6 Core profile, Central System side."""

from __future__ import annotations

from datetime import datetime

from ev_charging_system.application import Application
from tests.conformance.ocpp16 import CORE, SUITE
from tests.conformance.ocpp16.support import (
    ACCEPTED,
    authorize,
    charging,
    meter_values,
    start,
    status,
    stop,
)
from tests.conformance.station import OCPP16, IncomingCall, Operator, raw_station


@SUITE.case("TC_001_CSMS", "Cold Boot Charge Point", CORE)
async def test_cold_boot(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_001", OCPP16, boot=False) as station:
        boot = await station.call(
            "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "Raw-1"}
        )
        assert set(boot) == {"status", "currentTime", "interval"}
        assert boot["status"] == "Accepted"
        assert boot["interval"] == csms.settings.heartbeat_interval_seconds
        assert datetime.fromisoformat(boot["currentTime"]).tzinfo is not None
        for connector in (0, 1, 2):
            await status(station, connector, "Available")
        heartbeat = await station.call("Heartbeat")
        assert set(heartbeat) == {"currentTime"}
    stored = await operator.station("TC_001")
    assert [(c["connector_id"], c["status"]) for c in stored["connectors"]] == [
        (0, "Available"),
        (1, "Available"),
        (2, "Available"),
    ]


@SUITE.case("TC_003_CSMS", "Regular Charging Session - Plugin First", CORE)
async def test_plugin_first(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-003")
    async with raw_station(csms, "TC_003", OCPP16) as station:
        await status(station, 1, "Preparing")
        assert await authorize(station, "TAG-003") == ACCEPTED
        transaction_id, info = await start(station, 1, "TAG-003", 1000)
        assert info == ACCEPTED
        await status(station, 1, "Charging")
        await meter_values(station, 1, transaction_id, 1500, minutes=5)
    [transaction] = await operator.transactions("TC_003")
    assert transaction["id"] == transaction_id and transaction["active"] is True


@SUITE.case("TC_004_1_CSMS", "Regular Charging Session - Identification First", CORE)
async def test_identification_first(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-004")
    async with raw_station(csms, "TC_004_1", OCPP16) as station:
        assert await authorize(station, "TAG-004") == ACCEPTED
        await status(station, 1, "Preparing")
        _, info = await start(station, 1, "TAG-004", 0)
        assert info == ACCEPTED
        await status(station, 1, "Charging")


@SUITE.case(
    "TC_004_2_CSMS", "Regular Charging Session - Identification First - ConnectionTimeOut", CORE
)
async def test_connection_timeout(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-004-2")
    async with raw_station(csms, "TC_004_2", OCPP16) as station:
        assert await authorize(station, "TAG-004-2") == ACCEPTED
        await status(station, 1, "Preparing")
        await status(station, 1, "Available")  # the cable never came
    assert await operator.transactions("TC_004_2") == []


@SUITE.case("TC_005_1_CSMS", "EV Side Disconnected", CORE)
async def test_ev_side_disconnected(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-005")
    async with raw_station(csms, "TC_005_1", OCPP16) as station:
        transaction_id = await charging(station, "TAG-005", meter_start=2000)
        await status(station, 1, "SuspendedEV")
        answer = await stop(
            station, transaction_id, 2750, 30, reason="EVDisconnected", idTag="TAG-005"
        )
        assert answer == {"idTagInfo": ACCEPTED}
        await status(station, 1, "Finishing")
        await status(station, 1, "Available")
    [transaction] = await operator.transactions("TC_005_1")
    assert (transaction["active"], transaction["stop_reason"], transaction["energy_wh"]) == (
        False,
        "EVDisconnected",
        750,
    )


@SUITE.case("TC_007_CSMS", "Regular Start Charging Session - Cached Id", CORE)
async def test_cached_id(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-007")
    async with raw_station(csms, "TC_007", OCPP16) as station:
        await status(station, 1, "Preparing")
        # Authorized from the station's cache: no Authorize before the start.
        _, info = await start(station, 1, "TAG-007", 0)
        assert info == ACCEPTED
        await status(station, 1, "Charging")


@SUITE.case("TC_010_CSMS", "Remote Start Charging Session - Cable Plugged in First", CORE)
async def test_remote_start_cable_first(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-010")
    async with raw_station(csms, "TC_010", OCPP16) as station:
        await status(station, 1, "Preparing")
        request, response = await operator.command(
            station,
            "remote-start",
            {"id_tag": "TAG-010", "connector_id": 1},
            "RemoteStartTransaction",
            ACCEPTED,
        )
        assert request.payload == {"idTag": "TAG-010", "connectorId": 1}
        assert response.json()["status"] == "Accepted"
        _, info = await start(station, 1, "TAG-010", 0)
        assert info == ACCEPTED
        await status(station, 1, "Charging")


@SUITE.case("TC_011_1_CSMS", "Remote Start Charging Session - Remote Start First", CORE)
async def test_remote_start_first(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-011")
    async with raw_station(csms, "TC_011_1", OCPP16) as station:
        request, response = await operator.command(
            station,
            "remote-start",
            {"id_tag": "TAG-011", "connector_id": 1},
            "RemoteStartTransaction",
            ACCEPTED,
        )
        assert request.payload == {"idTag": "TAG-011", "connectorId": 1}
        assert response.status_code == 200
        await status(station, 1, "Preparing")
        _, info = await start(station, 1, "TAG-011", 0)
        assert info == ACCEPTED
        await status(station, 1, "Charging")


@SUITE.case("TC_011_2_CSMS", "Remote Start Charging Session - Time Out", CORE)
async def test_remote_start_time_out(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-011-2")
    async with raw_station(csms, "TC_011_2", OCPP16) as station:
        _, response = await operator.command(
            station,
            "remote-start",
            {"id_tag": "TAG-011-2", "connector_id": 1},
            "RemoteStartTransaction",
            ACCEPTED,
        )
        assert response.json()["status"] == "Accepted"
        await status(station, 1, "Preparing")
        await status(station, 1, "Available")  # ConnectionTimeOut: nobody plugged in
    assert await operator.transactions("TC_011_2") == []


@SUITE.case("TC_012_CSMS", "Remote Stop Charging Session", CORE)
async def test_remote_stop(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-012")
    async with raw_station(csms, "TC_012", OCPP16) as station:
        transaction_id = await charging(station, "TAG-012", meter_start=100)
        request, response = await operator.command(
            station,
            "remote-stop",
            {"transaction_id": transaction_id},
            "RemoteStopTransaction",
            ACCEPTED,
        )
        assert request.payload == {"transactionId": transaction_id}
        assert response.json()["status"] == "Accepted"
        assert await stop(station, transaction_id, 600, 20, reason="Remote") == {}
        await status(station, 1, "Finishing")
    [transaction] = await operator.transactions("TC_012")
    assert (transaction["stop_reason"], transaction["energy_wh"]) == ("Remote", 500)


@SUITE.case("TC_013_CSMS", "Hard Reset Without Transaction", CORE)
@SUITE.case("TC_014_CSMS", "Soft Reset Without Transaction", CORE)
async def test_reset(csms: Application, operator: Operator) -> None:
    for kind in ("Hard", "Soft"):
        station_id = f"TC_RESET_{kind}"
        async with raw_station(csms, station_id, OCPP16) as station:
            request, response = await operator.command(
                station, "reset", {"type": kind}, "Reset", ACCEPTED
            )
            assert request.payload == {"type": kind}
            assert response.json()["status"] == "Accepted"
        async with raw_station(csms, station_id, OCPP16) as rebooted:  # boots Accepted again
            await status(rebooted, 1, "Available")


@SUITE.case(
    "TC_017_1_CSMS", "Unlock Connector - No Charging Session Running (Not Fixed Cable)", CORE
)
@SUITE.case("TC_017_2_CSMS", "Unlock Connector - No Charging Session Running (Fixed Cable)", CORE)
@SUITE.case("TC_030_CSMS", "Unlock Connector - Unlock Failure", CORE)
@SUITE.case("TC_031_CSMS", "Unlock Connector - Unknown Connector", CORE)
async def test_unlock_answers(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_017", OCPP16) as station:
        for connector, answer in [(1, "Unlocked"), (1, "NotSupported"), (1, "UnlockFailed")]:
            request, response = await operator.command(
                station,
                "unlock-connector",
                {"connector_id": connector},
                "UnlockConnector",
                {"status": answer},
            )
            assert request.payload == {"connectorId": connector}
            assert response.json()["status"] == answer
        request, response = await operator.command(
            station,
            "unlock-connector",
            {"connector_id": 9},
            "UnlockConnector",
            {"status": "NotSupported"},
        )
        assert request.payload == {"connectorId": 9}
        assert response.json()["status"] == "NotSupported"


@SUITE.case("TC_018_1_CSMS", "Unlock Connector - With Charging Session (Not Fixed Cable)", CORE)
async def test_unlock_with_session(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-018")
    async with raw_station(csms, "TC_018_1", OCPP16) as station:
        transaction_id = await charging(station, "TAG-018")

        async def stop_then_unlock(incoming: IncomingCall) -> None:
            # The station ends the session first, then reports the unlock.
            assert await stop(station, transaction_id, 300, 10, reason="UnlockCommand") == {}
            await station.reply(incoming, {"status": "Unlocked"})

        request, response = await operator.command(
            station, "unlock-connector", {"connector_id": 1}, "UnlockConnector", stop_then_unlock
        )
        assert request.payload == {"connectorId": 1}
        assert response.json()["status"] == "Unlocked"
        await status(station, 1, "Finishing")
    [transaction] = await operator.transactions("TC_018_1")
    assert transaction["stop_reason"] == "UnlockCommand"


@SUITE.case("TC_019_1_CSMS", "Retrieve all configuration keys", CORE)
@SUITE.case("TC_019_2_CSMS", "Retrieve specific configuration key", CORE)
async def test_get_configuration(csms: Application, operator: Operator) -> None:
    keys = [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
    ]
    async with raw_station(csms, "TC_019", OCPP16) as station:
        request, response = await operator.command(
            station, "get-configuration", {}, "GetConfiguration", {"configurationKey": keys}
        )
        assert request.payload == {}  # no key: all of them
        assert response.json()["data"]["configuration"] == keys
        request, response = await operator.command(
            station,
            "get-configuration",
            {"keys": ["HeartbeatInterval"]},
            "GetConfiguration",
            {"configurationKey": keys[:1]},
        )
        assert request.payload == {"key": ["HeartbeatInterval"]}
        assert response.json()["data"] == {"configuration": keys[:1], "unknown_keys": []}


@SUITE.case("TC_021_CSMS", "Change/set Configuration", CORE)
@SUITE.case("TC_040_1_CSMS", "Configuration Keys - NotSupported", CORE)
@SUITE.case("TC_040_2_CSMS", "Configuration Keys - Invalid value", CORE)
async def test_change_configuration(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_021", OCPP16) as station:
        for key, value, answer in [
            ("MeterValueSampleInterval", "60", "Accepted"),
            ("VendorFrobnication", "1", "NotSupported"),
            ("MeterValueSampleInterval", "-5", "Rejected"),
        ]:
            request, response = await operator.command(
                station,
                "set-configuration",
                {"key": key, "value": value},
                "ChangeConfiguration",
                {"status": answer},
            )
            assert request.payload == {"key": key, "value": value}
            assert response.json()["status"] == answer


@SUITE.case("TC_023_1_CSMS", "Start Charging Session - Authorize invalid", CORE)
@SUITE.case("TC_023_2_CSMS", "Start Charging Session - Authorize expired", CORE)
@SUITE.case("TC_023_3_CSMS", "Start Charging Session - Authorize blocked", CORE)
async def test_authorize_refusals(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-023-EXP", expiry_date="2020-01-01T00:00:00Z")
    await operator.create_tag("TAG-023-BLK", status="Blocked")
    async with raw_station(csms, "TC_023", OCPP16) as station:
        await status(station, 1, "Preparing")
        assert await authorize(station, "TAG-023-UNKNOWN") == {"status": "Invalid"}
        assert await authorize(station, "TAG-023-EXP") == {
            "status": "Expired",
            "expiryDate": "2020-01-01T00:00:00.000Z",
        }
        assert await authorize(station, "TAG-023-BLK") == {"status": "Blocked"}
        await status(station, 1, "Available")
    assert await operator.transactions("TC_023") == []


@SUITE.case("TC_024_CSMS", "Start Charging Session Lock Failure", CORE)
async def test_lock_failure(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-024")
    async with raw_station(csms, "TC_024", OCPP16) as station:
        await status(station, 1, "Preparing")
        assert await authorize(station, "TAG-024") == ACCEPTED
        await status(station, 1, "Faulted", error_code="ConnectorLockFailure")
    [connector] = (await operator.station("TC_024"))["connectors"]
    assert (connector["status"], connector["error_code"]) == ("Faulted", "ConnectorLockFailure")


@SUITE.case("TC_026_CSMS", "Remote Start Charging Session - Rejected", CORE)
@SUITE.case("TC_028_CSMS", "Remote Stop Transaction - Rejected", CORE)
async def test_remote_start_and_stop_rejected(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-026")
    async with raw_station(csms, "TC_026", OCPP16) as station:
        _, response = await operator.command(
            station,
            "remote-start",
            {"id_tag": "TAG-026", "connector_id": 1},
            "RemoteStartTransaction",
            {"status": "Rejected"},
        )
        assert response.json()["status"] == "Rejected"
        transaction_id = await charging(station, "TAG-026")
        request, response = await operator.command(
            station,
            "remote-stop",
            {"transaction_id": transaction_id},
            "RemoteStopTransaction",
            {"status": "Rejected"},
        )
        assert request.payload == {"transactionId": transaction_id}
        assert response.json()["status"] == "Rejected"
    [transaction] = await operator.transactions("TC_026")
    assert transaction["active"] is True


@SUITE.case(
    "TC_032_1_CSMS",
    "Power failure boot charging point - configured to stop transaction(s) before going down",
    CORE,
)
async def test_power_failure_stops_transactions(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-032")
    async with raw_station(csms, "TC_032_1", OCPP16) as station:
        transaction_id = await charging(station, "TAG-032", meter_start=500)
    # Power is back: the station boots and delivers the stop it queued while going down.
    async with raw_station(csms, "TC_032_1", OCPP16) as station:
        answer = await stop(station, transaction_id, 900, 15, reason="PowerLoss", idTag="TAG-032")
        assert answer == {"idTagInfo": ACCEPTED}
        await status(station, 0, "Available")
        await status(station, 1, "Available")
    [transaction] = await operator.transactions("TC_032_1")
    assert (transaction["stop_reason"], transaction["energy_wh"]) == ("PowerLoss", 400)


@SUITE.case("TC_037_1_CSMS", "Offline Start Transaction - Valid IdTag", CORE)
@SUITE.case("TC_039_CSMS", "Offline Transaction", CORE)
async def test_offline_transactions(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-037")
    await operator.create_tag("TAG-039")
    async with raw_station(csms, "TC_037", OCPP16) as station:
        # Back online: the start made while offline arrives with its original time.
        started, info = await start(station, 1, "TAG-037", 0, minutes=-30)
        assert info == ACCEPTED
        await status(station, 1, "Charging")
        # A whole session happened offline on connector 2: start and stop arrive now.
        offline, info = await start(station, 2, "TAG-039", 100, minutes=-120)
        assert info == ACCEPTED
        assert await stop(station, offline, 1100, -60, idTag="TAG-039") == {"idTagInfo": ACCEPTED}
    by_id = {t["id"]: t for t in await operator.transactions("TC_037")}
    assert by_id[started]["active"] is True
    assert by_id[started]["started_at"].startswith("2026-05-01T07:30")
    assert (by_id[offline]["active"], by_id[offline]["energy_wh"]) == (False, 1000)


@SUITE.case(
    "TC_037_3_CSMS", "Offline Start Transaction - Invalid IdTag - StopTransactionOnInvalidId", CORE
)
async def test_offline_start_invalid_tag(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_037_3", OCPP16) as station:
        transaction_id, info = await start(station, 1, "TAG-037-BAD", 0, minutes=-10)
        assert info == {"status": "Invalid"}
        # StopTransactionOnInvalidId: the station ends the session it may not continue.
        answer = await stop(station, transaction_id, 50, 0, reason="DeAuthorized")
        assert answer == {}
        await status(station, 1, "Finishing")
    [transaction] = await operator.transactions("TC_037_3")
    assert (transaction["authorization_status"], transaction["stop_reason"]) == (
        "Invalid",
        "DeAuthorized",
    )


@SUITE.case("TC_061_CSMS", "Clear Authorization Data in Authorization Cache", CORE)
async def test_clear_cache(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_061", OCPP16) as station:
        request, response = await operator.command(
            station, "clear-cache", None, "ClearCache", ACCEPTED
        )
        assert request.payload == {}
        assert response.json()["status"] == "Accepted"


@SUITE.case("TC_064_CSMS", "Data Transfer to a Central System", CORE)
async def test_data_transfer_to_csms(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_064", OCPP16) as station:
        answer = await station.call(
            "DataTransfer", {"vendorId": "com.acme", "messageId": "hello", "data": "{}"}
        )
        assert answer == {"status": "UnknownVendorId"}
