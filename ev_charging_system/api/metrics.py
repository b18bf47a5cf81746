"""Prometheus metrics: the Observer adapter and `GET /metrics`.

One `CollectorRegistry` is made where the application is wired (bootstrap) and passed in:
nothing here touches prometheus_client's global default registry, so two applications in
one process (tests) never share counters. Counters and histograms are fed by the
`Observer` reports; levels (connected stations, event-stream subscribers, pool use) are
read at scrape time from a `SystemLevels` snapshot function bootstrap provides.

`/metrics` needs a token like every other route (any role): scrape it with
`authorization: {type: Bearer, credentials_file: ...}` (docs/operator-guide.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector

from ev_charging_system.api.dependencies import RestActor
from ev_charging_system.api.errors import ErrorOut

logger = logging.getLogger("ev_charging_system.ocpp.calls")

# OCPP answers are tens of milliseconds when healthy; a database stall shows as seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# A station answers a command in well under a second, or times out (OCPP_CALL_TIMEOUT).
ROUND_TRIP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
SOLVE_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
# Young collections take microseconds; a full one over a large heap, a good part of a second.
GC_PAUSE_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


@dataclass(frozen=True, slots=True)
class SystemLevels:
    """What the process holds now (read at every scrape)."""

    stations_connected: Mapping[str, int]  # by OCPP version
    stations_accepted: int  # connected and registration Accepted
    event_subscribers: int
    events_published: int  # since start
    events_dropped: int  # since start, lost by slow subscribers
    database_pool: Mapping[str, int] = field(default_factory=dict)  # checked_out, size ...
    # Meter-value group commit: batches, writes, largest, split (retried one by one)
    meter_batches: Mapping[str, int] = field(default_factory=dict)
    event_batches: Mapping[str, int] = field(default_factory=dict)
    # Station-record group commit (connections, boots, connector statuses), the same keys
    station_batches: Mapping[str, int] = field(default_factory=dict)
    # New station connections: admitted, refused (503), lost (never completed), pending
    handshakes: Mapping[str, int] = field(default_factory=dict)


class _LevelsCollector(Collector):
    def __init__(self, levels: Callable[[], SystemLevels]) -> None:
        self._levels = levels

    def collect(self) -> Iterable[Metric]:
        now = self._levels()
        connected = GaugeMetricFamily(
            "evcs_stations_connected", "Stations connected now", labels=["ocpp_version"]
        )
        for version, count in sorted(now.stations_connected.items()):
            connected.add_metric([version], count)
        yield connected
        yield GaugeMetricFamily(
            "evcs_stations_accepted",
            "Connected stations whose registration is Accepted (booted, may charge)",
            value=now.stations_accepted,
        )
        yield GaugeMetricFamily(
            "evcs_event_stream_subscribers",
            "Open event-stream subscriptions (dashboards, MCP feeds)",
            value=now.event_subscribers,
        )
        yield CounterMetricFamily(
            "evcs_events_published", "Domain events published", value=now.events_published
        )
        yield CounterMetricFamily(
            "evcs_events_dropped",
            "Events a slow subscriber lost (its oldest were pushed out)",
            value=now.events_dropped,
        )
        pool = GaugeMetricFamily(
            "evcs_database_pool_connections", "Database connection pool", labels=["state"]
        )
        for state, count in sorted(now.database_pool.items()):
            pool.add_metric([state], count)
        yield pool
        yield _batch_counts(
            "evcs_meter_sample_batches",
            "Meter-value group commits: batches committed, writes in them, and batches "
            "split (a refused row retried one write at a time)",
            now.meter_batches,
        )
        yield GaugeMetricFamily(
            "evcs_meter_sample_batch_largest",
            "Most MeterValues messages committed together",
            value=now.meter_batches.get("largest", 0),
        )
        yield _batch_counts(
            "evcs_transaction_event_batches",
            "2.0.1 TransactionEvents that only add meter samples to a running transaction, "
            "group-committed: batches committed, writes in them, and batches split",
            now.event_batches,
        )
        yield _batch_counts(
            "evcs_station_record_batches",
            "Station connections, disconnections, boots and connector statuses written in "
            "shared transactions: batches committed, writes in them, and batches split",
            now.station_batches,
        )
        handshakes = CounterMetricFamily(
            "evcs_ocpp_handshakes",
            "New station connections: admitted, refused (503 + Retry-After, reconnect storm), "
            "lost (admitted, never completed)",
            labels=["outcome"],
        )
        for outcome in ("admitted", "refused", "lost"):
            handshakes.add_metric([outcome], now.handshakes.get(outcome, 0))
        yield handshakes
        yield GaugeMetricFamily(
            "evcs_ocpp_handshakes_pending",
            "Station connections being set up now",
            value=now.handshakes.get("pending", 0),
        )


def _batch_counts(name: str, documentation: str, stats: Mapping[str, int]) -> Metric:
    """A group commit's counters (GroupCommit.stats): batches, writes, split."""
    family = CounterMetricFamily(name, documentation, labels=["kind"])
    for kind in ("batches", "writes", "split"):
        family.add_metric([kind], stats.get(kind, 0))
    return family


