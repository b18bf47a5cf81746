"""OCPP 2.0.1 functional blocks I (Tariff and Cost), L (Firmware Management), M (ISO 15118
Certificate Management), N (Diagnostics), O (Display Message) and P (Data Transfer),
CSMS side. Most of these are not supported; each says why."""

from __future__ import annotations

from ev_charging_system.application import Application
from tests.conformance.ocpp201 import (
    CERTIFICATES,
    DATA_TRANSFER,
    DIAGNOSTICS,
    DISPLAY,
    FIRMWARE,
    SUITE,
    TARIFF_COST,
)
from tests.conformance.station import OCPP201, Operator, RawStation, at, boot_payload, raw_station

LOG_URL = "https://logs.example.com/upload"


async def get_log(station: RawStation, operator: Operator, answer: str) -> int:
    request, response = await operator.command(
        station, "get-diagnostics", {"location": LOG_URL}, "GetLog", {"status": answer}
    )
    request_id = request.payload["requestId"]
    assert request.payload == {
        "log": {"remoteLocation": LOG_URL},
        "logType": "DiagnosticsLog",
        "requestId": request_id,
    }
    assert response.json()["status"] == answer
    return int(request_id)


@SUITE.case("TC_N_25_CSMS", "Retrieve Log Information - Diagnostics Log - Success", DIAGNOSTICS)
@SUITE.case("TC_N_34_CSMS", "Retrieve Log Information - Rejected", DIAGNOSTICS)
@SUITE.case("TC_N_36_CSMS", "Retrieve Log Information - Second Request", DIAGNOSTICS)
async def test_retrieve_log(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_N_25", OCPP201) as station:
        request_id = await get_log(station, operator, "Accepted")
        answer = await station.call(
            "LogStatusNotification", {"status": "Uploading", "requestId": request_id}
        )
        assert answer == {}
        # N_36: a second request while uploading cancels the first one.
        second = await get_log(station, operator, "AcceptedCanceled")
        assert second != request_id
        for state in ("Uploading", "Uploaded"):
            answer = await station.call(
                "LogStatusNotification", {"status": state, "requestId": second}
            )
            assert answer == {}
        await get_log(station, operator, "Rejected")  # N_34
    assert (await operator.station("TC_N_25"))["diagnostics_status"] == "Uploaded"


@SUITE.case(
    "TC_P_02_CSMS",
    "Data Transfer to the CSMS - Rejected / Unknown VendorId / Unknown MessageId",
    DATA_TRANSFER,
)
async def test_data_transfer_to_csms(csms: Application) -> None:
    async with raw_station(csms, "TC_P_02", OCPP201) as station:
        answer = await station.call(
            "DataTransfer", {"vendorId": "com.acme", "messageId": "ping", "data": {"x": 1}}
        )
        assert answer == {"status": "UnknownVendorId"}


@SUITE.case("TC_P_03_CSMS", "CustomData - Receive custom data", DATA_TRANSFER)
async def test_custom_data_is_accepted(csms: Application) -> None:
    custom = {"vendorId": "com.acme", "batteryTemperature": 31}
    async with raw_station(csms, "TC_P_03", OCPP201, boot=False) as station:
        boot = await station.call(
            "BootNotification", {**boot_payload(OCPP201), "customData": custom}
        )
        assert boot["status"] == "Accepted"
        assert set(await station.call("Heartbeat", {"customData": custom})) == {"currentTime"}
        status = await station.call(
            "StatusNotification",
            {
                "timestamp": at(0),
                "connectorStatus": "Available",
                "evseId": 1,
                "connectorId": 1,
                "customData": custom,
            },
        )
        assert status == {}


NO_SIGNED_FIRMWARE = (
    "the CSMS sends UpdateFirmware without signingCertificate and signature (no firmware "
    "signing certificate is managed), so it cannot ask for a secure firmware update; "
    "FirmwareStatusNotifications are answered and recorded"
)
for case_id, title in [
    ("TC_L_01_CSMS", "Secure Firmware Update - Installation successful"),
    ("TC_L_02_CSMS", "Secure Firmware Update - InstallScheduled"),
    ("TC_L_03_CSMS", "Secure Firmware Update - DownloadScheduled"),
    ("TC_L_04_CSMS", "Secure Firmware Update - RevokedCertificate"),
    ("TC_L_05_CSMS", "Secure Firmware Update - InvalidCertificate"),
    ("TC_L_06_CSMS", "Secure Firmware Update - InvalidSignature"),
    ("TC_L_07_CSMS", "Secure Firmware Update - DownloadFailed"),
    ("TC_L_08_CSMS", "Secure Firmware Update - InstallVerificationFailed"),
    ("TC_L_09_CSMS", "Secure Firmware Update - InstallationFailed"),
    ("TC_L_10_CSMS", "Secure Firmware Update - AcceptedCanceled"),
    ("TC_L_11_CSMS", "Secure Firmware Update - Unable to cancel"),
    (
        "TC_L_13_CSMS",
        "Secure Firmware Update - Unable to download/install firmware with ongoing transaction",
    ),
]:
    SUITE.not_supported(case_id, title, FIRMWARE, NO_SIGNED_FIRMWARE)

NO_15118 = (
    "ISO 15118 certificate handling (OCSP status, EV contract certificates) needs a V2G PKI "
    "and OCSP responder, which this CSMS does not run; GetCertificateStatus and "
    "Get15118EVCertificate are answered Failed"
)
HASH_DATA = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "0a1b2c3d",
    "issuerKeyHash": "4e5f6a7b",
    "serialNumber": "05",
}


