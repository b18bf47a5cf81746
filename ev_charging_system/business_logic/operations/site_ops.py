"""Sites: their inventory, which station stands where, the overview's counts per site and
a site's power over time. Changing sites is an administrator's job (not offered to
models); reading them is for everyone."""

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
    MAX_ID,
    ChargePointId,
    NoInput,
    Offset,
    PageSize,
    Strict,
)
from ev_charging_system.business_logic.read_models.sites import (
    NetworkSummaryOut,
    SiteOut,
    SitePageOut,
    SitePowerOut,
    SiteSummaryOut,
    StationCountsOut,
)
from ev_charging_system.business_logic.read_models.stations import ChargePointOut, PowerPointOut
from ev_charging_system.business_logic.site_service import MAX_ADDRESS_LENGTH, MAX_NAME_LENGTH
from ev_charging_system.models.site import SiteDetails

SiteId = Annotated[int, Field(ge=1, le=MAX_ID, description="the site's id, as the list shows")]
SiteName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        pattern=r"^\S(?:.*\S)?$",
        description="unique, e.g. 'Depot North' (no surrounding spaces)",
    ),
]


class SiteTarget(Strict):
    site_id: SiteId


class ListSitesIn(Strict):
    q: Annotated[str, Field(max_length=100)] | None = Field(
        default=None, description="text in the name or address"
    )
    limit: PageSize = 100
    offset: Offset = 0


