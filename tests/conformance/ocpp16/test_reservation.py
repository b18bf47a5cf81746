"""OCPP 1.6 Reservation profile, CSMS side."""

from __future__ import annotations

from typing import Any

from ev_charging_system.application import Application
from tests.conformance.ocpp16 import RESERVATION, SUITE
from tests.conformance.ocpp16.support import ACCEPTED, authorize, start, status
from tests.conformance.station import OCPP16, Operator, RawStation, raw_station

EXPIRY = "2026-05-01T10:00:00Z"


async def reserve(
    station: RawStation,
    operator: Operator,
    reservation_id: int,
    id_tag: str,
    connector: int,
    answer: str = "Accepted",
    **extra: Any,
) -> dict[str, Any]:
    request, response = await operator.command(
        station,
        "reserve-now",
        {
            "reservation_id": reservation_id,
            "id_tag": id_tag,
            "expiry": EXPIRY,
            "connector_id": connector,
            **extra,
        },
        "ReserveNow",
        {"status": answer},
    )
    assert response.json()["status"] == answer
    payload: dict[str, Any] = request.payload
    return payload


@SUITE.case("TC_046_CSMS", "Reservation of a Connector - Transaction", RESERVATION)
async def test_reservation_then_transaction(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-046")
    async with raw_station(csms, "TC_046", OCPP16) as station:
        request = await reserve(station, operator, 46, "TAG-046", 1)
        assert request == {
            "connectorId": 1,
            "expiryDate": "2026-05-01T10:00:00.000Z",
            "idTag": "TAG-046",
            "reservationId": 46,
        }
        await status(station, 1, "Reserved")
        assert await authorize(station, "TAG-046") == ACCEPTED
        await status(station, 1, "Preparing")
        _, info = await start(station, 1, "TAG-046", 0, reservationId=46)
        assert info == ACCEPTED
        await status(station, 1, "Charging")
    [transaction] = await operator.transactions("TC_046")
    assert transaction["reservation_id"] == 46


@SUITE.case("TC_047_CSMS", "Reservation of a Connector - Expire", RESERVATION)
async def test_reservation_expires(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_047", OCPP16) as station:
        await reserve(station, operator, 47, "TAG-047", 1)
        await status(station, 1, "Reserved")
        await status(station, 1, "Available")  # expiryDate passed
    [connector] = (await operator.station("TC_047"))["connectors"]
    assert connector["status"] == "Available"


@SUITE.case("TC_048_1_CSMS", "Reservation of a Connector - Faulted", RESERVATION)
@SUITE.case("TC_048_2_CSMS", "Reservation of a Connector - Occupied", RESERVATION)
@SUITE.case("TC_048_3_CSMS", "Reservation of a Connector - Unavailable", RESERVATION)
@SUITE.case("TC_048_4_CSMS", "Reservation of a Connector - Rejected", RESERVATION)
async def test_reservation_refused(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_048", OCPP16) as station:
        for number, answer in enumerate(("Faulted", "Occupied", "Unavailable", "Rejected")):
            await reserve(station, operator, 480 + number, "TAG-048", 1, answer=answer)


@SUITE.case("TC_049_CSMS", "Reservation of a Charge Point - Transaction", RESERVATION)
async def test_reservation_of_the_charge_point(csms: Application, operator: Operator) -> None:
    await operator.create_tag("TAG-049")
    async with raw_station(csms, "TC_049", OCPP16) as station:
        request = await reserve(station, operator, 49, "TAG-049", 0)
        assert request["connectorId"] == 0
        _, info = await start(station, 2, "TAG-049", 0, reservationId=49)
        assert info == ACCEPTED


@SUITE.case("TC_051_CSMS", "Cancel Reservation", RESERVATION)
@SUITE.case("TC_052_CSMS", "Cancel Reservation - Rejected", RESERVATION)
async def test_cancel_reservation(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_051", OCPP16) as station:
        await reserve(station, operator, 51, "TAG-051", 1)
        await status(station, 1, "Reserved")
        for answer in ("Accepted", "Rejected"):  # the second time it is gone already
            request, response = await operator.command(
                station,
                "cancel-reservation",
                {"reservation_id": 51},
                "CancelReservation",
                {"status": answer},
            )
            assert request.payload == {"reservationId": 51}
            assert response.json()["status"] == answer
        await status(station, 1, "Available")


@SUITE.case("TC_053_CSMS", "Use a reserved Connector with parentIdTag", RESERVATION)
async def test_reserved_connector_used_with_parent_tag(
    csms: Application, operator: Operator
) -> None:
    await operator.create_tag("FLEET-053")
    await operator.create_tag("TAG-053-A", parent_id_tag="FLEET-053")
    await operator.create_tag("TAG-053-B", parent_id_tag="FLEET-053")
    async with raw_station(csms, "TC_053", OCPP16) as station:
        request = await reserve(station, operator, 53, "TAG-053-A", 1, parent_id_tag="FLEET-053")
        assert request["parentIdTag"] == "FLEET-053"
        await status(station, 1, "Reserved")
        # Another card of the same fleet may use the reservation: its parent is sent back.
        info = await authorize(station, "TAG-053-B")
        assert info == {"status": "Accepted", "parentIdTag": "FLEET-053"}
        _, info = await start(station, 1, "TAG-053-B", 0, reservationId=53)
        assert info == {"status": "Accepted", "parentIdTag": "FLEET-053"}
