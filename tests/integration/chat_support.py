"""The running application's chat on a scripted Messages API (no tests here)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2

from ev_charging_system.api.chat_routes import install_chat
from ev_charging_system.application import Application
from ev_charging_system.llm_integration.chat import ChatSettings, build_chat_engine
from ev_charging_system.llm_integration.chat_tools import ChatTools
from tests.unit.test_chat_support import ScriptedClaude


@asynccontextmanager
async def scripted_chat(app: Application) -> AsyncIterator[ScriptedClaude]:
    """Install a chat engine whose model answers are scripted, offline."""
    scripted = ScriptedClaude()
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(scripted.handler)) as http:
        engine = build_chat_engine(
            ChatTools(app.operations),
            app.services.conversations,
            ChatSettings(model="claude-test", max_tokens=1024, max_tool_steps=2),
            api_key="sk-test-not-a-key",
            base_url="http://claude.invalid",
            box=app.secret_box,
            http_client=http,
            max_retries=0,
        )
        install_chat(app.rest_app, engine)
        yield scripted
