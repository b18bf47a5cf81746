"""Each connector of a 2.0.1 EVSE keeps its own status.

Reproduces issue #13: an EVSE with two connectors (e.g. a CCS and a CHAdeMO cable) had one
status for both; the last notification overwrote the other connector's state.
"""

from __future__ import annotations

from ev_charging_system.application import Application
from tests.conformance.station import OCPP16, OCPP201, at, raw_station


async def test_two_connectors_of_one_evse_have_their_own_status(app: Application) -> None:
    async with raw_station(app, "CP-DUO", OCPP201) as station:
        for connector, status in [(1, "Occupied"), (2, "Unavailable"), (1, "Available")]:
            await station.call(
                "StatusNotification",
                {
                    "timestamp": at(connector),
                    "connectorStatus": status,
                    "evseId": 1,
                    "connectorId": connector,
                },
            )
    view = await app.services.devices.get_charge_point("CP-DUO")
    statuses = {
        (c.connector_id, c.evse_connector_id): c.status for c in view.charge_point.connectors
    }
    assert statuses == {(1, 1): "Available", (1, 2): "Unavailable"}
    history = await app.services.devices.status_history("CP-DUO", connector_id=1)
    assert [(h.evse_connector_id, h.status) for h in reversed(history)] == [
        (1, "Occupied"),
        (2, "Unavailable"),
        (1, "Available"),
    ]


async def test_a_16_connector_has_no_evse_connector_number(app: Application) -> None:
    async with raw_station(app, "CP-ONE", OCPP16) as station:
        await station.call(
            "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
        )
    view = await app.services.devices.get_charge_point("CP-ONE")
    [connector] = view.charge_point.connectors
    assert (connector.connector_id, connector.evse_connector_id) == (1, None)
