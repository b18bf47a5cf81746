"""Secrets sent through every channel are readable nowhere afterwards.

A 1.6 AuthorizationKey through REST, a 2.0.1 BasicAuthPassword through MCP, a firmware
URL with a password through the chat, a diagnostics URL with one and a station password
through REST, an API token: then every API answer, every log line and every table is
searched for them. Only the station receives them (that is their purpose).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import select

from ev_charging_system.application import Application
from ev_charging_system.data.orm import Base
from ev_charging_system.logs import (
    OUTAGE_REPEATERS,
    QUIET_LIBRARIES,
    LogFormat,
    configure_logging,
)
from tests.conftest import ADMIN_HEADERS, AppFactory, ocpp_url
from tests.integration.chat_support import scripted_chat
from tests.integration.test_mcp_server import OPERATE_TOKEN, READ_TOKEN, client
from tests.unit.test_chat_support import message, text, tool_use
from tools.simulated_charge_point import connected_station
from tools.simulated_charge_point_v201 import connected_station_201

AUTHORIZATION_KEY = "AuthKey-S1-7f3a9c0d"
BASIC_AUTH_PASSWORD = "BasicPw-S2-0b1d44e2"
FIRMWARE_PASSWORD = "FwUrlPw-S3-99aa12"
DIAGNOSTICS_PASSWORD = "DiagUrlPw-S4-5c7e"
STATION_PASSWORD = "StationPw-S5-long-enough"
SECRETS = (
    AUTHORIZATION_KEY,
    BASIC_AUTH_PASSWORD,
    FIRMWARE_PASSWORD,
    DIAGNOSTICS_PASSWORD,
    STATION_PASSWORD,
)


@contextmanager
def captured_logs(log_format: LogFormat = "text") -> Iterator[io.StringIO]:
    """What `python main.py` would log at LOG_LEVEL=DEBUG, through its own configuration."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in (*QUIET_LIBRARIES, *OUTAGE_REPEATERS)}
    stream = io.StringIO()
    configure_logging("DEBUG", stream, log_format)
    try:
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, previous in quiet.items():
            logging.getLogger(name).setLevel(previous)


async def all_tables(app: Application) -> str:
    rows: list[str] = []
    async with app.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            result = await connection.execute(select(table))
            rows += [repr(tuple(row)) for row in result]
    return "\n".join(rows)


async def every_api_answer(rest: httpx.AsyncClient, conversation: str) -> str:
    paths = [
        "/api/audit?limit=500",
        "/api/commands?limit=500",
        "/api/charge-points",
        "/api/charge-points/CP-16/commands",
        "/api/charge-points/CP-201/commands",
        "/api/charge-points/CP-16/events",
        "/api/charge-points/CP-201/device-model",
        "/api/chat",
        f"/api/chat/{conversation}",
        "/api/tokens",
    ]
    answers = []
    for path in paths:
        response = await rest.get(path)
        assert response.status_code == 200, (path, response.text)
        answers.append(response.text)
    return "\n".join(answers)


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_no_secret_sent_through_any_channel_can_be_read_back(
    app_factory: AppFactory, log_format: LogFormat
) -> None:
    app = await app_factory(mcp_read_token=READ_TOKEN, mcp_operate_token=OPERATE_TOKEN)
    outputs: list[str] = []
    mcp_url = f"http://127.0.0.1:{app.mcp_port}/mcp"
    with captured_logs(log_format) as logs:
        async with (
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{app.rest_port}", headers=ADMIN_HEADERS
            ) as rest,
            connected_station(ocpp_url(app), "CP-16") as v16,
            connected_station_201(ocpp_url(app), "CP-201") as v201,
            scripted_chat(app) as claude,
        ):
            await v16.boot()
            await v201.boot()
            # REST: a 1.6 key, read back from the station, a credentialed URL, a password.
            for path, body in [
                ("set-configuration", {"key": "AuthorizationKey", "value": AUTHORIZATION_KEY}),
                ("get-configuration", {"keys": ["AuthorizationKey"]}),
                (
                    "get-diagnostics",
                    {"location": f"ftp://ops:{DIAGNOSTICS_PASSWORD}@logs.example/"},
                ),
            ]:
                response = await rest.post(f"/api/charge-points/CP-16/commands/{path}", json=body)
                outputs.append(response.text)
            outputs.append(
                (
                    await rest.put(
                        "/api/charge-points/CP-16/password", json={"password": STATION_PASSWORD}
                    )
                ).text
            )
            # MCP: a 2.0.1 password, confirmed with a token.
            arguments = {
                "charge_point_id": "CP-201",
                "key": "SecurityCtrlr.BasicAuthPassword",
                "value": BASIC_AUTH_PASSWORD,
            }
            async with client(mcp_url, OPERATE_TOKEN) as session:
                asked = await session.call_tool("set_configuration", arguments)
                assert asked.structured_content is not None
                token = asked.structured_content["confirm_token"]
                done = await session.call_tool(
                    "set_configuration", {**arguments, "confirm_token": token}
                )
                history = await session.call_tool("list_commands", {"charge_point_id": "CP-201"})
            outputs += [json.dumps(r.structured_content) for r in (asked, done, history)]
            # The chat: a firmware URL with a password, held, then confirmed.
            firmware = {
                "charge_point_id": "CP-16",
                "location": f"https://fw:{FIRMWARE_PASSWORD}@firmware.example/v2.bin",
                "retrieve_date": "2026-01-01T00:00:00Z",
            }
            claude.replies = [
                message(tool_use("update_firmware", firmware), stop_reason="tool_use"),
                message(text("Firmware update requested.")),
            ]
            held = await rest.post("/api/chat", json={"message": "update CP-16 firmware"})
            outputs.append(held.text)
            conversation = held.json()["conversation_id"]
            outputs.append(
                (await rest.post(f"/api/chat/{conversation}/confirm", json={"confirm": True})).text
            )
            outputs.append(await every_api_answer(rest, conversation))

            # The stations did get what they were sent: the secrets were used, not lost.
            received = json.dumps([str(m) for m in (*v16.received, *v201.received)])
            assert AUTHORIZATION_KEY in received and FIRMWARE_PASSWORD in received
            assert BASIC_AUTH_PASSWORD in received and DIAGNOSTICS_PASSWORD in received

    stored = await all_tables(app)
    for secret in SECRETS:
        for where, content in (
            ("API answers", "\n".join(outputs)),
            ("logs", logs.getvalue()),
            ("tables", stored),
        ):
            assert secret not in content, f"{secret} readable in {where}"
    assert "***" in stored  # redacted, not dropped: the operator sees a value was set
    if log_format == "json":  # every line one object; the stations' calls carry their context
        lines = [json.loads(line) for line in logs.getvalue().splitlines()]
        calls = [line for line in lines if "message_id" in line]
        assert {c["charge_point_id"] for c in calls} >= {"CP-16", "CP-201"}
        assert all(isinstance(c["latency_ms"], float) and c["action"] for c in calls)
    assert any("chat:" in line for line in stored.splitlines())
