"""OCPP 2.0.1 functional blocks A (Security) and B (Provisioning), CSMS side."""

from __future__ import annotations

import ssl
import warnings
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from ev_charging_system.application import Application
from ev_charging_system.data.certificate_authority import LocalCertificateAuthority
from tests.conformance.ocpp201 import PROVISIONING, SECURITY, SUITE
from tests.conformance.ocpp201.support import ACCEPTED, EVSE_1, Transaction, status
from tests.conformance.station import OCPP201, Operator, boot_payload, raw_station
from tests.conftest import expecting, ocpp_url
from tests.station_certificates import common_name, new_csr, trusting, with_client_certificate

PASSWORD = "0123456789abcdef-station"
NO_PASSWORD_ROTATION = (
    "no operation sets the station's BasicAuthPassword and the password the CSMS checks "
    "together; doing it as two operator steps locks the station out if the second fails"
)


@SUITE.case("TC_A_01_CSMS", "Basic Authentication - Valid username/password combination", SECURITY)
@SUITE.case(
    "TC_A_02_CSMS", "Basic Authentication - Username does not equal ChargingStationId", SECURITY
)
@SUITE.case("TC_A_03_CSMS", "Basic Authentication - Invalid password", SECURITY)
async def test_basic_authentication(csms: Application, operator: Operator) -> None:
    created = await operator.post("/api/charge-points", {"id": "TC_A_01", "password": PASSWORD})
    assert created.status_code == 201
    async with raw_station(csms, "TC_A_01", OCPP201, password=PASSWORD) as station:
        assert set(await station.call("Heartbeat")) == {"currentTime"}
    for username, password in [("SOMEONE_ELSE", PASSWORD), (None, "wrong-password-12345")]:
        with pytest.raises(InvalidStatus) as refused:
            async with raw_station(csms, "TC_A_01", OCPP201, password=password, username=username):
                pass
        assert refused.value.response.status_code == 401
        assert refused.value.response.headers["WWW-Authenticate"].startswith("Basic")