class PrometheusObserver:
    """The business layer's Observer, recorded as Prometheus metrics (and log fields)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._ocpp_messages = Counter(
            "evcs_ocpp_messages",
            "Calls stations made, by version, action and outcome (ok or the CALLERROR code)",
            ["ocpp_version", "action", "outcome"],
            registry=registry,
        )
        self._ocpp_latency = Histogram(
            "evcs_ocpp_message_duration_seconds",
            "Time from a station's call to the answer being sent",
            ["ocpp_version", "action"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._commands = Counter(
            "evcs_commands",
            "Commands sent to stations, by action and outcome",
            ["action", "outcome"],
            registry=registry,
        )
        self._command_round_trip = Histogram(
            "evcs_command_round_trip_seconds",
            "Time from a command's request to the station's answer (or the error)",
            ["action"],
            buckets=ROUND_TRIP_BUCKETS,
            registry=registry,
        )
        self._operations = Counter(
            "evcs_operations",
            "Operations (REST, MCP and chat tool calls) by channel, name and outcome",
            ["channel", "operation", "outcome"],
            registry=registry,
        )
        self._plans = Counter(
            "evcs_energy_plans",
            "Energy plans made, by policy and status (optimal, time_limit_feasible, fallback ...)",
            ["policy", "status"],
            registry=registry,
        )
        self._solve = Histogram(
            "evcs_energy_plan_solve_seconds",
            "Time the planner took for one plan",
            ["policy"],
            buckets=SOLVE_BUCKETS,
            registry=registry,
        )

        self._gc_pauses = Histogram(
            "evcs_gc_pause_seconds",
            "Event-loop pauses of the garbage collector, by generation (2 = full)",
            ["generation"],
            buckets=GC_PAUSE_BUCKETS,
            registry=registry,
        )
        self._throttled = Counter(
            "evcs_ocpp_messages_throttled",
            "Station frames held back because the station sent faster than its rate limit",
            registry=registry,
        )

    def watch(self, levels: Callable[[], SystemLevels]) -> None:
        self.registry.register(_LevelsCollector(levels))

    def ocpp_call_handled(
        self,
        ocpp_version: str,
        action: str,
        outcome: str,
        seconds: float,
        charge_point_id: str,
        message_id: str,
    ) -> None:
        self._ocpp_messages.labels(ocpp_version, action, outcome).inc()
        self._ocpp_latency.labels(ocpp_version, action).observe(seconds)
        fields = {
            "charge_point_id": charge_point_id,
            "message_id": message_id,
            "action": action,
            "ocpp_version": ocpp_version,
            "outcome": outcome,
            "latency_ms": round(seconds * 1000, 3),
        }
        # One line per call is for debugging (DEBUG); refusals are worth a look (INFO).
        level = logging.DEBUG if outcome == "ok" else logging.INFO
        logger.log(level, "%s %s answered %s", charge_point_id, action, outcome, extra=fields)

    def ocpp_message_throttled(self, charge_point_id: str) -> None:
        self._throttled.inc()

    def command_finished(
        self, action: str, outcome: str, seconds: float, charge_point_id: str
    ) -> None:
        self._commands.labels(action, outcome).inc()
        self._command_round_trip.labels(action).observe(max(seconds, 0.0))

    def operation_called(self, channel: str, operation: str, outcome: str) -> None:
        self._operations.labels(channel, operation, outcome).inc()

    def plan_made(self, policy: str, status: str, seconds: float) -> None:
        self._plans.labels(policy, status).inc()
        self._solve.labels(policy).observe(max(seconds, 0.0))

    def gc_paused(self, generation: int, seconds: float) -> None:
        self._gc_pauses.labels(str(generation)).observe(max(seconds, 0.0))


router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics (text format); needs a token of any role",
    responses={
        200: {
            "description": "Prometheus text exposition format 0.0.4",
            "content": {CONTENT_TYPE_PLAIN_0_0_4: {"schema": {"type": "string"}}},
        },
        401: {"model": ErrorOut, "description": "no token, or an unknown or revoked one"},
    },
)
async def metrics(request: Request, _actor: RestActor) -> Response:
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_PLAIN_0_0_4)
