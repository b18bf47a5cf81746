"""OCPP 1.6 Firmware Management and Local Auth List Management profiles, CSMS side."""

from __future__ import annotations

from ev_charging_system.application import Application
from tests.conformance.ocpp16 import FIRMWARE, LOCAL_LIST, SUITE
from tests.conformance.ocpp16.support import ACCEPTED
from tests.conformance.station import OCPP16, Operator, RawStation, raw_station

FIRMWARE_URL = "https://firmware.example.com/acme-2.1.bin"
RETRIEVE = "2026-05-01T09:00:00Z"


async def firmware_status(station: RawStation, state: str) -> None:
    assert await station.call("FirmwareStatusNotification", {"status": state}) == {}


async def update_firmware(station: RawStation, operator: Operator) -> None:
    request, response = await operator.command(
        station,
        "update-firmware",
        {"location": FIRMWARE_URL, "retrieve_date": RETRIEVE, "retries": 2},
        "UpdateFirmware",
        {},  # UpdateFirmware.conf has no fields
    )
    assert request.payload == {
        "location": FIRMWARE_URL,
        "retrieveDate": "2026-05-01T09:00:00.000Z",
        "retries": 2,
    }
    assert response.status_code == 200


@SUITE.case("TC_044_1_CSMS", "Firmware Update - Download and Install", FIRMWARE)
async def test_firmware_update(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_044_1", OCPP16) as station:
        await update_firmware(station, operator)
        for state in ("Downloading", "Downloaded", "Installing"):
            await firmware_status(station, state)
    async with raw_station(csms, "TC_044_1", OCPP16) as rebooted:  # new firmware boots
        await firmware_status(rebooted, "Installed")
    assert (await operator.station("TC_044_1"))["firmware_status"] == "Installed"


@SUITE.case("TC_044_2_CSMS", "Firmware Update - Download failed", FIRMWARE)
@SUITE.case("TC_044_3_CSMS", "Firmware Update - Installation failed", FIRMWARE)
async def test_firmware_update_failures(csms: Application, operator: Operator) -> None:
    for station_id, states in [
        ("TC_044_2", ("Downloading", "DownloadFailed")),
        ("TC_044_3", ("Downloading", "Downloaded", "Installing", "InstallationFailed")),
    ]:
        async with raw_station(csms, station_id, OCPP16) as station:
            await update_firmware(station, operator)
            for state in states:
                await firmware_status(station, state)
        assert (await operator.station(station_id))["firmware_status"] == states[-1]


@SUITE.case("TC_045_1_CSMS", "Get Diagnostics of a Charge Point", FIRMWARE)
@SUITE.case("TC_045_2_CSMS", "Get Diagnostics - Upload failed", FIRMWARE)
async def test_get_diagnostics(csms: Application, operator: Operator) -> None:
    for station_id, outcome in [("TC_045_1", "Uploaded"), ("TC_045_2", "UploadFailed")]:
        async with raw_station(csms, station_id, OCPP16) as station:
            request, response = await operator.command(
                station,
                "get-diagnostics",
                {"location": "ftp://logs.example.com/"},
                "GetDiagnostics",
                {"fileName": "diag-2026.zip"},
            )
            assert request.payload == {"location": "ftp://logs.example.com/"}
            assert response.json()["data"]["file_name"] == "diag-2026.zip"
            for state in ("Uploading", outcome):
                answer = await station.call("DiagnosticsStatusNotification", {"status": state})
                assert answer == {}
        assert (await operator.station(station_id))["diagnostics_status"] == outcome


@SUITE.case("TC_042_1_CSMS", "Get Local List Version (not supported)", LOCAL_LIST)
@SUITE.case("TC_042_2_CSMS", "Get Local List Version (empty)", LOCAL_LIST)
async def test_get_local_list_version(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_042", OCPP16) as station:
        for version in (-1, 0):  # -1: no local list support; 0: no list installed
            request, response = await operator.command(
                station,
                "get-local-list-version",
                None,
                "GetLocalListVersion",
                {"listVersion": version},
            )
            assert request.payload == {}
            assert response.json()["data"] == {"list_version": version}


@SUITE.case("TC_043_1_CSMS", "Send Local Authorization List - NotSupported", LOCAL_LIST)
@SUITE.case("TC_043_3_CSMS", "Send Local Authorization List - Failed", LOCAL_LIST)
@SUITE.case("TC_043_4_CSMS", "Send Local Authorization List - Full", LOCAL_LIST)
async def test_send_full_local_list(csms: Application, operator: Operator) -> None:
    entries = [
        {"id_tag": "TAG-043-A", "status": "Accepted"},
        {"id_tag": "TAG-043-B", "status": "Blocked"},
    ]
    async with raw_station(csms, "TC_043", OCPP16) as station:
        for answer in ("NotSupported", "Failed", "Accepted"):
            request, response = await operator.command(
                station,
                "send-local-list",
                {"version": 1, "update_type": "Full", "entries": entries},
                "SendLocalList",
                {"status": answer},
            )
            assert request.payload == {
                "listVersion": 1,
                "updateType": "Full",
                "localAuthorizationList": [
                    {"idTag": "TAG-043-A", "idTagInfo": ACCEPTED},
                    {"idTag": "TAG-043-B", "idTagInfo": {"status": "Blocked"}},
                ],
            }
            assert response.json()["status"] == answer


@SUITE.case("TC_043_5_CSMS", "Send Local Authorization List - Differential", LOCAL_LIST)
async def test_send_differential_local_list(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_043_5", OCPP16) as station:
        _, response = await operator.command(
            station,
            "get-local-list-version",
            None,
            "GetLocalListVersion",
            {"listVersion": 1},
        )
        current = response.json()["data"]["list_version"]
        request, response = await operator.command(
            station,
            "send-local-list",
            {
                "version": current + 1,
                "update_type": "Differential",
                "entries": [{"id_tag": "TAG-043-NEW", "status": "Accepted"}],
            },
            "SendLocalList",
            ACCEPTED,
        )
        assert request.payload == {
            "listVersion": 2,
            "updateType": "Differential",
            "localAuthorizationList": [{"idTag": "TAG-043-NEW", "idTagInfo": ACCEPTED}],
        }
        assert response.json()["status"] == "Accepted"