@SUITE.case("TC_B_01_CSMS", "Cold Boot Charging Station - Accepted", PROVISIONING)
async def test_cold_boot_accepted(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_B_01", OCPP201, boot=False) as station:
        boot = await station.call("BootNotification", boot_payload(OCPP201))
        assert set(boot) == {"currentTime", "interval", "status"}
        assert boot["status"] == "Accepted"
        assert boot["interval"] == csms.settings.heartbeat_interval_seconds
        await status(station, 1, 1, "Available")
        await status(station, 2, 1, "Available")
        assert set(await station.call("Heartbeat")) == {"currentTime"}
    connectors = (await operator.station("TC_B_01"))["connectors"]
    assert [(c["connector_id"], c["status"]) for c in connectors] == [
        (1, "Available"),
        (2, "Available"),
    ]


@SUITE.case("TC_B_02_CSMS", "Cold Boot Charging Station - Pending", PROVISIONING)
@SUITE.case(
    "TC_B_30_CSMS", "Cold Boot Charging Station - Pending/Rejected - SecurityError", PROVISIONING
)
@SUITE.case(
    "TC_B_31_CSMS", "Cold Boot Charging Station - Pending/Rejected - TriggerMessage", PROVISIONING
)
async def test_cold_boot_pending(csms: Application, operator: Operator) -> None:
    created = await operator.post(
        "/api/charge-points", {"id": "TC_B_02", "registration_status": "Pending"}
    )
    assert created.status_code == 201
    async with raw_station(csms, "TC_B_02", OCPP201, boot=False) as station:
        boot = await station.call("BootNotification", boot_payload(OCPP201))
        assert boot["status"] == "Pending"
        assert boot["interval"] == csms.settings.boot_retry_interval_seconds
        # B_30: nothing but BootNotification is accepted while Pending.
        code, _ = await station.call_error("Heartbeat", {})
        assert code == "SecurityError"
        # B_02/B_31: the operator accepts it and asks for a new BootNotification.
        assert (await operator.post("/api/charge-points/TC_B_02/accept")).status_code == 200
        request, response = await operator.command(
            station,
            "trigger-message",
            {"message": "BootNotification"},
            "TriggerMessage",
            ACCEPTED,
        )
        assert request.payload == {"requestedMessage": "BootNotification"}
        assert response.json()["status"] == "Accepted"
        boot = await station.call(
            "BootNotification", {**boot_payload(OCPP201), "reason": "Triggered"}
        )
        assert boot["status"] == "Accepted"
        assert set(await station.call("Heartbeat")) == {"currentTime"}


def variable_result(component: str, variable: str, value: str) -> dict[str, Any]:
    return {
        "attributeStatus": "Accepted",
        "attributeValue": value,
        "component": {"name": component},
        "variable": {"name": variable},
    }


@SUITE.case("TC_B_06_CSMS", "Get Variables - single value", PROVISIONING)
@SUITE.case("TC_B_07_CSMS", "Get Variables - multiple values", PROVISIONING)
async def test_get_variables(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_B_06", OCPP201) as station:
        request, response = await operator.command(
            station,
            "get-configuration",
            {"keys": ["HeartbeatInterval"]},
            "GetVariables",
            {"getVariableResult": [variable_result("OCPPCommCtrlr", "HeartbeatInterval", "300")]},
        )
        assert request.payload == {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
            ]
        }
        assert response.json()["data"]["configuration"] == [
            {"key": "HeartbeatInterval", "value": "300", "readonly": None}
        ]
        request, response = await operator.command(
            station,
            "get-configuration",
            {"keys": ["HeartbeatInterval", "AuthCtrlr.Enabled"]},
            "GetVariables",
            {
                "getVariableResult": [
                    variable_result("OCPPCommCtrlr", "HeartbeatInterval", "300"),
                    {
                        "attributeStatus": "UnknownVariable",
                        "component": {"name": "AuthCtrlr"},
                        "variable": {"name": "Enabled"},
                    },
                ]
            },
        )
        assert [v["variable"]["name"] for v in request.payload["getVariableData"]] == [
            "HeartbeatInterval",
            "Enabled",
        ]
        assert response.json()["data"]["unknown_keys"] == ["AuthCtrlr.Enabled"]


@SUITE.case("TC_B_09_CSMS", "Set Variables - single value", PROVISIONING)
async def test_set_variable(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_B_09", OCPP201) as station:
        variable = {
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "HeartbeatInterval"},
        }
        request, response = await operator.command(
            station,
            "set-configuration",
            {"key": "HeartbeatInterval", "value": "120"},
            "SetVariables",
            {"setVariableResult": [{"attributeStatus": "Accepted", **variable}]},
        )
        assert request.payload == {"setVariableData": [{"attributeValue": "120", **variable}]}
        assert response.json()["status"] == "Accepted"


@SUITE.case("TC_B_12_CSMS", "Get Base Report - ConfigurationInventory", PROVISIONING)
@SUITE.case("TC_B_13_CSMS", "Get Base Report - FullInventory", PROVISIONING)
@SUITE.case("TC_B_14_CSMS", "Get Base Report - SummaryInventory", PROVISIONING)
async def test_get_base_report(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_B_12", OCPP201) as station:
        for base in ("ConfigurationInventory", "FullInventory", "SummaryInventory"):
            request, response = await operator.command(
                station, "get-base-report", {"report_base": base}, "GetBaseReport", ACCEPTED
            )
            assert request.payload["reportBase"] == base
            request_id = request.payload["requestId"]
            assert response.json()["data"] == {"request_id": request_id}
            for seq_no, tbc in ((0, True), (1, False)):
                answer = await station.call(
                    "NotifyReport",
                    {
                        "requestId": request_id,
                        "generatedAt": "2026-05-01T08:00:00Z",
                        "seqNo": seq_no,
                        "tbc": tbc,
                        "reportData": [
                            {
                                "component": {"name": "OCPPCommCtrlr"},
                                "variable": {"name": f"Var{seq_no}"},
                                "variableAttribute": [{"value": base, "mutability": "ReadWrite"}],
                            }
                        ],
                    },
                )
                assert answer == {}
    model = await operator.get("/api/charge-points/TC_B_12/device-model")
    assert {(e["variable"], e["value"]) for e in model} == {
        ("Var0", "SummaryInventory"),
        ("Var1", "SummaryInventory"),
    }


async def reboot(csms: Application, station_id: str) -> None:
    async with raw_station(csms, station_id, OCPP201, boot=False) as rebooted:
        boot = await rebooted.call(
            "BootNotification", {**boot_payload(OCPP201), "reason": "RemoteReset"}
        )
        assert boot["status"] == "Accepted"


@SUITE.case(
    "TC_B_20_CSMS", "Reset Charging Station - Without ongoing transaction - OnIdle", PROVISIONING
)
async def test_reset_on_idle_without_transaction(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_B_20", OCPP201) as station:
        request, response = await operator.command(
            station, "reset", {"type": "Soft", "when": "OnIdle"}, "Reset", ACCEPTED
        )
        assert request.payload == {"type": "OnIdle"}
        assert response.json()["status"] == "Accepted"
    await reboot(csms, "TC_B_20")


@SUITE.case(
    "TC_B_21_CSMS", "Reset Charging Station - With Ongoing Transaction - OnIdle", PROVISIONING
)
@SUITE.case(
    "TC_B_22_CSMS", "Reset Charging Station - With Ongoing Transaction - Immediate", PROVISIONING
)
async def test_reset_with_transaction(csms: Application, operator: Operator) -> None:
    for station_id, when, answer, stop_trigger in [
        ("TC_B_21", "OnIdle", "Scheduled", "StopAuthorized"),
        ("TC_B_22", "Immediate", "Accepted", "ResetCommand"),
    ]:
        async with raw_station(csms, station_id, OCPP201) as station:
            transaction = Transaction(station, f"TX-{station_id}")
            assert await transaction.event("Started", "CablePluggedIn", evse=EVSE_1) == {}
            kind = "Hard" if when == "Immediate" else "Soft"
            request, response = await operator.command(
                station, "reset", {"type": kind, "when": when}, "Reset", {"status": answer}
            )
            assert request.payload == {"type": when}
            assert response.json()["status"] == answer
            ended = await transaction.event(
                "Ended",
                stop_trigger,
                10,
                info={"stoppedReason": "ImmediateReset" if when == "Immediate" else "Local"},
            )
            assert ended == {}
        await reboot(csms, station_id)
        [stored] = await operator.transactions(station_id)
        assert stored["active"] is False


@SUITE.case("TC_B_58_CSMS", "WebSocket Subprotocol validation", PROVISIONING)
async def test_subprotocol_validation(csms: Application) -> None:
    for offered in (["ocpp2.0.1"], ["ocpp1.6", "ocpp2.0.1"], ["ocpp2.0.1", "ocpp1.6"]):
        async with connect(
            f"{ocpp_url(csms)}/TC_B_58", subprotocols=[Subprotocol(p) for p in offered]
        ) as websocket:
            assert websocket.subprotocol == "ocpp2.0.1"
    async with connect(f"{ocpp_url(csms)}/TC_B_58", subprotocols=[Subprotocol("ocpp2.0")]) as ws:
        assert ws.subprotocol is None
        with pytest.raises(ConnectionClosed):
            await ws.recv()
    assert ws.close_code == 1002


SUITE.not_supported(
    "TC_A_19_CSMS",
    "Upgrade Charging Station Security Profile - Accepted",
    SECURITY,
    "2.0.1 moves a station to another profile with SetNetworkProfile, which is not among the "
    "CSMS's commands (the CSMS side of profiles 2 and 3 is: TC_A_04, TC_A_07, TC_A_08)",
)
for case_id, title in [
    ("TC_A_09_CSMS", "Update Charging Station Password for HTTP Basic Authentication - Accepted"),
    ("TC_A_10_CSMS", "Update Charging Station Password for HTTP Basic Authentication - Rejected"),
]:
    SUITE.not_supported(case_id, title, SECURITY, NO_PASSWORD_ROTATION)
SUITE.not_supported(
    "TC_A_12_CSMS",
    "Update Charging Station Certificate by request of CSMS - Success - V2G Certificate",
    SECURITY,
    "V2G certificates come from an ISO 15118 PKI, not the CSMS's CA: a SignCertificate for a "
    "V2GCertificate is answered Rejected",
)

SUITE.not_supported(
    "TC_B_08_CSMS",
    "Get Variables - limit to maximum number of values",
    PROVISIONING,
    "the CSMS sends all requested variables in one GetVariablesRequest; it does not split "
    "them by the station's ItemsPerMessageGetVariables",
)
SUITE.not_supported(
    "TC_B_10_CSMS",
    "Set Variables - multiple values",
    PROVISIONING,
    "an operator sets one variable per SetVariablesRequest",
)
SUITE.not_supported(
    "TC_B_18_CSMS",
    "Get Custom Report - with componentCriteria and component/variables",
    PROVISIONING,
    "GetReport is not among the CSMS's commands (GetBaseReport is)",
)
for case_id, title in [
    ("TC_B_25_CSMS", "Reset EVSE - Without ongoing transaction"),
    ("TC_B_26_CSMS", "Reset EVSE - With Ongoing Transaction - OnIdle"),
    ("TC_B_27_CSMS", "Reset EVSE - With Ongoing Transaction - Immediate"),
]:
    SUITE.not_supported(
        case_id, title, PROVISIONING, "the CSMS resets whole stations only (no evseId in Reset)"
    )
for case_id, title in [
    ("TC_B_42_CSMS", "Set new NetworkConnectionProfile - Accepted"),
    ("TC_B_44_CSMS", "Set new NetworkConnectionProfile - Failed"),
]:
    SUITE.not_supported(
        case_id,
        title,
        PROVISIONING,
        "SetNetworkProfile is not among the CSMS's commands",
    )


@SUITE.case("TC_A_04_CSMS", "TLS - server-side certificate - Valid certificate", SECURITY)
@SUITE.case("TC_A_06_CSMS", "TLS - server-side certificate - TLS version too low", SECURITY)
async def test_tls_server_certificate(csms: Application, operator: Operator) -> None:
    created = await operator.post("/api/charge-points", {"id": "TC_A_04", "password": PASSWORD})
    assert created.status_code == 201
    await operator.security_profile("TC_A_04", 2)
    root = await operator.csms_root()
    async with raw_station(csms, "TC_A_04", OCPP201, password=PASSWORD, tls=trusting(root)) as cp:
        ssl_object = cp.websocket.transport.get_extra_info("ssl_object")
        assert ssl_object.version() in {"TLSv1.2", "TLSv1.3"}
        assert (await cp.call("Heartbeat"))["currentTime"]
    too_old = trusting(root)
    too_old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    with warnings.catch_warnings():  # an outdated version is the point here
        warnings.simplefilter("ignore", DeprecationWarning)
        too_old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((InvalidHandshake, OSError)):
        async with raw_station(csms, "TC_A_04", OCPP201, password=PASSWORD, tls=too_old):
            pass


@SUITE.case("TC_A_07_CSMS", "TLS - Client-side certificate - valid certificate", SECURITY)
@SUITE.case("TC_A_08_CSMS", "TLS - Client-side certificate - Invalid certificate", SECURITY)
@SUITE.case(
    "TC_A_11_CSMS",
    "Update Charging Station Certificate by request of CSMS - Success - "
    "Charging Station Certificate",
    SECURITY,
)
@SUITE.case(
    "TC_A_14_CSMS",
    "Update Charging Station Certificate by request of CSMS - Invalid certificate",
    SECURITY,
)
async def test_client_certificate(csms: Application, operator: Operator, tmp_path: Path) -> None:
    root = await operator.csms_root()
    csr, key = new_csr("TC_A_07")
    async with raw_station(csms, "TC_A_07", OCPP201) as station:
        trigger, answer = await operator.command(
            station,
            "trigger-message",
            {"message": "SignCertificate"},
            "TriggerMessage",
            ACCEPTED,
        )
        assert trigger.payload == {"requestedMessage": "SignChargingStationCertificate"}
        assert answer.json()["status"] == "Accepted"
        request = {"csr": csr, "certificateType": "ChargingStationCertificate"}
        assert await station.call("SignCertificate", request) == ACCEPTED
        signed = await station.expect_call("CertificateSigned")
        assert signed.payload["certificateType"] == "ChargingStationCertificate"
        chain = signed.payload["certificateChain"]
        assert common_name(chain) == "TC_A_07"
        # TC_A_14: the station finds a certificate invalid; the CSMS records its answer.
        async with expecting(csms, "command.completed", "TC_A_07") as recorded:
            await station.reply(signed, {"status": "Rejected"})
            await recorded()
    commands = (await operator.get("/api/charge-points/TC_A_07/commands"))["items"]
    assert [c["status"] for c in commands if c["action"] == "CertificateSigned"] == ["Rejected"]

    await operator.security_profile("TC_A_07", 3)
    tls = with_client_certificate(root, chain, key, tmp_path / "own")
    async with raw_station(csms, "TC_A_07", OCPP201, tls=tls) as station:
        assert (await station.call("Heartbeat"))["currentTime"]
    # TC_A_08: a certificate the CSMS's CA did not issue ends the TLS handshake.
    stranger = LocalCertificateAuthority.load_or_create(tmp_path / "stranger")
    forged_csr, forged_key = new_csr("TC_A_07")
    forged = with_client_certificate(
        root, stranger.sign_station_csr(forged_csr, "TC_A_07").chain_pem, forged_key, tmp_path / "f"
    )
    with pytest.raises((InvalidHandshake, OSError)):
        async with raw_station(csms, "TC_A_07", OCPP201, tls=forged):
            pass
