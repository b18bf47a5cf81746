"""OCPP 1.6 security whitepaper (Improved security for OCPP 1.6-J), CSMS side."""

from __future__ import annotations

from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from ev_charging_system.application import Application
from tests.conformance.ocpp16 import SECURITY, SUITE
from tests.conformance.ocpp16.support import ACCEPTED
from tests.conformance.station import OCPP16, Operator, raw_station
from tests.conftest import ocpp_url
from tests.station_certificates import common_name, new_csr, trusting, with_client_certificate

PASSWORD = "0123456789abcdef-station"


@SUITE.case("TC_085_CSMS", "Basic Authentication - Valid username/password combination", SECURITY)
async def test_basic_authentication(csms: Application, operator: Operator) -> None:
    created = await operator.post("/api/charge-points", {"id": "TC_085", "password": PASSWORD})
    assert created.status_code == 201
    async with raw_station(csms, "TC_085", OCPP16, password=PASSWORD) as station:
        assert (await station.call("Heartbeat"))["currentTime"]
    for password in (None, "wrong-password-1234"):
        with pytest.raises(InvalidStatus) as refused:
            async with raw_station(csms, "TC_085", OCPP16, password=password):
                pass
        assert refused.value.response.status_code == 401


@SUITE.case("TC_077_CSMS", "Invalid ChargePointCertificate Security Event", SECURITY)
@SUITE.case("TC_078_CSMS", "Invalid CentralSystemCertificate Security Event", SECURITY)
async def test_security_events(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_077", OCPP16) as station:
        for kind in ("InvalidChargePointCertificate", "InvalidCentralSystemCertificate"):
            answer = await station.call(
                "SecurityEventNotification",
                {"type": kind, "timestamp": "2026-05-01T08:00:00Z", "techInfo": "expired"},
            )
            assert answer == {}
    events = await operator.get("/api/charge-points/TC_077/events")
    kinds = [e["detail"]["type"] for e in events if e["kind"] == "security_event"]
    assert sorted(kinds) == ["InvalidCentralSystemCertificate", "InvalidChargePointCertificate"]


@SUITE.case("TC_088_CSMS", "WebSocket Subprotocol Negotiation", SECURITY)
async def test_subprotocol_negotiation(csms: Application) -> None:
    for offered in (["ocpp1.6"], ["ocpp1.5", "ocpp1.6"]):
        async with connect(
            f"{ocpp_url(csms)}/TC_088", subprotocols=[Subprotocol(p) for p in offered]
        ) as websocket:
            assert websocket.subprotocol == "ocpp1.6"
    async with connect(f"{ocpp_url(csms)}/TC_088", subprotocols=[Subprotocol("ocpp1.2")]) as ws:
        assert ws.subprotocol is None  # handshake completed without the header...
        with pytest.raises(ConnectionClosed):
            await ws.recv()  # ...then closed at once
    assert ws.close_code == 1002


SUITE.not_supported(
    "TC_073_CSMS",
    "Update Charge Point Password for HTTP Basic Authentication",
    SECURITY,
    "no operation changes the station's AuthorizationKey and the password the CSMS checks "
    "together; an operator can send ChangeConfiguration(AuthorizationKey) and then set the "
    "stored password, but a failure between the two steps locks the station out",
)
SUITE.not_supported(
    "TC_079_CSMS",
    "Get Security Log",
    SECURITY,
    "GetLog (logType SecurityLog) is not among the CSMS's 1.6 commands; diagnostics use "
    "GetDiagnostics",
)
SUITE.not_supported(
    "TC_080_CSMS",
    "Secure Firmware Update",
    SECURITY,
    "SignedUpdateFirmware is not among the CSMS's commands (no firmware signing certificate "
    "is managed); SignedFirmwareStatusNotification from a station is answered and recorded",
)
SUITE.not_supported(
    "TC_081_CSMS",
    "Secure Firmware Update - Invalid Signature",
    SECURITY,
    "SignedUpdateFirmware is not among the CSMS's commands",
)


@SUITE.case("TC_074_CSMS", "Update Charge Point Certificate by request of Central System", SECURITY)
async def test_certificate_update_requested_by_the_csms(
    csms: Application, operator: Operator
) -> None:
    async with raw_station(csms, "TC_074", OCPP16) as station:
        trigger, answer = await operator.command(
            station,
            "trigger-message",
            {"message": "SignCertificate"},
            "ExtendedTriggerMessage",
            ACCEPTED,
        )
        assert trigger.payload == {"requestedMessage": "SignChargePointCertificate"}
        assert answer.json()["status"] == "Accepted"
        csr, _ = new_csr("TC_074")
        assert await station.call("SignCertificate", {"csr": csr}) == ACCEPTED
        signed = await station.expect_call("CertificateSigned")
        chain = signed.payload["certificateChain"]
        assert common_name(chain) == "TC_074"
        assert (await operator.csms_root()).strip() in chain  # the chain ends with the CA
        await station.reply(signed, ACCEPTED)
        # A CSR for another identity is refused, and nothing is sent for it.
        foreign, _ = new_csr("SOMEBODY-ELSE")
        assert await station.call("SignCertificate", {"csr": foreign}) == {"status": "Rejected"}
        assert station.pending_calls() == 0


@SUITE.case(
    "TC_075_1_CSMS",
    "Install a certificate on the Charge Point - ManufacturerRootCertificate",
    SECURITY,
)
@SUITE.case(
    "TC_075_2_CSMS",
    "Install a certificate on the Charge Point - CentralSystemRootCertificate",
    SECURITY,
)
async def test_install_certificate(csms: Application, operator: Operator) -> None:
    certificate = (await operator.csms_root()).strip()
    async with raw_station(csms, "TC_075", OCPP16) as station:
        for use, certificate_type in [
            ("manufacturer_root", "ManufacturerRootCertificate"),
            ("csms_root", "CentralSystemRootCertificate"),
        ]:
            request, answer = await operator.command(
                station,
                "install-certificate",
                {"use": use, "certificate": certificate},
                "InstallCertificate",
                ACCEPTED,
            )
            assert request.payload == {
                "certificateType": certificate_type,
                "certificate": certificate,
            }
            assert answer.json()["status"] == "Accepted"


@SUITE.case("TC_076_CSMS", "Delete a specific certificate from the Charge Point", SECURITY)
async def test_delete_certificate(csms: Application, operator: Operator) -> None:
    hash_data = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "1a2b3c",
        "issuerKeyHash": "4d5e6f",
        "serialNumber": "01f2",
    }
    async with raw_station(csms, "TC_076", OCPP16) as station:
        request, answer = await operator.command(
            station,
            "get-installed-certificate-ids",
            {"uses": ["manufacturer_root"]},
            "GetInstalledCertificateIds",
            {"status": "Accepted", "certificateHashData": [hash_data]},
        )
        assert request.payload == {"certificateType": "ManufacturerRootCertificate"}
        [listed] = answer.json()["data"]["certificates"]
        request, answer = await operator.command(
            station,
            "delete-certificate",
            {key: value for key, value in listed.items() if key != "use"},
            "DeleteCertificate",
            ACCEPTED,
        )
        assert request.payload == {"certificateHashData": hash_data}
        assert answer.json()["status"] == "Accepted"


