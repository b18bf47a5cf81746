"""The dashboard as an operator uses it: stations appearing live, sessions started and
stopped from the page, the event stream patching the page, first-load size, languages."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime

import pytest
from playwright.async_api import Request, Route, expect
from sqlalchemy import insert

from ev_charging_system.application import Application
from ev_charging_system.data.database import create_engine
from ev_charging_system.data.orm import ChargePointRow
from ev_charging_system.energy.models import DeferrableLoadState
from tests.browser.conftest import OUTPUT_DIR, PHONE, PageFactory
from tests.browser.network import LIVE, OPERATOR, small_network
from tests.browser.test_pages import unexpected_errors
from tests.conftest import API_TOKEN, AppFactory, ocpp_url
from tools.simulated_charge_point import connected_station

EN_DASH, NEXT = "\u2013", "\u203a"  # the pager's range dash and "next" arrow
# The overview's first load (page, scripts, styles, catalogue, API answers) must fit in this.
FIRST_LOAD_BUDGET_BYTES = 150_000
# Records every state the live indicator shows, so a short-lived state is not missed.
RECORD_LIVE_STATES = """
window.__liveStates = [];
new MutationObserver(() => {
  const node = document.getElementById("live-status");
  if (node) window.__liveStates.push(node.dataset.state);
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-state"] });
"""


async def test_a_station_that_connects_appears_on_the_overview(
    app: Application, open_page: PageFactory
) -> None:
    handle = await open_page(app.rest_port)
    await handle.open("#/overview")
    await handle.settle()
    kpis = handle.page.locator(".kpis")
    await expect(kpis).to_contain_text("No stations registered yet")
    indicator = handle.page.locator("#live-status")
    await expect(indicator).not_to_have_attribute("data-state", "connecting")
    async with connected_station(ocpp_url(app), "CP-FRESH") as station:
        await station.boot()
        await station.status(1)
        if await indicator.get_attribute("data-state") == "live":
            # Pushed by the event stream: no click, no poll.
            await expect(kpis).to_contain_text("1 / 1", timeout=5000)
        else:
            # No stream on this server: the page says it polls, and reads again on demand.
            await expect(indicator).to_have_attribute("data-state", "polling")
            await expect(indicator).to_contain_text("Every 60 s")
            await indicator.click()
            await expect(kpis).to_contain_text("1 / 1")
        await expect(handle.page.locator(".status-summary")).to_contain_text("Available")
    assert await unexpected_errors(handle) == []


async def test_start_and_stop_a_session_from_the_page(
    app: Application, open_page: PageFactory
) -> None:
    async with small_network(app) as network, connected_station(ocpp_url(app), "CP-OPS") as station:
        # A tag of its own: the network's tag already has its one session running elsewhere.
        created = await network.rest.post(
            "/api/id-tags", json={"id_tag": "RFID-OPS"}, headers=OPERATOR
        )
        assert created.status_code == 201
        await station.boot()
        for connector in (0, 1, 2):
            await station.status(connector)
        handle = await open_page(app.rest_port, viewport=PHONE, token=True)
        page = handle.page
        await handle.open("#/charge-points/CP-OPS?tab=remote")
        await handle.settle()
        start_card = page.locator("section.op-card", has_text="Start a session")
        await start_card.get_by_label("Id tag").fill("RFID-OPS")
        await start_card.get_by_role("button", name="Start session").click()
        await expect(start_card.locator(".answer")).to_contain_text("Accepted")

        running = page.locator("section.op-card", has_text="Running sessions")
        session = running.locator(".session-item").first
        await expect(session).to_contain_text("RFID-OPS", timeout=10_000)
        transaction = (await session.locator("a").first.inner_text()).lstrip("#")
        await handle.screenshot("session-started")
        await session.get_by_role("button", name=f"Stop session {transaction}").click()
        await (
            page.get_by_role("dialog")
            .get_by_role("button", name="Stop session", exact=True)
            .click()
        )
        await expect(running.locator(".answer")).to_contain_text("Accepted")
        await expect(running).to_contain_text(
            "No session is running on this station.", timeout=10_000
        )

        await handle.go("#/transactions?charge_point_id=CP-OPS")
        await handle.settle()
        row = page.locator("tbody tr", has=page.get_by_role("link", name=f"#{transaction}"))
        await expect(row).to_contain_text("Finished")
        await expect(row).to_contain_text("Remote")
        await handle.screenshot("session-stopped")
        assert await unexpected_errors(handle) == []


async def test_events_from_the_stream_patch_the_page_without_asking_the_api(
    app: Application, open_page: PageFactory
) -> None:
    """What the lead's GET /api/events will send, served here by the browser's router: the
    token goes in the Authorization header (never the URL) and a status change arriving on
    the stream shows on the overview although the REST API still says otherwise."""
    async with small_network(app):
        seen: list[Request] = []
        event = {
            "charge_point_id": LIVE,
            "connector_id": 2,
            "status": "Faulted",
            "error_code": "GroundFailure",
            "reported_at": "2030-01-01T00:00:00Z",
            "at": "2030-01-01T00:00:00Z",
        }
        stream = (
            ": connected\n\n"
            f"event: connector.status_changed\ndata: {json.dumps(event)}\n\n"
            "event: some.future_type\ndata: {}\n\n"
        )

        async def events(route: Route) -> None:
            seen.append(route.request)
            if len(seen) == 1:
                await route.fulfill(
                    status=200, headers={"Content-Type": "text/event-stream"}, body=stream
                )
            else:  # after this one stream: "no stream here" (the page then polls)
                await route.fulfill(status=404, json={"detail": "Not Found"})

        handle = await open_page(app.rest_port, token=True)
        await handle.context.add_init_script(RECORD_LIVE_STATES)
        await handle.page.route("**/api/events*", events)
        await handle.open("#/overview")
        attention = handle.page.locator(".attention")
        await expect(attention).to_contain_text("GroundFailure")
        await expect(handle.page.locator(".kpis")).to_contain_text("1 faulted connector")
        assert "live" in await handle.page.evaluate("() => window.__liveStates")
        first = seen[0]
        assert first.headers["authorization"] == f"Bearer {API_TOKEN}"
        assert first.headers["accept"] == "text/event-stream"
        assert API_TOKEN not in first.url
        await expect(handle.page.locator("#live-status")).to_have_attribute("data-state", "polling")


async def test_a_status_that_arrives_while_its_station_is_read_again_is_kept(
    app: Application, open_page: PageFactory
) -> None:
    """A boot makes the page read the station again; a status change that comes in while
    that read is on its way must survive the (older) answer instead of being overwritten."""
    async with small_network(app):
        event = {
            "charge_point_id": LIVE,
            "connector_id": 2,
            "status": "Faulted",
            "error_code": "GroundFailure",
            "at": "2030-01-01T00:00:00Z",
        }
        stream = (
            f"event: station.booted\ndata: {json.dumps({'charge_point_id': LIVE})}\n\n"
            f"event: connector.status_changed\ndata: {json.dumps(event)}\n\n"
        )
        served_streams: list[Request] = []
        read_answered = asyncio.Event()

        async def events(route: Route) -> None:
            served_streams.append(route.request)
            if len(served_streams) == 1:
                await route.fulfill(
                    status=200, headers={"Content-Type": "text/event-stream"}, body=stream
                )
            else:
                await route.fulfill(status=404, json={"detail": "Not Found"})

        async def slow_station_read(route: Route) -> None:
            await asyncio.sleep(0.5)  # the status event is applied meanwhile
            await route.continue_()
            read_answered.set()

        handle = await open_page(app.rest_port, token=True)
        await handle.page.route(f"**/api/charge-points/{LIVE}", slow_station_read)
        await handle.page.route("**/api/events*", events)
        await handle.open("#/overview")
        await asyncio.wait_for(read_answered.wait(), 10)
        await expect(handle.page.locator(".attention")).to_contain_text("GroundFailure")
        await handle.page.wait_for_timeout(300)  # the read's answer has been applied by now
        await expect(handle.page.locator(".attention")).to_contain_text("GroundFailure")


@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
async def test_the_first_load_of_the_overview_stays_under_150_kb(
    app: Application, open_page: PageFactory, locale: str
) -> None:
    """Measured on the wire (compressed bodies and headers), in both languages (Portuguese
    loads its catalogue too)."""
    async with small_network(app):
        handle = await open_page(app.rest_port, locale=locale)
        finished: list[Request] = []
        handle.page.on("requestfinished", lambda request: finished.append(request))
        await handle.open("#/overview")
        await handle.settle()
        total = 0
        lines = []
        compressed = 0
        for request in finished:
            sizes = await request.sizes()
            response = await request.response()
            size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
            total += size
            lines.append(f"{size:>8} {request.url}")
            if response and response.headers.get("content-encoding") == "gzip":
                compressed += 1
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        (OUTPUT_DIR / f"first-load-{locale}.txt").write_text(
            "\n".join([*lines, f"{total:>8} total"])
        )
        assert compressed >= 10  # every script and the stylesheet
        assert total <= FIRST_LOAD_BUDGET_BYTES, "\n".join(lines)


async def test_portuguese_from_the_browser_and_a_remembered_switch_to_english(
    app: Application, open_page: PageFactory
) -> None:
    async with small_network(app):
        handle = await open_page(app.rest_port, locale="pt-BR")
        page = handle.page
        await handle.open("#/overview")
        await handle.settle()
        assert await page.evaluate("() => document.documentElement.lang") == "pt-BR"
        await expect(page.get_by_role("link", name="Visão geral")).to_be_visible()
        await expect(page.locator("h1")).to_have_text("Visão geral")
        await expect(page.locator(".kpis")).to_contain_text("Pontos de recarga online")
        await handle.go("#/transactions")
        await handle.settle()
        # Dates in the Brazilian way: day before month, 24-hour clock.
        started = await page.locator("tbody tr td time").first.inner_text()
        assert "de" in started or "/" in started, started
        await handle.screenshot("pt-BR-transactions")

        async with page.expect_navigation():
            await page.get_by_label("Idioma").select_option("en")
        await page.locator("#main .view").first.wait_for()
        await expect(page.locator("h1")).to_have_text("Transactions")
        await page.reload()
        await page.locator("#main .view").first.wait_for()
        await expect(page.locator("h1")).to_have_text("Transactions")
        assert await page.evaluate("() => document.documentElement.lang") == "en"
        assert await unexpected_errors(handle) == []


async def test_a_time_of_use_window_is_listed_once(
    app: Application, open_page: PageFactory
) -> None:
    """Regression: the tariff editor showed a window twice."""
    async with small_network(app) as network:
        tariff = {
            "kind": "time_of_use",
            "default_import_price": 0.3,
            "feed_in_price": 0.08,
            "windows": [{"start": "22:00", "end": "06:00", "import_price": 0.2}],
        }
        saved = await network.rest.put("/energy/tariff", json=tariff, headers=OPERATOR)
        assert saved.status_code == 200, saved.text
        handle = await open_page(app.rest_port, token=True)
        await handle.open("#/energy?tab=tariff")
        await handle.settle()
        rows = handle.page.locator(".windows-table tbody tr")
        await expect(rows).to_have_count(1)
        await handle.page.get_by_role("tab", name="Site configuration").click()
        await handle.page.get_by_role("tab", name="Tariff").click()
        await handle.settle()
        await expect(rows).to_have_count(1)
        await handle.go("#/overview")
        await handle.settle()
        await handle.go("#/energy?tab=tariff")
        await handle.settle()
        await expect(rows).to_have_count(1)
        await handle.screenshot("tariff-time-of-use")


async def test_a_thousand_stations_are_paged_sorted_and_searched(
    app: Application, open_page: PageFactory
) -> None:
    """Only one page of rows exists in the DOM; the query lives in the URL."""
    async with small_network(app) as network:
        # Straight into the table in one statement: a thousand REST calls would take most
        # of a minute, and the list endpoint reads this table.
        engine = create_engine(app.settings.database_url)
        try:
            async with engine.begin() as connection:
                now = datetime.now(UTC)
                records = [
                    {"id": f"SITE-{n:04d}", "registration_status": "Accepted", "created_at": now}
                    for n in range(1000)
                ]
                await connection.execute(insert(ChargePointRow), records)
        finally:
            await engine.dispose()
        assert (await network.rest.get("/api/charge-points")).json()["total"] == 1003
        handle = await open_page(app.rest_port)
        page = handle.page
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url) if "charge-points?" in r.url else None)
        await handle.open("#/charge-points")
        await handle.settle()
        rows = page.locator("table tbody tr")
        await expect(rows).to_have_count(50)
        await expect(page.locator(".pagination-range")).to_have_text(f"1{EN_DASH}50 of 1,003")
        await page.get_by_role("button", name=f"Next {NEXT}").click()
        await expect(page.locator(".pagination-range")).to_have_text(f"51{EN_DASH}100 of 1,003")
        assert "offset=50" in page.url
        await page.get_by_label("Order").select_option("desc")
        await expect(rows.first).to_contain_text("SITE-0999")
        await expect(page.locator(".pagination-range")).to_have_text(f"1{EN_DASH}50 of 1,003")
        await page.get_by_label("Search charge points").fill("SITE-012")
        await expect(rows).to_have_count(10)
        await expect(page.locator(".view-lede")).to_contain_text("10 match")
        assert any(
            "q=SITE-012" in url and "limit=50" in url for url in asked
        )  # the server searched
        await page.get_by_label("Filter charge points").select_option("online")
        await expect(rows).to_have_count(1)  # the empty-list row
        await expect(rows.first).to_contain_text("No charge point matches")
        await handle.screenshot("charge-points-1000")


async def test_an_administrator_moves_a_station_to_security_profile_3(
    app: Application, open_page: PageFactory
) -> None:
    async with small_network(app) as network:
        handle = await open_page(app.rest_port, token=True)
        page = handle.page
        await handle.open(f"#/charge-points/{LIVE}?tab=security")
        await handle.settle()
        profile = page.get_by_label("Security profile")
        await expect(profile).to_have_value("1")
        await profile.select_option("3")
        await page.get_by_role("button", name="Apply profile").click()
        dialog = page.get_by_role("dialog", name="Require security profile 3 of CP-LIVE?")
        await dialog.get_by_role("button", name="Apply profile").click()
        await expect(page.locator("#toasts")).to_contain_text(
            "CP-LIVE now needs security profile 3."
        )
        stored = await network.rest.get(f"/api/charge-points/{LIVE}", headers=OPERATOR)
        assert stored.json()["security_profile"] == 3
        assert await unexpected_errors(handle) == []


async def test_an_alarm_appears_when_a_station_goes_offline_and_is_acknowledged(
    app_factory: AppFactory, open_page: PageFactory
) -> None:
    app = await app_factory(alarm_offline_minutes=0.005)  # 0.3 s: the rule is under test
    handle = await open_page(app.rest_port, token=True)
    page = handle.page
    await handle.open("#/alarms")
    await handle.settle()
    await expect(page.locator(".view")).to_contain_text("Nothing needs attention")
    count = page.locator("#alarm-count")
    await expect(count).to_be_hidden()
    async with connected_station(ocpp_url(app), "CP-AWAY") as station:
        await station.boot()
    row = page.locator("tbody tr", has_text="CP-AWAY")
    await expect(row).to_contain_text("Station offline", timeout=10_000)  # pushed, no click
    await expect(count).to_have_text("1")
    await row.get_by_role("button", name="Acknowledge").click()
    await expect(row).to_contain_text("Acknowledged by")
    await handle.screenshot("alarm-acknowledged")
    assert await unexpected_errors(handle) == []


async def test_transactions_are_exported_as_csv_from_the_page(
    app: Application, open_page: PageFactory
) -> None:
    async with small_network(app):
        handle = await open_page(app.rest_port, token=True)
        page = handle.page
        await handle.open(f"#/transactions?charge_point_id={LIVE}")
        await handle.settle()
        async with page.expect_download() as started:
            await page.get_by_role("button", name="Export CSV").click()
        download = await started.value
        assert download.suggested_filename == "transactions.csv"
        lines = (await download.path()).read_text().splitlines()
        assert lines[0].startswith("id,charge_point_id,connector_id")
        assert len(lines) > 1 and all(LIVE in line for line in lines[1:])
        assert await unexpected_errors(handle) == []


async def test_the_station_list_pages_from_the_server_and_patches_its_rows_live(
    app: Application, open_page: PageFactory
) -> None:
    """The list asks the server for one page (with its query); a status change on the
    event stream redraws the row from the store while the page's own reads are held."""
    async with small_network(app):
        event = {
            "charge_point_id": LIVE,
            "connector_id": 2,
            "status": "Faulted",
            "error_code": "GroundFailure",
            "reported_at": "2030-01-01T00:00:00Z",
            "at": "2030-01-01T00:00:00Z",
        }
        release, done = asyncio.Event(), asyncio.Event()
        served: list[Request] = []
        page_reads: list[str] = []

        async def events(route: Route) -> None:
            served.append(route.request)
            if len(served) == 1:
                await release.wait()  # the event comes once the list is on screen
                body = f"event: connector.status_changed\ndata: {json.dumps(event)}\n\n"
                await route.fulfill(
                    status=200, headers={"Content-Type": "text/event-stream"}, body=body
                )
            else:
                await route.fulfill(status=404, json={"detail": "Not Found"})

        async def list_page(route: Route) -> None:
            page_reads.append(route.request.url)
            if release.is_set():  # from now on the page cannot be read again
                await done.wait()
            with contextlib.suppress(Exception):  # the page may be gone by then
                await route.continue_()

        handle = await open_page(app.rest_port, token=True)
        page = handle.page
        await page.route("**/api/events*", events)
        await page.route("**/api/charge-points?sort=online*", list_page)
        try:
            await handle.open("#/charge-points?sort=online&limit=25")
            row = page.locator("tbody tr", has=page.get_by_role("link", name=LIVE, exact=True))
            await expect(page.locator("tbody tr").first).to_contain_text(LIVE)  # online first
            assert any("limit=25" in url and "offset=0" in url for url in page_reads)
            release.set()
            await expect(row).to_contain_text("GroundFailure")
        finally:
            done.set()


@pytest.mark.parametrize("size", ["desktop", "phone"])
async def test_an_appliance_job_is_added_listed_with_its_progress_and_removed(
    app: Application, open_page: PageFactory, size: str
) -> None:
    viewport = PHONE if size == "phone" else None
    handle = await open_page(app.rest_port, token=True, viewport=viewport)
    page = handle.page
    await handle.open("#/energy?tab=jobs")
    await handle.settle()
    await expect(page.get_by_text("No appliance job. Add one below.")).to_be_visible()
    form = page.get_by_role("region", name="Add a job")

    # A window too short for the run: the API's 422 appears next to the energy field.
    await form.get_by_label("Job id").fill("heater")
    await form.get_by_label("Name").fill("Water heater")
    await form.get_by_label("Energy (kWh)").fill("30")
    await form.get_by_label("Power (kW)").fill("2")
    await form.get_by_label("Interruptible").check()
    await form.get_by_role("button", name="Add job").click()
    await expect(form.locator(".field-error")).to_contain_text("needs 15.00 h")
    assert await form.get_by_label("Energy (kWh)").get_attribute("aria-invalid") == "true"

    await form.get_by_label("Energy (kWh)").fill("3")
    await form.get_by_role("button", name="Add job").click()
    row = page.locator("tr[data-job='heater']")
    await expect(row).to_contain_text("Water heater")
    await expect(row).to_contain_text("0.0 of 3.0 kWh")
    await expect(row).to_contain_text("interruptible")
    stored = await handle.context.request.get(
        f"{handle.base_url}/energy/deferrable-loads",
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )
    [job] = await stored.json()
    assert job["config"]["interruptible"] is True and job["config"]["power_kw"] == 2.0
    # The same id again: the 409 is shown in the form.
    await form.get_by_role("button", name="Add job").click()
    await expect(form.locator(".form-errors")).to_contain_text("already exists")

    # Progress: a plan switches it on, energy is counted, the list shows it.
    app.coordinator.restore_progress(
        (DeferrableLoadState("heater", delivered_kwh=1.5, started=True),)
    )
    await page.get_by_role("tab", name="Tariff").click()
    await page.get_by_role("tab", name="Appliance jobs").click()
    await expect(row).to_contain_text("1.5 of 3.0 kWh")
    await expect(row.get_by_role("img")).to_have_attribute("aria-label", "Progress of heater: 50 %")
    await handle.screenshot(f"{size}-energy-jobs-listed")
    violations = await handle.axe()
    assert violations == [], violations
    assert await handle.overflow_x() == 0

    await row.get_by_role("button", name="Remove job heater").click()
    await page.get_by_role("dialog").get_by_role("button", name="Remove job").click()
    await expect(page.get_by_text("No appliance job. Add one below.")).to_be_visible()
    assert app.coordinator.deferrable_loads() == []
    # The browser logs the two refusals the test provoked (422, 409); nothing else.
    refused = [e for e in handle.errors if "/energy/deferrable-loads" in e]
    # By the status the browser names: a port number may contain "409" too.
    statuses = [("status of 422" in e, "status of 409" in e) for e in refused]
    assert statuses == [(True, False), (False, True)]
    assert [e for e in await unexpected_errors(handle) if e not in refused] == []
