"""Sites, the overview's counts per site, and a site's power over time."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ev_charging_system.business_logic.read_models.stations import PowerPointOut
from ev_charging_system.models.site import Site, SiteCounts


class SiteOut(BaseModel):
    id: int
    name: str
    address: str
    latitude: float | None
    longitude: float | None
    grid_limit_kw: float | None = Field(description="the grid connection's capacity, if known")
    energy_planner: bool = Field(description="the site the energy planner plans for (one site)")
    station_count: int = Field(description="stations assigned to the site")
    created_at: datetime

    @classmethod
    def of(cls, site: Site) -> SiteOut:
        d = site.details
        return cls(
            id=site.id,
            name=d.name,
            address=d.address,
            latitude=d.latitude,
            longitude=d.longitude,
            grid_limit_kw=d.grid_limit_kw,
            energy_planner=site.energy_planner,
            station_count=site.station_count,
            created_at=site.created_at,
        )


class SitePageOut(BaseModel):
    items: list[SiteOut]
    total: int = Field(description="matching sites in all pages")
    limit: int
    offset: int


class StationCountsOut(BaseModel):
    stations: int
    online: int = Field(description="connected now")
    offline: int
    accepted: int
    pending: int
    rejected: int
    rejected_online: int = Field(description="rejected yet connected")
    booted: int = Field(description="have sent a BootNotification")
    never_booted: int
    faulted: int = Field(description="connected with a Faulted connector")
    offline_accepted: int = Field(description="accepted stations that are not connected")
    connectors: dict[str, int] = Field(
        description="connectors by status (connected stations); 'Offline': every connector "
        "of a station that is not connected"
    )

    @classmethod
    def of(cls, counts: SiteCounts) -> StationCountsOut:
        return cls(
            stations=counts.stations,
            online=counts.online,
            offline=counts.offline,
            accepted=counts.accepted,
            pending=counts.pending,
            rejected=counts.rejected,
            rejected_online=counts.rejected_online,
            booted=counts.booted,
            never_booted=counts.never_booted,
            faulted=counts.faulted,
            offline_accepted=counts.offline_accepted,
            connectors=dict(sorted(counts.connectors.items())),
        )

    @classmethod
    def total_of(cls, parts: list[SiteCounts]) -> StationCountsOut:
        numbers = (
            "stations",
            "online",
            "accepted",
            "pending",
            "rejected",
            "rejected_online",
            "booted",
            "faulted",
            "offline_accepted",
        )
        added = {name: sum(getattr(p, name) for p in parts) for name in numbers}
        connectors: dict[str, int] = {}
        for part in parts:
            for status, count in part.connectors.items():
                connectors[status] = connectors.get(status, 0) + count
        return cls.of(SiteCounts(None, None, **added, connectors=connectors))


class SiteSummaryOut(StationCountsOut):
    site_id: int | None = Field(description="null: the stations assigned to no site")
    name: str | None = Field(description="the site's name; null for stations without a site")

    @classmethod
    def of_site(cls, counts: SiteCounts) -> SiteSummaryOut:
        return cls(
            site_id=counts.site_id,
            name=counts.name,
            **StationCountsOut.of(counts).model_dump(),
        )


class NetworkSummaryOut(BaseModel):
    total: StationCountsOut = Field(description="every station of the network")
    sites: list[SiteSummaryOut] = Field(
        description="per site by name (sites without stations too); the stations without "
        "a site last (site_id null), when there are any"
    )


class SitePowerOut(BaseModel):
    site_id: int
    name: str
    station_count: int
    bucket_minutes: int
    points: list[PowerPointOut] = Field(
        description="the stations' power added up: mean power and energy are sums; the "
        "peak is the sum of the stations' peaks (an upper bound of the site's)"
    )
