"""The repository's nginx config in front of two real nodes (issue #16, without Docker).

The config is rendered from deploy/cluster/nginx.conf.template, the one source of the
docker-compose config, for two nodes on local ports: node A in this process, node B a real
`python main.py` process that the test SIGKILLs. Through nginx: OCPP WebSockets reach both
nodes and stay up, REST answers, the event stream is not buffered (an event arrives while
the stream stays open), MCP works for 2026-protocol clients (any node) and for
handshake-era sessions (every request back to the node holding the session); when B is
killed its stations reconnect through nginx to A and are operable there, and B's MCP
session is answered 404 (the client opens a new one, which works).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from dev import find_nginx
from ev_charging_system.application import Application
from ev_charging_system.llm_integration.mcp_server import MCP_PATH
from tests.cluster.conftest import Cluster, until
from tests.cluster.test_kill_node import node_process, station_at
from tests.cluster.test_two_nodes import CONFIGURATION
from tests.conformance.station import Operator, RawStation
from tests.conftest import ADMIN_HEADERS, running_in_ci
from tests.e2e.test_main_smoke import free_port, wait_for_port
from tools.cluster_nginx import COMPOSE_CONFIG, COMPOSE_NODES, Listen, Node, render

MCP_READ = "test-mcp-read-token"
MCP_OPERATE = "test-mcp-op-token"
STATIONS = ("CP-N1", "CP-N2", "CP-N3", "CP-N4")


def test_the_compose_config_is_the_template_rendered() -> None:
    """deploy/cluster/nginx.conf is generated: edited by hand, it would drift from what
    the test below runs."""
    assert COMPOSE_CONFIG.read_text() == render(COMPOSE_NODES), (
        "deploy/cluster/nginx.conf differs from its template: run `python -m tools.cluster_nginx`"
    )


@pytest.fixture(scope="session")
def nginx() -> str:
    """Debian's nginx (`python3 dev.py test` installs it); with CI=true it must be there."""
    found = find_nginx()
    if found is None:
        message = "nginx is not installed (apt-get install -y nginx; dev.py test does it)"
        if running_in_ci():
            pytest.fail(message + " (CI=true: the load balancer test must run)")
        pytest.skip(message)
    return found


