"""POST /api/chat and friends, fully offline: the anthropic client talks to a scripted
transport that replays Messages API responses (JSON, or server-sent events when the
request asks for a stream) and records every request."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import httpx2
import pytest

from ev_charging_system.api.chat_routes import install_chat
from ev_charging_system.application import Application
from tests.conftest import ocpp_url
from tests.integration.chat_support import scripted_chat
from tests.unit.test_chat_support import ScriptedClaude, message, text, tool_use
from tools.simulated_charge_point import connected_station


@pytest.fixture
async def claude(app: Application) -> AsyncIterator[ScriptedClaude]:
    async with scripted_chat(app) as scripted:
        yield scripted


async def test_without_an_api_key_the_chat_says_so_and_needs_the_operator_token(
    app: Application, rest: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    install_chat(app.rest_app, None)
    refused = await anonymous.post("/api/chat", json={"message": "hi"})
    unavailable = await rest.post("/api/chat", json={"message": "hi"})
    health = await rest.get("/api/health")
    assert refused.status_code == 401
    assert unavailable.status_code == 503
    assert "ANTHROPIC_API_KEY" in unavailable.json()["detail"]
    assert health.status_code == 200


async def test_a_question_is_answered_from_tool_results(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str], claude: ScriptedClaude
) -> None:
    claude.replies = [
        message(tool_use("list_charge_points", {}), stop_reason="tool_use"),
        message(text("CP-1 is online.")),
    ]
    async with connected_station(ocpp_url(app), "CP-1") as station:
        await station.boot(vendor="Acme", model="X1")
        response = await rest.post(
            "/api/chat", json={"message": "Which stations are online?"}, headers=operator
        )
    assert response.status_code == 200, response.text
    turn = response.json()
    assert turn["reply"] == "CP-1 is online."
    assert turn["tool_calls"] == [{"name": "list_charge_points", "arguments": {}, "outcome": "ok"}]

    first, second = claude.requests
    assert first["model"] == "claude-test" and "operator" in first["system"]
    tools = {t["name"]: t for t in first["tools"]}
    assert "confirm_token" not in tools["send_remote_reset"]["input_schema"]["properties"]
    [result] = second["messages"][-1]["content"]
    assert result["type"] == "tool_result" and result["tool_use_id"] == "toolu_1"
    assert '"id":"CP-1"' in result["content"] and '"vendor":"Acme"' in result["content"]

    stored = (await rest.get(f"/api/chat/{turn['conversation_id']}", headers=operator)).json()
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant", "user", "assistant"]
    assert stored["title"] == "Which stations are online?" and stored["pending_action"] is None
    missing = await rest.get("/api/chat/no-such-conversation", headers=operator)
    assert missing.status_code == 404


async def test_an_action_waits_for_the_users_confirmation(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str], claude: ScriptedClaude
) -> None:
    claude.replies = [
        message(
            text("I will reset CP-1."),
            tool_use("send_remote_reset", {"charge_point_id": "CP-1", "type": "Hard"}),
            stop_reason="tool_use",
        ),
        message(text("CP-1 accepted the hard reset.")),
    ]
    async with connected_station(ocpp_url(app), "CP-1") as station:
        await station.boot()
        held = await rest.post("/api/chat", json={"message": "Reset CP-1 hard"}, headers=operator)
        assert held.status_code == 200, held.text
        turn = held.json()
        assert turn["reply"] == "I will reset CP-1."
        assert turn["pending_action"]["tool"] == "send_remote_reset"
        assert turn["pending_action"]["summary"] == "Hard reset of CP-1"
        assert not any("Reset" in str(m) for m in station.received)
        conversation = turn["conversation_id"]

        confirmed = await rest.post(
            f"/api/chat/{conversation}/confirm", json={"confirm": True}, headers=operator
        )
        assert confirmed.status_code == 200, confirmed.text
        assert any("Reset" in str(m) for m in station.received)

    assert confirmed.json()["reply"] == "CP-1 accepted the hard reset."
    assert confirmed.json()["pending_action"] is None
    [result] = claude.requests[-1]["messages"][-1]["content"]
    assert result["tool_use_id"] == "toolu_1" and '"state":"executed"' in result["content"]
    audit = (await rest.get("/api/audit", params={"actor": f"chat:{conversation}"})).json()["items"]
    assert [a["outcome"] for a in reversed(audit)] == ["confirmation_required", "ok"]
    assert {a["channel"] for a in audit} == {"chat"}
    again = await rest.post(
        f"/api/chat/{conversation}/confirm", json={"confirm": True}, headers=operator
    )
    assert again.status_code == 409


async def test_a_declined_action_is_not_carried_out(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str], claude: ScriptedClaude
) -> None:
    claude.replies = [
        message(
            tool_use("unlock_connector", {"charge_point_id": "CP-1", "connector_id": 1}),
            stop_reason="tool_use",
        ),
        message(text("Understood, I left it locked.")),
    ]
    async with connected_station(ocpp_url(app), "CP-1") as station:
        await station.boot()
        turn = (
            await rest.post("/api/chat", json={"message": "unlock it"}, headers=operator)
        ).json()
        declined = await rest.post(
            f"/api/chat/{turn['conversation_id']}/confirm",
            json={"confirm": False},
            headers=operator,
        )
        assert not any("UnlockConnector" in str(m) for m in station.received)

    assert declined.json()["reply"] == "Understood, I left it locked."
    [result] = claude.requests[-1]["messages"][-1]["content"]
    assert result["is_error"] is True and "declined" in result["content"]
    audit = (await rest.get("/api/audit", params={"tool": "unlock_connector"})).json()["items"]
    assert [a["outcome"] for a in reversed(audit)] == ["confirmation_required", "cancelled"]


async def test_a_failing_model_service_is_a_clean_502(
    rest: httpx.AsyncClient, operator: dict[str, str], claude: ScriptedClaude
) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    claude.replies = [httpx2.Response(529, json=overloaded)]
    response = await rest.post("/api/chat", json={"message": "hello"}, headers=operator)
    assert response.status_code == 502
    body = response.json()
    assert body["detail"] == (
        "The chat could not answer: the language model service answered HTTP 529: Overloaded"
    )
    assert body["conversation_id"]
    assert "sk-test" not in response.text


async def test_the_answer_can_be_streamed_as_server_sent_events(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str], claude: ScriptedClaude
) -> None:
    claude.replies = [
        message(tool_use("list_available_connectors", {}), stop_reason="tool_use"),
        message(text("Connector 1 of CP-1 is free.")),
    ]
    async with connected_station(ocpp_url(app), "CP-1") as station:
        await station.boot()
        await station.status(1)
        response = await rest.post(
            "/api/chat/stream", json={"message": "Where can I charge?"}, headers=operator
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [
        (frame.split("\n")[0].removeprefix("event: "), json.loads(frame.split("\n")[1][6:]))
        for frame in response.text.strip().split("\n\n")
    ]
    kinds = [kind for kind, _ in events]
    assert kinds == ["conversation", "tool_call", "tool_result", "text", "text", "done"]
    assert "".join(data["text"] for kind, data in events if kind == "text") == (
        "Connector 1 of CP-1 is free."
    )
    assert events[-1][1] == {"reply": "Connector 1 of CP-1 is free."}


async def test_tool_steps_are_bounded(
    rest: httpx.AsyncClient, operator: dict[str, str], claude: ScriptedClaude
) -> None:
    again = message(tool_use("list_charge_points", {}), stop_reason="tool_use")
    claude.replies = [again, again, message(text("Enough looking."))]
    response = await rest.post("/api/chat", json={"message": "look forever"}, headers=operator)
    assert response.json()["reply"] == "Enough looking."
    assert ["tool_choice" in r for r in claude.requests] == [False, False, True]
    assert claude.requests[-1]["tool_choice"] == {"type": "none"}
