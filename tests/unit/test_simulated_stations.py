"""The simulated stations answer CSMS calls like stations do, over real WebSockets.

The CSMS end is a tiny in-test one: the `ocpp` library's own ChargePoint with handlers
for what a station sends, on a websockets server on a free port of 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Generic, TypeVar

import pytest
from ocpp.exceptions import GenericError, NotSupportedError
from ocpp.messages import Call, unpack
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from tools.simulated_charge_point import SimulatedStation, connected_station
from tools.simulated_charge_point_v201 import (
    SimulatedStation201,
    VariableKey,
    connected_station_201,
)
from tools.station_behaviour import Behaviour, now_iso, on
from tools.station_sim import cli
from tools.station_sim.library import LibraryChargePoint, V16ChargePoint, V201ChargePoint

QUICK = 0.3  # seconds a CSMS waits for an answer that is not meant to come


class CsmsEnd(LibraryChargePoint):
    """The CSMS end of one connection: records every call the station sends."""

    def __init__(self, station_id: str, connection: ServerConnection) -> None:
        super().__init__(station_id, connection, response_timeout=2)
        self.connection = connection
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self._arrivals = asyncio.Condition()

    async def route_message(self, raw_msg: str | bytes) -> None:
        message = unpack(raw_msg)
        if isinstance(message, Call):
            self.seen.append((message.action, message.payload))
            async with self._arrivals:
                self._arrivals.notify_all()
        await super().route_message(raw_msg)

    def calls_of(self, action: str) -> list[dict[str, Any]]:
        return [payload for name, payload in self.seen if name == action]

    async def wait_for(self, action: str, count: int = 1) -> list[dict[str, Any]]:
        """The first `count` calls of `action`, once they have arrived."""
        async with asyncio.timeout(2), self._arrivals:
            await self._arrivals.wait_for(lambda: len(self.calls_of(action)) >= count)
        return self.calls_of(action)[:count]

    async def ask(self, payload: Any, within: float = 2) -> Any:
        async with asyncio.timeout(within):
            return await self.call(payload, suppress=False)


class Csms16(CsmsEnd, V16ChargePoint):
    transaction_ids = itertools.count(100)

    @on(Action16.boot_notification)
    def on_boot(self, **_: Any) -> Any:
        return result16.BootNotification(current_time=now_iso(), interval=120, status="Accepted")

    @on(Action16.heartbeat)
    def on_beat(self, **_: Any) -> Any:
        return result16.Heartbeat(current_time=now_iso())

    @on(Action16.status_notification)
    def on_connector_status(self, **_: Any) -> Any:
        return result16.StatusNotification()

    @on(Action16.authorize)
    def on_authorize_tag(self, id_tag: str, **_: Any) -> Any:
        return result16.Authorize(id_tag_info={"status": _tag_status(id_tag)})

    @on(Action16.start_transaction)
    def on_start(self, id_tag: str, **_: Any) -> Any:
        return result16.StartTransaction(
            transaction_id=next(self.transaction_ids), id_tag_info={"status": _tag_status(id_tag)}
        )

    @on(Action16.stop_transaction)
    def on_stop(self, **_: Any) -> Any:
        return result16.StopTransaction()

    @on(Action16.meter_values)
    def on_meter(self, **_: Any) -> Any:
        return result16.MeterValues()

    @on(Action16.firmware_status_notification)
    def on_firmware(self, **_: Any) -> Any:
        return result16.FirmwareStatusNotification()

    @on(Action16.diagnostics_status_notification)
    def on_diagnostics(self, **_: Any) -> Any:
        return result16.DiagnosticsStatusNotification()


class Csms201(CsmsEnd, V201ChargePoint):
    @on(Action201.boot_notification)
    def on_boot(self, **_: Any) -> Any:
        return result201.BootNotification(current_time=now_iso(), interval=120, status="Accepted")

    @on(Action201.heartbeat)
    def on_beat(self, **_: Any) -> Any:
        return result201.Heartbeat(current_time=now_iso())

    @on(Action201.status_notification)
    def on_connector_status(self, **_: Any) -> Any:
        return result201.StatusNotification()

    @on(Action201.authorize)
    def on_authorize_token(self, id_token: dict[str, str], **_: Any) -> Any:
        return result201.Authorize(id_token_info={"status": _tag_status(id_token["id_token"])})

    @on(Action201.transaction_event)
    def on_transaction(self, id_token: dict[str, str] | None = None, **_: Any) -> Any:
        if id_token is None:
            return result201.TransactionEvent()
        return result201.TransactionEvent(
            id_token_info={"status": _tag_status(id_token["id_token"])}
        )

    @on(Action201.meter_values)
    def on_meter(self, **_: Any) -> Any:
        return result201.MeterValues()

    @on(Action201.notify_report)
    def on_report(self, **_: Any) -> Any:
        return result201.NotifyReport()

    @on(Action201.report_charging_profiles)
    def on_profiles(self, **_: Any) -> Any:
        return result201.ReportChargingProfiles()

    @on(Action201.firmware_status_notification)
    def on_firmware(self, **_: Any) -> Any:
        return result201.FirmwareStatusNotification()

    @on(Action201.log_status_notification)
    def on_log(self, **_: Any) -> Any:
        return result201.LogStatusNotification()


def _tag_status(tag: str) -> str:
    return "Blocked" if tag.startswith("BLOCKED") else "Accepted"


CsmsT = TypeVar("CsmsT", bound=CsmsEnd)
StationT = TypeVar("StationT")


@dataclass
class Link(Generic[CsmsT, StationT]):
    csms: CsmsT
    station: StationT


@contextlib.asynccontextmanager
async def csms_server(
    kind: type[CsmsT], subprotocol: str
) -> AsyncIterator[tuple[str, asyncio.Queue[CsmsT]]]:
    """A CSMS on a free port: its URL, and a queue of its ends of the connections."""
    ends: asyncio.Queue[CsmsT] = asyncio.Queue()

    async def handler(connection: ServerConnection) -> None:
        assert connection.request is not None
        end = kind(connection.request.path.strip("/"), connection)
        ends.put_nowait(end)
        with contextlib.suppress(ConnectionClosed):
            await end.start()

    async with serve(handler, "127.0.0.1", 0, subprotocols=[Subprotocol(subprotocol)]) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}", ends


@pytest.fixture
async def link16() -> AsyncIterator[Link[Csms16, SimulatedStation]]:
    async with (
        csms_server(Csms16, "ocpp1.6") as (url, ends),
        connected_station(url, "CP-16", response_timeout=2) as station,
    ):
        yield Link(await asyncio.wait_for(ends.get(), 2), station)


@pytest.fixture
async def link201() -> AsyncIterator[Link[Csms201, SimulatedStation201]]:
    async with (
        csms_server(Csms201, "ocpp2.0.1") as (url, ends),
        connected_station_201(url, "CS-201", response_timeout=2) as station,
    ):
        yield Link(await asyncio.wait_for(ends.get(), 2), station)


Link16 = Link[Csms16, SimulatedStation]
Link201 = Link[Csms201, SimulatedStation201]


# --- OCPP 1.6 ---------------------------------------------------------------------------


async def test_a_remote_start_and_stop_run_a_transaction_16(link16: Link16) -> None:
    csms, station = link16.csms, link16.station
    station.meter_wh[1] = 5_000

    started = await csms.ask(call16.RemoteStartTransaction(id_tag="RFID-1", connector_id=1))
    assert started.status == "Accepted"
    [start] = await csms.wait_for("StartTransaction")
    assert (start["connectorId"], start["idTag"], start["meterStart"]) == (1, "RFID-1", 5_000)
    await station.settle()
    transaction_id = station.transactions[1].transaction_id
    statuses = [(s["connectorId"], s["status"]) for s in csms.calls_of("StatusNotification")]
    assert statuses == [(1, "Preparing"), (1, "Charging")]

    busy = await csms.ask(call16.RemoteStartTransaction(id_tag="RFID-2", connector_id=1))
    assert busy.status == "Rejected"
    unknown = await csms.ask(call16.RemoteStopTransaction(transaction_id=transaction_id + 1))
    assert unknown.status == "Rejected"

    station.meter_wh[1] = 6_500
    stopped = await csms.ask(call16.RemoteStopTransaction(transaction_id=transaction_id))
    assert stopped.status == "Accepted"
    [stop] = await csms.wait_for("StopTransaction")
    assert stop["transactionId"] == transaction_id
    assert (stop["reason"], stop["meterStop"]) == ("Remote", 6_500)
    await station.settle()
    assert station.transactions == {}
    assert station.received[0] == ("RemoteStartTransaction", {"idTag": "RFID-1", "connectorId": 1})


async def test_a_remote_start_for_a_blocked_tag_is_stopped_at_once_16(link16: Link16) -> None:
    csms, station = link16.csms, link16.station

    started = await csms.ask(call16.RemoteStartTransaction(id_tag="BLOCKED-1"))
    assert started.status == "Accepted"
    [stop] = await csms.wait_for("StopTransaction")
    assert stop["reason"] == "DeAuthorized"
    await station.settle()
    assert station.transactions == {}
    assert station.background_errors == []


async def test_configuration_is_read_and_changed_16(link16: Link16) -> None:
    csms, station = link16.csms, link16.station

    answer = await csms.ask(call16.GetConfiguration(key=["HeartbeatInterval", "NoSuchKey"]))
    assert answer.configuration_key == [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"}
    ]
    assert answer.unknown_key == ["NoSuchKey"]
    everything = await csms.ask(call16.GetConfiguration())
    assert len(everything.configuration_key) == len(station.configuration)

    change = call16.ChangeConfiguration
    assert (await csms.ask(change(key="HeartbeatInterval", value="60"))).status == "Accepted"
    assert (await csms.ask(change(key="HeartbeatInterval", value="soon"))).status == "Rejected"
    assert (await csms.ask(change(key="NumberOfConnectors", value="4"))).status == "Rejected"
    assert (await csms.ask(change(key="NoSuchKey", value="1"))).status == "NotSupported"
    assert station.configuration["HeartbeatInterval"].value == "60"


async def test_availability_changes_after_the_running_transaction_16(link16: Link16) -> None:
    csms, station = link16.csms, link16.station
    await station.start_transaction(1, "RFID-1", meter_start=0)
    transaction_id = station.transactions[1].transaction_id

    change = call16.ChangeAvailability(connector_id=1, type="Inoperative")
    assert (await csms.ask(change)).status == "Scheduled"
    assert station.availability[1] == "Operative"
    await csms.ask(call16.RemoteStopTransaction(transaction_id=transaction_id))
    await station.settle()
    assert station.availability[1] == "Inoperative"
    assert csms.calls_of("StatusNotification")[-1]["status"] == "Unavailable"

    back = call16.ChangeAvailability(connector_id=0, type="Operative")
    assert (await csms.ask(back)).status == "Accepted"
    await station.settle()
    assert station.connector_status(1) == "Unavailable"  # connector 1 itself is still off


async def test_triggers_firmware_and_diagnostics_send_their_messages_16(link16: Link16) -> None:
    csms, station = link16.csms, link16.station

    trigger = call16.TriggerMessage(requested_message="StatusNotification", connector_id=2)
    assert (await csms.ask(trigger)).status == "Accepted"
    [status] = await csms.wait_for("StatusNotification")
    assert (status["connectorId"], status["status"]) == (2, "Available")
    trigger = call16.TriggerMessage(requested_message="MeterValues", connector_id=9)
    assert (await csms.ask(trigger)).status == "Rejected"

    await csms.ask(call16.UpdateFirmware(location="https://fw/1.bin", retrieve_date=now_iso()))
    firmware = await csms.wait_for("FirmwareStatusNotification", 4)
    assert [f["status"] for f in firmware] == [
        "Downloading",
        "Downloaded",
        "Installing",
        "Installed",
    ]

    diagnostics = await csms.ask(call16.GetDiagnostics(location="ftp://logs/"))
    assert diagnostics.file_name == "diagnostics-CP-16.log"
    uploads = await csms.wait_for("DiagnosticsStatusNotification", 2)
    assert [u["status"] for u in uploads] == ["Uploading", "Uploaded"]
    await station.settle()
    assert station.firmware_status == "Installed"


def profile16(profile_id: int, purpose: str, limits: list[tuple[int, float]]) -> dict[str, Any]:
    return {
        "chargingProfileId": profile_id,
        "stackLevel": 0,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": s, "limit": limit} for s, limit in limits],
        },
    }


async def test_charging_profiles_compose_a_schedule_16(link16: Link16) -> None:
    csms, station = link16.csms, link16.station
    no_schedule = await csms.ask(call16.GetCompositeSchedule(connector_id=1, duration=3600))
    assert no_schedule.status == "Rejected"

    default = profile16(1, "TxDefaultProfile", [(0, 32.0), (1800, 10.0)])
    cap = profile16(2, "ChargePointMaxProfile", [(0, 16.0)])
    wrong = profile16(3, "TxProfile", [(0, 6.0)])  # no transaction runs on connector 1
    set_profile = call16.SetChargingProfile
    assert (await csms.ask(set_profile(1, default))).status == "Accepted"
    assert (await csms.ask(set_profile(0, cap))).status == "Accepted"
    assert (await csms.ask(set_profile(1, wrong))).status == "Rejected"
    assert set(station.charging_profiles) == {1, 2}

    composite = await csms.ask(call16.GetCompositeSchedule(connector_id=1, duration=3600))
    assert composite.status == "Accepted"
    assert composite.charging_schedule["charging_schedule_period"] == [
        {"start_period": 0, "limit": 16.0},
        {"start_period": 1800, "limit": 10.0},
    ]

    clear = call16.ClearChargingProfile
    assert (await csms.ask(clear(charging_profile_purpose="TxDefaultProfile"))).status == "Accepted"
    assert (await csms.ask(clear(id=1))).status == "Unknown"
    assert set(station.charging_profiles) == {2}


async def test_local_list_and_reservations_16(link16: Link16) -> None:
    csms, station = link16.csms, link16.station
    accepted = {"status": "Accepted"}
    entries = [{"idTag": tag, "idTagInfo": accepted} for tag in ("RFID-1", "RFID-2")]
    full = call16.SendLocalList(
        list_version=3, update_type="Full", local_authorization_list=entries
    )
    assert (await csms.ask(full)).status == "Accepted"
    removal = call16.SendLocalList(
        list_version=4, update_type="Differential", local_authorization_list=[{"idTag": "RFID-2"}]
    )
    assert (await csms.ask(removal)).status == "Accepted"
    assert (await csms.ask(call16.GetLocalListVersion())).list_version == 4
    stale = call16.SendLocalList(list_version=4, update_type="Differential")
    assert (await csms.ask(stale)).status == "VersionMismatch"
    assert station.local_list == {"RFID-1": accepted}

    reserve = call16.ReserveNow(
        connector_id=2, expiry_date=now_iso(), id_tag="RFID-1", reservation_id=7
    )
    assert (await csms.ask(reserve)).status == "Accepted"
    other = call16.RemoteStartTransaction(id_tag="RFID-9", connector_id=2)
    assert (await csms.ask(other)).status == "Rejected"  # reserved for someone else
    assert (await csms.ask(call16.CancelReservation(reservation_id=7))).status == "Accepted"
    assert (await csms.ask(call16.CancelReservation(reservation_id=7))).status == "Rejected"
    await station.settle()
    statuses = [s["status"] for s in csms.calls_of("StatusNotification")]
    assert statuses == ["Reserved", "Available"]


# --- behaviours (1.6) -------------------------------------------------------------------


async def test_a_rejecting_station_starts_nothing(link16: Link16) -> None:
    csms, station = link16.csms, link16.station
    station.behave("RemoteStartTransaction", Behaviour.REJECT)

    answer = await csms.ask(call16.RemoteStartTransaction(id_tag="RFID-1", connector_id=1))
    assert answer.status == "Rejected"
    await station.settle()
    assert csms.calls_of("StartTransaction") == []
    assert (await csms.ask(call16.Reset(type="Soft"))).status == "Accepted"  # others: normal


async def test_call_errors_are_scripted_per_action(link16: Link16) -> None:
    csms, station = link16.csms, link16.station
    station.behave("ClearCache", Behaviour.CALL_ERROR)
    station.behave("DataTransfer", Behaviour.CALL_ERROR, error=NotSupportedError(), times=1)

    with pytest.raises(GenericError):
        await csms.ask(call16.ClearCache())
    with pytest.raises(NotSupportedError):
        await csms.ask(call16.DataTransfer(vendor_id="acme"))
    again = await csms.ask(call16.DataTransfer(vendor_id="acme"))
    assert again.status == "UnknownVendorId"


async def test_an_unanswered_call_does_not_stop_the_station(link16: Link16) -> None:
    csms, station = link16.csms, link16.station
    station.behave("GetConfiguration", Behaviour.NO_ANSWER, times=1)

    with pytest.raises(TimeoutError):
        await csms.ask(call16.GetConfiguration(key=["HeartbeatInterval"]), within=QUICK)
    assert station.calls_of("GetConfiguration") == [{"key": ["HeartbeatInterval"]}]
    # The read loop goes on: the station's own calls and the next CSMS call get through.
    assert (await station.heartbeat()).current_time
    answer = await csms.ask(call16.GetConfiguration(key=["HeartbeatInterval"]))
    assert answer.configuration_key[0]["value"] == "300"


async def test_a_hanging_station_answers_nothing_until_released(link16: Link16) -> None:
    csms, station = link16.csms, link16.station
    station.behave("ClearCache", Behaviour.HANG, times=1)

    with pytest.raises(TimeoutError):
        await csms.ask(call16.ClearCache(), within=QUICK)
    with pytest.raises(TimeoutError):
        await csms.ask(call16.GetLocalListVersion(), within=QUICK)  # frozen: not even read
    assert [action for action, _ in station.received] == ["ClearCache"]

    station.release()
    assert (await csms.ask(call16.ClearCache())).status == "Accepted"


async def test_a_dropping_station_aborts_the_connection(link16: Link16) -> None:
    csms, station = link16.csms, link16.station
    station.behave("Reset", Behaviour.DROP)

    with pytest.raises(TimeoutError):
        await csms.ask(call16.Reset(type="Hard"), within=QUICK)
    await asyncio.wait_for(csms.connection.wait_closed(), 2)
    assert csms.connection.close_code == 1006  # abnormal closure: no close frame
    assert station.calls_of("Reset") == [{"type": "Hard"}]


async def test_behave_refuses_what_the_station_cannot_do(link16: Link16) -> None:
    station = link16.station
    with pytest.raises(ValueError, match="does not handle"):
        station.behave("BootNotification", Behaviour.CALL_ERROR)
    with pytest.raises(ValueError, match="no negative answer"):
        station.behave("GetConfiguration", Behaviour.REJECT)


# --- OCPP 2.0.1 -------------------------------------------------------------------------


async def test_a_request_start_and_stop_run_a_transaction_201(link201: Link201) -> None:
    csms, station = link201.csms, link201.station
    station.meter_wh[2] = 1_000

    start = call201.RequestStartTransaction(
        id_token={"idToken": "RFID-1", "type": "ISO14443"}, remote_start_id=42, evse_id=2
    )
    assert (await csms.ask(start)).status == "Accepted"
    [started] = await csms.wait_for("TransactionEvent")
    assert started["eventType"] == "Started"
    assert started["triggerReason"] == "RemoteStart"
    assert started["transactionInfo"]["remoteStartId"] == 42
    assert (started["seqNo"], started["evse"]) == (0, {"id": 2, "connectorId": 1})
    assert started["meterValue"][0]["sampledValue"][0]["value"] == 1_000
    await station.settle()
    transaction_id = station.transactions[2].transaction_id
    assert started["transactionInfo"]["transactionId"] == transaction_id

    stop = call201.RequestStopTransaction(transaction_id=transaction_id)
    assert (await csms.ask(stop)).status == "Accepted"
    assert (await csms.ask(stop)).status == "Rejected"  # already being stopped
    _, ended = await csms.wait_for("TransactionEvent", 2)
    assert (ended["eventType"], ended["seqNo"]) == ("Ended", 1)
    assert ended["transactionInfo"]["stoppedReason"] == "Remote"
    await station.settle()
    assert station.transactions == {}
    statuses = [s["connectorStatus"] for s in csms.calls_of("StatusNotification")]
    assert statuses == ["Occupied", "Available"]


async def test_sessions_keep_their_sequence_numbers_201(link201: Link201) -> None:
    csms, station = link201.csms, link201.station
    boot = await station.boot(firmware_version="2.0", serial_number="SN-1")
    assert boot.status == "Accepted"
    assert station.variable_value(VariableKey("OCPPCommCtrlr", "HeartbeatInterval")) == "120"

    transaction_id, answer = await station.start_session(1, "RFID-1", meter_wh=100)
    assert answer.id_token_info == {"status": "Accepted"}
    await station.update_session(1, meter_wh=600)
    await station.meter_values(1, 700)
    await station.end_session(1, meter_wh=900)
    events = csms.calls_of("TransactionEvent")
    assert [(e["eventType"], e["seqNo"]) for e in events] == [
        ("Started", 0),
        ("Updated", 1),
        ("Ended", 2),
    ]
    assert {e["transactionInfo"]["transactionId"] for e in events} == {transaction_id}
    assert events[2]["meterValue"][0]["sampledValue"][0]["context"] == "Transaction.End"


async def test_variables_are_read_and_set_201(link201: Link201) -> None:
    csms, station = link201.csms, link201.station

    def item(component: str, variable: str, evse: dict[str, int] | None = None) -> dict[str, Any]:
        target: dict[str, Any] = {"name": component}
        if evse is not None:
            target["evse"] = evse
        return {"component": target, "variable": {"name": variable}}

    read = await csms.ask(
        call201.GetVariables(
            get_variable_data=[
                item("OCPPCommCtrlr", "HeartbeatInterval"),
                item("EVSE", "AvailabilityState", {"id": 1}),
                item("OCPPCommCtrlr", "NoSuchVariable"),
                item("NoSuchController", "Enabled"),
                item("SecurityCtrlr", "BasicAuthPassword"),
            ]
        )
    )
    results = [(r["attribute_status"], r.get("attribute_value")) for r in read.get_variable_result]
    assert results == [
        ("Accepted", "300"),
        ("Accepted", "Available"),
        ("UnknownVariable", None),
        ("UnknownComponent", None),
        ("Rejected", None),  # write-only
    ]

    written = await csms.ask(
        call201.SetVariables(
            set_variable_data=[
                {**item("OCPPCommCtrlr", "HeartbeatInterval"), "attributeValue": "60"},
                {**item("TxCtrlr", "EVConnectionTimeOut"), "attributeValue": "never"},
                {**item("ChargingStation", "Model"), "attributeValue": "X"},
            ]
        )
    )
    statuses = [r["attribute_status"] for r in written.set_variable_result]
    assert statuses == ["Accepted", "Rejected", "Rejected"]
    assert station.device_model[VariableKey("OCPPCommCtrlr", "HeartbeatInterval")].value == "60"


async def test_a_base_report_arrives_in_pages_201(link201: Link201) -> None:
    csms, station = link201.csms, link201.station
    station.report_page_size = 5

    answer = await csms.ask(call201.GetBaseReport(request_id=9, report_base="FullInventory"))
    assert answer.status == "Accepted"
    expected_pages = -(-len(station.device_model) // 5)
    reports = await csms.wait_for("NotifyReport", expected_pages)
    assert [r["seqNo"] for r in reports] == list(range(expected_pages))
    assert [r["tbc"] for r in reports] == [True] * (expected_pages - 1) + [False]
    assert {r["requestId"] for r in reports} == {9}
    items = [item for r in reports for item in r["reportData"]]
    assert len(items) == len(station.device_model)
    heartbeat = next(i for i in items if i["variable"]["name"] == "HeartbeatInterval")
    assert heartbeat["variableAttribute"] == [
        {"type": "Actual", "mutability": "ReadWrite", "value": "300"}
    ]

    summary = await csms.ask(call201.GetBaseReport(request_id=10, report_base="SummaryInventory"))
    assert summary.status == "Accepted"


async def test_charging_profiles_are_reported_and_composed_201(link201: Link201) -> None:
    csms, station = link201.csms, link201.station
    profile = {
        "id": 5,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11_000.0}],
            }
        ],
    }
    set_profile = call201.SetChargingProfile(evse_id=1, charging_profile=profile)
    assert (await csms.ask(set_profile)).status == "Accepted"

    criterion = {"chargingProfilePurpose": "TxDefaultProfile"}
    found = await csms.ask(call201.GetChargingProfiles(request_id=3, charging_profile=criterion))
    assert found.status == "Accepted"
    [reported] = await csms.wait_for("ReportChargingProfiles")
    assert (reported["evseId"], reported["chargingProfile"][0]["id"]) == (1, 5)

    composite = await csms.ask(
        call201.GetCompositeSchedule(duration=600, evse_id=1, charging_rate_unit="A")
    )
    assert composite.status == "Accepted"
    assert composite.schedule["charging_schedule_period"] == [{"start_period": 0, "limit": 15.9}]

    clear = call201.ClearChargingProfile(charging_profile_id=5)
    assert (await csms.ask(clear)).status == "Accepted"
    none = await csms.ask(call201.GetChargingProfiles(request_id=4, charging_profile={}))
    assert none.status == "NoProfiles"
    assert station.charging_profiles == {}


async def test_reset_availability_and_uploads_201(link201: Link201) -> None:
    csms, station = link201.csms, link201.station
    await station.start_session(1, "RFID-1")

    assert (await csms.ask(call201.Reset(type="OnIdle"))).status == "Scheduled"
    inoperative = call201.ChangeAvailability(operational_status="Inoperative", evse={"id": 2})
    assert (await csms.ask(inoperative)).status == "Accepted"
    unlock = call201.UnlockConnector(evse_id=1, connector_id=1)
    assert (await csms.ask(unlock)).status == "OngoingAuthorizedTransaction"
    await station.end_session(1)  # the scheduled reset happens now
    await csms.wait_for("BootNotification")
    await station.settle()
    assert csms.calls_of("BootNotification")[0]["reason"] == "RemoteReset"
    assert station.connector_status(2) == "Unavailable"

    log = call201.GetLog(
        log={"remoteLocation": "ftp://logs/"}, log_type="DiagnosticsLog", request_id=8
    )
    assert (await csms.ask(log)).status == "Accepted"
    uploads = await csms.wait_for("LogStatusNotification", 2)
    assert [(u["status"], u["requestId"]) for u in uploads] == [("Uploading", 8), ("Uploaded", 8)]
    trigger = call201.TriggerMessage(requested_message="TransactionEvent")
    assert (await csms.ask(trigger)).status == "Rejected"  # no transaction to report on


# --- behaviours (2.0.1) -----------------------------------------------------------------


async def test_behaviours_apply_to_the_201_station(link201: Link201) -> None:
    csms, station = link201.csms, link201.station
    station.behave("RequestStartTransaction", Behaviour.REJECT, times=1)
    station.behave("GetVariables", Behaviour.CALL_ERROR, times=1)
    station.behave("GetBaseReport", Behaviour.NO_ANSWER, times=1)

    start = call201.RequestStartTransaction(
        id_token={"idToken": "RFID-1", "type": "ISO14443"}, remote_start_id=1
    )
    assert (await csms.ask(start)).status == "Rejected"
    get = call201.GetVariables(
        get_variable_data=[{"component": {"name": "TxCtrlr"}, "variable": {"name": "X"}}]
    )
    with pytest.raises(GenericError):
        await csms.ask(get)
    report = call201.GetBaseReport(request_id=1, report_base="ConfigurationInventory")
    with pytest.raises(TimeoutError):
        await csms.ask(report, within=QUICK)
    assert (await csms.ask(report)).status == "Accepted"  # times=1: normal again
    await station.settle()
    assert csms.calls_of("TransactionEvent") == []

    station.behave("Reset", Behaviour.DROP)
    with pytest.raises(TimeoutError):
        await csms.ask(call201.Reset(type="Immediate"), within=QUICK)
    await asyncio.wait_for(csms.connection.wait_closed(), 2)
    assert csms.connection.close_code == 1006


async def test_every_rejectable_action_has_a_handler() -> None:
    for station in (SimulatedStation("CP-X", None), SimulatedStation201("CS-X", None)):
        assert station.rejectable <= set(station.route_map)


# --- the command line -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--count", "0"], "between 1 and 10000"),
        (["--count", "many"], "invalid"),
        (["--url", "http://localhost:9000"], "ws:// or wss://"),
        (["--energy-wh", "-1"], "must not be negative"),
        (["--id", "a/b"], "without '/'"),
        (["--url", "wss://csms:9443", "--cert", "c.pem"], "--cert and --key go together"),
        (["--ca", "ca.pem"], "for a wss:// --url"),
        (["--url", "wss://csms:9443", "--ca", "/nowhere/ca.pem"], "is not a file"),
    ],
)
def test_the_command_line_refuses_bad_input(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        cli.parse(argv, "simulator", "CP-1")
    assert complaint in capsys.readouterr().err


def test_several_stations_get_numbered_ids() -> None:
    assert cli.station_ids("CP", 1) == ["CP"]
    assert cli.station_ids("CP", 3) == ["CP-1", "CP-2", "CP-3"]


def ends_of(ends: asyncio.Queue[CsmsT]) -> dict[str, CsmsT]:
    found: dict[str, CsmsT] = {}
    while not ends.empty():
        end = ends.get_nowait()
        found[end.id] = end
    return found


async def test_the_command_line_runs_count_stations_16(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--id", "CP", "--count", "2", "--password", "s3cret", "--samples", "2"]
    async with csms_server(Csms16, "ocpp1.6") as (url, ends):
        args = cli.parse(["--url", url, *argv], "simulator", "CP-1")
        assert await cli.run(connected_station, args) == 0
    csms = ends_of(ends)

    assert sorted(csms) == ["CP-1", "CP-2"]
    for station_id, end in csms.items():
        assert [action for action, _ in end.seen] == [
            "BootNotification",
            *["StatusNotification"] * 3,  # the station and its two connectors
            "Authorize",
            "StartTransaction",
            "StatusNotification",
            *["MeterValues"] * 2,
            "StopTransaction",
            "StatusNotification",
        ]
        [stop] = end.calls_of("StopTransaction")
        assert (stop["meterStop"], stop["idTag"], stop["reason"]) == (
            1_007_400,
            "RFID-0001",
            "Local",
        )
        assert end.connection.request is not None
        credentials = end.connection.request.headers["Authorization"]
        assert (
            base64.b64decode(credentials.removeprefix("Basic ")) == f"{station_id}:s3cret".encode()
        )
    out = capsys.readouterr().out
    assert "CP-2: BootNotification -> Accepted (heartbeat every 120 s)" in out
    assert "7400 Wh charged" in out
    assert "s3cret" not in out


async def test_the_command_line_runs_a_201_station(capsys: pytest.CaptureFixture[str]) -> None:
    async with csms_server(Csms201, "ocpp2.0.1") as (url, ends):
        argv = ["--url", url, "--id", "CS-9", "--samples", "2", "--energy-wh", "1000"]
        args = cli.parse(argv, "simulator", "CS-1")
        assert await cli.run(connected_station_201, args) == 0
    end = ends_of(ends)["CS-9"]

    events = end.calls_of("TransactionEvent")
    assert [(e["eventType"], e["seqNo"]) for e in events] == [
        ("Started", 0),
        ("Updated", 1),
        ("Updated", 2),
        ("Ended", 3),
    ]
    registers = [e["meterValue"][0]["sampledValue"][0]["value"] for e in events]
    assert registers == [1_000_000, 1_000_500, 1_001_000, 1_001_000]
    assert events[3]["idToken"] == {"idToken": "RFID-0001", "type": "ISO14443"}
    assert (events[3]["triggerReason"], events[3]["transactionInfo"]["stoppedReason"]) == (
        "StopAuthorized",
        "Local",
    )
    statuses = [(s["evseId"], s["connectorStatus"]) for s in end.calls_of("StatusNotification")]
    assert statuses == [(1, "Available"), (2, "Available"), (1, "Occupied"), (1, "Available")]
    assert "CS-9: Transaction" in capsys.readouterr().out


async def test_a_refused_id_tag_charges_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    async with csms_server(Csms16, "ocpp1.6") as (url, ends):
        args = cli.parse(["--url", url, "--id-tag", "BLOCKED-1"], "simulator", "CP-1")
        assert await cli.run(connected_station, args) == 1
    end = ends_of(ends)["CP-1"]
    assert end.calls_of("StartTransaction") == []
    assert "CP-1: the CSMS refused BLOCKED-1 (Blocked)" in capsys.readouterr().out


async def test_a_station_the_csms_turns_away_is_reported(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def refuse(connection: ServerConnection, request: Request) -> Response:
        return connection.respond(HTTPStatus.UNAUTHORIZED, "who are you?\n")

    async def never(connection: ServerConnection) -> None:
        raise AssertionError("the connection must not open")

    async with serve(never, "127.0.0.1", 0, process_request=refuse) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        argv = ["--url", f"ws://127.0.0.1:{port}", "--count", "2", "--password", "wrong"]
        assert await cli.run(connected_station, cli.parse(argv, "simulator", "CP")) == 1
    err = capsys.readouterr().err
    assert "CP-1: failed: the CSMS refused the connection (HTTP 401)" in err
    assert "CP-2: failed" in err
    assert "wrong" not in err


async def printed(capsys: pytest.CaptureFixture[str], text: str, within: float = 5) -> str:
    """Standard output up to the moment `text` appears in it."""
    seen = ""
    async with asyncio.timeout(within):
        while text not in seen:
            seen += capsys.readouterr().out
            await asyncio.sleep(0.01)
    return seen


async def test_a_staying_station_leaves_when_the_csms_closes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with csms_server(Csms16, "ocpp1.6") as (url, ends):
        args = cli.parse(["--url", url, "--samples", "1", "--stay"], "simulator", "CP-1")
        session = asyncio.create_task(cli.run(connected_station, args))
        await printed(capsys, "Staying connected")
        end = await asyncio.wait_for(ends.get(), 2)
        answer = await end.ask(call16.GetLocalListVersion())  # it still answers
        assert answer.list_version == 0
        await end.connection.close()
        assert await asyncio.wait_for(session, 5) == 0
    assert "The CSMS closed the connection." in capsys.readouterr().out
