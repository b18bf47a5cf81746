"""Limits and headers every HTTP answer carries: body size, host names, no echo, CSP."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ev_charging_system.application import Application

FIVE_MB = 5 * 1024 * 1024
BODY = b"x" * FIVE_MB  # one buffer for every upload: the client's memory stays out of it
MARKER = "do-not-echo-this-value-" * 4


def resident_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


class Upload:
    """A streamed body: no Content-Length, the size shows only as it arrives."""

    def __init__(self, total: int, size: int = 64 * 1024) -> None:
        self.total, self.size = total, size

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunk = b"x" * self.size
        for _ in range(self.total // self.size):
            yield chunk


async def refused(rest: httpx.AsyncClient, content: bytes | Upload) -> httpx.Response:
    response = await rest.post(
        "/api/id-tags", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "MAX_REQUEST_BODY_BYTES" in response.json()["detail"]
    assert len(response.content) < 500  # an explanation, not an echo
    return response


async def test_a_5_mb_body_is_refused_with_413_and_memory_stays_flat(
    app: Application, rest: httpx.AsyncClient
) -> None:
    for _ in range(2):  # warm up both paths: connections, buffers, allocator arenas
        await refused(rest, BODY)
        await refused(rest, Upload(FIVE_MB))
    gc.collect()
    before = resident_kb()
    uploads = [Upload(FIVE_MB) for _ in range(8)]
    for upload in uploads:
        await refused(rest, BODY)  # announced: refused before reading
        await refused(rest, upload)  # streamed: refused once past the limit
    # The test and the server share this process: 80 MB were offered, none was kept.
    gc.collect()
    assert resident_kb() - before < 10_000


async def test_a_body_within_the_limit_still_works(rest: httpx.AsyncClient) -> None:
    created = await rest.post("/api/id-tags", json={"id_tag": "TAG-OK", "name": "x" * 200})
    assert created.status_code == 201


async def test_an_invalid_body_is_described_but_never_echoed(rest: httpx.AsyncClient) -> None:
    bad = await rest.post("/api/id-tags", json={"id_tag": "T", "status": MARKER})
    wrong_type = await rest.post("/api/id-tags", json=[MARKER])
    for response in (bad, wrong_type):
        assert response.status_code == 422
        assert MARKER not in response.text


@pytest.mark.parametrize("path", ["/api/health", "/api/charge-points", "/", "/nope"])
async def test_every_answer_forbids_framing_and_sniffing(
    rest: httpx.AsyncClient, path: str
) -> None:
    response = await rest.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_a_foreign_host_name_is_refused(app: Application) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.rest_port}") as client:
        rebound = await client.get("/api/health", headers={"Host": "evil.example"})
        local = await client.get("/api/health", headers={"Host": "localhost:8001"})
    assert rebound.status_code == 400
    assert "REST_ALLOWED_HOSTS" in rebound.json()["detail"]
    assert local.status_code == 200


async def test_the_mcp_endpoint_has_its_own_body_limit(app: Application) -> None:
    url = f"http://127.0.0.1:{app.mcp_port}/mcp"
    async with httpx.AsyncClient() as client:
        response = await client.post(
            url,
            content=b"x" * FIVE_MB,
            headers={"Content-Type": "application/json", "Authorization": "Bearer dev-mcp-read"},
        )
    assert response.status_code == 413
    assert "MCP_MAX_REQUEST_BODY_BYTES" in response.json()["detail"]
