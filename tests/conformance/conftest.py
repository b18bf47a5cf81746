"""One running CSMS per test module and database, shared by the module's scenarios.

Starting the whole application costs more than most scenarios take, so the scenarios of
a module share one (on SQLite, then on PostgreSQL, like every `app` test). They stay
independent because each uses its own station ids and id tags (named after its case).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ev_charging_system.application import Application
from tests.conformance.station import Operator
from tests.conftest import empty_all_tables, test_settings


@pytest.fixture(scope="module")
async def csms(
    migrated_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Application]:
    await empty_all_tables(migrated_database)
    # A wss:// listener too (security profiles 2 and 3), its certificate from the CSMS's CA.
    application = Application(
        test_settings(migrated_database, ocpp_tls_port=0, data_dir=tmp_path_factory.mktemp("csms"))
    )
    await application.start()
    try:
        yield application
    finally:
        await application.stop()


@pytest.fixture
async def operator(csms: Application) -> AsyncIterator[Operator]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.rest_port}") as rest:
        yield Operator(rest)
