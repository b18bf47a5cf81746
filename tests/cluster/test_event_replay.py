"""No event in the log's window is lost between nodes (issue #16).

A node whose NATS link breaks for a few seconds gets the other nodes' events from that
time once it is back, in order; an SSE client that reconnects to another node with
Last-Event-ID gets exactly the events it missed, then the live ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from ev_charging_system.application import Application
from ev_charging_system.business_logic.events import EventFilter
from tests.cluster.conftest import Cluster, until
from tests.conformance.station import RawStation, raw_station
from tests.conftest import API_TOKEN, expecting

HEADERS = {"Authorization": f"Bearer {API_TOKEN}"}
STATUSES = ("Preparing", "Charging", "SuspendedEV", "Charging", "Finishing")


class Blinker:
    """A TCP relay between a node and NATS that can cut every connection and refuse new
    ones for a while: a network blip, seen by the node as a lost link."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 4222
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.down = False

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"nats://127.0.0.1:{port}"

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(self._host, self._port)
        self._open |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    def cut(self) -> None:
        self.down = True
        for writer in self._open:
            writer.transport.abort()
        self._open.clear()

    def mend(self) -> None:
        self.down = False

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()


async def send_statuses(station: RawStation, statuses: tuple[str, ...]) -> None:
    for status in statuses:
        await station.call(
            "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": status}
        )


async def test_a_node_back_from_a_nats_blip_gets_the_events_it_missed_in_order(
    cluster: Cluster,
) -> None:
    blinker = Blinker(cluster.nats_url)
    a = await cluster.start("node-a", cluster_nats_url=await blinker.start())
    b = await cluster.start("node-b")
    seen = a.events.subscribe(EventFilter.of(["CP-N"], ["connector.status_changed"]), 100)
    try:
        async with (
            expecting(a, "station.booted", "CP-N") as booted,
            raw_station(b, "CP-N") as station,
        ):
            await booted()
            blinker.cut()  # A is off NATS while B's station reports
            await send_statuses(station, STATUSES)
            await asyncio.sleep(2)
            assert a.cluster is not None
            assert a.cluster.events.received < 5  # nothing new arrived meanwhile
            blinker.mend()
            received = [
                (await asyncio.wait_for(seen.next(), 15)).payload()["status"] for _ in STATUSES
            ]
        assert received == list(STATUSES)  # each once, in B's order
    finally:
        seen.close()
        await blinker.stop()


@contextlib.asynccontextmanager
async def sse(node: Application, last_event_id: str | None = None) -> AsyncIterator[Any]:
    headers = dict(HEADERS)
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{node.rest_port}", timeout=15) as client,
        client.stream(
            "GET",
            "/api/events",
            params={"charge_point_id": "CP-E", "type": "connector.status_changed"},
            headers=headers,
        ) as stream,
    ):
        lines = stream.aiter_lines()
        assert (await anext(lines)).startswith("retry:")
        yield lines


async def frames(lines: Any, count: int) -> list[tuple[str, str, dict[str, Any]]]:
    """`count` events as (id, type, data)."""
    got: list[tuple[str, str, dict[str, Any]]] = []
    identity, kind = "", ""
    async with asyncio.timeout(15):
        async for line in lines:
            if line.startswith("id: "):
                identity = line.removeprefix("id: ")
            elif line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                got.append((identity, kind, json.loads(line.removeprefix("data: "))))
                if len(got) == count:
                    return got
    raise AssertionError("the stream ended")


async def test_an_sse_client_resumes_on_another_node_with_last_event_id(
    cluster: Cluster,
) -> None:
    a = await cluster.start("node-a")
    b = await cluster.start("node-b")
    async with (
        expecting(a, "station.booted", "CP-E") as booted,
        raw_station(b, "CP-E") as station,
    ):
        await booted()
        async with sse(a) as lines:
            await send_statuses(station, STATUSES[:2])
            first = await frames(lines, 2)
        assert [data["status"] for _, _, data in first] == list(STATUSES[:2])
        last_id = first[-1][0]
        assert last_id.isdigit()

        # Disconnected: what happens now is missed, then the client comes back to B.
        await send_statuses(station, STATUSES[2:4])
        assert b.cluster is not None

        async def logged() -> bool:
            assert b.cluster is not None
            return b.cluster.events.last_sequence >= int(last_id) + 2

        await until(logged, 5, "B read its own events back from the log")
        async with sse(b, last_event_id=last_id) as lines:
            missed = await frames(lines, 2)
            await send_statuses(station, STATUSES[4:])
            live = await frames(lines, 1)
    resumed = missed + live
    assert [data["status"] for _, _, data in resumed] == list(STATUSES[2:])
    ids = [int(identity) for identity, _, _ in first + resumed]
    assert ids == sorted(set(ids)), ids  # increasing, none twice
    assert all(kind == "connector.status_changed" for _, kind, _ in resumed)


async def test_a_last_event_id_older_than_the_log_is_reported_as_dropped(
    cluster: Cluster,
) -> None:
    a = await cluster.start("node-a")
    b = await cluster.start("node-b")
    async with (
        expecting(a, "station.booted", "CP-E") as booted,
        raw_station(b, "CP-E") as station,
    ):
        await booted()
        assert a.cluster is not None
        js = a.cluster.events._js
        assert js is not None
        await send_statuses(station, STATUSES[:2])
        await until(lambda: _logged(a, 4), 5, "the log holds the events")
        await js.purge_stream(a.cluster.subjects.stream)  # as if the window had passed
        await send_statuses(station, STATUSES[2:3])
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{a.rest_port}", timeout=15) as client,
            client.stream(
                "GET",
                "/api/events",
                params={"charge_point_id": "CP-E"},
                headers={**HEADERS, "Last-Event-ID": "1"},
            ) as stream,
        ):
            text = ""
            async with asyncio.timeout(15):
                async for line in stream.aiter_lines():
                    text += line + "\n"
                    if "SuspendedEV" in line:
                        break
    assert "event: stream.dropped" in text
    assert text.index("stream.dropped") < text.index("SuspendedEV")


async def _logged(node: Application, count: int) -> bool:
    assert node.cluster is not None
    return node.cluster.events.last_sequence >= count


async def test_a_last_event_id_the_log_never_had_resumes_with_live_events(
    cluster: Cluster,
) -> None:
    """A position ahead of the log (another cluster's, a stream made anew) replays nothing
    and holds nothing back."""
    a = await cluster.start("node-a")
    async with raw_station(a, "CP-E") as station, sse(a, last_event_id="999999") as lines:
        await send_statuses(station, STATUSES[:1])
        [(identity, _, data)] = await frames(lines, 1)
    assert data["status"] == STATUSES[0] and int(identity) < 999999
