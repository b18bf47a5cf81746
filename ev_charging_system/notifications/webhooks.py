"""Alarm webhooks: a JSON POST per raised or cleared alarm, to a URL per rule.

Bounded (a timeout per POST, one retry), never blocking the alarms themselves, and quiet
when a receiver is down: one log line when it stops answering, one when it is back. The
URLs may carry credentials, so they are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import httpx

from ev_charging_system.business_logic.read_models.alarms import AlarmOut
from ev_charging_system.models.alarm import Alarm

logger = logging.getLogger(__name__)

ANY_RULE = "*"
ATTEMPTS = 2


class WebhookNotifier:
    def __init__(
        self,
        urls: Mapping[str, str],
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._urls = dict(urls)
        self._client = httpx.AsyncClient(timeout=timeout_seconds, transport=transport)
        self._failing: set[str] = set()  # rule keys whose receiver did not answer last time

    async def notify(self, alarm: Alarm, change: str) -> None:
        key = alarm.rule.value if alarm.rule.value in self._urls else ANY_RULE
        url = self._urls.get(key)
        if url is None:
            return
        body = {"event": f"alarm.{change}", "alarm": AlarmOut.of(alarm).model_dump(mode="json")}
        problem = ""
        for _ in range(ATTEMPTS):
            try:
                response = await self._client.post(url, json=body)
            except httpx.HTTPError as error:
                problem = type(error).__name__
                continue
            if response.is_success:
                if key in self._failing:
                    self._failing.discard(key)
                    logger.info("alarm webhook for %s answers again", key)
                return
            problem = f"HTTP {response.status_code}"
        if key not in self._failing:
            self._failing.add(key)
            logger.warning("alarm webhook for %s is not answering (%s)", key, problem)

    async def aclose(self) -> None:
        await self._client.aclose()