@asynccontextmanager
async def nginx_in_front(
    binary: str, nodes: tuple[Node, ...], workdir: Path
) -> AsyncIterator[Listen]:
    listen = Listen(*(f"127.0.0.1:{free_port()}" for _ in range(3)))
    config = workdir / "nginx.conf"
    config.write_text(
        render(
            nodes,
            listen,
            main=("daemon off", f"pid {workdir / 'nginx.pid'}", f"error_log {workdir}/error.log"),
            http=(
                f"access_log {workdir}/access.log",
                *(f"{kind}_temp_path {workdir}/{kind}" for kind in TEMP_PATHS),
            ),
        )
    )
    process = subprocess.Popen(  # noqa: ASYNC220 (a real process the test stops)
        [binary, "-p", str(workdir), "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for address in (listen.ocpp, listen.rest, listen.mcp):
            await asyncio.to_thread(wait_for_port, int(address.rsplit(":", 1)[1]), process, 10)
        yield listen
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 10)
        print((workdir / "error.log").read_text() if (workdir / "error.log").exists() else "")


TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


@asynccontextmanager
async def mcp_session(
    url: str, mode: str, session_ids: list[str] | None = None
) -> AsyncIterator[Client]:
    """The real MCP client; `session_ids` collects the Mcp-Session-Id it is given."""

    async def remember(response: httpx2.Response) -> None:
        session = response.headers.get("mcp-session-id")
        if session_ids is not None and session and session not in session_ids:
            session_ids.append(session)

    async with (
        httpx2.AsyncClient(
            headers={"Authorization": f"Bearer {MCP_OPERATE}"},
            event_hooks={"response": [remember]},
            timeout=20,
        ) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as session,
    ):
        yield session


async def listed(session: Client) -> set[str]:
    result = await session.call_tool("list_charge_points", {})
    assert not result.is_error, result.content
    return {item["id"] for item in (result.structured_content or {})["items"]}


async def owner(node: Application, station: str) -> str | None:
    assert node.cluster is not None
    return await node.cluster.ownership.owner_of(station)


async def test_two_nodes_behind_the_repositorys_nginx(
    cluster: Cluster, nginx: str, tmp_path: Path
) -> None:
    a = await cluster.start("node-a", mcp_read_token=MCP_READ, mcp_operate_token=MCP_OPERATE)
    b_ports = {"ocpp_port": free_port(), "rest_port": free_port(), "mcp_port": free_port()}
    nodes = (
        Node("node-a", "127.0.0.1", a.ocpp_port, a.rest_port, a.mcp_port),
        Node("node-b", "127.0.0.1", **b_ports),
    )
    (tmp_path / "b").mkdir()
    async with AsyncExitStack() as stack:
        b = await stack.enter_async_context(
            node_process(
                cluster,
                "node-b",
                b_ports["ocpp_port"],
                tmp_path / "b" / "node-b.log",
                rest_port=b_ports["rest_port"],
                mcp_port=b_ports["mcp_port"],
                MCP_READ_TOKEN=MCP_READ,
                MCP_OPERATE_TOKEN=MCP_OPERATE,
            )
        )
        await asyncio.to_thread(wait_for_port, b_ports["mcp_port"], b)
        listen = await stack.enter_async_context(nginx_in_front(nginx, nodes, tmp_path))
        rest = await stack.enter_async_context(
            httpx.AsyncClient(base_url=f"http://{listen.rest}", headers=ADMIN_HEADERS, timeout=20)
        )
        mcp_url = f"http://{listen.mcp}{MCP_PATH}"

        # --- REST and the event stream through nginx: events arrive while it stays open.
        assert (await rest.get("/api/charge-points")).status_code == 200
        events: asyncio.Queue[dict[str, object]] = asyncio.Queue()

        async def follow_events() -> None:
            async with rest.stream(
                "GET", "/api/events", params={"type": "station.booted"}, timeout=None
            ) as stream:
                assert stream.status_code == 200
                async for line in stream.aiter_lines():
                    if line.startswith("data: "):
                        await events.put(json.loads(line.removeprefix("data: ")))

        follower = asyncio.create_task(follow_events())
        stack.callback(follower.cancel)
        await asyncio.sleep(0.5)  # the stream is subscribed

        # --- OCPP through nginx: the stations spread over both nodes.
        stations: dict[str, RawStation] = {}
        for station_id in STATIONS:
            stations[station_id] = await stack.enter_async_context(
                station_at(port_of(listen.ocpp), station_id)
            )
            # Unbuffered: each boot's event comes through while the stream stays open.
            booted = await asyncio.wait_for(events.get(), 5)
            assert booted["charge_point_id"] == station_id
        await until(
            lambda: _all_owned(a, STATIONS), 5, "every station connected through nginx is owned"
        )
        owners = {station_id: await owner(a, station_id) for station_id in STATIONS}
        assert set(owners.values()) == {"node-a", "node-b"}, owners  # least_conn spreads them
        on_b = [station_id for station_id, node in owners.items() if node == "node-b"]

        # --- MCP through nginx. A 2026-protocol client: requests to any node.
        async with mcp_session(mcp_url, "auto") as modern:
            for _ in range(4):
                assert await listed(modern) >= set(STATIONS)
        # Handshake-era sessions: every request of a session reaches the node holding it.
        session_ids: list[str] = []
        for _ in range(4):
            async with mcp_session(mcp_url, "legacy", session_ids) as legacy:
                for _ in range(3):
                    assert await listed(legacy) >= set(STATIONS)
        assert {session.split(".", 1)[0] for session in session_ids} == {"node-a", "node-b"}

        # A session on B, kept open across B's death (least_conn alternates the nodes).
        kept: Client | None = None
        for _ in range(4):
            kept_ids: list[str] = []
            opened = await stack.enter_async_context(mcp_session(mcp_url, "legacy", kept_ids))
            if kept_ids[0].startswith("node-b."):
                kept = opened
                break
        assert kept is not None, "no MCP session landed on node B"

        # --- the WebSockets stayed up through all of that.
        for station in stations.values():
            assert "currentTime" in await station.call("Heartbeat", {})

        # --- kill -9 node B: its stations reconnect through nginx, to A.
        b.kill()
        for station_id in on_b:
            assert await asyncio.wait_for(stations[station_id].closed(), 10) is not None
        loop = asyncio.get_running_loop()
        killed_at = loop.time()
        back = {
            station_id: await stack.enter_async_context(
                station_at(port_of(listen.ocpp), station_id)
            )
            for station_id in on_b
        }
        await until(
            lambda: _all_owned(a, on_b, by="node-a"), 5, "A holds B's stations after the kill"
        )
        operator = Operator(rest)
        for station in back.values():
            _, answered = await operator.command(
                station, "get-configuration", {}, "GetConfiguration", CONFIGURATION
            )
            assert answered.status_code == 200 and "77" in answered.text, answered.text
        served_after = loop.time() - killed_at

        # B's MCP session is gone: nginx hands it to A, which answers 404 as the MCP spec
        # asks; the client opens a new session, which works.
        with pytest.raises(MCPError, match="Session not found"):  # HTTP 404 from node A
            await kept.call_tool("list_charge_points", {})
        async with mcp_session(mcp_url, "legacy", kept_ids) as again:
            assert await listed(again) >= set(STATIONS)
        assert kept_ids[-1].startswith("node-a.")
    print(f"B killed -> its stations served on A through nginx after {served_after:.2f} s")


async def _all_owned(node: Application, stations: object, by: str | None = None) -> bool:
    assert isinstance(stations, (tuple, list))
    found = [await owner(node, station) for station in stations]
    return all(found) if by is None else all(o == by for o in found)
