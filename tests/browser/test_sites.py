"""The Sites page in a real browser: create a site with the form, put a station there from
its drawer, find it on the site's page with the power chart, and see the site's card on
the overview (counted by the server); the planner's site's grid limit, set on its page, is
the one the energy settings show (read-only there)."""

from __future__ import annotations

from playwright.async_api import expect

from ev_charging_system.application import Application
from tests.browser.conftest import PHONE, PageFactory
from tests.browser.network import LIVE, SITE, small_network
from tests.browser.test_pages import unexpected_errors


async def test_a_site_is_created_a_station_put_there_and_shown_with_its_power(
    app: Application, open_page: PageFactory
) -> None:
    async with small_network(app):
        handle = await open_page(app.rest_port, viewport=PHONE, token=True)
        page = handle.page
        await handle.open("#/sites")
        await handle.settle()
        sites = page.locator("main table")
        await expect(sites).to_contain_text(SITE)
        await expect(sites).to_contain_text("Home")  # the energy planner's, made on first use
        await expect(sites.locator("tr", has_text="Home")).to_contain_text("Energy planner")

        await page.get_by_role("button", name="New site").click()
        dialog = page.get_by_role("dialog")
        await dialog.get_by_label("Name").fill("Garagem Sul")
        await dialog.get_by_label("Address").fill("Av. B, 20")
        await dialog.get_by_label("Latitude").fill("-23.6")
        await dialog.get_by_role("button", name="Create site").click()
        # Latitude without longitude: refused next to the field, nothing created.
        await expect(dialog).to_contain_text("longitude")
        await dialog.get_by_label("Longitude").fill("-46.7")
        await dialog.get_by_role("button", name="Create site").click()
        await expect(page.locator("main h2").first).to_have_text("Garagem Sul")
        await expect(page.locator("main")).to_contain_text("No station stands at this site yet")
        site_url = page.url

        await handle.go(f"#/charge-points/{LIVE}")
        await handle.settle()
        await page.get_by_label(f"Site of {LIVE}").select_option(label="Garagem Sul")
        await expect(page.locator(".toasts")).to_contain_text(f"{LIVE} stands at Garagem Sul now.")

        await page.goto(site_url)
        await handle.settle()
        main = page.locator("main")
        await expect(main.get_by_role("link", name=LIVE)).to_be_visible()
        await expect(main).to_contain_text("1 of 1 online")
        # The live station's session sent 7.4 kW: the site's chart draws it.
        await expect(main.locator(".chart-slot svg, .chart-slot .chart-empty")).to_be_visible()
        await handle.screenshot("site-detail")

        await handle.go("#/overview")
        await handle.settle()
        card = page.locator(".kpi", has_text="Garagem Sul")
        await expect(card).to_contain_text("1 / 1")
        await expect(page.locator(".kpi", has_text=SITE)).to_contain_text("0 / 0")
        assert await unexpected_errors(handle) == []


async def test_the_planner_sites_grid_limit_is_set_on_the_site_and_shown_in_energy_settings(
    app: Application, open_page: PageFactory
) -> None:
    handle = await open_page(app.rest_port, token=True)
    page = handle.page
    await handle.open("#/sites")
    await handle.settle()
    await page.locator("main table").get_by_role("link", name="Home").click()
    await handle.settle()
    await page.get_by_role("button", name="Change", exact=True).click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("The energy planner keeps the grid import within it")
    await dialog.get_by_label("Grid connection limit (kW)").fill("6.5")
    await dialog.get_by_role("button", name="Save site").click()
    await expect(page.locator("main")).to_contain_text("6.5 kW")

    await handle.go("#/energy?tab=config")
    await handle.settle()
    limit = page.get_by_label("Import limit (kW)")
    await expect(limit).to_have_value("6.5")
    await expect(limit).not_to_be_editable()
    await expect(page.locator("main")).to_contain_text(
        "The grid connection limit of the site Home: change it on the Sites page"
    )
    # Saving the rest of the configuration keeps it (the site's limit is sent unchanged).
    await page.get_by_role("button", name="Save configuration").click()
    await expect(page.locator(".toasts")).to_contain_text("Site configuration saved")
    assert app.coordinator.config.grid.import_limit_kw == 6.5
    assert await unexpected_errors(handle) == []
