"""A real browser on the real application: Debian's Chromium driven by Playwright.

One Chromium process serves the whole session (starting it is the slow part); each test
gets fresh browser contexts, so nothing (storage, cache, cookies) leaks between tests.
Playwright's own browser download is not used: `executable_path` points at the system
Chromium, which `python3 dev.py test` installs when it is missing. With CI=true a missing
browser fails the run instead of skipping it.

These tests exercise the dashboard, not the database, so they run on SQLite only.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    async_playwright,
)

from tests.conftest import API_TOKEN, running_in_ci

ROOT = Path(__file__).resolve().parents[2]
AXE_SOURCE = (Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js").read_text(
    encoding="utf-8"
)
# Screenshots and axe reports: kept after the run for people (and CI artefacts) to look at.
OUTPUT_DIR = Path(os.environ.get("TEST_OUTPUT_DIR", ROOT / "test-output")) / "browser"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Every wait on the page is bounded; a broken page fails in seconds, not minutes.
TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_executable() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if Path(configured).is_file() else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def database_kind() -> str:
    """Overrides the root fixture: browser tests run on SQLite only."""
    return "sqlite"


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    executable = chromium_executable()
    if executable is None:
        message = (
            "No Chromium found (looked for /usr/bin/chromium and CHROMIUM_PATH); "
            "`python3 dev.py test` installs it with `apt-get install -y chromium`"
        )
        if running_in_ci():
            pytest.fail(message + " (CI=true: browser tests must run)")
        pytest.skip(message)
    launched = await playwright.chromium.launch(
        executable_path=executable, args=LAUNCH_ARGS, headless=True, timeout=30_000
    )
    try:
        yield launched
    finally:
        await launched.close()


@dataclass
class BrowserPage:
    """A page with what it logged: console errors, uncaught exceptions, failed requests."""

    page: Page
    context: BrowserContext
    base_url: str
    errors: list[str] = field(default_factory=list)

    async def open(self, route: str = "#/overview") -> None:
        await self.page.goto(f"{self.base_url}/{route}", wait_until="load")
        await self.page.locator("#main .view").first.wait_for()

    async def go(self, route: str) -> None:
        """Change the hash route without reloading (as the navigation links do)."""
        await self.page.evaluate("(hash) => { location.hash = hash; }", route)

    async def settle(self) -> None:
        """Wait until the view and any open drawer or tab have loaded what they show."""
        await self.page.wait_for_function(
            """() => ![...document.querySelectorAll(
                    '[aria-busy="true"], .loading, .answer-pending')]
                .some((node) => node.getClientRects().length > 0)"""
        )
        # Rendering after the last answer (and the drawer's slide-in) takes a moment.
        await self.page.wait_for_timeout(300)

    async def screenshot(self, name: str) -> Path:
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        path = OUTPUT_DIR / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    async def axe(self) -> list[dict[str, Any]]:
        """axe-core's violations on the page as it is now (injected over CDP, not <script>,
        so the page's own strict CSP stays in force)."""
        if not await self.page.evaluate("() => typeof window.axe === 'object'"):
            await self.page.evaluate(AXE_SOURCE)
        result: dict[str, Any] = await self.page.evaluate(
            """async () => {
                const r = await axe.run(document, { resultTypes: ["violations"] });
                return { violations: r.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map((n) => ({ target: n.target.join(" "),
                                                 summary: n.failureSummary })),
                })) };
            }"""
        )
        violations: list[dict[str, Any]] = result["violations"]
        return violations

    async def overflow_x(self) -> int:
        """How many CSS pixels the document is wider than the viewport (0: no sideways scroll)."""
        width: int = await self.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        return width


PageFactory = Callable[..., Awaitable[BrowserPage]]


@pytest.fixture
async def open_page(browser: Browser) -> AsyncIterator[PageFactory]:
    """Open the dashboard of a running app in a fresh context (own storage and cache)."""
    contexts: list[BrowserContext] = []

    async def start(
        rest_port: int,
        *,
        viewport: dict[str, int] | None = None,
        locale: str = "en-US",
        token: bool = True,
    ) -> BrowserPage:
        context = await browser.new_context(
            viewport=viewport or DESKTOP,  # type: ignore[arg-type]
            locale=locale,
            service_workers="block",
        )
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        if token:
            # What the token dialog stores (every API route needs a token, reads too); set
            # before any script of the page runs.
            await context.add_init_script(
                f"localStorage.setItem('ev_charging_system.apiToken', {API_TOKEN!r});"
            )
        page = await context.new_page()
        handle = BrowserPage(page=page, context=context, base_url=f"http://127.0.0.1:{rest_port}")

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                handle.errors.append(f"console: {message.text} @ {message.location}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: handle.errors.append(f"pageerror: {error}"))
        return handle

    yield start
    for context in contexts:
        await context.close()
