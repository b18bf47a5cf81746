"""OCPP 2.0.1 functional blocks E (Transactions) and J (Meter Values), CSMS side.

The E cases are the station's many ways of starting and stopping a transaction
(TxStartPoint / TxStopPoint); for the CSMS each is a sequence of TransactionEvents to
answer correctly and record as one transaction. They are written as small scenarios
played by one test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ev_charging_system.application import Application
from tests.conformance.ocpp201 import METER_VALUES, SUITE, TRANSACTIONS
from tests.conformance.ocpp201.support import (
    ACCEPTED,
    EVSE_1,
    Transaction,
    authorize,
    energy,
    status,
    token,
)
from tests.conformance.station import OCPP201, Operator, RawStation, raw_station

TAG = "E-DRIVER"
SIGNED = {
    "signedMeterData": "T0NNRnx7IlJEIjpbeyJSViI6MTJ9XX0=",
    "signingMethod": "ECDSA-secp256r1-SHA256",
    "encodingMethod": "OCMF",
    "publicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
}

Play = Callable[[RawStation, Operator], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Scenario:
    case_id: str
    title: str
    play: Play  # returns what the stored transaction must look like (REST fields)


SCENARIOS: list[Scenario] = []


def scenario(case_id: str, title: str) -> Callable[[Play], Play]:
    def add(play: Play) -> Play:
        SCENARIOS.append(Scenario(case_id, title, play))
        return play

    return add


async def charging(tx: Transaction, station: RawStation) -> None:
    """Reusable state EnergyTransferStarted, authorization first."""
    assert await authorize(station, TAG) == ACCEPTED
    started = await tx.event(
        "Started",
        "Authorized",
        idToken=token(TAG),
        evse=EVSE_1,
        meterValue=energy(10_000, "Transaction.Begin"),
    )
    assert started == {"idTokenInfo": ACCEPTED}
    charging_now = await tx.event(
        "Updated", "ChargingStateChanged", 1, info={"chargingState": "Charging"}
    )
    assert charging_now == {}


@scenario("TC_E_01_CSMS", "Start transaction options - PowerPathClosed")
async def e01(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E01")
    await status(station, 1, 1, "Occupied")
    assert await authorize(station, TAG) == ACCEPTED
    started = await tx.event(
        "Started",
        "ChargingStateChanged",
        info={"chargingState": "Charging"},
        idToken=token(TAG),
        evse=EVSE_1,
    )
    assert started == {"idTokenInfo": ACCEPTED}
    return {"active": True, "id_tag": TAG}


@scenario("TC_E_02_CSMS", "Start transaction options - EnergyTransfer")
async def e02(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E02")
    assert await authorize(station, TAG) == ACCEPTED
    await status(station, 1, 1, "Occupied")
    started = await tx.event(
        "Started",
        "ChargingStateChanged",
        info={"chargingState": "Charging"},
        idToken=token(TAG),
        evse=EVSE_1,
        meterValue=energy(5_000, "Transaction.Begin"),
    )
    assert started == {"idTokenInfo": ACCEPTED}
    return {"active": True, "meter_start_wh": 5_000}


@scenario("TC_E_03_CSMS", "Local start transaction - Cable plugin first - Success")
async def e03(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E03")
    await status(station, 1, 1, "Occupied")
    plugged = await tx.event(
        "Started", "CablePluggedIn", info={"chargingState": "EVConnected"}, evse=EVSE_1
    )
    assert plugged == {}  # no idToken in the request: no idTokenInfo in the answer
    assert await authorize(station, TAG) == ACCEPTED
    assert await tx.event("Updated", "Authorized", 1, idToken=token(TAG)) == {
        "idTokenInfo": ACCEPTED
    }
    assert (
        await tx.event("Updated", "ChargingStateChanged", 2, info={"chargingState": "Charging"})
        == {}
    )
    return {"active": True, "id_tag": TAG, "authorization_status": "Accepted"}


@scenario("TC_E_04_CSMS", "Local start transaction - Authorization first - Success")
async def e04(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E04")
    assert await authorize(station, TAG) == ACCEPTED
    started = await tx.event("Started", "Authorized", idToken=token(TAG), evse=EVSE_1)
    assert started == {"idTokenInfo": ACCEPTED}
    await status(station, 1, 1, "Occupied")
    assert (
        await tx.event("Updated", "CablePluggedIn", 1, info={"chargingState": "EVConnected"}) == {}
    )
    assert (
        await tx.event("Updated", "ChargingStateChanged", 2, info={"chargingState": "Charging"})
        == {}
    )
    return {"active": True, "id_tag": TAG}


@scenario("TC_E_07_CSMS", "Stop transaction options - PowerPathClosed - Local stop")
async def e07(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E07")
    await charging(tx, station)
    assert await authorize(station, TAG) == ACCEPTED
    ended = await tx.event(
        "Ended",
        "StopAuthorized",
        30,
        info={"stoppedReason": "Local", "chargingState": "EVConnected"},
        idToken=token(TAG),
        meterValue=energy(12_000, "Transaction.End", 30),
    )
    assert ended == {"idTokenInfo": ACCEPTED}
    return {"active": False, "stop_reason": "Local", "energy_wh": 2_000}


@scenario("TC_E_08_CSMS", "Stop transaction options - EnergyTransfer stopped - StopAuthorized")
async def e08(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E08")
    await charging(tx, station)
    assert await authorize(station, TAG) == ACCEPTED
    stopped_charging = await tx.event(
        "Updated",
        "StopAuthorized",
        20,
        info={"chargingState": "EVConnected"},
        idToken=token(TAG),
    )
    assert stopped_charging == {"idTokenInfo": ACCEPTED}
    await status(station, 1, 1, "Available", 25)
    ended = await tx.event(
        "Ended", "EVCommunicationLost", 25, info={"stoppedReason": "EVDisconnected"}
    )
    assert ended == {}
    return {"active": False, "stop_reason": "EVDisconnected"}


@scenario("TC_E_09_CSMS", "Start transaction options - EVConnected")
async def e09(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E09")
    await status(station, 1, 1, "Occupied")
    started = await tx.event(
        "Started", "CablePluggedIn", info={"chargingState": "EVConnected"}, evse=EVSE_1
    )
    assert started == {}
    return {"active": True, "connector_id": 1}


@scenario("TC_E_10_CSMS", "Start transaction options - Authorized - Local")
async def e10(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E10")
    assert await authorize(station, TAG) == ACCEPTED
    started = await tx.event("Started", "Authorized", idToken=token(TAG), evse=EVSE_1)
    assert started == {"idTokenInfo": ACCEPTED}
    return {"active": True, "id_tag": TAG}


@scenario("TC_E_11_CSMS", "Start transaction options - DataSigned")
async def e11(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E11")
    started = await tx.event(
        "Started",
        "SignedDataReceived",
        evse=EVSE_1,
        meterValue=energy(7_000, "Transaction.Begin", signedMeterValue=SIGNED),
    )
    assert started == {}
    return {"active": True, "meter_start_wh": 7_000}


@scenario("TC_E_12_CSMS", "Start transaction options - ParkingBayOccupied")
async def e12(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E12")
    assert (
        await tx.event("Started", "EVDetected", info={"chargingState": "Idle"}, evse=EVSE_1) == {}
    )
    return {"active": True}


async def stopped_by_station(
    station: RawStation, tx_id: str, trigger: str, reason: str, with_token: bool = False
) -> dict[str, Any]:
    tx = Transaction(station, tx_id)
    await charging(tx, station)
    extra: dict[str, Any] = {"idToken": token(TAG)} if with_token else {}
    ended = await tx.event(
        "Ended",
        trigger,
        40,
        info={"stoppedReason": reason, "chargingState": "Idle"},
        meterValue=energy(13_500, "Transaction.End", 40),
        **extra,
    )
    assert ended == ({"idTokenInfo": ACCEPTED} if with_token else {})
    return {"active": False, "stop_reason": reason, "energy_wh": 3_500}


@scenario("TC_E_14_CSMS", "Stop transaction options - EVDisconnected - Charging Station side")
async def e14(station: RawStation, operator: Operator) -> dict[str, Any]:
    return await stopped_by_station(station, "TX-E14", "EVCommunicationLost", "EVDisconnected")


@scenario("TC_E_15_CSMS", "Stop transaction options - StopAuthorized - Local")
async def e15(station: RawStation, operator: Operator) -> dict[str, Any]:
    return await stopped_by_station(station, "TX-E15", "StopAuthorized", "Local", True)


@scenario("TC_E_16_CSMS", "Stop transaction options - Deauthorized - Invalid idToken")
async def e16(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E16")
    started = await tx.event("Started", "Authorized", idToken=token("E16-UNKNOWN"), evse=EVSE_1)
    assert started == {"idTokenInfo": {"status": "Invalid"}}
    ended = await tx.event("Ended", "Deauthorized", 1, info={"stoppedReason": "DeAuthorized"})
    assert ended == {}
    return {"active": False, "stop_reason": "DeAuthorized", "authorization_status": "Invalid"}


@scenario("TC_E_17_CSMS", "Stop transaction options - Deauthorized - EV side disconnect")
async def e17(station: RawStation, operator: Operator) -> dict[str, Any]:
    return await stopped_by_station(station, "TX-E17", "EVCommunicationLost", "EVDisconnected")


@scenario("TC_E_19_CSMS", "Stop transaction options - ParkingBayUnoccupied")
async def e19(station: RawStation, operator: Operator) -> dict[str, Any]:
    return await stopped_by_station(station, "TX-E19", "EVDeparted", "EVDisconnected")


@scenario("TC_E_20_CSMS", "Stop transaction options - EVDisconnected - EV side")
async def e20(station: RawStation, operator: Operator) -> dict[str, Any]:
    return await stopped_by_station(station, "TX-E20", "EVCommunicationLost", "EVDisconnected")


@scenario("TC_E_21_CSMS", "Stop transaction options - StopAuthorized - Remote")
async def e21(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E21")
    await charging(tx, station)
    [stored] = await operator.transactions(station.id)
    request, response = await operator.command(
        station,
        "remote-stop",
        {"transaction_id": stored["id"]},
        "RequestStopTransaction",
        ACCEPTED,
    )
    assert request.payload == {"transactionId": "TX-E21"}
    assert response.json()["status"] == "Accepted"
    ended = await tx.event("Ended", "RemoteStop", 10, info={"stoppedReason": "Remote"})
    assert ended == {}
    return {"active": False, "stop_reason": "Remote"}


@scenario("TC_E_22_CSMS", "Stop transaction options - EnergyTransfer stopped - SuspendedEV")
async def e22(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E22")
    await charging(tx, station)
    suspended = await tx.event(
        "Updated", "ChargingStateChanged", 10, info={"chargingState": "SuspendedEV"}
    )
    assert suspended == {}
    ended = await tx.event(
        "Ended", "EVCommunicationLost", 20, info={"stoppedReason": "EVDisconnected"}
    )
    assert ended == {}
    return {"active": False, "stop_reason": "EVDisconnected"}


@scenario("TC_E_26_CSMS", "Disconnect cable on EV-side - Suspend transaction")
async def e26(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E26")
    await charging(tx, station)
    unplugged = await tx.event("Updated", "EVCommunicationLost", 10, info={"chargingState": "Idle"})
    assert unplugged == {}
    return {"active": True}  # suspended, not ended


@scenario("TC_E_38_CSMS", "Local start transaction - EV not ready")
async def e38(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E38")
    started = await tx.event(
        "Started",
        "Authorized",
        info={"chargingState": "SuspendedEV"},
        idToken=token(TAG),
        evse=EVSE_1,
    )
    assert started == {"idTokenInfo": ACCEPTED}
    ready = await tx.event("Updated", "ChargingStateChanged", 5, info={"chargingState": "Charging"})
    assert ready == {}
    return {"active": True, "id_tag": TAG}


@scenario("TC_E_39_CSMS", "Stop transaction options - Deauthorized - timeout")
async def e39(station: RawStation, operator: Operator) -> dict[str, Any]:
    tx = Transaction(station, "TX-E39")
    started = await tx.event("Started", "Authorized", idToken=token(TAG), evse=EVSE_1)
    assert started == {"idTokenInfo": ACCEPTED}
    # Nobody plugged in within EVConnectionTimeOut.
    ended = await tx.event("Ended", "EVConnectTimeout", 2, info={"stoppedReason": "Timeout"})
    assert ended == {}
    return {"active": False, "stop_reason": "Timeout", "energy_wh": 0}


@scenario(
    "TC_E_53_CSMS", "Reset Sequence Number - CSMS accepting seqNo = 0 at start of transaction"
)
async def e53(station: RawStation, operator: Operator) -> dict[str, Any]:
    first = Transaction(station, "TX-E53-A")
    assert await first.event("Started", "CablePluggedIn", evse=EVSE_1) == {}
    assert (
        await first.event(
            "Ended", "EVCommunicationLost", 5, info={"stoppedReason": "EVDisconnected"}
        )
        == {}
    )
    second = Transaction(station, "TX-E53-B")  # seqNo starts at 0 again
    assert await second.event("Started", "CablePluggedIn", 10, evse=EVSE_1) == {}
    assert (
        await second.event(
            "Updated", "ChargingStateChanged", 11, info={"chargingState": "Charging"}
        )
        == {}
    )
    return {"active": True}  # the newest of the two


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.case_id)
async def test_transaction_scenario(
    csms: Application, operator: Operator, scenario: Scenario
) -> None:
    # One card for every scenario; its sessions run side by side on different stations.
    await operator.ensure_tag(TAG, max_active_transactions=100)
    station_id = scenario.case_id.removesuffix("_CSMS")
    async with raw_station(csms, station_id, OCPP201) as station:
        expected = await scenario.play(station, operator)
    stored = (await operator.transactions(station_id))[-1]
    assert {key: stored[key] for key in expected} == expected


for _scenario in SCENARIOS:
    SUITE.case(_scenario.case_id, _scenario.title, TRANSACTIONS)(test_transaction_scenario)

for case_id, title in [
    (
        "TC_E_29_CSMS",
        "Check Transaction status - Transaction with id ongoing - with message in queue",
    ),
    (
        "TC_E_30_CSMS",
        "Check Transaction status - Transaction with id ongoing - without message in queue",
    ),
    (
        "TC_E_31_CSMS",
        "Check Transaction status - Transaction with id ended - with message in queue",
    ),
    ("TC_E_33_CSMS", "Check Transaction status - Without transactionId - with message in queue"),
    ("TC_E_34_CSMS", "Check Transaction status - Without transactionId - without message in queue"),
]:
    SUITE.not_supported(
        case_id, title, TRANSACTIONS, "GetTransactionStatus is not among the CSMS's commands"
    )


# --- J. Meter Values ----------------------------------------------------------------------


async def stored_samples(operator: Operator, station_id: str) -> list[dict[str, Any]]:
    [transaction] = await operator.transactions(station_id)
    detail = await operator.get(f"/api/transactions/{transaction['id']}")
    samples: list[dict[str, Any]] = detail["meter_values"]
    return samples


@SUITE.case("TC_J_01_CSMS", "Clock-aligned Meter Values - No transaction ongoing", METER_VALUES)
async def test_clock_aligned_without_transaction(csms: Application) -> None:
    async with raw_station(csms, "TC_J_01", OCPP201) as station:
        for evse in (0, 1):  # the main meter and an EVSE's
            answer = await station.call(
                "MeterValues", {"evseId": evse, "meterValue": energy(40_000 + evse, "Sample.Clock")}
            )
            assert answer == {}


@SUITE.case("TC_J_02_CSMS", "Clock-aligned Meter Values - Transaction ongoing", METER_VALUES)
@SUITE.case("TC_J_03_CSMS", "Clock-aligned Meter Values - EventType Ended", METER_VALUES)
async def test_clock_aligned_in_transaction(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_J_02", OCPP201) as station:
        tx = Transaction(station, "TX-J02")
        assert (
            await tx.event(
                "Started",
                "CablePluggedIn",
                evse=EVSE_1,
                meterValue=energy(1_000, "Transaction.Begin"),
            )
            == {}
        )
        clock = await tx.event(
            "Updated", "MeterValueClock", 15, meterValue=energy(1_400, "Sample.Clock", 15)
        )
        assert clock == {}
        ended = await tx.event(
            "Ended",
            "EVCommunicationLost",
            20,
            info={"stoppedReason": "EVDisconnected"},
            meterValue=energy(1_500, "Sample.Clock", 20) + energy(1_500, "Transaction.End", 20),
        )
        assert ended == {}
    samples = await stored_samples(operator, "TC_J_02")
    assert [(s["context"], s["value"]) for s in samples] == [
        ("Transaction.Begin", 1000.0),
        ("Sample.Clock", 1400.0),
        ("Sample.Clock", 1500.0),
        ("Transaction.End", 1500.0),
    ]
    [transaction] = await operator.transactions("TC_J_02")
    assert transaction["energy_wh"] == 500


@SUITE.case("TC_J_04_CSMS", "Clock-aligned Meter Values - Signed", METER_VALUES)
@SUITE.case("TC_J_11_CSMS", "Sampled Meter Values - Signed", METER_VALUES)
async def test_signed_meter_values(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_J_04", OCPP201) as station:
        tx = Transaction(station, "TX-J04")
        started = await tx.event(
            "Started",
            "CablePluggedIn",
            evse=EVSE_1,
            meterValue=energy(2_000, "Transaction.Begin", signedMeterValue=SIGNED),
        )
        assert started == {}
        for minutes, context, trigger in [
            (15, "Sample.Clock", "MeterValueClock"),
            (20, "Sample.Periodic", "MeterValuePeriodic"),
        ]:
            answer = await tx.event(
                "Updated",
                trigger,
                minutes,
                meterValue=energy(2_000 + minutes * 10, context, minutes, signedMeterValue=SIGNED),
            )
            assert answer == {}
    samples = await stored_samples(operator, "TC_J_04")
    assert [s["value"] for s in samples] == [2000.0, 2150.0, 2200.0]  # the readings count
    [transaction] = await operator.transactions("TC_J_04")
    detail = await csms.services.transactions.get_transaction(transaction["id"])
    assert all(
        s.signed is not None and s.signed.signed_meter_data == SIGNED["signedMeterData"]
        for s in detail.meter_samples
    )


@SUITE.case("TC_J_07_CSMS", "Sampled Meter Values - EventType Started - EVSE known", METER_VALUES)
@SUITE.case("TC_J_09_CSMS", "Sampled Meter Values - EventType Updated", METER_VALUES)
@SUITE.case("TC_J_10_CSMS", "Sampled Meter Values - EventType Ended", METER_VALUES)
async def test_sampled_meter_values(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_J_07", OCPP201) as station:
        tx = Transaction(station, "TX-J07")
        assert (
            await tx.event(
                "Started",
                "CablePluggedIn",
                evse=EVSE_1,
                meterValue=energy(3_000, "Transaction.Begin"),
            )
            == {}
        )
        for minutes in (5, 10):
            answer = await tx.event(
                "Updated",
                "MeterValuePeriodic",
                minutes,
                meterValue=energy(3_000 + 100 * minutes, "Sample.Periodic", minutes),
            )
            assert answer == {}
        ended = await tx.event(
            "Ended",
            "EVCommunicationLost",
            12,
            info={"stoppedReason": "EVDisconnected"},
            meterValue=energy(4_300, "Transaction.End", 12),
        )
        assert ended == {}
    [transaction] = await operator.transactions("TC_J_07")
    assert (transaction["meter_start_wh"], transaction["meter_stop_wh"]) == (3_000, 4_300)


@SUITE.case(
    "TC_J_08_CSMS",
    "Sampled Meter Values - Context Transaction.Begin - EVSE not known",
    METER_VALUES,
)
async def test_begin_reading_before_the_evse_is_known(
    csms: Application, operator: Operator
) -> None:
    async with raw_station(csms, "TC_J_08", OCPP201) as station:
        tx = Transaction(station, "TX-J08")
        # Started before a cable tells which EVSE: no evse field yet.
        started = await tx.event(
            "Started", "EVDetected", meterValue=energy(8_000, "Transaction.Begin")
        )
        assert started == {}
        assert await tx.event("Updated", "CablePluggedIn", 1, evse=EVSE_1) == {}
    [transaction] = await operator.transactions("TC_J_08")
    assert (transaction["connector_id"], transaction["meter_start_wh"]) == (1, 8_000)
