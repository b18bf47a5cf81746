"""Operations sent to a station, whatever its OCPP version, with the station's real answer.

Each returns the station's own status (Accepted, Rejected, ...) and what else it said.
Errors: offline (the station is not connected), timeout (no answer in time), CALLERROR
(the station refused the request itself), not supported in the station's OCPP version.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self, TypeVar

from pydantic import Field, model_validator

from ev_charging_system.business_logic.operations.actor import Role
from ev_charging_system.business_logic.operations.catalogue import (
    AnyOperation,
    Describe,
    Effect,
    Http,
    Operation,
    OperationContext,
)
from ev_charging_system.business_logic.operations.fields import (
    ConnectorId,
    IdTagValue,
    PositiveId,
    StationOrConnectorId,
    StationTarget,
    Strict,
    TransactionId,
    UtcDateTime,
    where,
)
from ev_charging_system.business_logic.read_models.insight import CommandResultOut
from ev_charging_system.business_logic.redaction import is_secret_key, redact_text
from ev_charging_system.models import commands as c
from ev_charging_system.models.certificates import CertificateHash, CertificateUse
from ev_charging_system.models.charging_profile import (
    ChargingProfile,
    ProfileKind,
    ProfilePurpose,
    RateUnit,
    SchedulePeriod,
)
from ev_charging_system.models.id_token import AuthorizationStatus, IdTagInfo

Url = Annotated[str, Field(min_length=1, max_length=512)]

# --- inputs -----------------------------------------------------------------------------------


class SchedulePeriodIn(Strict):
    start_period_seconds: Annotated[int, Field(ge=0, le=2**31 - 1)]
    limit: Annotated[float, Field(ge=0, le=2_000_000, description="in the profile's unit (W or A)")]
    number_phases: Annotated[int, Field(ge=1, le=3)] | None = None


class ChargingProfileIn(Strict):
    id: PositiveId
    stack_level: Annotated[int, Field(ge=0, le=100)] = 0
    purpose: ProfilePurpose = ProfilePurpose.TX_DEFAULT
    kind: ProfileKind = ProfileKind.ABSOLUTE
    rate_unit: RateUnit = RateUnit.AMPERES
    periods: Annotated[list[SchedulePeriodIn], Field(min_length=1, max_length=1024)]
    duration_seconds: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    start_schedule: UtcDateTime | None = None
    min_charging_rate: Annotated[float, Field(ge=0, le=2_000_000)] | None = None
    recurrency: Annotated[str, Field(pattern="^(Daily|Weekly)$")] | None = None
    valid_from: UtcDateTime | None = None
    valid_to: UtcDateTime | None = None
    transaction_id: Annotated[str, Field(max_length=36)] | None = Field(
        default=None, description="OCPP transaction id, required for TxProfile"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        starts = [p.start_period_seconds for p in self.periods]
        if starts[0] != 0 or starts != sorted(set(starts)):
            raise ValueError("periods must start at 0 s and be strictly increasing")
        if self.kind is ProfileKind.RECURRING and self.recurrency is None:
            raise ValueError("a Recurring profile needs recurrency Daily or Weekly")
        if self.purpose is ProfilePurpose.TX and self.transaction_id is None:
            raise ValueError("a TxProfile needs the transaction_id it applies to")
        if self.valid_from and self.valid_to and self.valid_from >= self.valid_to:
            raise ValueError("valid_from must be before valid_to")
        return self

    def to_domain(self) -> ChargingProfile:
        return ChargingProfile(
            id=self.id,
            stack_level=self.stack_level,
            purpose=self.purpose,
            kind=self.kind,
            rate_unit=self.rate_unit,
            periods=tuple(
                SchedulePeriod(p.start_period_seconds, p.limit, p.number_phases)
                for p in self.periods
            ),
            duration_seconds=self.duration_seconds,
            start_schedule=self.start_schedule,
            min_charging_rate=self.min_charging_rate,
            recurrency=self.recurrency,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            transaction_id=self.transaction_id,
        )


class CommandInput(StationTarget):
    """The input of an operation that is one OCPP call to the station."""

    def to_command(self) -> c.Command:
        raise NotImplementedError


CI = TypeVar("CI", bound=CommandInput)


class RemoteStartIn(CommandInput):
    id_tag: IdTagValue
    connector_id: ConnectorId | None = Field(
        default=None, description="omit to let the station choose"
    )
    charging_profile: ChargingProfileIn | None = None

    def to_command(self) -> c.RemoteStart:
        profile = self.charging_profile.to_domain() if self.charging_profile else None
        return c.RemoteStart(self.id_tag, self.connector_id, profile)


class RemoteStopIn(StationTarget):
    transaction_id: TransactionId


class ResetIn(CommandInput):
    type: c.ResetType = Field(
        default=c.ResetType.SOFT, description="Soft: restart software; Hard: power-cycle"
    )
    when: c.ResetWhen = Field(
        default=c.ResetWhen.IMMEDIATE,
        description="2.0.1: OnIdle waits until running sessions have ended",
    )

    def to_command(self) -> c.Reset:
        return c.Reset(self.type, self.when)


class UnlockConnectorIn(CommandInput):
    connector_id: ConnectorId

    def to_command(self) -> c.UnlockConnector:
        return c.UnlockConnector(self.connector_id)


class ChangeAvailabilityIn(CommandInput):
    operative: bool = Field(description="false takes it out of service")
    connector_id: StationOrConnectorId | None = Field(
        default=None, description="omit or 0: the whole station"
    )

    def to_command(self) -> c.ChangeAvailability:
        return c.ChangeAvailability(self.operative, self.connector_id)


ConfigurationKey = Annotated[str, Field(min_length=1, max_length=100)]


class GetConfigurationIn(CommandInput):
    keys: Annotated[
        list[ConfigurationKey],
        Field(max_length=100, description="keys to read; empty: all (OCPP 1.6 only)"),
    ] = []

    def to_command(self) -> c.GetConfiguration:
        return c.GetConfiguration(tuple(self.keys))


class SetConfigurationIn(CommandInput):
    key: ConfigurationKey = Field(description="1.6 key, or Component.Variable on 2.0.1")
    value: Annotated[str, Field(max_length=1000)]

    def to_command(self) -> c.SetConfiguration:
        return c.SetConfiguration(self.key, self.value)


class GetBaseReportIn(CommandInput):
    report_base: c.ReportBase = c.ReportBase.FULL

    def to_command(self) -> c.GetBaseReport:
        return c.GetBaseReport(self.report_base)


class TriggerMessageIn(CommandInput):
    message: c.TriggerableMessage
    connector_id: ConnectorId | None = None

    def to_command(self) -> c.TriggerMessage:
        return c.TriggerMessage(self.message, self.connector_id)


class ClearCacheIn(CommandInput):
    def to_command(self) -> c.ClearCache:
        return c.ClearCache()


# OCPP carries a certificate as PEM text of at most 5500 characters (both versions).
PemCertificate = Annotated[
    str,
    Field(
        min_length=64,
        max_length=5500,
        pattern=r"^-----BEGIN CERTIFICATE-----",
        description="PEM, starting with -----BEGIN CERTIFICATE-----",
    ),
]
HexHash = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[0-9a-fA-F]+$")]


class InstallCertificateIn(CommandInput):
    use: CertificateUse = Field(
        description="csms_root: the station then trusts servers this CA issued (wss://); "
        "manufacturer_root: firmware signatures; v2g_root, mo_root: 2.0.1 only"
    )
    certificate: PemCertificate

    def to_command(self) -> c.InstallCertificate:
        return c.InstallCertificate(self.use, self.certificate.strip())


class GetInstalledCertificateIdsIn(CommandInput):
    uses: Annotated[
        list[CertificateUse],
        Field(max_length=4, description="empty: every kind (2.0.1); 1.6 needs exactly one"),
    ] = []

    def to_command(self) -> c.GetInstalledCertificateIds:
        return c.GetInstalledCertificateIds(tuple(dict.fromkeys(self.uses)))


class DeleteCertificateIn(CommandInput):
    """The certificate as GetInstalledCertificateIds named it."""

    hash_algorithm: Literal["SHA256", "SHA384", "SHA512"]
    issuer_name_hash: HexHash
    issuer_key_hash: HexHash
    serial_number: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[0-9a-fA-F]+$")]

    def to_command(self) -> c.DeleteCertificate:
        return c.DeleteCertificate(
            CertificateHash(
                self.hash_algorithm, self.issuer_name_hash, self.issuer_key_hash, self.serial_number
            )
        )


class LocalListEntryIn(Strict):
    id_tag: IdTagValue
    status: AuthorizationStatus | None = Field(
        default=None, description="omit to remove the tag in a Differential update"
    )
    expiry_date: UtcDateTime | None = None
    parent_id_tag: IdTagValue | None = None


class SendLocalListIn(CommandInput):
    version: PositiveId
    update_type: c.LocalListUpdate = c.LocalListUpdate.FULL
    entries: Annotated[list[LocalListEntryIn], Field(max_length=10_000)] = []

    def to_command(self) -> c.SendLocalList:
        return c.SendLocalList(
            self.version,
            self.update_type,
            tuple(
                c.LocalListEntry(
                    e.id_tag,
                    IdTagInfo(e.status, e.expiry_date, e.parent_id_tag) if e.status else None,
                )
                for e in self.entries
            ),
        )


class GetLocalListVersionIn(CommandInput):
    def to_command(self) -> c.GetLocalListVersion:
        return c.GetLocalListVersion()


class ReserveNowIn(CommandInput):
    reservation_id: PositiveId
    id_tag: IdTagValue
    expiry: UtcDateTime
    connector_id: StationOrConnectorId | None = None
    parent_id_tag: IdTagValue | None = None

    def to_command(self) -> c.ReserveNow:
        return c.ReserveNow(
            self.reservation_id, self.id_tag, self.expiry, self.connector_id, self.parent_id_tag
        )


class CancelReservationIn(CommandInput):
    reservation_id: PositiveId

    def to_command(self) -> c.CancelReservation:
        return c.CancelReservation(self.reservation_id)


class SetChargingProfileIn(CommandInput):
    connector_id: StationOrConnectorId = 0
    profile: ChargingProfileIn

    def to_command(self) -> c.SetChargingProfile:
        return c.SetChargingProfile(self.profile.to_domain(), self.connector_id)


class ClearChargingProfileIn(CommandInput):
    profile_id: PositiveId | None = None
    connector_id: StationOrConnectorId | None = None
    purpose: ProfilePurpose | None = None
    stack_level: Annotated[int, Field(ge=0, le=100)] | None = None

    def to_command(self) -> c.ClearChargingProfile:
        return c.ClearChargingProfile(
            self.profile_id, self.connector_id, self.purpose, self.stack_level
        )


class GetChargingProfilesIn(CommandInput):
    connector_id: StationOrConnectorId | None = None
    purpose: ProfilePurpose | None = None

    def to_command(self) -> c.GetChargingProfiles:
        return c.GetChargingProfiles(connector_id=self.connector_id, purpose=self.purpose)


class GetCompositeScheduleIn(CommandInput):
    connector_id: StationOrConnectorId
    duration_seconds: Annotated[int, Field(ge=1, le=7 * 86_400)]
    rate_unit: RateUnit | None = None

    def to_command(self) -> c.GetCompositeSchedule:
        return c.GetCompositeSchedule(self.connector_id, self.duration_seconds, self.rate_unit)


Retries = Annotated[int, Field(ge=0, le=100)]
RetryInterval = Annotated[int, Field(ge=0, le=86_400)]


class UpdateFirmwareIn(CommandInput):
    location: Url
    retrieve_date: UtcDateTime
    retries: Retries | None = None
    retry_interval_seconds: RetryInterval | None = None

    def to_command(self) -> c.UpdateFirmware:
        return c.UpdateFirmware(
            self.location, self.retrieve_date, self.retries, self.retry_interval_seconds
        )


class GetDiagnosticsIn(CommandInput):
    location: Url
    start: UtcDateTime | None = None
    stop: UtcDateTime | None = None
    retries: Retries | None = None
    retry_interval_seconds: RetryInterval | None = None

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.start and self.stop and self.start >= self.stop:
            raise ValueError("start must be before stop")
        return self

    def to_command(self) -> c.GetDiagnostics:
        return c.GetDiagnostics(
            self.location, self.start, self.stop, self.retries, self.retry_interval_seconds
        )


class DataTransferIn(CommandInput):
    vendor_id: Annotated[str, Field(min_length=1, max_length=255)]
    message_id: Annotated[str, Field(max_length=50)] | None = None
    data: Annotated[str, Field(max_length=100_000)] | None = None

    def to_command(self) -> c.DataTransfer:
        return c.DataTransfer(self.vendor_id, self.message_id, self.data)


# Every limit a channel may ask for; a station's own maximum is its business.
MAX_AMPERES = 2_000.0
MAX_WATTS = 2_000_000.0


class ChargingLimitIn(StationTarget):
    limit: Annotated[float, Field(gt=0, description="maximum charging rate, in `unit`")]
    unit: RateUnit = RateUnit.AMPERES
    connector_id: StationOrConnectorId = Field(
        default=0, description="new sessions on this connector; 0: every connector"
    )
    transaction_id: TransactionId | None = Field(
        default=None, description="limit this running session only (a TxProfile)"
    )
    duration_seconds: Annotated[int, Field(ge=60, le=7 * 86_400)] | None = Field(
        default=None, description="omit: until changed"
    )

    @model_validator(mode="after")
    def _within_ceiling(self) -> Self:
        ceiling = MAX_AMPERES if self.unit is RateUnit.AMPERES else MAX_WATTS
        if self.limit > ceiling:
            raise ValueError(f"limit must be at most {ceiling:g} {self.unit.value}")
        return self


# --- sentences (from validated input) ------------------------------------------------------


def _start(i: RemoteStartIn) -> str:
    return f"Start charging on {where(i.charge_point_id, i.connector_id)} for id tag {i.id_tag}"


def _reset(i: ResetIn) -> str:
    idle = " once no session is running" if i.when is c.ResetWhen.ON_IDLE else ""
    return f"{i.type.value} reset of {i.charge_point_id}{idle}"


def _availability(i: ChangeAvailabilityIn) -> str:
    state = "operative" if i.operative else "inoperative (out of service)"
    return f"Make {where(i.charge_point_id, i.connector_id)} {state}"


def _set_configuration(i: SetConfigurationIn) -> str:
    shown = "a new secret value" if is_secret_key(i.key) else repr(redact_text(i.value))
    return f"Set {i.key} = {shown} on {i.charge_point_id}"


def _local_list(i: SendLocalListIn) -> str:
    return (
        f"Send local authorization list version {i.version} ({i.update_type.value}, "
        f"{len(i.entries)} entries) to {i.charge_point_id}"
    )


def _reserve(i: ReserveNowIn) -> str:
    return (
        f"Reserve {where(i.charge_point_id, i.connector_id)} for id tag {i.id_tag} until "
        f"{i.expiry.isoformat()} (reservation {i.reservation_id})"
    )


def _profile(i: SetChargingProfileIn) -> str:
    p = i.profile
    first = p.periods[0]
    return (
        f"Install charging profile {p.id} ({p.purpose.value}, {first.limit:g} "
        f"{p.rate_unit.value} from the start, {len(p.periods)} periods) on "
        f"{where(i.charge_point_id, i.connector_id) if i.connector_id else i.charge_point_id}"
    )


def _clear_profiles(i: ClearChargingProfileIn) -> str:
    filters = [
        f"id {i.profile_id}" if i.profile_id is not None else "",
        f"connector {i.connector_id}" if i.connector_id is not None else "",
        f"purpose {i.purpose.value}" if i.purpose is not None else "",
        f"stack level {i.stack_level}" if i.stack_level is not None else "",
    ]
    chosen = ", ".join(f for f in filters if f)
    return f"Remove charging profiles ({chosen or 'all of them'}) from {i.charge_point_id}"


def _firmware(i: UpdateFirmwareIn) -> str:
    return (
        f"Install firmware from {redact_text(i.location)} on {i.charge_point_id} "
        f"(download from {i.retrieve_date.isoformat()})"
    )


def _diagnostics(i: GetDiagnosticsIn) -> str:
    return f"Upload the diagnostics of {i.charge_point_id} to {redact_text(i.location)}"


def _data_transfer(i: DataTransferIn) -> str:
    message = f"/{i.message_id}" if i.message_id else ""
    return f"Send DataTransfer {i.vendor_id}{message} to {i.charge_point_id}"


def _limit(i: ChargingLimitIn) -> str:
    if i.transaction_id is not None:
        target = f"session {i.transaction_id}"
    elif i.connector_id:
        target = f"new sessions on connector {i.connector_id}"
    else:
        target = "new sessions on every connector"
    duration = f" for {i.duration_seconds} s" if i.duration_seconds else ""
    return f"Limit {target} of {i.charge_point_id} to {i.limit:g} {i.unit.value}{duration}"


# --- how they run ----------------------------------------------------------------------------


async def station_exists(ctx: OperationContext, arguments: StationTarget) -> None:
    """Never ask anyone to confirm an action on a station we do not know."""
    await ctx.services.devices.get_charge_point(arguments.charge_point_id)


async def send_command(ctx: OperationContext, arguments: CommandInput) -> CommandResultOut:
    result = await ctx.services.commands.execute(
        arguments.charge_point_id, arguments.to_command(), ctx.actor.name
    )
    return CommandResultOut.of(result)


async def stop_session(ctx: OperationContext, arguments: RemoteStopIn) -> CommandResultOut:
    result = await ctx.services.commands.stop_transaction(
        arguments.charge_point_id, arguments.transaction_id, ctx.actor.name
    )
    return CommandResultOut.of(result)


async def running_session(ctx: OperationContext, arguments: RemoteStopIn) -> None:
    await ctx.services.commands.running_transaction(
        arguments.charge_point_id, arguments.transaction_id
    )


async def limit_checks(ctx: OperationContext, arguments: ChargingLimitIn) -> None:
    await station_exists(ctx, arguments)
    if arguments.transaction_id is not None:
        await ctx.services.commands.running_transaction(
            arguments.charge_point_id, arguments.transaction_id
        )


async def apply_limit(ctx: OperationContext, arguments: ChargingLimitIn) -> CommandResultOut:
    result = await ctx.services.smart_charging.set_operator_limit(
        arguments.charge_point_id,
        limit=arguments.limit,
        unit=arguments.unit,
        connector_id=arguments.connector_id,
        transaction_id=arguments.transaction_id,
        duration_seconds=arguments.duration_seconds,
        requested_by=ctx.actor.name,
    )
    return CommandResultOut.of(result)


def _command(
    name: str,
    path: str,
    title: str,
    description: str,
    input: type[CI],
    *,
    effect: Effect = Effect.ACT,
    destructive: bool = True,
    confirm: bool = False,
    idempotent: bool = True,
    describe: Describe[CI] | None = None,
    role: Role = Role.OPERATOR,
    tool: bool = True,
) -> Operation[CI, CommandResultOut]:
    return Operation(
        name=name,
        title=title,
        description=description,
        input=input,
        output=CommandResultOut,
        role=role,
        perform=send_command,
        effect=effect,
        destructive=destructive and effect is Effect.ACT,
        confirm=confirm,
        idempotent=idempotent,
        open_world=True,
        describe=describe,
        precheck=station_exists,
        http=(Http("POST", f"/api/charge-points/{{charge_point_id}}/commands/{path}"),),
        tool=tool,
    )


def _read(
    name: str, path: str, title: str, description: str, input: type[CI]
) -> Operation[CI, CommandResultOut]:
    return _command(name, path, title, description, input, effect=Effect.READ, destructive=False)


STATION_COMMANDS: tuple[AnyOperation, ...] = (
    _command(
        "start_charging_session",
        "remote-start",
        "Start a charging session",
        "Ask a station to start charging for an id tag (1.6 RemoteStartTransaction / 2.0.1 "
        "RequestStartTransaction). Omit connector_id to let the station choose.",
        RemoteStartIn,
        destructive=False,
        confirm=True,  # it runs up a bill on someone's id tag
        idempotent=False,
        describe=_start,
    ),
    Operation(
        name="stop_charging_session",
        title="Stop a charging session",
        description="Stop a running session by its CSMS transaction id (see list_transactions).",
        input=RemoteStopIn,
        output=CommandResultOut,
        role=Role.OPERATOR,
        perform=stop_session,
        effect=Effect.ACT,
        destructive=True,
        open_world=True,
        describe=lambda i: f"Stop session {i.transaction_id} on {i.charge_point_id}",
        precheck=running_session,
        http=(Http("POST", "/api/charge-points/{charge_point_id}/commands/remote-stop"),),
    ),
    _command(
        "send_remote_reset",
        "reset",
        "Reset a charge point",
        "Reboot a station (Soft: restart its software; Hard: power-cycle). Running sessions "
        "are stopped, unless `when` is OnIdle (2.0.1), which waits until they have ended.",
        ResetIn,
        idempotent=False,
        describe=_reset,
    ),
    _command(
        "unlock_connector",
        "unlock-connector",
        "Unlock a connector",
        "Release a stuck cable. A session running on the connector ends.",
        UnlockConnectorIn,
        describe=lambda i: f"Unlock {where(i.charge_point_id, i.connector_id)}",
    ),
    _command(
        "change_availability",
        "change-availability",
        "Change availability",
        "Put a station (connector_id omitted or 0) or one connector in or out of service. "
        "Running sessions finish first (the station answers Scheduled).",
        ChangeAvailabilityIn,
        describe=_availability,
    ),
    _read(
        "get_configuration",
        "get-configuration",
        "Read station configuration",
        "Ask the station for configuration values (1.6 GetConfiguration; 2.0.1 GetVariables "
        "with Component.Variable keys).",
        GetConfigurationIn,
    ),
    _command(
        "set_configuration",
        "set-configuration",
        "Change a configuration value",
        "Change one configuration key (1.6 ChangeConfiguration / 2.0.1 SetVariables). Some "
        "keys only take effect after a reset (the station answers RebootRequired).",
        SetConfigurationIn,
        describe=_set_configuration,
    ),
    _read(
        "get_base_report",
        "get-base-report",
        "Ask for the device model",
        "Ask a 2.0.1 station for a base report (NotifyReport follows and is stored as its "
        "device model); a 1.6 station is asked for its whole configuration.",
        GetBaseReportIn,
    ),
    _command(
        "trigger_message",
        "trigger-message",
        "Trigger a message",
        "Ask a station to send a message now (e.g. StatusNotification to refresh connector "
        "status, MeterValues, Heartbeat). Changes nothing on the station.",
        TriggerMessageIn,
        destructive=False,
        describe=lambda i: (
            f"Ask {where(i.charge_point_id, i.connector_id)} to send {i.message.value}"
        ),
    ),
    _command(
        "clear_cache",
        "clear-cache",
        "Clear the authorization cache",
        "Empty the station's cache of id tags it has seen; the next use of each tag is "
        "authorised by the CSMS again.",
        ClearCacheIn,
        describe=lambda i: f"Clear the authorization cache of {i.charge_point_id}",
    ),
    _command(
        "install_certificate",
        "install-certificate",
        "Install a root certificate",
        "Make the station trust a CA: csms_root for the server certificates of wss:// "
        "(security profiles 2 and 3; get_certificate_authority gives this CSMS's own), "
        "manufacturer_root for signed firmware. 1.6 security extension and 2.0.1.",
        InstallCertificateIn,
        role=Role.ADMIN,
        confirm=True,
        tool=False,  # what a station trusts is an administrator's call, not a model's
        describe=lambda i: (
            f"Install a {i.use.value.replace('_', ' ')} certificate on {i.charge_point_id}"
        ),
    ),
    _read(
        "get_installed_certificate_ids",
        "get-installed-certificate-ids",
        "List installed root certificates",
        "Ask the station which root certificates it holds (their hash data, as "
        "delete_certificate takes them).",
        GetInstalledCertificateIdsIn,
    ),
    _command(
        "delete_certificate",
        "delete-certificate",
        "Delete an installed certificate",
        "Remove a root certificate from the station, named by its hash data. Deleting the CA "
        "of the server it connects to cuts it off from wss://.",
        DeleteCertificateIn,
        role=Role.ADMIN,
        confirm=True,
        tool=False,
        describe=lambda i: f"Delete certificate serial {i.serial_number} from {i.charge_point_id}",
    ),
    _command(
        "send_local_list",
        "send-local-list",
        "Send the local authorization list",
        "Replace (Full) or change (Differential) the id tags a station authorises offline.",
        SendLocalListIn,
        describe=_local_list,
    ),
    _read(
        "get_local_list_version",
        "get-local-list-version",
        "Read the local list version",
        "Ask the station which version of the local authorization list it holds.",
        GetLocalListVersionIn,
    ),
    _command(
        "reserve_now",
        "reserve-now",
        "Reserve a connector",
        "Reserve a connector (or the station, connector 0) for an id tag until `expiry`.",
        ReserveNowIn,
        idempotent=False,
        describe=_reserve,
    ),
    _command(
        "cancel_reservation",
        "cancel-reservation",
        "Cancel a reservation",
        "Cancel a reservation made with reserve_now.",
        CancelReservationIn,
        describe=lambda i: f"Cancel reservation {i.reservation_id} on {i.charge_point_id}",
    ),
    _command(
        "set_charging_profile",
        "set-charging-profile",
        "Install a charging profile",
        "Install a charging profile (a schedule of power or current limits) on a connector "
        "or, with connector 0, the whole station.",
        SetChargingProfileIn,
        describe=_profile,
    ),
    _command(
        "clear_charging_profile",
        "clear-charging-profile",
        "Remove charging profiles",
        "Remove charging profiles matching the filters (none given: all of them).",
        ClearChargingProfileIn,
        describe=_clear_profiles,
    ),
    _read(
        "get_charging_profiles",
        "get-charging-profiles",
        "Ask for installed profiles",
        "Ask a 2.0.1 station to report its installed charging profiles.",
        GetChargingProfilesIn,
    ),
    _read(
        "get_composite_schedule",
        "get-composite-schedule",
        "Read the effective schedule",
        "Ask the station for the schedule it will actually follow on a connector, all "
        "profiles combined.",
        GetCompositeScheduleIn,
    ),
    _command(
        "update_firmware",
        "update-firmware",
        "Install firmware",
        "Make the station download and install firmware from a URL.",
        UpdateFirmwareIn,
        idempotent=False,
        describe=_firmware,
    ),
    _command(
        "get_diagnostics",
        "get-diagnostics",
        "Upload diagnostics",
        "Make the station upload its diagnostics/log file to a URL (2.0.1: GetLog).",
        GetDiagnosticsIn,
        idempotent=False,
        describe=_diagnostics,
    ),
    _command(
        "data_transfer",
        "data-transfer",
        "Vendor-specific DataTransfer",
        "Send a vendor-specific DataTransfer message; what the station does with it is up "
        "to its vendor.",
        DataTransferIn,
        idempotent=False,
        describe=_data_transfer,
    ),
    Operation(
        name="set_charging_limit",
        title="Limit charging power",
        description="Cap the charging rate in A or W from now on: of one running session "
        "(transaction_id, a TxProfile), or the default for new sessions on a connector "
        "(0 = every connector; a TxDefaultProfile). A new limit replaces the previous one.",
        input=ChargingLimitIn,
        output=CommandResultOut,
        role=Role.OPERATOR,
        perform=apply_limit,
        effect=Effect.ACT,
        destructive=True,
        open_world=True,
        describe=_limit,
        precheck=limit_checks,
        http=(Http("POST", "/api/charge-points/{charge_point_id}/commands/set-charging-limit"),),
    ),
)
