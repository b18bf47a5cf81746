"""Every route needs a token, and a token's role decides what it may do."""

from __future__ import annotations

import httpx
import pytest

from ev_charging_system.application import Application
from tests.integration.test_one_operations_core import EXISTING_PATHS


async def token_for(rest: httpx.AsyncClient, name: str, role: str) -> dict[str, str]:
    created = await rest.post("/api/tokens", json={"name": name, "role": role})
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['token']}"}


async def test_without_a_token_every_route_but_the_liveness_probe_answers_401(
    app: Application, anonymous: httpx.AsyncClient
) -> None:
    concrete = {"{charge_point_id}": "CP-1", "{id_tag}": "T", "{transaction_id}": "1"}
    concrete |= {"{conversation_id}": "c", "{name}": "n"}
    answers = {}
    for method, template in [*EXISTING_PATHS, ("get", "/api/events"), ("get", "/api/me")]:
        path = template
        for placeholder, value in concrete.items():
            path = path.replace(placeholder, value)
        response = await anonymous.request(method.upper(), path, json={})
        answers[(method, template)] = response.status_code
    assert {k: v for k, v in answers.items() if v != 401} == {("get", "/api/health"): 200}
    assert (await anonymous.get("/")).status_code == 200  # the page itself asks for a token


async def test_a_viewer_reads_but_cannot_operate(rest: httpx.AsyncClient) -> None:
    viewer = await token_for(rest, "wall-screen", "viewer")
    assert (await rest.post("/api/charge-points", json={"id": "CP-1"})).status_code == 201

    listed = await rest.get("/api/charge-points", headers=viewer)
    reset = await rest.post(
        "/api/charge-points/CP-1/commands/reset", json={"type": "Soft"}, headers=viewer
    )
    me = await rest.get("/api/me", headers=viewer)

    assert listed.status_code == 200 and listed.json()["items"][0]["id"] == "CP-1"
    assert reset.status_code == 403 and "operator" in reset.json()["detail"]
    assert me.json() == {"name": "rest:wall-screen", "role": "viewer", "channel": "rest"}
    [denied] = (await rest.get("/api/audit", params={"tool": "send_remote_reset"})).json()["items"]
    assert denied["outcome"] == "denied" and denied["actor"] == "rest:wall-screen"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/tokens", {"name": "x", "role": "admin"}),
        ("GET", "/api/tokens", None),
        ("POST", "/api/id-tags", {"id_tag": "NEW"}),
        ("DELETE", "/api/id-tags/T", None),
        ("PUT", "/api/charge-points/CP-1/password", {"password": "a-new-secret-of-20-chars"}),
        ("PUT", "/energy/tariff", {"kind": "flat", "import_price": 0.3}),
    ],
)
async def test_an_operator_cannot_manage_tokens_id_tags_or_credentials(
    rest: httpx.AsyncClient, method: str, path: str, body: object
) -> None:
    operator = await token_for(rest, "shift-lead", "operator")
    response = await rest.request(method, path, json=body, headers=operator)
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]


async def test_a_revoked_token_stops_working_at_once_and_secrets_are_never_listed(
    rest: httpx.AsyncClient,
) -> None:
    operator = await token_for(rest, "contractor", "operator")
    secret = operator["Authorization"].removeprefix("Bearer ")
    assert (await rest.get("/api/me", headers=operator)).status_code == 200

    listed = await rest.get("/api/tokens")
    revoked = await rest.delete("/api/tokens/contractor")
    after = await rest.get("/api/me", headers=operator)
    audit = await rest.get("/api/audit", params={"tool": "create_api_token"})

    assert [t["name"] for t in listed.json()] == ["contractor"]
    assert secret not in listed.text and secret not in audit.text
    assert revoked.json()["active"] is False
    assert after.status_code == 401
    duplicate = await rest.post("/api/tokens", json={"name": "contractor", "role": "viewer"})
    assert duplicate.status_code == 409