@SUITE.case("TC_M_01_CSMS", "Install CA certificate - CSMSRootCertificate", CERTIFICATES)
@SUITE.case("TC_M_02_CSMS", "Install CA certificate - ManufacturerRootCertificate", CERTIFICATES)
@SUITE.case("TC_M_05_CSMS", "Install CA certificate - Failed", CERTIFICATES)
async def test_install_ca_certificate(csms: Application, operator: Operator) -> None:
    certificate = (await operator.csms_root()).strip()
    async with raw_station(csms, "TC_M_01", OCPP201) as station:
        for use, certificate_type, answer in [
            ("csms_root", "CSMSRootCertificate", "Accepted"),
            ("manufacturer_root", "ManufacturerRootCertificate", "Accepted"),
            ("manufacturer_root", "ManufacturerRootCertificate", "Failed"),
        ]:
            request, response = await operator.command(
                station,
                "install-certificate",
                {"use": use, "certificate": certificate},
                "InstallCertificate",
                {"status": answer},
            )
            assert request.payload == {
                "certificateType": certificate_type,
                "certificate": certificate,
            }
            assert response.json()["status"] == answer  # the station's word, Failed included


@SUITE.case(
    "TC_M_13_CSMS",
    "Retrieve certificates from Charging Station - ManufacturerRootCertificate",
    CERTIFICATES,
)
@SUITE.case(
    "TC_M_18_CSMS",
    "Retrieve certificates from Charging Station - All certificateTypes",
    CERTIFICATES,
)
@SUITE.case(
    "TC_M_19_CSMS",
    "Retrieve certificates from Charging Station - No matching certificate found",
    CERTIFICATES,
)
async def test_retrieve_certificates(csms: Application, operator: Operator) -> None:
    chain = {"certificateType": "ManufacturerRootCertificate", "certificateHashData": HASH_DATA}
    async with raw_station(csms, "TC_M_13", OCPP201) as station:
        request, response = await operator.command(
            station,
            "get-installed-certificate-ids",
            {"uses": ["manufacturer_root"]},
            "GetInstalledCertificateIds",
            {"status": "Accepted", "certificateHashDataChain": [chain]},
        )
        assert request.payload == {"certificateType": ["ManufacturerRootCertificate"]}
        assert response.json()["data"]["certificates"] == [
            {
                "use": "manufacturer_root",
                "hash_algorithm": "SHA256",
                "issuer_name_hash": "0a1b2c3d",
                "issuer_key_hash": "4e5f6a7b",
                "serial_number": "05",
            }
        ]
        request, response = await operator.command(
            station,
            "get-installed-certificate-ids",
            {},
            "GetInstalledCertificateIds",
            {"status": "Accepted", "certificateHashDataChain": [chain]},
        )
        assert request.payload == {}  # no type: every kind
        request, response = await operator.command(
            station,
            "get-installed-certificate-ids",
            {"uses": ["v2g_root"]},
            "GetInstalledCertificateIds",
            {"status": "NotFound"},
        )
        assert response.json() == {"status": "NotFound", "data": {"certificates": []}}


@SUITE.case("TC_M_20_CSMS", "Delete a certificate from a Charging Station - Success", CERTIFICATES)
@SUITE.case("TC_M_21_CSMS", "Delete a certificate from a Charging Station - Failed", CERTIFICATES)
async def test_delete_certificate(csms: Application, operator: Operator) -> None:
    body = {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": "0a1b2c3d",
        "issuer_key_hash": "4e5f6a7b",
        "serial_number": "05",
    }
    async with raw_station(csms, "TC_M_20", OCPP201) as station:
        for answer in ("Accepted", "Failed"):
            request, response = await operator.command(
                station, "delete-certificate", body, "DeleteCertificate", {"status": answer}
            )
            assert request.payload == {"certificateHashData": HASH_DATA}
            assert response.json()["status"] == answer


