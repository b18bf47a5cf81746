"""The observer port: what the system counts and times, without knowing who watches.

Services and the OCPP endpoint report what happened through `Observer`; the adapter that
bootstrap installs (api/metrics.PrometheusObserver) turns the reports into Prometheus
metrics and log fields. Business code never imports a metrics library, and without an
adapter `NO_OBSERVER` discards every report.
"""

from __future__ import annotations

from typing import Protocol


class Observer(Protocol):
    def ocpp_call_handled(
        self,
        ocpp_version: str,
        action: str,
        outcome: str,  # "ok" or the CALLERROR code answered
        seconds: float,
        charge_point_id: str,
        message_id: str,
    ) -> None:
        """A station's CALL was answered."""

    def ocpp_message_throttled(self, charge_point_id: str) -> None:
        """A station's frame was held back: it sends faster than its rate limit."""

    def command_finished(
        self, action: str, outcome: str, seconds: float, charge_point_id: str
    ) -> None:
        """A command sent to a station came back (answered, timed out, refused ...)."""

    def operation_called(self, channel: str, operation: str, outcome: str) -> None:
        """An operation of the catalogue ran through REST, MCP, the chat or the system."""

    def plan_made(self, policy: str, status: str, seconds: float) -> None:
        """The energy coordinator planned (status: optimal, fallback, ...)."""


class NoObserver:
    def ocpp_call_handled(
        self,
        ocpp_version: str,
        action: str,
        outcome: str,
        seconds: float,
        charge_point_id: str,
        message_id: str,
    ) -> None:
        pass

    def ocpp_message_throttled(self, charge_point_id: str) -> None:
        pass

    def command_finished(
        self, action: str, outcome: str, seconds: float, charge_point_id: str
    ) -> None:
        pass

    def operation_called(self, channel: str, operation: str, outcome: str) -> None:
        pass

    def plan_made(self, policy: str, status: str, seconds: float) -> None:
        pass


NO_OBSERVER: Observer = NoObserver()
