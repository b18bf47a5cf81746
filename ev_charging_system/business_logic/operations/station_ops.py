"""Charge points: what they are and how they are doing, registration and credentials."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from ev_charging_system.business_logic.operations.actor import Role
from ev_charging_system.business_logic.operations.catalogue import (
    AnyOperation,
    Effect,
    Http,
    Operation,
    OperationContext,
)
from ev_charging_system.business_logic.operations.fields import (
    ChargePointId,
    ConnectorId,
    NoInput,
    Offset,
    PageSize,
    StationTarget,
    Strict,
)
from ev_charging_system.business_logic.read_models.stations import (
    AvailableConnectorOut,
    AvailableConnectorsOut,
    CertificateAuthorityOut,
    ChargePointOut,
    ChargePointPageOut,
    ConnectorOut,
    DeviceModelEntryOut,
    FaultedConnectorOut,
    PowerPointOut,
    RecentErrorsOut,
    StationEventOut,
    StationPowerOut,
    StationStatusOut,
    StatusChangeOut,
)
from ev_charging_system.business_logic.read_models.transactions import TransactionOut
from ev_charging_system.business_logic.redaction import Secret
from ev_charging_system.models.charge_point import (
    ChargePointView,
    RegistrationStatus,
    SecurityProfile,
)
from ev_charging_system.models.listing import SortOrder, StationFilter, StationQuery, StationSort
from ev_charging_system.models.station_event import EventKind
from ev_charging_system.models.transaction import TransactionFilter

# Event kinds an operator reads as "something went wrong".
ERROR_EVENT_KINDS = frozenset(
    {
        EventKind.PROTOCOL_ERROR,
        EventKind.AUTH_FAILED,
        EventKind.SECURITY_EVENT,
        EventKind.METER_ANOMALY,
        EventKind.UNKNOWN_TRANSACTION_STOP,
        EventKind.UNKNOWN_TRANSACTION_METER_VALUES,
        EventKind.REPEATED_STOP,
    }
)
EVENT_SCAN_LIMIT = 1_000  # errors_only looks at this many recent events
MAX_ACTIVE_SHOWN = 100

StationPassword = Annotated[Secret, Field(min_length=16, max_length=40)]
Limit = Annotated[int, Field(ge=1, le=1000, description="how many to return")]


# --- inputs -------------------------------------------------------------------------------


class ListChargePointsIn(Strict):
    q: Annotated[str, Field(max_length=100)] | None = Field(
        default=None, description="text in the id, vendor, model, serial numbers or firmware"
    )
    status: StationFilter = Field(
        default=StationFilter.ALL,
        description="online/offline (connected now), accepted/pending/rejected (registration), "
        "faulted (connected with a Faulted connector), booted/never_booted",
    )
    vendor: Annotated[str, Field(max_length=50)] | None = None
    model: Annotated[str, Field(max_length=50)] | None = None
    site: Annotated[str, Field(pattern=r"^(none|[1-9][0-9]{0,14})$")] | None = Field(
        default=None, description="a site's id: its stations; 'none': stations of no site"
    )
    sort: StationSort = StationSort.ID
    order: SortOrder = SortOrder.ASC
    limit: PageSize = 50
    offset: Offset = 0
    online_only: bool = Field(
        default=False, description="only stations connected now (older name of status=online)"
    )

    @model_validator(mode="after")
    def _one_status(self) -> Self:
        if self.online_only and self.status not in (StationFilter.ALL, StationFilter.ONLINE):
            raise ValueError("online_only cannot be combined with another status")
        return self

    def query(self) -> StationQuery:
        return StationQuery(
            text=(self.q or "").strip() or None,
            status=StationFilter.ONLINE if self.online_only else self.status,
            vendor=self.vendor,
            model=self.model,
            site_id=int(self.site) if self.site not in (None, "none") else None,
            without_site=self.site == "none",
            sort=self.sort,
            order=self.order,
            limit=self.limit,
            offset=self.offset,
        )


class StationStatusIn(StationTarget):
    history: Annotated[int, Field(ge=0, le=50, description="status changes to include")] = 10


class AvailableConnectorsIn(Strict):
    charge_point_id: ChargePointId | None = Field(
        default=None, description="look at one station only"
    )


class StatusHistoryIn(StationTarget):
    connector_id: Annotated[int, Field(ge=0, le=1000)] | None = None
    limit: Limit = 100


class StationEventsIn(Strict):
    charge_point_id: ChargePointId | None = Field(default=None, description="omit: all stations")
    errors_only: bool = Field(
        default=False,
        description="keep protocol errors, failed logins, security events, meter anomalies",
    )
    limit: Limit = 100


class RecentErrorsIn(Strict):
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class CreateChargePointIn(Strict):
    id: ChargePointId
    password: StationPassword | None = Field(
        default=None, description="HTTP Basic password the station must present (Profile 1)"
    )
    registration_status: RegistrationStatus = RegistrationStatus.ACCEPTED


class StationPasswordIn(StationTarget):
    password: StationPassword | None = Field(description="null removes the password")


class StationPowerIn(StationTarget):
    connector_id: ConnectorId | None = Field(default=None, description="omit: all connectors")
    hours: Annotated[int, Field(ge=1, le=168)] = 24


class SecurityProfileIn(StationTarget):
    security_profile: SecurityProfile = Field(
        description="1: ws:// (+ password if set); 2: wss:// + password (set one first); "
        "3: wss:// + a client certificate issued to the station id"
    )


# --- how they run -------------------------------------------------------------------------


def _available(views: list[ChargePointView]) -> AvailableConnectorsOut:
    """Connectors a driver could use now: Available, on a connected, accepted station."""
    found = [
        AvailableConnectorOut(
            charge_point_id=view.charge_point.id,
            connector_id=c.connector_id,
            status=c.status,
            since=c.reported_at,
        )
        for view in views
        if view.online and view.charge_point.registration_status is RegistrationStatus.ACCEPTED
        for c in view.charge_point.connectors
        if c.connector_id > 0 and c.status == "Available"
    ]
    return AvailableConnectorsOut(connectors=found, count=len(found))


async def list_charge_points(ctx: OperationContext, i: ListChargePointsIn) -> ChargePointPageOut:
    views, total, vendors = await ctx.services.devices.page_charge_points(i.query())
    return ChargePointPageOut(
        items=[ChargePointOut.of(v) for v in views],
        total=total,
        limit=i.limit,
        offset=i.offset,
        vendors=vendors,
    )


async def get_charge_point(ctx: OperationContext, i: StationTarget) -> ChargePointOut:
    return ChargePointOut.of(await ctx.services.devices.get_charge_point(i.charge_point_id))


async def station_status(ctx: OperationContext, i: StationStatusIn) -> StationStatusOut:
    s = ctx.services
    view = await s.devices.get_charge_point(i.charge_point_id)
    changes = (
        await s.devices.status_history(i.charge_point_id, None, i.history) if i.history else []
    )
    active = await s.transactions.list_transactions(
        TransactionFilter(charge_point_id=i.charge_point_id, active=True, limit=MAX_ACTIVE_SHOWN)
    )
    return StationStatusOut(
        charge_point=ChargePointOut.of(view),
        active_transactions=[TransactionOut.of(t) for t in active.items],
        recent_status_changes=[StatusChangeOut.of(c) for c in changes],
    )


async def available_connectors(
    ctx: OperationContext, i: AvailableConnectorsIn
) -> AvailableConnectorsOut:
    devices = ctx.services.devices
    if i.charge_point_id is not None:
        return _available([await devices.get_charge_point(i.charge_point_id)])
    return _available(await devices.list_charge_points())


async def status_history(ctx: OperationContext, i: StatusHistoryIn) -> list[StatusChangeOut]:
    changes = await ctx.services.devices.status_history(i.charge_point_id, i.connector_id, i.limit)
    return [StatusChangeOut.of(c) for c in changes]


async def device_model(ctx: OperationContext, i: StationTarget) -> list[DeviceModelEntryOut]:
    entries = await ctx.services.devices.device_model(i.charge_point_id)
    return [DeviceModelEntryOut.of(e) for e in entries]


async def station_events(ctx: OperationContext, i: StationEventsIn) -> list[StationEventOut]:
    scan = EVENT_SCAN_LIMIT if i.errors_only else i.limit
    events = await ctx.services.devices.list_events(i.charge_point_id, scan)
    chosen = [e for e in events if not i.errors_only or e.kind in ERROR_EVENT_KINDS]
    return [StationEventOut.of(e) for e in chosen[: i.limit]]


async def recent_errors(ctx: OperationContext, i: RecentErrorsIn) -> RecentErrorsOut:
    devices = ctx.services.devices
    events = await devices.list_events(None, EVENT_SCAN_LIMIT)
    chosen = [e for e in events if e.kind in ERROR_EVENT_KINDS][: i.limit]
    faulted = [
        FaultedConnectorOut(charge_point_id=view.charge_point.id, connector=ConnectorOut.of(c))
        for view in await devices.list_charge_points()
        if view.online  # an offline station's last status is history, not a current fault
        for c in view.charge_point.connectors
        if c.status == "Faulted" or c.error_code not in ("NoError", "")
    ]
    return RecentErrorsOut(
        events=[StationEventOut.of(e) for e in chosen], faulted_connectors=faulted
    )


async def create_charge_point(ctx: OperationContext, i: CreateChargePointIn) -> ChargePointOut:
    view = await ctx.services.devices.create_charge_point(
        i.id, password=i.password, registration_status=i.registration_status
    )
    return ChargePointOut.of(view)


async def accept(ctx: OperationContext, i: StationTarget) -> ChargePointOut:
    view = await ctx.services.devices.set_registration_status(
        i.charge_point_id, RegistrationStatus.ACCEPTED
    )
    return ChargePointOut.of(view)


async def reject(ctx: OperationContext, i: StationTarget) -> ChargePointOut:
    view = await ctx.services.devices.set_registration_status(
        i.charge_point_id, RegistrationStatus.REJECTED
    )
    return ChargePointOut.of(view)


async def set_password(ctx: OperationContext, i: StationPasswordIn) -> ChargePointOut:
    return ChargePointOut.of(await ctx.services.devices.set_password(i.charge_point_id, i.password))


async def set_security_profile(ctx: OperationContext, i: SecurityProfileIn) -> ChargePointOut:
    view = await ctx.services.devices.set_security_profile(i.charge_point_id, i.security_profile)
    return ChargePointOut.of(view)


async def station_power(ctx: OperationContext, i: StationPowerIn) -> StationPowerOut:
    points = await ctx.services.meter_history.power(i.charge_point_id, i.connector_id, i.hours)
    return StationPowerOut(
        charge_point_id=i.charge_point_id,
        connector_id=i.connector_id,
        bucket_minutes=15,
        points=[PowerPointOut.of(p) for p in points],
    )


async def certificate_authority(ctx: OperationContext, _: NoInput) -> CertificateAuthorityOut:
    return CertificateAuthorityOut(
        certificate_pem=ctx.services.certificates.authority_certificate_pem
    )


async def known_station(ctx: OperationContext, i: StationTarget) -> None:
    await ctx.services.devices.get_charge_point(i.charge_point_id)


STATION = "/api/charge-points/{charge_point_id}"

STATION_OPERATIONS: tuple[AnyOperation, ...] = (
    Operation(
        name="list_charge_points",
        title="List charge points",
        description="The network's charge points with their connection state and connector "
        "status, a page at a time (total says how many match): search, filter by state, "
        "vendor/model or site, sort. Connector 0 is the station as a whole.",
        input=ListChargePointsIn,
        output=ChargePointPageOut,
        role=Role.VIEWER,
        perform=list_charge_points,
        http=(Http("GET", "/api/charge-points"),),
    ),
    Operation(
        name="get_charge_point",
        title="Charge point",
        description="One charge point: boot information, firmware, registration, connectors.",
        input=StationTarget,
        output=ChargePointOut,
        role=Role.VIEWER,
        perform=get_charge_point,
        http=(Http("GET", STATION),),
        tool=False,  # get_charge_point_status says the same and more
    ),
    Operation(
        name="get_charge_point_status",
        title="Charge point status",
        description="One charge point now: connection, connectors, running sessions and "
        "recent status changes.",
        input=StationStatusIn,
        output=StationStatusOut,
        role=Role.VIEWER,
        perform=station_status,
        http=(Http("GET", f"{STATION}/status"),),
    ),
    Operation(
        name="list_available_connectors",
        title="Available connectors",
        description="Connectors free for charging now (Available, on a connected and "
        "accepted station). Give charge_point_id to look at one station only.",
        input=AvailableConnectorsIn,
        output=AvailableConnectorsOut,
        role=Role.VIEWER,
        perform=available_connectors,
        http=(Http("GET", "/api/connectors/available"),),
    ),
    Operation(
        name="get_status_history",
        title="Status history",
        description="A station's connector status changes, newest first, including when it "
        "went online and offline.",
        input=StatusHistoryIn,
        output=list[StatusChangeOut],
        role=Role.VIEWER,
        perform=status_history,
        http=(Http("GET", f"{STATION}/status-history"),),
        tool=False,
    ),
    Operation(
        name="get_device_model",
        title="Device model",
        description="Components and variables an OCPP 2.0.1 station reported (NotifyReport).",
        input=StationTarget,
        output=list[DeviceModelEntryOut],
        role=Role.VIEWER,
        perform=device_model,
        http=(Http("GET", f"{STATION}/device-model"),),
    ),
    Operation(
        name="list_station_events",
        title="Station events",
        description="Recent things worth a look: connects, boots, firmware, security and "
        "protocol errors, newest first. errors_only keeps the problems.",
        input=StationEventsIn,
        output=list[StationEventOut],
        role=Role.VIEWER,
        perform=station_events,
        http=(Http("GET", f"{STATION}/events"),),
    ),
    Operation(
        name="list_recent_errors",
        title="Recent errors",
        description="Error events of every station and the connectors of connected "
        "stations that report a fault now.",
        input=RecentErrorsIn,
        output=RecentErrorsOut,
        role=Role.VIEWER,
        perform=recent_errors,
        http=(Http("GET", "/api/errors/recent"),),
    ),
    Operation(
        name="create_charge_point",
        title="Register a charge point",
        description="Add a station to the network before it connects, optionally with the "
        "HTTP Basic password it must present.",
        input=CreateChargePointIn,
        output=ChargePointOut,
        role=Role.ADMIN,
        perform=create_charge_point,
        effect=Effect.ACT,
        describe=lambda i: (
            f"Register charge point {i.id} as {i.registration_status.value}"
            + (" with a password" if i.password else "")
        ),
        http=(Http("POST", "/api/charge-points", status_code=201),),
        tool=False,
    ),
    Operation(
        name="accept_charge_point",
        title="Accept a charge point",
        description="Accept a pending or rejected station: its next BootNotification is "
        "answered Accepted.",
        input=StationTarget,
        output=ChargePointOut,
        role=Role.OPERATOR,
        perform=accept,
        effect=Effect.ACT,
        destructive=True,
        describe=lambda i: f"Accept charge point {i.charge_point_id} into the network",
        precheck=known_station,
        http=(Http("POST", f"{STATION}/accept"),),
    ),
    Operation(
        name="reject_charge_point",
        title="Reject a charge point",
        description="Reject a station: its messages get SecurityError until it is accepted.",
        input=StationTarget,
        output=ChargePointOut,
        role=Role.OPERATOR,
        perform=reject,
        effect=Effect.ACT,
        destructive=True,
        describe=lambda i: f"Reject charge point {i.charge_point_id} (it can no longer charge)",
        precheck=known_station,
        http=(Http("POST", f"{STATION}/reject"),),
    ),
    Operation(
        name="set_station_password",
        title="Set a station's password",
        description="Set or remove the station's HTTP Basic password (Security Profile 1).",
        input=StationPasswordIn,
        output=ChargePointOut,
        role=Role.ADMIN,
        perform=set_password,
        effect=Effect.ACT,
        destructive=True,
        describe=lambda i: (
            f"Set a new password for {i.charge_point_id}"
            if i.password
            else f"Remove the password of {i.charge_point_id}"
        ),
        precheck=known_station,
        http=(Http("PUT", f"{STATION}/password"),),
        tool=False,  # a password has no business in a model's context
    ),
    Operation(
        name="set_station_security_profile",
        title="Set a station's security profile",
        description="How the station must connect from now on: 1 ws:// (+ password), 2 "
        "wss:// + password, 3 wss:// + client certificate. A station not yet configured for "
        "the new profile is refused at its next connection; see docs/operator-guide.md.",
        input=SecurityProfileIn,
        output=ChargePointOut,
        role=Role.ADMIN,
        perform=set_security_profile,
        effect=Effect.ACT,
        destructive=True,
        confirm=True,
        describe=lambda i: (
            f"Require security profile {i.security_profile.value} of "
            f"{i.charge_point_id} (it is refused on other connections)"
        ),
        precheck=known_station,
        http=(Http("PUT", f"{STATION}/security-profile"),),
        tool=False,  # it can lock a station out: an administrator's call, not a model's
    ),
    Operation(
        name="get_station_power",
        title="Station power over time",
        description="Mean and peak charging power and energy per 15 minutes over the last "
        "hours (from meter samples and, past their retention, their rollups).",
        input=StationPowerIn,
        output=StationPowerOut,
        role=Role.VIEWER,
        perform=station_power,
        http=(Http("GET", f"{STATION}/power"),),
    ),
    Operation(
        name="get_certificate_authority",
        title="The CSMS's certificate authority",
        description="The CA certificate (PEM) that signs station certificates and the "
        "wss:// server certificate: install it on stations as their CSMS root.",
        input=NoInput,
        output=CertificateAuthorityOut,
        role=Role.VIEWER,
        perform=certificate_authority,
        http=(Http("GET", "/api/certificate-authority"),),
    ),
)
