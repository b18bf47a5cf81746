"""OCPP 2.0.1: negotiated, but not served yet.

Every call is answered with the library's NotImplemented CALLERROR (no handler is
registered), so a 2.0.1-only station gets a clear, immediate answer instead of silence,
and the operator gets one clear log line per connection. Full 2.0.1 support is tracked
as its own issue.
"""

from __future__ import annotations

import logging
from typing import Any

from ocpp.v201 import ChargePoint as V201ChargePoint

from ev_charging_system.core.frames import FrameRouter

logger = logging.getLogger(__name__)

OCPP_VERSION = "2.0.1"


class V201Handler(FrameRouter, V201ChargePoint):  # type: ignore[misc]
    def __init__(self, charge_point_id: str, connection: Any, call_timeout: float) -> None:
        super().__init__(charge_point_id, connection, response_timeout=call_timeout)
        logger.warning(
            "%s connected with OCPP 2.0.1, which is not supported yet: every message is "
            "answered NotImplemented. Configure the station for OCPP 1.6J.",
            charge_point_id,
        )

    async def ensure_registered(self, action: str) -> None:
        return None