for case_id, title in [
    ("TC_M_24_CSMS", "Get Charging Station Certificate status - Success"),
    ("TC_M_26_CSMS", "Certificate Installation EV - Success"),
    ("TC_M_28_CSMS", "Certificate Update EV - Success"),
]:
    SUITE.not_supported(case_id, title, CERTIFICATES, NO_15118)

SUITE.not_supported(
    "TC_N_35_CSMS",
    "Retrieve Log Information - Security Log - Success",
    DIAGNOSTICS,
    "GetLog is always sent with logType DiagnosticsLog; an operator cannot ask for the SecurityLog",
)
for case_id, title in [
    ("TC_N_27_CSMS", "Get Customer Information - Accepted + data"),
    ("TC_N_28_CSMS", "Get Customer Information - Accepted + no data"),
    ("TC_N_29_CSMS", "Get Customer Information - Not Accepted"),
    ("TC_N_30_CSMS", "Clear Customer Information - Clear and report + data"),
    ("TC_N_31_CSMS", "Clear Customer Information - Clear and report + no data"),
    ("TC_N_32_CSMS", "Clear Customer Information - Clear and no report"),
    ("TC_N_62_CSMS", "Clear Customer Information - Clear and report - customerIdentifier"),
]:
    SUITE.not_supported(
        case_id,
        title,
        DIAGNOSTICS,
        "CustomerInformation is not among the CSMS's commands (NotifyCustomerInformation "
        "from a station is answered and recorded)",
    )
SUITE.not_supported(
    "N02-N06",
    "Monitoring: GetMonitoringReport, SetMonitoringBase, SetVariableMonitoring, "
    "SetMonitoringLevel, ClearVariableMonitoring (use cases; OCA cases TC_N_01..TC_N_24)",
    DIAGNOSTICS,
    "none of these are among the CSMS's commands; NotifyMonitoringReport and NotifyEvent "
    "from a station are answered and recorded",
)

for case_id, title in [
    ("TC_I_01_CSMS", "Show EV Driver running total cost during charging - costUpdatedRequest"),
    ("TC_I_02_CSMS", "Show EV Driver Final Total Cost After Charging"),
]:
    SUITE.not_supported(
        case_id,
        title,
        TARIFF_COST,
        "no driver tariff: CostUpdated is never sent and TransactionEventResponse carries no "
        "totalCost (the site energy tariff prices grid energy, not sessions)",
    )

for case_id, title in [
    ("TC_O_01_CSMS", "Set Display Message - Success"),
    ("TC_O_02_CSMS", "Get all Display Messages - Success"),
    ("TC_O_03_CSMS", "Get all Display Messages - No DisplayMessages configured"),
    ("TC_O_04_CSMS", "Clear Display Message - Success"),
    ("TC_O_05_CSMS", "Clear Display Message - Unknown Key"),
    ("TC_O_06_CSMS", "Set Display Message - Specific transaction - Success"),
    ("TC_O_07_CSMS", "Get a Specific Display Message - Id"),
    ("TC_O_08_CSMS", "Get a Specific Display Message - Priority"),
    ("TC_O_09_CSMS", "Get a Specific Display Message - State"),
    ("TC_O_10_CSMS", "Set Display Message - Specific transaction - UnknownTransaction"),
    ("TC_O_11_CSMS", "Get a Specific Display Message - Unknown parameters"),
    ("TC_O_12_CSMS", "Set Display Message - Replace DisplayMessage"),
    ("TC_O_13_CSMS", "Set Display Message - Display message at StartTime"),
    ("TC_O_14_CSMS", "Set Display Message - Remove message after EndTime"),
    ("TC_O_17_CSMS", "Set Display Message - NotSupportedPriority"),
    ("TC_O_18_CSMS", "Set Display Message - NotSupportedState"),
    ("TC_O_19_CSMS", "Set Display Message - NotSupportedMessageFormat"),
]:
    SUITE.not_supported(
        case_id,
        title,
        DISPLAY,
        "SetDisplayMessage, GetDisplayMessages and ClearDisplayMessage are not among the "
        "CSMS's commands (NotifyDisplayMessages from a station is answered and recorded)",
    )
