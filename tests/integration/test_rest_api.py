"""The REST API as a dashboard or script uses it: JSON in, JSON out, clear errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ev_charging_system.application import Application
from tests.conftest import ocpp_url
from tools.simulated_charge_point import connected_station


async def test_health_reports_the_database_and_online_stations(rest: httpx.AsyncClient) -> None:
    response = await rest.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "stations_online": 0}


async def test_openapi_docs_are_served(rest: httpx.AsyncClient) -> None:
    assert (await rest.get("/docs")).status_code == 200
    schema = (await rest.get("/openapi.json")).json()
    assert "/api/transactions" in schema["paths"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/id-tags", {"id_tag": "X"}),
        ("PATCH", "/api/id-tags/X", {"status": "Blocked"}),
        ("DELETE", "/api/id-tags/X", None),
        ("POST", "/api/charge-points", {"id": "CP-9"}),
        ("POST", "/api/charge-points/CP-9/accept", None),
        ("PUT", "/api/charge-points/CP-9/password", {"password": None}),
    ],
)
async def test_writes_without_the_operator_token_get_401(
    anonymous: httpx.AsyncClient, method: str, path: str, body: object
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = await anonymous.request(method, path, json=body, headers=headers)
        assert response.status_code == 401
        assert "Bearer" in response.json()["detail"]
        assert response.headers["www-authenticate"] == "Bearer"


async def test_id_tag_lifecycle(rest: httpx.AsyncClient, operator: dict[str, str]) -> None:
    expiry = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    created = await rest.post(
        "/api/id-tags",
        json={"id_tag": "CARD-1", "name": "Bob", "expiry_date": expiry.isoformat()},
        headers=operator,
    )
    assert created.status_code == 201
    assert datetime.fromisoformat(created.json()["expiry_date"]) == expiry

    duplicate = await rest.post("/api/id-tags", json={"id_tag": "CARD-1"}, headers=operator)
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.json()["detail"]

    blocked = await rest.patch(
        "/api/id-tags/CARD-1", json={"status": "Blocked", "expiry_date": None}, headers=operator
    )
    assert blocked.status_code == 200
    assert blocked.json()["status"] == "Blocked"
    assert blocked.json()["expiry_date"] is None
    assert blocked.json()["name"] == "Bob"

    page = (await rest.get("/api/id-tags")).json()
    assert page["total"] == 1 and page["items"][0]["id_tag"] == "CARD-1"

    assert (await rest.delete("/api/id-tags/CARD-1", headers=operator)).status_code == 204
    missing = await rest.get("/api/id-tags/CARD-1")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "id tag 'CARD-1' not found"}


@pytest.mark.parametrize(
    "body",
    [
        {"id_tag": ""},
        {"id_tag": "X" * 37},
        {"id_tag": "A", "status": "Sometimes"},
        {"id_tag": "A", "status": "ConcurrentTx"},
        {"id_tag": "A", "max_active_transactions": 0},
        {"id_tag": "A", "surprise": 1},
    ],
)
async def test_invalid_id_tags_are_refused_with_422_and_nothing_is_stored(
    rest: httpx.AsyncClient, operator: dict[str, str], body: dict[str, object]
) -> None:
    response = await rest.post("/api/id-tags", json=body, headers=operator)
    assert response.status_code == 422
    assert "detail" in response.json()
    assert (await rest.get("/api/id-tags")).json()["total"] == 0


async def test_unknown_resources_are_404_with_a_json_body(rest: httpx.AsyncClient) -> None:
    for path in ("/api/charge-points/NOPE", "/api/transactions/999999"):
        response = await rest.get(path)
        assert response.status_code == 404
        assert "not found" in response.json()["detail"]


async def test_charge_point_registration_and_password_management(
    rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    short = await rest.post(
        "/api/charge-points", json={"id": "CP-2", "password": "short"}, headers=operator
    )
    assert short.status_code == 422
    created = await rest.post(
        "/api/charge-points",
        json={"id": "CP-2", "registration_status": "Pending"},
        headers=operator,
    )
    # Never booted: nobody told it anything yet; its next boot will be answered Pending.
    assert created.json()["registration_status"] is None
    assert created.json()["booted"] is False
    assert created.json()["admission"] == "Pending"
    assert created.json()["online"] is False
    again = await rest.post("/api/charge-points", json={"id": "CP-2"}, headers=operator)
    assert again.status_code == 409
    rejected = await rest.post("/api/charge-points/CP-2/reject", headers=operator)
    assert rejected.json()["admission"] == "Rejected"
    protected = await rest.put(
        "/api/charge-points/CP-2/password", json={"password": "p" * 16}, headers=operator
    )
    assert protected.json()["password_protected"] is True
    cleared = await rest.put(
        "/api/charge-points/CP-2/password", json={"password": None}, headers=operator
    )
    assert cleared.json()["password_protected"] is False


async def test_transactions_filter_and_paginate(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    for tag in ("A", "B"):
        await rest.post(
            "/api/id-tags", json={"id_tag": tag, "max_active_transactions": 5}, headers=operator
        )
    async with (
        connected_station(ocpp_url(app), "CP-1") as one,
        connected_station(ocpp_url(app), "CP-2") as two,
    ):
        await one.boot()
        await two.boot()
        finished = await one.start_transaction(1, "A", 0)
        await one.stop_transaction(finished.transaction_id, 1_000)
        await one.start_transaction(2, "A", 0)
        await two.start_transaction(1, "B", 0)

    async def ids(**params: str) -> list[int]:
        page = (await rest.get("/api/transactions", params=params)).json()
        return [t["id"] for t in page["items"]]

    assert len(await ids()) == 3
    assert len(await ids(charge_point_id="CP-1")) == 2
    assert len(await ids(id_tag="B")) == 1
    assert await ids(active="false") == [finished.transaction_id]
    assert len(await ids(active="true")) == 2
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert await ids(**{"from": tomorrow}) == []
    first_page = (await rest.get("/api/transactions", params={"limit": 2})).json()
    second_page = (await rest.get("/api/transactions", params={"limit": 2, "offset": 2})).json()
    assert first_page["total"] == 3 and len(first_page["items"]) == 2
    assert len(second_page["items"]) == 1
    assert (await rest.get("/api/transactions", params={"limit": 0})).status_code == 422


async def test_a_tag_whose_parent_is_not_there_is_404_and_nothing_is_stored(
    rest: httpx.AsyncClient,
) -> None:
    response = await rest.post("/api/id-tags", json={"id_tag": "A", "parent_id_tag": "NOPE"})
    assert response.status_code == 404
    assert "parent id tag 'NOPE' not found" in response.json()["detail"]
    assert (await rest.get("/api/id-tags")).json()["total"] == 0
