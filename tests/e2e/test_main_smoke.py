"""Start the system exactly as the README says, connect a station, stop it with Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ev_charging_system.data.database import PROJECT_ROOT
from tools.simulated_charge_point import connected_station

pytestmark = pytest.mark.e2e
SMOKE_TOKEN = "smoke-test-admin-token"


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port free now and not handed out before in this process: the kernel may give a
    just-closed port again, and two settings of one process on one port fail its start."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"main.py exited early with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"port {port} did not open within {timeout} s")


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
async def test_the_readme_run_command_serves_all_three_ports_and_stops_cleanly(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    ports = {name: free_port() for name in ("OCPP_SERVER_PORT", "FASTAPI_PORT", "MCP_SERVER_PORT")}
    environment = {
        **os.environ,
        **{name: str(port) for name, port in ports.items()},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'smoke.db'}",
        "PYTHONUNBUFFERED": "1",
        "API_TOKEN": SMOKE_TOKEN,
    }
    log_path = tmp_path / "main.log"
    with log_path.open("w") as log:
        # A plain Popen: the test needs send_signal() and wait() on the real process.
        process = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "dev.py", "run"],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            for port in ports.values():
                await asyncio.to_thread(wait_for_port, port, process)

            url = f"ws://127.0.0.1:{ports['OCPP_SERVER_PORT']}"
            async with connected_station(url, "CP-SMOKE") as station:
                assert (await station.boot()).status == "Accepted"
                async with httpx.AsyncClient(
                    headers={"Authorization": f"Bearer {SMOKE_TOKEN}"}
                ) as http:
                    listed = await http.get(
                        f"http://127.0.0.1:{ports['FASTAPI_PORT']}/api/charge-points"
                    )
                assert [cp["id"] for cp in listed.json()["items"]] == ["CP-SMOKE"]
                assert listed.json()["items"][0]["online"] is True

                process.send_signal(stop_signal)
                # The server closes the station's socket as part of a clean shutdown.
                await asyncio.wait_for(station.websocket.wait_closed(), 15)
            exit_code = await asyncio.to_thread(process.wait, 30)
        finally:
            if process.poll() is None:
                process.kill()
    output = log_path.read_text()
    assert exit_code == 0, output
    for port in ports.values():
        assert f":{port}" in output
    assert "stopped" in output


def test_an_unreachable_database_is_a_clear_one_line_error(tmp_path: Path) -> None:
    ports = {
        name: str(free_port()) for name in ("OCPP_SERVER_PORT", "FASTAPI_PORT", "MCP_SERVER_PORT")
    }
    unused = free_port()  # nothing listens there
    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **ports, "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{unused}/x"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Could not start: the database at postgresql+psycopg://" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_setting_is_refused_before_anything_starts() -> None:
    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "ENERGY_POLICY": "magic", "OCPP_SERVER_PORT": "70000"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Invalid configuration" in result.stderr
    assert "ENERGY_POLICY" in result.stderr and "OCPP_SERVER_PORT" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MCP_ALLOWED_HOSTS", "not json", "MCP_ALLOWED_HOSTS must be JSON"),
        ("FASTAPI_PORT", "99999", "FASTAPI_PORT: Input should be less than or equal to 65535"),
        ("ENVIRONMENT", "production", "API_TOKEN must be set to a secret"),
    ],
)
def test_a_bad_setting_is_named_in_one_clear_line(variable: str, value: str, expected: str) -> None:
    environment = {**os.environ, variable: value}
    environment.pop("API_TOKEN", None)
    finished = subprocess.run(
        [sys.executable, "main.py"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 2
    assert expected in finished.stderr
    assert "Traceback" not in finished.stderr


def test_tokens_are_made_listed_and_revoked_from_the_command_line(tmp_path: Path) -> None:
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    def main_py(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "main.py", *arguments],
            cwd=PROJECT_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )

    created = main_py("create-token", "--name", "night-shift", "--role", "viewer")
    secret = created.stdout.strip()
    listed = main_py("list-tokens")
    again = main_py("create-token", "--name", "night-shift", "--role", "admin")
    revoked = main_py("revoke-token", "--name", "night-shift")
    after = main_py("list-tokens")

    assert created.returncode == 0 and secret.startswith("evcs_") and len(secret) > 40
    assert "only time it is shown" in created.stderr
    assert listed.stdout.split()[:3] == ["night-shift", "viewer", listed.stdout.split()[2]]
    assert secret not in listed.stdout + listed.stderr  # never shown again
    assert again.returncode == 1 and "exists" in again.stderr
    assert revoked.returncode == 0 and "revoked" in after.stdout
