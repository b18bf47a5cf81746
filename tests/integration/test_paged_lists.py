"""Lists that scale: paging, sorting and filtering done by the database, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from ocpp.v16.enums import ChargePointStatus
from sqlalchemy import insert

from ev_charging_system.application import Application
from ev_charging_system.data.orm import ChargePointRow
from tests.conftest import ocpp_url
from tools.simulated_charge_point import connected_station

T0 = datetime(2030, 1, 1, tzinfo=UTC)


async def add_stations(app: Application, count: int) -> None:
    """Stations straight into the table: the list reads this table, and REST would be slow.

    Every third has booted (vendor Acme or Volt, firmware), every fifth is Pending."""
    records = []
    for n in range(count):
        booted = n % 3 == 0
        records.append(
            {
                "id": f"ST-{n:04d}",
                "registration_status": "Pending" if n % 5 == 0 else "Accepted",
                "created_at": T0 + timedelta(minutes=n),
                "vendor": ("Acme" if n % 2 == 0 else "Volt") if booted else None,
                "model": f"M{n % 4}" if booted else None,
                "firmware_version": f"1.{n % 7}" if booted else None,
                "last_boot_at": T0 + timedelta(hours=n) if booted else None,
                "last_seen_at": T0 + timedelta(seconds=count - n),
            }
        )
    async with app.engine.begin() as connection:
        await connection.execute(insert(ChargePointRow), records)


Params = dict[str, str | int]


async def page(
    rest: httpx.AsyncClient, path: str = "/api/charge-points", **params: str | int
) -> Any:
    response = await rest.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids(body: Any, key: str = "id") -> list[Any]:
    return [item[key] for item in body["items"]]


async def test_stations_are_paged_in_a_stable_order_with_a_total(
    app: Application, rest: httpx.AsyncClient
) -> None:
    await add_stations(app, 120)
    first = await page(rest, limit=50)
    second = await page(rest, limit=50, offset=50)
    last = await page(rest, limit=50, offset=100)
    beyond = await page(rest, limit=50, offset=500)

    assert first["total"] == second["total"] == last["total"] == beyond["total"] == 120
    assert (first["limit"], first["offset"]) == (50, 0)
    walked = ids(first) + ids(second) + ids(last)
    assert walked == [f"ST-{n:04d}" for n in range(120)]
    assert ids(beyond) == []
    assert first["vendors"] == ["Acme", "Volt"]
    assert (await page(rest))["limit"] == 50  # the default page


async def test_stations_sort_by_any_column_both_ways(
    app: Application, rest: httpx.AsyncClient
) -> None:
    await add_stations(app, 30)
    descending = ids(await page(rest, order="desc", limit=3))
    by_seen = ids(await page(rest, sort="last_seen", limit=3))
    by_boot = ids(await page(rest, sort="last_boot", order="desc", limit=500))
    by_vendor = (await page(rest, sort="vendor", limit=500))["items"]
    by_registration = ids(await page(rest, sort="registration", limit=6))
    by_created = ids(await page(rest, sort="created", order="desc", limit=2))

    assert descending == ["ST-0029", "ST-0028", "ST-0027"]
    assert by_seen == ["ST-0029", "ST-0028", "ST-0027"]  # seen earliest first
    # descending puts the never-booted first (NULL is "after every value" ascending)
    booted = [i for i in by_boot if int(i[3:]) % 3 == 0]
    assert by_boot[-len(booted) :] == sorted(booted, reverse=True)
    vendors = [(s["boot"] or {}).get("vendor") for s in by_vendor]
    assert vendors == ["Acme"] * 5 + ["Volt"] * 5 + [None] * 20
    assert by_registration == ["ST-0001", "ST-0002", "ST-0003", "ST-0004", "ST-0006", "ST-0007"]
    assert by_created == ["ST-0029", "ST-0028"]


async def test_stations_filter_by_text_registration_boot_and_vendor(
    app: Application, rest: httpx.AsyncClient
) -> None:
    await add_stations(app, 30)
    text = await page(rest, q="st-001")
    firmware = await page(rest, q="1.6")  # firmware 1.6: n % 7 == 6 and n % 3 == 0
    pending = await page(rest, status="pending")
    booted = await page(rest, status="booted", vendor="Volt")
    never = await page(rest, status="never_booted")
    model = await page(rest, vendor="Acme", model="M0")
    wildcard = await page(rest, q="%")

    assert ids(text) == [f"ST-{n:04d}" for n in range(10, 20)] and text["total"] == 10
    assert ids(firmware) == ["ST-0006", "ST-0027"]
    assert ids(pending) == ["ST-0000", "ST-0005", "ST-0010", "ST-0015", "ST-0020", "ST-0025"]
    assert ids(booted) == ["ST-0003", "ST-0009", "ST-0015", "ST-0021", "ST-0027"]
    assert never["total"] == 20
    assert ids(model) == ["ST-0000", "ST-0012", "ST-0024"]
    assert wildcard["total"] == 0  # LIKE wildcards are searched for as text


async def test_online_and_faulted_follow_the_connected_stations(
    app: Application, rest: httpx.AsyncClient
) -> None:
    await add_stations(app, 10)
    async with connected_station(ocpp_url(app), "ST-0004") as live:
        await live.boot(vendor="Acme", model="Z9")
        await live.status(1, ChargePointStatus.faulted)
        async with connected_station(ocpp_url(app), "ST-0007") as other:
            await other.boot()
            online = await page(rest, status="online")
            offline = await page(rest, status="offline")
            faulted = await page(rest, status="faulted")
            online_first = await page(rest, sort="online", limit=3)
            older_name = await page(rest, online_only="true")
            text = await page(rest, q="z9", status="online")
    faulted_after = await page(rest, status="faulted")

    assert ids(online) == ["ST-0004", "ST-0007"] and online["total"] == 2
    assert all(s["online"] for s in online["items"])
    assert offline["total"] == 8 and "ST-0004" not in ids(offline)
    assert ids(faulted) == ["ST-0004"]
    assert ids(online_first) == ["ST-0004", "ST-0007", "ST-0000"]
    assert ids(older_name) == ["ST-0004", "ST-0007"]
    assert ids(text) == ["ST-0004"]
    assert faulted_after["total"] == 0  # an offline station's last status is history


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
        ({"sort": "password"}, "sort"),
        ({"order": "sideways"}, "order"),
        ({"status": "sleepy"}, "status"),
        ({"q": "x" * 101}, "q"),
        ({"online_only": "true", "status": "offline"}, ""),
    ],
)
async def test_out_of_bounds_list_requests_are_422(
    rest: httpx.AsyncClient, params: Params, field: str
) -> None:
    response = await rest.get("/api/charge-points", params=params)
    assert response.status_code == 422, response.text
    assert field in str(response.json()["detail"])


async def test_commands_and_audit_are_paged_and_filtered(
    rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    for station in ("CP-A", "CP-B"):
        created = await rest.post("/api/charge-points", json={"id": station}, headers=operator)
        assert created.status_code == 201
    for action in ("clear-cache", "clear-cache", "reset"):
        body = {"type": "Soft"} if action == "reset" else None
        sent = await rest.post(f"/api/charge-points/CP-A/commands/{action}", json=body)
        assert sent.status_code == 409  # offline: refused, and logged
    await rest.post("/api/charge-points/CP-B/commands/clear-cache")

    everything = await page(rest, "/api/commands", limit=2)
    older = await page(rest, "/api/commands", limit=2, offset=2)
    oldest_first = await page(rest, "/api/commands", order="asc", limit=1)
    one_station = await page(rest, "/api/charge-points/CP-A/commands", action="ClearCache")
    by_outcome = await page(rest, "/api/commands", outcome="offline")
    unknown = await rest.get("/api/charge-points/CP-Z/commands")

    assert everything["total"] == older["total"] == 4
    assert ids(everything, "charge_point_id") == ["CP-B", "CP-A"]
    assert ids(older, "action") == ["ClearCache", "ClearCache"]
    assert ids(oldest_first, "action") == ["ClearCache"] and oldest_first["total"] == 4
    assert one_station["total"] == 2
    assert by_outcome["total"] == 4
    assert unknown.status_code == 404

    audit = await page(rest, "/api/audit", tool="create_charge_point", limit=1)
    audit_rest = await page(rest, "/api/audit", channel="rest", outcome="ok", order="asc")
    assert audit["total"] == 2 and len(audit["items"]) == 1
    assert audit["items"][0]["arguments"]["id"] == "CP-B"  # newest first
    assert ids(audit_rest, "tool")[:2] == ["create_charge_point", "create_charge_point"]
    refused: list[tuple[str, Params]] = [
        ("/api/commands", {"limit": 501}),
        ("/api/commands", {"outcome": "maybe"}),
        ("/api/audit", {"offset": -1}),
        ("/api/audit", {"order": "up"}),
    ]
    for path, params in refused:
        assert (await rest.get(path, params=params)).status_code == 422


async def test_id_tags_are_searched_filtered_and_sorted(rest: httpx.AsyncClient) -> None:
    tags = [
        {"id_tag": "GROUP", "name": "Fleet"},
        {"id_tag": "T-1", "name": "Zoe", "parent_id_tag": "GROUP"},
        {"id_tag": "T-2", "name": "Ana", "status": "Blocked", "parent_id_tag": "GROUP"},
        {"id_tag": "T-3", "status": "Blocked"},
        {"id_tag": "X_1", "name": "100% Ana"},
    ]
    for tag in tags:
        assert (await rest.post("/api/id-tags", json=tag)).status_code == 201

    by_name = await page(rest, "/api/id-tags", sort="name")
    blocked = await page(rest, "/api/id-tags", status="Blocked", order="desc")
    text = await page(rest, "/api/id-tags", q="ana")
    literal = await page(rest, "/api/id-tags", q="_")
    group = await page(rest, "/api/id-tags", parent_id_tag="GROUP", limit=1, offset=1)

    assert ids(by_name, "id_tag") == ["X_1", "T-2", "GROUP", "T-1", "T-3"]
    assert ids(blocked, "id_tag") == ["T-3", "T-2"]
    assert ids(text, "id_tag") == ["T-2", "X_1"]
    assert ids(literal, "id_tag") == ["X_1"]
    assert ids(group, "id_tag") == ["T-2"] and group["total"] == 2
    assert (await rest.get("/api/id-tags", params={"status": "Unknown"})).status_code == 422


async def test_transactions_sort_by_start_stop_energy_and_station(
    app: Application, rest: httpx.AsyncClient
) -> None:
    for tag in ("TAG-A", "TAG-B", "TAG-C"):
        body = {"id_tag": tag, "max_active_transactions": 3}
        assert (await rest.post("/api/id-tags", json=body)).status_code == 201
    async with connected_station(ocpp_url(app), "CP-T2") as other:
        await other.boot()
        b = await other.start_transaction(1, "TAG-B", 0, timestamp="2030-01-01T02:00:00Z")
        await other.stop_transaction(b.transaction_id, 3_000, timestamp="2030-01-01T02:30:00Z")
    async with connected_station(ocpp_url(app), "CP-T1") as station:
        await station.boot()
        a = await station.start_transaction(1, "TAG-A", 1_000, timestamp="2030-01-01T01:00:00Z")
        await station.stop_transaction(a.transaction_id, 1_500, timestamp="2030-01-01T03:00:00Z")
        await station.start_transaction(2, "TAG-C", 0, timestamp="2030-01-01T04:00:00Z")

        newest = await page(rest, "/api/transactions")
        oldest = await page(rest, "/api/transactions", order="asc", limit=2)
        stopped = await page(rest, "/api/transactions", sort="stopped", order="asc")
        energy = await page(rest, "/api/transactions", sort="energy", order="desc")
        by_station = await page(rest, "/api/transactions", sort="charge_point", order="asc")
        refused = await rest.get("/api/transactions", params={"sort": "price"})

    assert ids(newest, "id_tag") == ["TAG-C", "TAG-B", "TAG-A"]
    assert ids(oldest, "id_tag") == ["TAG-A", "TAG-B"] and oldest["total"] == 3
    assert ids(stopped, "id_tag") == ["TAG-B", "TAG-A", "TAG-C"]  # running last
    assert ids(energy, "id_tag") == ["TAG-C", "TAG-B", "TAG-A"]  # descending: running first
    assert ids(by_station, "id_tag") == ["TAG-A", "TAG-C", "TAG-B"]
    assert refused.status_code == 422
