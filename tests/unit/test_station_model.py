"""The station model both simulators share: its rules, without any OCPP message."""

from __future__ import annotations

from typing import Any

import pytest

from tools.station_sim.model import (
    ChargingProfile,
    ConnectorState,
    ProfilePurpose,
    Reservation,
    StationModel,
    Transaction,
)
from tools.station_sim.settings import (
    AUTHORIZE_REMOTE_START,
    HEARTBEAT_INTERVAL,
    LOCAL_LIST_MAX_ENTRIES,
    VariableKey,
)
from tools.station_sim.v16 import SimulatedStation
from tools.station_sim.v201 import SimulatedStation201


def charging(model: StationModel[int], connector: int, transaction_id: int = 1) -> None:
    model.begin(Transaction(transaction_id, connector, "RFID-1"))


def profile(
    profile_id: int,
    connector: int,
    purpose: ProfilePurpose,
    limits: list[tuple[int, float]],
    unit: str = "A",
    stack_level: int = 0,
    transaction_id: int | None = None,
) -> ChargingProfile:
    periods: list[dict[str, Any]] = [{"start_period": s, "limit": limit} for s, limit in limits]
    return ChargingProfile(
        profile_id, connector, purpose, stack_level, unit, periods, transaction_id
    )


# --- settings ----------------------------------------------------------------------------


def test_a_value_both_versions_know_is_one_value_under_two_names() -> None:
    model: StationModel[int] = StationModel(2)
    by_key = model.settings.by_key16
    assert by_key["HeartbeatInterval"] is model.settings[HEARTBEAT_INTERVAL]
    assert by_key["AuthorizeRemoteTxRequests"] is model.settings[AUTHORIZE_REMOTE_START]

    by_key["AuthorizeRemoteTxRequests"].value = "true"  # written the 1.6 way ...
    assert model.settings.flag(AUTHORIZE_REMOTE_START)  # ... read the 2.0.1 way


def test_each_version_sees_only_its_own_names() -> None:
    station16 = SimulatedStation("CP-1", None)
    station201 = SimulatedStation201("CS-1", None)
    assert station16.model.settings.by_key16 == station16.configuration
    assert "NumberOfConnectors" in station16.configuration
    assert station16.configuration["NumberOfConnectors"].value == "2"
    assert list(station16.configuration) == sorted(station16.configuration)
    assert VariableKey("EVSE", "Power", 2) in station201.device_model
    assert all(isinstance(key, VariableKey) for key in station201.device_model)
    assert len(station201.device_model) == 14 + 4 * 2  # station-wide, then per EVSE


@pytest.mark.parametrize(
    ("key", "value", "accepted"),
    [
        ("HeartbeatInterval", "60", True),
        ("HeartbeatInterval", "soon", False),
        ("LocalAuthorizeOffline", "FALSE", True),
        ("LocalAuthorizeOffline", "0", False),
        ("MeterValuesSampledData", "Voltage", True),
        ("NumberOfConnectors", "4", False),  # read-only
    ],
)
def test_a_written_value_must_fit_the_type(key: str, value: str, accepted: bool) -> None:
    model: StationModel[int] = StationModel(2)
    assert model.settings.by_key16[key].accepts(value) is accepted


# --- connectors and transactions --------------------------------------------------------


def test_a_remote_start_claims_the_first_free_connector_until_it_is_done() -> None:
    model: StationModel[int] = StationModel(2)
    charging(model, 1)

    assert model.prepare_remote_start(None, "RFID-2") == 2
    assert model.state(2) is ConnectorState.PREPARING
    assert model.prepare_remote_start(2, "RFID-3") is None  # already claimed
    assert model.prepare_remote_start(3, "RFID-3") is None  # no such connector
    model.remote_start_done(2)
    assert model.state(2) is ConnectorState.AVAILABLE
    assert model.state(1) is ConnectorState.CHARGING


def test_a_transaction_is_stopped_once() -> None:
    model: StationModel[int] = StationModel(2)
    charging(model, 1, transaction_id=7)

    assert model.request_stop(7) is model.transactions[1]
    assert model.request_stop(7) is None  # already stopping
    assert model.request_stop(8) is None  # unknown


def test_going_inoperative_waits_for_the_transaction() -> None:
    model: StationModel[int] = StationModel(2)
    charging(model, 1)

    assert model.change_availability(0, "Inoperative") == "Scheduled"
    assert model.state(2) is ConnectorState.AVAILABLE
    assert model.change_availability(5, "Inoperative") == "Rejected"
    model.end(1)
    assert model.availability[0] == "Inoperative"
    assert [model.state(c) for c in (0, 1, 2)] == [ConnectorState.UNAVAILABLE] * 3


def test_a_reset_when_idle_waits_for_the_last_transaction() -> None:
    model: StationModel[str] = StationModel(2)
    model.begin(Transaction("a", 1, None))
    model.begin(Transaction("b", 2, None))

    assert model.reset("ImmediateReset", when_idle=True) == "Scheduled"
    assert model.end(1) is None
    assert model.end(2) == "ImmediateReset"
    assert model.reset_when_idle is None
    assert model.reset("ImmediateReset", when_idle=True) == "Accepted"  # idle: at once


# --- reservations -----------------------------------------------------------------------


def test_a_reservation_lets_only_its_token_in() -> None:
    model: StationModel[int] = StationModel(2)
    assert model.reserve(Reservation(1, 2, "RFID-1", "2030-01-01T00:00:00Z")) == "Accepted"

    assert model.state(2) is ConnectorState.RESERVED
    assert not model.is_free(2, "RFID-9")
    assert model.prepare_remote_start(None, "RFID-9") == 1  # the reserved one is skipped
    assert model.prepare_remote_start(2, "RFID-1") == 2
    taken = model.take_reservation(2)
    assert taken is not None and taken.reservation_id == 1
    assert model.reservations == {}


