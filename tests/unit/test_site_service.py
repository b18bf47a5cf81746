"""Sites: the rules of the service (names, coordinates, deletion, assignment, the energy
planner's site), the counts per site, and a site's power as its stations' sum."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

import pytest

from ev_charging_system.business_logic.device_management_service import StatusReport
from ev_charging_system.business_logic.meter_history import MeterHistoryService
from ev_charging_system.business_logic.site_service import SiteService
from ev_charging_system.models.errors import ConflictError, InvalidInputError, NotFoundError
from ev_charging_system.models.listing import StationQuery
from ev_charging_system.models.meter_rollup import BUCKET, PowerPoint, bucket_start
from ev_charging_system.models.site import DEFAULT_ENERGY_SITE_NAME, SiteDetails
from tests.unit.fakes import FakeUnitOfWork
from tests.unit.test_mcp_support import World


def sites_of(world: World) -> SiteService:
    return world.services.sites


async def test_a_site_name_is_trimmed_required_and_unique() -> None:
    sites = sites_of(World())
    depot = await sites.create(SiteDetails("  Depot   North ", address=" Rua A, 1 "))
    assert (depot.name, depot.details.address) == ("Depot North", "Rua A, 1")
    with pytest.raises(ConflictError, match="already exists"):
        await sites.create(SiteDetails("Depot North"))
    with pytest.raises(InvalidInputError, match="needs a name"):
        await sites.create(SiteDetails("   "))
    other = await sites.create(SiteDetails("Depot South"))
    with pytest.raises(ConflictError, match="already exists"):
        await sites.update(other.id, SiteDetails("Depot North"))
    renamed = await sites.update(
        depot.id, SiteDetails("Depot North", latitude=-23.5, longitude=-46.6)
    )
    assert (renamed.details.latitude, renamed.details.longitude) == (-23.5, -46.6)


@pytest.mark.parametrize(
    ("details", "message"),
    [
        (SiteDetails("A", latitude=10.0), "both latitude and longitude"),
        (SiteDetails("A", latitude=91.0, longitude=0.0), "latitude"),
        (SiteDetails("A", latitude=0.0, longitude=-181.0), "longitude"),
        (SiteDetails("A", grid_limit_kw=0.0), "above 0 kW"),
        (SiteDetails("A" * 101), "at most 100"),
    ],
)
async def test_impossible_details_are_refused(details: SiteDetails, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        await sites_of(World()).create(details)


async def test_a_site_with_stations_cannot_be_deleted_until_they_move() -> None:
    world = World()
    sites = sites_of(world)
    site = await sites.create(SiteDetails("Depot"))
    await world.devices.create_charge_point("CP-1")
    await sites.assign_station("CP-1", site.id)
    assert (await sites.get(site.id)).station_count == 1
    with pytest.raises(ConflictError, match="still has 1 station"):
        await sites.delete(site.id)
    await sites.assign_station("CP-1", None)
    await sites.delete(site.id)
    with pytest.raises(NotFoundError):
        await sites.get(site.id)


async def test_assignment_needs_a_known_station_and_site_and_survives_station_updates() -> None:
    world = World()
    sites = sites_of(world)
    site = await sites.create(SiteDetails("Depot"))
    with pytest.raises(NotFoundError, match="charge point"):
        await sites.assign_station("CP-X", site.id)
    await world.devices.create_charge_point("CP-1")
    with pytest.raises(NotFoundError, match="site"):
        await sites.assign_station("CP-1", site.id + 100)
    view = await sites.assign_station("CP-1", site.id)
    assert view.charge_point.site_id == site.id
    # The station's own writes (a status, a boot) keep the site it was put at.
    await world.devices.status_notification("CP-1", StatusReport(1, "Available", "NoError"))
    assert (await world.devices.get_charge_point("CP-1")).charge_point.site_id == site.id
    views, total, _ = await world.devices.page_charge_points(StationQuery(site_id=site.id))
    assert (total, [v.charge_point.id for v in views]) == (1, ["CP-1"])
    _, without, _ = await world.devices.page_charge_points(StationQuery(without_site=True))
    assert without == 0


async def test_the_energy_planners_site_is_made_on_first_use_and_cannot_be_deleted() -> None:
    world = World()
    sites = sites_of(world)
    home = await sites.energy_site()
    assert (home.name, home.energy_planner) == (DEFAULT_ENERGY_SITE_NAME, True)
    assert (await sites.energy_site()).id == home.id  # made once
    listed, total = await sites.page(None, 10, 0)
    assert total == 1 and listed[0].energy_planner
    with pytest.raises(ConflictError, match="energy planner"):
        await sites.delete(home.id)
    depot = await sites.set_energy_site((await sites.create(SiteDetails("Depot"))).id)
    assert depot.energy_planner
    assert not (await sites.get(home.id)).energy_planner
    await sites.delete(home.id)  # no longer the planner's


async def test_an_operators_own_home_site_becomes_the_planners() -> None:
    sites = sites_of(World())
    own = await sites.create(SiteDetails(DEFAULT_ENERGY_SITE_NAME, address="Rua B, 2"))
    planner = await sites.energy_site()
    assert (planner.id, planner.details.address) == (own.id, "Rua B, 2")


async def test_counts_per_site_follow_presence_registration_and_faults() -> None:
    world = World()
    sites = sites_of(world)
    depot = await sites.create(SiteDetails("Depot"))
    for station in ("CP-1", "CP-2", "CP-3"):
        await world.devices.create_charge_point(station)
    await sites.assign_station("CP-1", depot.id)
    await sites.assign_station("CP-2", depot.id)
    world.presence.online = {"CP-1"}
    await world.devices.status_notification("CP-1", StatusReport(1, "Faulted", "GroundFailure"))
    await world.devices.status_notification("CP-2", StatusReport(1, "Faulted", "GroundFailure"))
    counted = await sites.counts()
    assert [(c.site_id, c.name) for c in counted] == [(depot.id, "Depot"), (None, None)]
    at_depot, elsewhere = counted
    assert (at_depot.stations, at_depot.online, at_depot.offline) == (2, 1, 1)
    # CP-2's fault is history: it is offline, and its connector counts as Offline.
    assert (at_depot.faulted, at_depot.offline_accepted) == (1, 1)
    assert at_depot.connectors == {"Faulted": 1, "Offline": 1}
    assert (elsewhere.stations, elsewhere.never_booted, elsewhere.connectors) == (1, 1, {})


class OneBucketArchive:
    """An archive with data in one bucket; it records which stations it was asked for."""

    def __init__(self, bucket: datetime) -> None:
        self.bucket = bucket
        self.asked: list[tuple[set[str], int | None, datetime, datetime]] = []

    async def roll_up(self, before: datetime, limit: int) -> int:
        return 0

    async def power(
        self,
        charge_point_ids: Collection[str],
        connector_id: int | None,
        since: datetime,
        until: datetime,
    ) -> list[PowerPoint]:
        self.asked.append((set(charge_point_ids), connector_id, since, until))
        return [PowerPoint(self.bucket, 12_000, 14_000, 3_000)] if charge_point_ids else []


async def test_a_sites_power_is_asked_for_its_stations_and_fills_every_bucket() -> None:
    world = World()
    now = world.clock()
    bucket = now.replace(minute=0) - timedelta(hours=1)  # a full bucket an hour ago
    archive = OneBucketArchive(bucket)
    history = MeterHistoryService(archive, world.devices, world.clock, timedelta(days=90))
    sites = SiteService(lambda: FakeUnitOfWork(world.store), world.clock, world.devices, history)
    site = await sites.create(SiteDetails("Depot"))
    for station in ("CP-1", "CP-2", "CP-3"):
        await world.devices.create_charge_point(station)
    await sites.assign_station("CP-1", site.id)
    await sites.assign_station("CP-2", site.id)
    _, points = await sites.power(site.id, hours=2)
    # The sum itself is the database's (tests/integration/test_site_power.py).
    assert archive.asked[0][:2] == ({"CP-1", "CP-2"}, None)  # CP-3 stands elsewhere
    since, until = archive.asked[0][2:]
    assert (since, until) == (bucket_start(now - timedelta(hours=2)), now)
    charged = {p.bucket_start: p for p in points if p.average_w is not None}
    assert list(charged) == [bucket]
    assert (charged[bucket].average_w, charged[bucket].maximum_w) == (12_000, 14_000)
    assert len(points) == 8  # every 15 minutes of the two hours, empty ones as null
    assert [p.bucket_start for p in points] == [since + n * BUCKET for n in range(8)]
    empty = await sites.create(SiteDetails("Empty"))
    _, nothing = await sites.power(empty.id, hours=1)
    assert nothing and all(p.average_w is None for p in nothing)