class SiteIn(Strict):
    """A site's details; latitude and longitude go together (both or neither)."""

    name: SiteName
    address: Annotated[str, Field(max_length=MAX_ADDRESS_LENGTH)] = ""
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    grid_limit_kw: Annotated[float, Field(gt=0, le=1_000_000)] | None = Field(
        default=None, description="the grid connection's capacity in kW, if known"
    )

    @model_validator(mode="after")
    def _both_coordinates(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self

    def details(self) -> SiteDetails:
        return SiteDetails(
            name=self.name,
            address=self.address,
            latitude=self.latitude,
            longitude=self.longitude,
            grid_limit_kw=self.grid_limit_kw,
        )


class UpdateSiteIn(SiteIn):
    site_id: SiteId


class AssignSiteIn(Strict):
    charge_point_id: ChargePointId
    site_id: SiteId | None = Field(description="the site it stands at; null: no site")


class SitePowerIn(SiteTarget):
    hours: Annotated[int, Field(ge=1, le=168)] = 24


# --- how they run -------------------------------------------------------------------------


async def list_sites(ctx: OperationContext, i: ListSitesIn) -> SitePageOut:
    text = (i.q or "").strip() or None
    sites, total = await ctx.services.sites.page(text, i.limit, i.offset)
    return SitePageOut(
        items=[SiteOut.of(s) for s in sites], total=total, limit=i.limit, offset=i.offset
    )


async def get_site(ctx: OperationContext, i: SiteTarget) -> SiteOut:
    return SiteOut.of(await ctx.services.sites.get(i.site_id))


async def create_site(ctx: OperationContext, i: SiteIn) -> SiteOut:
    return SiteOut.of(await ctx.services.sites.create(i.details()))


async def update_site(ctx: OperationContext, i: UpdateSiteIn) -> SiteOut:
    return SiteOut.of(await ctx.services.sites.update(i.site_id, i.details()))


async def delete_site(ctx: OperationContext, i: SiteTarget) -> None:
    await ctx.services.sites.delete(i.site_id)


async def assign_site(ctx: OperationContext, i: AssignSiteIn) -> ChargePointOut:
    return ChargePointOut.of(await ctx.services.sites.assign_station(i.charge_point_id, i.site_id))


async def set_energy_site(ctx: OperationContext, i: SiteTarget) -> SiteOut:
    return SiteOut.of(await ctx.services.sites.set_energy_site(i.site_id))


async def energy_site(ctx: OperationContext, _: NoInput) -> SiteOut:
    return SiteOut.of(await ctx.services.sites.energy_site())


async def network_summary(ctx: OperationContext, _: NoInput) -> NetworkSummaryOut:
    parts = await ctx.services.sites.counts()
    return NetworkSummaryOut(
        total=StationCountsOut.total_of(parts),
        sites=[SiteSummaryOut.of_site(p) for p in parts],
    )


async def site_power(ctx: OperationContext, i: SitePowerIn) -> SitePowerOut:
    site, points = await ctx.services.sites.power(i.site_id, i.hours)
    return SitePowerOut(
        site_id=site.id,
        name=site.name,
        station_count=site.station_count,
        bucket_minutes=15,
        points=[PowerPointOut.of(p) for p in points],
    )


async def known_site(ctx: OperationContext, i: SiteTarget | UpdateSiteIn) -> None:
    await ctx.services.sites.get(i.site_id)


SITE = "/api/sites/{site_id}"

SITE_OPERATIONS: tuple[AnyOperation, ...] = (
    # Before /api/sites/{site_id}: routes match in this order.
    Operation(
        name="get_energy_site",
        title="The energy planner's site",
        description="The site the energy planner plans for (created as 'Home' on first use).",
        input=NoInput,
        output=SiteOut,
        role=Role.VIEWER,
        perform=energy_site,
        http=(Http("GET", "/api/sites/energy-planner"),),
        tool=False,  # list_sites marks it
    ),
    Operation(
        name="set_energy_planner_site",
        title="Make a site the energy planner's",
        description="The energy planner plans for this site from now on (one site is).",
        input=SiteTarget,
        output=SiteOut,
        role=Role.ADMIN,
        perform=set_energy_site,
        effect=Effect.ACT,
        confirm=True,
        describe=lambda i: f"Make site {i.site_id} the energy planner's site",
        precheck=known_site,
        http=(Http("PUT", "/api/sites/energy-planner"),),
        tool=False,
    ),
    Operation(
        name="list_sites",
        title="List sites",
        description="The network's sites (where stations stand) by name, with address, "
        "coordinates, grid connection limit and how many stations each has; one of them is "
        "the energy planner's.",
        input=ListSitesIn,
        output=SitePageOut,
        role=Role.VIEWER,
        perform=list_sites,
        http=(Http("GET", "/api/sites"),),
    ),
    Operation(
        name="get_site",
        title="Site",
        description="One site: address, coordinates, grid connection limit, station count.",
        input=SiteTarget,
        output=SiteOut,
        role=Role.VIEWER,
        perform=get_site,
        http=(Http("GET", SITE),),
        tool=False,  # list_sites says the same
    ),
    Operation(
        name="get_network_summary",
        title="Network summary by site",
        description="Stations counted by state (online, offline, registration, booted, "
        "faulted) and connectors by status, for the whole network and per site, stations "
        "without a site last. Counted by the database: cheap at any size.",
        input=NoInput,
        output=NetworkSummaryOut,
        role=Role.VIEWER,
        perform=network_summary,
        http=(Http("GET", "/api/overview"),),
    ),
    Operation(
        name="get_site_power",
        title="Site power over time",
        description="A site's charging power and energy per 15 minutes over the last hours: "
        "its stations' charts added up (from meter samples and their rollups).",
        input=SitePowerIn,
        output=SitePowerOut,
        role=Role.VIEWER,
        perform=site_power,
        http=(Http("GET", f"{SITE}/power"),),
    ),
    Operation(
        name="create_site",
        title="Create a site",
        description="Add a site (name unique; address; latitude and longitude together; "
        "grid connection limit in kW).",
        input=SiteIn,
        output=SiteOut,
        role=Role.ADMIN,
        perform=create_site,
        effect=Effect.ACT,
        describe=lambda i: f"Create site {i.name}",
        http=(Http("POST", "/api/sites", status_code=201),),
        tool=False,
    ),
    Operation(
        name="update_site",
        title="Change a site",
        description="Replace a site's name, address, coordinates and grid connection limit.",
        input=UpdateSiteIn,
        output=SiteOut,
        role=Role.ADMIN,
        perform=update_site,
        effect=Effect.ACT,
        describe=lambda i: f"Change site {i.site_id} (name {i.name})",
        precheck=known_site,
        http=(Http("PUT", SITE),),
        tool=False,
    ),
    Operation(
        name="delete_site",
        title="Delete a site",
        description="Delete a site that no station belongs to (409 while any does) and that "
        "is not the energy planner's.",
        input=SiteTarget,
        output=None,
        role=Role.ADMIN,
        perform=delete_site,
        effect=Effect.ACT,
        destructive=True,
        describe=lambda i: f"Delete site {i.site_id}",
        precheck=known_site,
        http=(Http("DELETE", SITE, status_code=204),),
        tool=False,
    ),
    Operation(
        name="set_station_site",
        title="Put a station at a site",
        description="Assign a charge point to a site, or to none (site_id null).",
        input=AssignSiteIn,
        output=ChargePointOut,
        role=Role.ADMIN,
        perform=assign_site,
        effect=Effect.ACT,
        describe=lambda i: (
            f"Put charge point {i.charge_point_id} at site {i.site_id}"
            if i.site_id is not None
            else f"Take charge point {i.charge_point_id} out of its site"
        ),
        http=(Http("PUT", "/api/charge-points/{charge_point_id}/site"),),
        tool=False,
    ),
)
