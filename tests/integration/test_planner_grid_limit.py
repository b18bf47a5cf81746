"""The energy planner's site's grid connection limit is the import limit the planner obeys:
changed over REST on the site, the next plan keeps within it; without one, the energy
configuration's own limit is in force again; the energy configuration cannot contradict
it; another site made the planner's brings its own limit; a restart keeps it all."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ADMIN_HEADERS, AppFactory

# Evening, no sun: 3 kW that must be served, 6 kW that may be shed, an empty battery.
EVENING = {
    "solar": {"production_kw": 0.0},
    "load": {"critical_load_kw": 3.0, "flexible_load_kw": 6.0},
    "battery": {"state_of_charge_kwh": 0.0},
    "vehicle": {"connected": False, "state_of_charge_kwh": 40.0},
}
EPSILON_KW = 1e-6


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def planned_import(rest: httpx.AsyncClient) -> tuple[float, float]:
    """Plan now (as the planner's next tick would); the plan's peak import and the load
    it sheds now."""
    await ok(await rest.post("/energy/coordinate", json=EVENING))
    plan = await ok(await rest.get("/energy/plan"))
    peak = max(step["grid_kw"] for step in plan["steps"])
    return peak, plan["actions"]["load"]["shed_kw"]


async def import_limit(rest: httpx.AsyncClient) -> float:
    return float((await ok(await rest.get("/energy/config")))["grid"]["import_limit_kw"])


async def set_site_limit(rest: httpx.AsyncClient, site: dict[str, Any], kw: float | None) -> None:
    await ok(
        await rest.put(f"/api/sites/{site['id']}", json={"name": site["name"], "grid_limit_kw": kw})
    )


async def test_the_planner_sites_grid_limit_bounds_the_next_plan(app_factory: AppFactory) -> None:
    app = await app_factory()
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{app.rest_port}", headers=ADMIN_HEADERS
    ) as rest:
        home = await ok(await rest.get("/api/sites/energy-planner"))
        assert home["grid_limit_kw"] is None
        own = await import_limit(rest)  # the energy configuration's own (17 kW by default)
        peak, shed = await planned_import(rest)
        assert (peak, shed) == (9.0, 0.0)  # the whole 9 kW load, within 17 kW

        # The operator enters the site's grid connection on the Sites page: 5 kW.
        await set_site_limit(rest, home, 5.0)
        assert await import_limit(rest) == 5.0
        peak, shed = await planned_import(rest)
        assert peak <= 5.0 + EPSILON_KW
        assert abs(shed - 4.0) < 1e-3  # 3 kW critical + 2 kW of the flexible 6 kW
        # Two places to set one limit would disagree: the energy configuration refuses.
        config = await ok(await rest.get("/energy/config"))
        config["grid"]["import_limit_kw"] = 12.0
        refused = await rest.put("/energy/config", json=config)
        assert refused.status_code == 409 and "site" in refused.json()["detail"]
        # ... and takes everything else, with the limit as it is.
        config["grid"]["import_limit_kw"] = 5.0
        config["load"]["shed_penalty_per_kwh"] = 2.0
        await ok(await rest.put("/energy/config", json=config))

        # Another site becomes the planner's: its limit (or none) is the one.
        depot = await ok(
            await rest.post("/api/sites", json={"name": "Depot", "grid_limit_kw": 7.5}), 201
        )
        await ok(await rest.put("/api/sites/energy-planner", json={"site_id": depot["id"]}))
        assert await import_limit(rest) == 7.5
        assert (await planned_import(rest))[0] <= 7.5 + EPSILON_KW
        await ok(await rest.put("/api/sites/energy-planner", json={"site_id": home["id"]}))
        assert await import_limit(rest) == 5.0

    # A restart plans with the site's limit, not the one stored with the energy settings.
    await app.stop()
    app = await app_factory()
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{app.rest_port}", headers=ADMIN_HEADERS
    ) as rest:
        assert await import_limit(rest) == 5.0
        assert (await ok(await rest.get("/energy/config")))["load"]["shed_penalty_per_kwh"] == 2.0
        # Cleared on the site: the energy configuration's own limit is in force again.
        await set_site_limit(rest, home, None)
        assert await import_limit(rest) == own
        assert (await planned_import(rest))[0] == 9.0
        config = await ok(await rest.get("/energy/config"))
        config["grid"]["import_limit_kw"] = 12.0
        await ok(await rest.put("/energy/config", json=config))
        assert await import_limit(rest) == 12.0
