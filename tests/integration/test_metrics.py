"""GET /metrics: Prometheus text that counts what real stations did."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import httpx
from ocpp.exceptions import OCPPError
from ocpp.v16.enums import ChargePointStatus
from prometheus_client.parser import text_string_to_metric_families

from ev_charging_system.application import Application
from tests.conftest import ocpp_url
from tools.simulated_charge_point import connected_station
from tools.simulated_charge_point_v201 import connected_station_201

GRAFANA_DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "ev_charging_system.json"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(rest: httpx.AsyncClient) -> Samples:
    response = await rest.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_count_a_real_stations_messages_and_commands(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    before = await scrape(rest)
    async with connected_station(ocpp_url(app), "CP-M16") as station:
        await station.boot()
        await station.heartbeat()
        await station.heartbeat()
        await station.status(1, ChargePointStatus.available)
        reset = await rest.post(
            "/api/charge-points/CP-M16/commands/reset", json={"type": "Soft"}, headers=operator
        )
        assert reset.status_code == 200, reset.text
        async with connected_station_201(ocpp_url(app), "CP-M201") as modern:
            await modern.boot()
            during = await scrape(rest)
    after = await scrape(rest)

    v16 = {"ocpp_version": "1.6"}
    assert value(before, "evcs_stations_connected", **v16) == 0
    assert value(during, "evcs_stations_connected", **v16) == 1
    assert value(during, "evcs_stations_connected", ocpp_version="2.0.1") == 1
    assert value(during, "evcs_stations_accepted") == 2
    assert value(after, "evcs_stations_accepted") == 0
    boots = value(after, "evcs_ocpp_messages_total", action="BootNotification", outcome="ok", **v16)
    beats = value(after, "evcs_ocpp_messages_total", action="Heartbeat", outcome="ok", **v16)
    assert (boots, beats) == (2, 2)  # the simulated station boots again after the reset
    assert (
        value(
            after,
            "evcs_ocpp_messages_total",
            ocpp_version="2.0.1",
            action="BootNotification",
            outcome="ok",
        )
        == 1
    )
    # Two connections, three boots and a status at least, written in shared transactions.
    records = "evcs_station_record_batches_total"
    writes = value(after, records, kind="writes") - value(before, records, kind="writes")
    batches = value(after, records, kind="batches") - value(before, records, kind="batches")
    assert writes >= 6 and 1 <= batches <= writes
    latency = value(after, "evcs_ocpp_message_duration_seconds_count", action="Heartbeat", **v16)
    assert latency == 2
    assert value(after, "evcs_ocpp_message_duration_seconds_sum", action="Heartbeat", **v16) > 0
    assert value(after, "evcs_commands_total", action="Reset", outcome="answered") == 1
    assert value(after, "evcs_command_round_trip_seconds_count", action="Reset") == 1
    assert (
        value(
            after,
            "evcs_operations_total",
            channel="rest",
            operation="send_remote_reset",
            outcome="ok",
        )
        == 1
    )


async def test_a_refused_call_is_counted_by_its_error_code(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    created = await rest.post(
        "/api/charge-points",
        json={"id": "CP-NO", "registration_status": "Rejected"},
        headers=operator,
    )
    assert created.status_code == 201
    async with connected_station(ocpp_url(app), "CP-NO") as station:
        await station.boot()  # answered Rejected: the boot itself is fine
        with contextlib.suppress(OCPPError):  # the CALLERROR, as expected
            await station.heartbeat()
    samples = await scrape(rest)
    assert (
        value(
            samples,
            "evcs_ocpp_messages_total",
            ocpp_version="1.6",
            action="Heartbeat",
            outcome="SecurityError",
        )
        == 1
    )


async def test_the_grafana_dashboard_names_only_metrics_the_application_exposes(
    rest: httpx.AsyncClient,
) -> None:
    response = await rest.get("/metrics")
    families = {f.name for f in text_string_to_metric_families(response.text)}
    dashboard = json.loads(GRAFANA_DASHBOARD.read_text(encoding="utf-8"))
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    named = {
        re.sub(r"_(total|bucket|sum|count)$", "", name)
        for expression in expressions
        for name in re.findall(r"evcs_[a-z_]+", expression)
    }
    assert len(named) >= 12
    assert named <= families, named - families


async def test_metrics_need_a_token_and_keep_to_their_own_application(
    app: Application, anonymous: httpx.AsyncClient, rest: httpx.AsyncClient
) -> None:
    assert (await anonymous.get("/metrics")).status_code == 401
    samples = await scrape(rest)
    # A fresh application starts from zero, whatever other applications in this process did.
    assert not any(name == "evcs_ocpp_messages_total" for name, _ in samples)
    assert value(samples, "evcs_event_stream_subscribers") >= 0
