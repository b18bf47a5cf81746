"""The pure parts of benchmarks/ocpp_load: statistics, tables, the chargers' retry policy,
the classification of failed connections, and that every frame it sends is valid OCPP."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from datetime import UTC, datetime
from http import HTTPStatus

import pytest
from ocpp.exceptions import FormatViolationError
from ocpp.messages import Call, validate_payload
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus
from websockets.frames import Close
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from benchmarks.ocpp_load import client, frames
from benchmarks.ocpp_load.__main__ import options_from, parse
from benchmarks.ocpp_load.outcomes import classify
from benchmarks.ocpp_load.retry import RetryPolicy, parse_retry_after
from benchmarks.ocpp_load.stats import Summary, counts, percentile, share, table
from benchmarks.ocpp_load.suite import QUICK, split

# --- statistics and tables -------------------------------------------------------------


def test_percentile_is_a_measured_value_by_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # unsorted on purpose
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.95) == 95
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([1.0, 2.0, 3.0], 0.5) == 2.0


@pytest.mark.parametrize("fraction", [0.0, -0.5, 1.5])
def test_percentile_refuses_a_fraction_outside_0_1(fraction: float) -> None:
    with pytest.raises(ValueError):
        percentile([1.0], fraction)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_summary_is_in_milliseconds_and_none_without_samples() -> None:
    summary = Summary.of([0.001 * v for v in range(1, 201)])
    assert summary is not None
    assert (summary.count, summary.p50, summary.p99, summary.max) == pytest.approx(
        (200, 100.0, 198.0, 200.0)
    )
    assert Summary.of([]) is None


def test_share_and_counts() -> None:
    assert share(50, 200) == "25%"
    assert share(5, 200) == "2.5%"
    assert share(1, 0) == "-"
    assert share(None, 100) == "-"
    assert counts({}) == "0"
    assert counts({"HTTP 503": 1200, "close 1013": 3, "never": 0}) == (
        "HTTP 503: 1,200, close 1013: 3"
    )


def test_table_is_markdown_with_numbers_right_aligned() -> None:
    text = table(("kind", "msg/s"), [["Heartbeat", "5,300"], ["MeterValues", "520"]])
    assert text.splitlines() == [
        "| kind        | msg/s |",
        "| ----------- | ----: |",
        "| Heartbeat   | 5,300 |",
        "| MeterValues |   520 |",
    ]


def test_table_refuses_a_row_of_the_wrong_width() -> None:
    with pytest.raises(ValueError):
        table(("a", "b"), [["only one"]])


def test_split_spreads_stations_over_workers_without_gaps() -> None:
    assert split(10, 3) == [(0, 4), (4, 3), (7, 3)]
    assert split(2, 4) == [(0, 1), (1, 1)]  # no empty worker
    shares = split(10_000, 4)
    assert sum(count for _, count in shares) == 10_000
    assert all(first == prior + n for (prior, n), (first, _) in itertools.pairwise(shares))


# --- retry policy ------------------------------------------------------------------------


def test_backoff_doubles_up_to_its_limit_plus_bounded_jitter() -> None:
    policy = RetryPolicy(wait_minimum=1.0, doublings=3, random_range=0.0)
    rng = random.Random(1)
    assert [policy.delay(n, None, rng) for n in range(1, 7)] == [1, 2, 4, 8, 8, 8]
    jittery = RetryPolicy(wait_minimum=1.0, doublings=3, random_range=0.5)
    waits = [jittery.delay(1, None, rng) for _ in range(200)]
    assert all(1.0 <= wait <= 1.5 for wait in waits)
    assert len(set(waits)) > 100  # stations refused together do not come back together


def test_an_explicit_retry_after_replaces_the_backoff() -> None:
    policy = RetryPolicy(wait_minimum=1.0, doublings=3, random_range=0.0)
    assert policy.delay(5, 3.0, random.Random(1)) == 3.0
    assert policy.delay(1, 100_000.0, random.Random(1)) == 600.0  # capped


def test_delay_is_only_asked_after_a_failure() -> None:
    with pytest.raises(ValueError):
        RetryPolicy().delay(0, None, random.Random(1))


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    now = datetime(2026, 5, 1, 8, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("Fri, 01 May 2026 08:00:12 GMT", now) == 12.0
    assert parse_retry_after("Fri, 01 May 2026 07:59:00 GMT", now) == 0.0  # in the past
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


def test_a_503_with_retry_after_is_an_explicit_refusal() -> None:
    response = Response(503, "Service Unavailable", Headers({"Retry-After": "4"}))
    failure = classify(InvalidStatus(response), "handshake")
    assert (failure.explicit, failure.label, failure.retry_after) == (True, "HTTP 503", 4.0)


def test_a_close_frame_is_explicit_a_silent_drop_is_not() -> None:
    closed = classify(ConnectionClosedError(Close(1013, "try again later"), None), "boot reply")
    assert (closed.explicit, closed.label) == (True, "close 1013")
    dropped = classify(ConnectionClosedError(None, None), "boot reply")
    assert not dropped.explicit
    assert classify(TimeoutError(), "handshake").label == "handshake timeout"
    assert not classify(ConnectionResetError(), "handshake").explicit


# --- frames are valid OCPP ---------------------------------------------------------------


def _frames_16(clock: frames.StationClock) -> list[tuple[str, frames.Payload]]:
    return [
        ("BootNotification", frames.boot16()),
        ("Heartbeat", {}),
        *[("StatusNotification", frames.status16(s, clock.tick())) for s in frames.STATUS_CYCLE_16],
        ("Authorize", frames.authorize16("BENCH-1")),
        ("StartTransaction", frames.start16("BENCH-1", 0, clock.tick())),
        ("MeterValues", frames.meter_values16(7, 100, clock.tick())),
        ("MeterValues", frames.meter_values16(None, 200, clock.tick())),
        ("StopTransaction", frames.stop16(7, "BENCH-1", 300, clock.tick())),
    ]


def _frames_201(clock: frames.StationClock) -> list[tuple[str, frames.Payload]]:
    return [
        ("BootNotification", frames.boot201()),
        ("StatusNotification", frames.status201("Occupied", clock.tick())),
        ("Authorize", frames.authorize201("BENCH-1")),
        *[
            (
                "TransactionEvent",
                frames.transaction_event201(event, "T-1", n, 100 * n, clock.tick(), "BENCH-1"),
            )
            for n, event in enumerate(("Started", "Updated", "Ended"))
        ],
    ]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_every_frame_the_load_generator_sends_passes_the_ocpp_schemas(
    version: str,
) -> None:
    clock = frames.StationClock()
    sent = _frames_16(clock) if version == "1.6" else _frames_201(clock)
    for number, (action, payload) in enumerate(sent):
        await validate_payload(Call(str(number), action, payload), version)  # raises if invalid


async def test_the_schema_check_above_can_fail() -> None:
    with pytest.raises(FormatViolationError):
        await validate_payload(Call("1", "StatusNotification", frames.status16("Nope", "x")), "1.6")


def test_station_time_is_distinct_increasing_and_in_the_past() -> None:
    clock = frames.StationClock()
    stamps = [clock.tick() for _ in range(5)]
    assert stamps == sorted(set(stamps))
    assert datetime.fromisoformat(stamps[-1]) < datetime.now(UTC)


# --- command line ------------------------------------------------------------------------


def test_quick_shrinks_the_defaults_but_not_what_is_given() -> None:
    options = options_from(parse(["--quick", "--connections", "20", "--only", "heartbeat"]))
    assert options.parts == ("heartbeat",)
    assert options.connections == 20
    assert options.storm_stations == QUICK["storm_stations"]
    full = options_from(parse(["--skip", "cluster,steady"]))
    assert "cluster" not in full.parts and "storm" in full.parts
    assert (full.connections, full.storm_stations, full.steady_stations) == (50, 2000, 10_000)


def test_an_unknown_part_is_refused() -> None:
    with pytest.raises(SystemExit):
        parse(["--only", "heartbeats"])


# --- the lean client against a real websockets server (loopback) --------------------------


async def _refuse(connection: ServerConnection, request: Request) -> Response:
    return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "busy\n")


async def test_the_client_talks_and_classifies_how_a_server_says_no() -> None:
    async def handler(ws: ServerConnection) -> None:
        frame = json.loads(await ws.recv())
        if frame[2] == "Heartbeat":
            await ws.send(json.dumps([3, frame[1], {}]))
            await ws.recv()
        elif frame[2] == "CloseMe":
            await ws.close(1013, "try again later")
        else:
            ws.transport.abort()

    async with serve(handler, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp1.6")]) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        ws = await client.connect(f"{url}/CP-1", "ocpp1.6", 5)
        await ws.send(json.dumps([2, "1", "Heartbeat", {}]))
        assert json.loads(await ws.recv()) == [3, "1", {}]
        outcomes = []
        for action in ("CloseMe", "DropMe"):
            ws = await client.connect(f"{url}/CP-1", "ocpp1.6", 5)
            await ws.send(json.dumps([2, "1", action, {}]))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            outcomes.append(classify(closed.value, "boot reply"))
        assert [(o.explicit, o.label) for o in outcomes] == [
            (True, "close 1013"),
            (False, "closed without a close frame (boot reply)"),
        ]
    async with serve(handler, "127.0.0.1", 0, process_request=_refuse) as server:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(InvalidStatus) as refused:
            await client.connect(f"ws://127.0.0.1:{port}/CP-1", "ocpp1.6", 5)
        assert classify(refused.value, "handshake").label == "HTTP 503"
