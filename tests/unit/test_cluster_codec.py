"""What nodes send each other decodes to the value that was sent: every command, answers,
the errors REST and MCP map (class, message, attributes), every kind of domain event."""

from __future__ import annotations

import types
import typing
from datetime import UTC, datetime

import pytest

from ev_charging_system.business_logic.events import EVENT_TYPES, DomainEvent
from ev_charging_system.cluster import codec
from ev_charging_system.models import commands as c
from ev_charging_system.models import errors as e
from ev_charging_system.models.certificates import CertificateHash, CertificateUse
from ev_charging_system.models.charging_profile import (
    ChargingProfile,
    ProfileKind,
    ProfilePurpose,
    RateUnit,
    SchedulePeriod,
)
from ev_charging_system.models.id_token import AuthorizationStatus, IdTagInfo

AT = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
PROFILE = ChargingProfile(
    id=3,
    stack_level=1,
    purpose=ProfilePurpose.TX_DEFAULT,
    kind=ProfileKind.ABSOLUTE,
    rate_unit=RateUnit.WATTS,
    periods=(SchedulePeriod(0, 7400.0, 3), SchedulePeriod(900, 3700.5)),
    start_schedule=AT,
    transaction_id="tx-9",
)
COMMANDS: list[c.Command] = [
    c.RemoteStart("TAG-1", 2, PROFILE, 41),
    c.RemoteStop("tx-9"),
    c.Reset(c.ResetType.HARD, c.ResetWhen.ON_IDLE),
    c.UnlockConnector(1),
    c.ChangeAvailability(False, 2),
    c.GetConfiguration(("HeartbeatInterval", "MeterValueSampleInterval")),
    c.SetConfiguration("HeartbeatInterval", "60"),
    c.GetBaseReport(c.ReportBase.SUMMARY, 7),
    c.TriggerMessage(c.TriggerableMessage.METER_VALUES, 1),
    c.ClearCache(),
    c.SendLocalList(
        4,
        c.LocalListUpdate.DIFFERENTIAL,
        (
            c.LocalListEntry("A", IdTagInfo(AuthorizationStatus.ACCEPTED, AT, "P")),
            c.LocalListEntry("B", None),
        ),
    ),
    c.GetLocalListVersion(),
    c.ReserveNow(5, "TAG-2", AT, 1, "PARENT"),
    c.CancelReservation(5),
    c.SetChargingProfile(PROFILE, 1),
    c.ClearChargingProfile(3, 1, ProfilePurpose.TX, 0),
    c.GetChargingProfiles(8, 1, ProfilePurpose.STATION_MAX),
    c.GetCompositeSchedule(1, 3600, RateUnit.AMPERES),
    c.UpdateFirmware("https://fw.example/x.bin", AT, 3, 60, 9),
    c.GetDiagnostics("ftp://logs.example/", AT, AT, 1, 30, 10),
    c.DataTransfer("acme", "ping", '{"a": 1}'),
    c.CertificateSigned("-----BEGIN CERTIFICATE-----\nMII...\n-----END CERTIFICATE-----\n"),
    c.InstallCertificate(CertificateUse.CSMS_ROOT, "-----BEGIN CERTIFICATE-----\nMII..."),
    c.GetInstalledCertificateIds((CertificateUse.CSMS_ROOT, CertificateUse.MANUFACTURER_ROOT)),
    c.DeleteCertificate(CertificateHash("SHA256", "aa11", "bb22", "0c")),
]


def test_the_samples_cover_every_command() -> None:
    assert {type(command) for command in COMMANDS} == set(typing.get_args(c.Command))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: type(command).__name__)
def test_every_command_survives_the_trip(command: c.Command) -> None:
    assert codec.decode_command(codec.loads(codec.dumps(codec.encode_command(command)))) == command


def test_an_unknown_or_malformed_command_is_refused() -> None:
    with pytest.raises(codec.CodecError):
        codec.decode_command({"type": "FormatDisk", "fields": {}})
    with pytest.raises(codec.CodecError):
        codec.decode_command({"type": "UnlockConnector", "fields": {"connector_id": "x"}})


@pytest.mark.parametrize(
    "error",
    [
        e.StationOfflineError("CP-1", "is held by node 'b', which is not reachable"),
        e.CommandTimeoutError("CP-1", "Reset", 30),
        e.StationCallError("CP-1", "Reset", "InternalError", "relay stuck"),
        e.StationAnswerInvalidError("CP-1", "GetConfiguration", "1.6", {"k": 1}, "Type", "bad"),
        e.CommandNotSupportedError("Hard+OnIdle cannot be sent to a 2.0.1 station"),
        e.CommandQueueFullError("32 commands are waiting for CP-1"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_errors_keep_class_message_and_attributes(error: e.CommandError) -> None:
    decoded = codec.decode_error(codec.loads(codec.dumps(codec.encode_error(error))))
    assert type(decoded) is type(error)
    assert str(decoded) == str(error)
    for name in ("code", "description", "action", "payload"):
        assert getattr(decoded, name, None) == getattr(error, name, None)


@pytest.mark.parametrize(
    "error",
    [
        e.NotFoundError("vehicle", "ev9"),
        e.ConflictError("deferrable load 'dishwasher' exists already"),
        e.InvalidInputError("unknown policy 'cheap'"),
        e.InputValidationError(
            "set_energy_config", [e.FieldProblem("grid.import_limit_kw", "too big", "less")]
        ),
        e.StorageUnavailableError("connection refused by db:5432"),
        e.LeaderUnavailableError("node 'a' no longer leads the cluster; retry", 3),
        e.LeaderTimeoutError("the node leading the cluster did not answer within 35 s"),
        e.StationCallError("CP-1", "SetChargingProfile", "NotSupported", "no"),
        e.DomainError("something else"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_domain_errors_from_the_leader_keep_class_message_and_attributes(
    error: e.DomainError,
) -> None:
    decoded = codec.decode_domain_error(codec.loads(codec.dumps(codec.encode_domain_error(error))))
    assert type(decoded) is type(error)
    assert str(decoded) == str(error)
    names = ("kind", "key", "reason", "retry_after_seconds", "operation", "errors", "code")
    for name in names:
        assert getattr(decoded, name, None) == getattr(error, name, None)


def test_results_travel_as_json() -> None:
    result = c.CommandResult("Accepted", {"schedule": {"periods": [{"limit": 16.0}]}})
    assert codec.decode_result(codec.loads(codec.dumps(codec.encode_result(result)))) == result


def _sample_event(kind: type[DomainEvent]) -> DomainEvent:
    values: dict[str, object] = {"at": AT, "charge_point_id": "CP-1"}
    samples = {int: 3, str: "x", float: 1.5, bool: True, datetime: AT}
    for name, hint in typing.get_type_hints(kind).items():
        if name in values or typing.get_origin(hint) is typing.ClassVar:
            continue
        union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        first = next(a for a in typing.get_args(hint) if a is not type(None)) if union else hint
        values[name] = {"energy": 1.0} if typing.get_origin(first) is dict else samples[first]
    return kind(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", EVENT_TYPES, ids=lambda kind: kind.type)
def test_every_event_type_survives_the_trip(kind: type[DomainEvent]) -> None:
    event = _sample_event(kind)
    assert codec.decode_event(codec.encode_event(event)) == event