def test_a_refused_replacement_keeps_the_reservation() -> None:
    model: StationModel[int] = StationModel(2)
    first = Reservation(1, 1, "RFID-1", "2030-01-01T00:00:00Z")
    model.reserve(first)
    charging(model, 2)

    assert model.reserve(Reservation(1, 2, "RFID-2", "2030-01-01T00:00:00Z")) == "Occupied"
    assert model.reservations == {1: first}
    assert model.reserve(Reservation(2, 0, "RFID-2", "x")) == "Rejected"  # not a connector


def test_a_reservation_for_any_connector_needs_one_free() -> None:
    model: StationModel[str] = StationModel(1)
    model.begin(Transaction("a", 1, None))
    assert model.reserve(Reservation(1, None, "RFID-1", "x")) == "Occupied"
    model.availability[1] = "Inoperative"
    assert model.reserve(Reservation(1, None, "RFID-1", "x")) == "Unavailable"


# --- charging profiles ------------------------------------------------------------------


def test_profiles_must_fit_the_station() -> None:
    model: StationModel[int] = StationModel(2)
    cap = ProfilePurpose.STATION_MAX
    tx = ProfilePurpose.TX
    assert not model.install_profile(profile(1, 1, cap, [(0, 16)]))  # a cap is station-wide
    assert model.install_profile(profile(1, 0, cap, [(0, 16)]))
    assert not model.install_profile(profile(2, 1, tx, [(0, 10)]))  # no transaction
    charging(model, 1, transaction_id=5)
    assert not model.install_profile(profile(2, 1, tx, [(0, 10)], transaction_id=6))
    assert model.install_profile(profile(2, 1, tx, [(0, 10)], transaction_id=5))
    assert not model.install_profile(profile(3, 3, ProfilePurpose.TX_DEFAULT, [(0, 10)]))


def test_the_same_purpose_and_stack_level_replaces_a_profile() -> None:
    model: StationModel[int] = StationModel(2)
    default = ProfilePurpose.TX_DEFAULT
    model.install_profile(profile(1, 1, default, [(0, 10)]))
    model.install_profile(profile(2, 1, default, [(0, 12)]))
    model.install_profile(profile(3, 1, default, [(0, 14)], stack_level=1))
    assert sorted(model.charging_profiles) == [2, 3]


def test_a_tx_profile_ends_with_its_transaction() -> None:
    model: StationModel[int] = StationModel(2)
    charging(model, 1)
    model.install_profile(profile(1, 1, ProfilePurpose.TX, [(0, 10)]))
    model.install_profile(profile(2, 1, ProfilePurpose.TX_DEFAULT, [(0, 10)]))
    model.end(1)
    assert list(model.charging_profiles) == [2]


def test_the_composite_schedule_is_the_lowest_governing_limit() -> None:
    model: StationModel[int] = StationModel(2)
    assert model.composite_schedule(1, 3600) is None
    model.install_profile(profile(1, 0, ProfilePurpose.TX_DEFAULT, [(0, 32), (1800, 10)]))
    model.install_profile(profile(2, 1, ProfilePurpose.TX_DEFAULT, [(0, 20)], stack_level=1))
    model.install_profile(profile(3, 0, ProfilePurpose.STATION_MAX, [(0, 11_040)], unit="W"))

    schedule = model.composite_schedule(1, 3600)  # the connector's own default wins
    assert schedule is not None and schedule.unit == "A"
    assert schedule.periods == [{"start_period": 0, "limit": 16.0}]  # 11 040 W at 3 x 230 V
    other = model.composite_schedule(2, 3600, "W")  # the station-wide default applies
    assert other is not None
    assert other.periods == [
        {"start_period": 0, "limit": 11_040.0},
        {"start_period": 1800, "limit": 6_900.0},
    ]


def test_profiles_are_cleared_by_id_or_by_every_criterion() -> None:
    model: StationModel[int] = StationModel(2)
    model.install_profile(profile(1, 1, ProfilePurpose.TX_DEFAULT, [(0, 10)]))
    model.install_profile(profile(2, 2, ProfilePurpose.TX_DEFAULT, [(0, 10)]))
    model.install_profile(profile(3, 0, ProfilePurpose.STATION_MAX, [(0, 10)]))

    assert not model.clear_profiles(profile_id=9)
    assert model.clear_profiles(connector_id=2, purpose=ProfilePurpose.TX_DEFAULT)
    assert model.clear_profiles(profile_id=1)
    assert list(model.charging_profiles) == [3]


# --- local list ---------------------------------------------------------------------------


def test_the_local_list_takes_full_and_newer_differential_updates() -> None:
    model: StationModel[int] = StationModel(2)
    accepted = {"status": "Accepted"}
    assert model.update_local_list(3, True, [("A", accepted), ("B", accepted)]) == "Accepted"
    assert model.update_local_list(3, False, [("C", accepted)]) == "VersionMismatch"
    assert model.update_local_list(4, False, [("B", None), ("C", accepted)]) == "Accepted"
    assert model.local_list == {"A": accepted, "C": accepted}
    assert model.local_list_version == 4


def test_a_local_list_too_long_changes_nothing() -> None:
    model: StationModel[int] = StationModel(2)
    model.settings[LOCAL_LIST_MAX_ENTRIES].value = "1"
    model.update_local_list(1, True, [("A", {"status": "Accepted"})])

    status = model.update_local_list(2, False, [("B", {"status": "Accepted"})])
    assert status == "Failed"
    assert (list(model.local_list), model.local_list_version) == (["A"], 1)


def test_a_station_has_at_least_one_connector() -> None:
    with pytest.raises(ValueError, match="at least one connector"):
        StationModel(0)
