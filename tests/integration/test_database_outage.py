"""Bounded database waits (issue #11): a database that hangs or a table held locked gets
stations a CALLERROR InternalError within DATABASE_TIMEOUT_SECONDS (they retry), health
answers within a second, the log says so once per change, and a retry after recovery
is stored exactly once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ev_charging_system.application import Application
from tests.conformance.station import OCPP16, OPERATOR, RawStation, at, raw_station
from tests.conftest import AppFactory
from tests.faults import StallingProxy, table_locked

TIMEOUT = 1.0  # DATABASE_TIMEOUT_SECONDS of these tests
HEALTH_BOUND = 1.0  # /api/health must answer within this, whatever the database does
# An operator's read gets its 503 after API_READ_TIMEOUT_SECONDS (TIMEOUT); the rest is
# room for a loaded CI machine (2 s failed once there). A hang would never answer.
LIST_BOUND = TIMEOUT + 4.0


def meter_values(minutes: float) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "meterValue": [
            {
                "timestamp": at(minutes),
                "sampledValue": [
                    {
                        "value": str(1000 + int(minutes)),
                        "measurand": "Energy.Active.Import.Register",
                    }
                ],
            }
        ],
    }


async def stored_samples(app: Application, station_id: str) -> int:
    async with app.engine.connect() as connection:
        count = await connection.scalar(
            text("SELECT count(*) FROM meter_samples WHERE charge_point_id = :station"),
            {"station": station_id},
        )
    return int(count or 0)


async def health(app: Application) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.rest_port}") as client:
        # The client's own timeout is the bound under test: slower is a failure.
        return await client.get("/api/health", timeout=HEALTH_BOUND)


async def operator_read(app: Application, path: str, bound: float) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.rest_port}") as client:
        return await client.get(path, headers=OPERATOR, timeout=bound)


async def refused_for_database(station: RawStation, payload: dict[str, Any]) -> str:
    code, description = await station.call_error("MeterValues", payload)
    assert code == "InternalError", description
    return description


def outage_lines(caplog: pytest.LogCaptureFixture) -> tuple[list[str], list[str], list[str]]:
    """(database unavailable lines, available-again lines, records with a traceback)."""
    records = [r for r in caplog.records if r.name.startswith("ev_charging_system")]
    down = [r.getMessage() for r in records if "database unavailable" in r.getMessage()]
    up = [r.getMessage() for r in records if "database available again" in r.getMessage()]
    tracebacks = [r.getMessage() for r in records if r.exc_info]
    return down, up, tracebacks


@pytest.fixture
async def stalling_database(migrated_database: str) -> AsyncIterator[tuple[StallingProxy, str]]:
    """A proxy in front of the test database: (the proxy, the database URL through it).

    Requested before `app_factory`, so it is closed after the application stopped."""
    url = make_url(migrated_database)
    proxy = StallingProxy(url.host or "127.0.0.1", url.port or 5432)
    port = await proxy.start()
    try:
        yield proxy, url.set(port=port).render_as_string(hide_password=False)
    finally:
        await proxy.close()


@pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True, scope="session")
async def test_a_hung_postgresql_gets_stations_internal_errors_and_health_503(
    stalling_database: tuple[StallingProxy, str],
    app_factory: AppFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ev_charging_system")
    proxy, through_proxy = stalling_database
    app = await app_factory(
        database_url=through_proxy,
        database_timeout_seconds=TIMEOUT,
        api_read_timeout_seconds=TIMEOUT,
    )
    async with raw_station(app, "CP-HUNG", OCPP16) as station:
        assert await station.call("MeterValues", meter_values(0)) == {}
        assert (await health(app)).status_code == 200

        proxy.stall()  # PostgreSQL stops answering, as if paused
        await refused_for_database(station, meter_values(1))
        await refused_for_database(station, meter_values(2))
        assert await station.call("Heartbeat")  # memory only: still answered
        down = await health(app)
        assert down.status_code == 503
        assert down.json()["database"] == "unreachable"
        assert (await health(app)).status_code == 503  # again, still within the bound
        # An operator's list answers too: 503 with Retry-After, not a hang.
        listing = await operator_read(app, "/api/transactions", LIST_BOUND)
        assert listing.status_code == 503, listing.text
        assert listing.headers["Retry-After"]
        assert listing.json()["detail"] == "the database is unavailable; retry later"
        await refused_for_database(station, meter_values(1))  # a station's retry

        proxy.resume()
        # The station retries what was refused: stored now, once.
        assert await station.call("MeterValues", meter_values(1)) == {}
        assert await station.call("MeterValues", meter_values(2)) == {}
        assert (await health(app)).status_code == 200
    assert await stored_samples(app, "CP-HUNG") == 3
    down_lines, up_lines, tracebacks = outage_lines(caplog)
    assert len(down_lines) == 1, down_lines
    assert len(up_lines) == 1, up_lines
    assert tracebacks == []


async def test_a_locked_table_gets_the_station_an_internal_error_then_its_retry_stored_once(
    app_factory: AppFactory, migrated_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ev_charging_system")
    app = await app_factory(database_timeout_seconds=TIMEOUT)
    async with raw_station(app, "CP-LOCK", OCPP16) as station:
        with table_locked(migrated_database, "meter_samples"):
            described = await refused_for_database(station, meter_values(1))
            assert "retry later" in described
            assert (await health(app)).status_code in (200, 503)  # answered in time
        assert await station.call("MeterValues", meter_values(1)) == {}
        # The first attempt was abandoned, not half-done: nothing was stored twice.
        assert await station.call("MeterValues", meter_values(1)) == {}
    assert await stored_samples(app, "CP-LOCK") == 1
    _, _, tracebacks = outage_lines(caplog)
    assert tracebacks == []
