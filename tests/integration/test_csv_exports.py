"""Transactions and reports as CSV, streamed: every row, the list's filters, the same
authorisation, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import insert

from ev_charging_system.application import Application
from ev_charging_system.data.database import create_engine
from ev_charging_system.data.orm import ChargePointRow, TransactionRow

# More than two pages of the export (500 rows each), so paging is exercised.
SESSIONS = 1_103


async def seed_sessions(app: Application) -> None:
    """Finished sessions straight into the tables: a thousand charging sessions by
    simulated stations would take minutes, and the export only reads these rows."""
    engine = create_engine(app.settings.database_url)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(ChargePointRow),
                [
                    {"id": station, "registration_status": "Accepted", "created_at": start}
                    for station in ("CSV-A", "CSV-B")
                ],
            )
            await connection.execute(
                insert(TransactionRow),
                [
                    {
                        "charge_point_id": "CSV-A" if n % 3 else "CSV-B",
                        "connector_id": 1,
                        "id_tag": "=HYPERLINK(1)" if n == 7 else f"TAG-{n % 10}",
                        "authorization_status": "Accepted",
                        "meter_start_wh": 1_000 * n,
                        "meter_stop_wh": 1_000 * n + 500,
                        "started_at": start + timedelta(minutes=n),
                        "stopped_at": start + timedelta(minutes=n, seconds=30),
                        "stop_reason": "Local",
                    }
                    for n in range(SESSIONS)
                ],
            )
    finally:
        await engine.dispose()


def rows_of(answer: httpx.Response) -> list[dict[str, str]]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.text)))


async def test_every_transaction_is_exported_across_pages(
    app: Application, rest: httpx.AsyncClient
) -> None:
    await seed_sessions(app)
    answer = await rest.get("/api/transactions/export.csv")
    assert 'filename="transactions.csv"' in answer.headers["content-disposition"]
    rows = rows_of(answer)
    assert len(rows) == SESSIONS
    assert len({row["id"] for row in rows}) == SESSIONS  # no page read twice
    assert rows[0]["energy_wh"] == "500" and rows[0]["stop_reason"] == "Local"
    # A value that would run as a formula in a spreadsheet is written as text.
    assert "'=HYPERLINK(1)" in {row["id_tag"] for row in rows}

    only_b = rows_of(await rest.get("/api/transactions/export.csv?charge_point_id=CSV-B"))
    assert len(only_b) == len([n for n in range(SESSIONS) if n % 3 == 0])
    assert {row["charge_point_id"] for row in only_b} == {"CSV-B"}


async def test_an_export_with_nothing_in_it_still_has_its_header(
    rest: httpx.AsyncClient,
) -> None:
    answer = await rest.get("/api/transactions/export.csv?id_tag=NOBODY")
    assert answer.status_code == 200
    assert answer.text.splitlines()[0].startswith("id,charge_point_id,connector_id,id_tag")
    assert rows_of(answer) == []


async def test_the_usage_report_is_exported(app: Application, rest: httpx.AsyncClient) -> None:
    await seed_sessions(app)
    answer = await rest.get(
        "/api/reports/usage.csv",
        params={"group_by": "charge_point", "from": "2026-11-01T00:00:00Z"},
    )
    rows = {row["key"]: row for row in rows_of(answer)}
    assert set(rows) == {"CSV-A", "CSV-B"}
    assert int(rows["CSV-A"]["sessions"]) + int(rows["CSV-B"]["sessions"]) == SESSIONS
    assert int(rows["CSV-A"]["energy_wh"]) == 500 * int(rows["CSV-A"]["sessions"])


async def test_exports_need_a_token_and_valid_filters(
    rest: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    assert (await anonymous.get("/api/transactions/export.csv")).status_code == 401
    bad = await rest.get("/api/transactions/export.csv?from=yesterday")
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/json")