@SUITE.case("TC_083_CSMS", "Upgrade Charge Point Security Profile - Accepted", SECURITY)
@SUITE.case("TC_086_CSMS", "TLS - server-side certificate - Valid certificate", SECURITY)
async def test_upgrade_to_profile_2(csms: Application, operator: Operator) -> None:
    created = await operator.post("/api/charge-points", {"id": "TC_083", "password": PASSWORD})
    assert created.status_code == 201
    root = await operator.csms_root()
    async with raw_station(csms, "TC_083", OCPP16, password=PASSWORD) as station:
        await operator.command(
            station,
            "install-certificate",
            {"use": "csms_root", "certificate": root},
            "InstallCertificate",
            ACCEPTED,
        )
        request, _ = await operator.command(
            station,
            "set-configuration",
            {"key": "SecurityProfile", "value": "2"},
            "ChangeConfiguration",
            ACCEPTED,
        )
        assert request.payload == {"key": "SecurityProfile", "value": "2"}
    await operator.security_profile("TC_083", 2)
    # The station reconnects over TLS, checking the server against the installed root.
    async with raw_station(csms, "TC_083", OCPP16, password=PASSWORD, tls=trusting(root)) as cp:
        assert (await cp.call("Heartbeat"))["currentTime"]
    with pytest.raises(InvalidStatus) as refused:  # and plain ws:// is closed to it now
        async with raw_station(csms, "TC_083", OCPP16, password=PASSWORD):
            pass
    assert refused.value.response.status_code == 403


@SUITE.case("TC_087_CSMS", "TLS - Client-side certificate - valid certificate", SECURITY)
async def test_client_side_certificate(
    csms: Application, operator: Operator, tmp_path: Path
) -> None:
    root = await operator.csms_root()
    csr, key = new_csr("TC_087")
    async with raw_station(csms, "TC_087", OCPP16) as station:
        assert await station.call("SignCertificate", {"csr": csr}) == ACCEPTED
        signed = await station.expect_call("CertificateSigned")
        await station.reply(signed, ACCEPTED)
    await operator.security_profile("TC_087", 3)
    tls = with_client_certificate(root, signed.payload["certificateChain"], key, tmp_path)
    async with raw_station(csms, "TC_087", OCPP16, tls=tls) as station:
        assert (await station.call("Heartbeat"))["currentTime"]
    with pytest.raises(InvalidStatus) as refused:  # without its certificate: refused
        async with raw_station(csms, "TC_087", OCPP16, tls=trusting(root)):
            pass
    assert refused.value.response.status_code == 403
