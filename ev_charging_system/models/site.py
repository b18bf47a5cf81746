"""Sites: where stations stand (a car park, a depot, a home), and how each is doing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# The name of the site the energy planner works for when nobody has created one yet: the
# migration makes it for an existing installation, the site service on first use.
DEFAULT_ENERGY_SITE_NAME = "Home"
OFFLINE_CONNECTOR = "Offline"  # connector count key for every connector of offline stations


@dataclass(frozen=True, slots=True)
class SiteDetails:
    """What an operator says about a site (the editable part)."""

    name: str
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    grid_limit_kw: float | None = None  # the grid connection's capacity, if known


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    details: SiteDetails
    created_at: datetime
    energy_planner: bool = False  # the site the energy planner (energy/) plans for
    station_count: int = 0  # stations assigned to it (read with the site)

    @property
    def name(self) -> str:
        return self.details.name


@dataclass(frozen=True, slots=True)
class SiteCounts:
    """Stations of one site (or of no site: `site_id` None), counted by state.

    `online`/`offline` are presence (connected now); `faulted` counts connected stations
    with a Faulted connector; `offline_accepted` are the accepted stations that should be
    connected and are not (what the overview's attention list names).
    """

    site_id: int | None
    name: str | None
    stations: int = 0
    online: int = 0
    accepted: int = 0
    pending: int = 0
    rejected: int = 0
    rejected_online: int = 0
    booted: int = 0
    faulted: int = 0
    offline_accepted: int = 0
    connectors: dict[str, int] = field(default_factory=dict)  # status -> connectors

    @property
    def offline(self) -> int:
        return self.stations - self.online

    @property
    def never_booted(self) -> int:
        return self.stations - self.booted
