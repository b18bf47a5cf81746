"""The servers under test, each in its own process: the CSMS (`python main.py`, one or
several cluster nodes) and the echo baseline; and the PostgreSQL database they share."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from benchmarks.ocpp_load import echo
from benchmarks.ocpp_load.limits import die_with_parent

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
API_TOKEN = "bench-operator-token"  # the CSMS under test is started with this admin token
START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


@dataclass(slots=True)
class Server:
    """A server under test: what stations connect to, and the process to measure."""

    name: str
    pid: int
    ocpp_url: str
    rest_url: str | None = None
    log: Path | None = None
    _popen: subprocess.Popen[bytes] | None = None
    _process: multiprocessing.process.BaseProcess | None = None

    def alive(self) -> bool:
        if self._popen is not None:
            return self._popen.poll() is None
        return self._process is not None and self._process.is_alive()

    def kill(self) -> None:
        """SIGKILL: a crash, the kernel closes its sockets without a close frame."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self._wait(STOP_TIMEOUT_SECONDS)

    def stop(self) -> None:
        """SIGTERM (an orderly stop), SIGKILL if it is not gone within the bound."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            if not self._wait(STOP_TIMEOUT_SECONDS):
                self.kill()

    def _wait(self, timeout: float) -> bool:
        if self._popen is not None:
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        if self._process is not None:
            self._process.join(timeout)
            return not self._process.is_alive()
        return True

    def log_tail(self, lines: int = 15) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def start_echo(log_dir: Path) -> Server:
    port = free_port()
    context = multiprocessing.get_context("spawn")
    process = context.Process(target=echo.run, args=(HOST, port), name="echo", daemon=True)
    process.start()
    assert process.pid is not None
    server = Server("echo", process.pid, f"ws://{HOST}:{port}", _process=process)
    _wait_listening(server, port)
    return server


def start_csms(
    name: str,
    database_url: str,
    log_dir: Path,
    extra_env: Mapping[str, str] = {},
) -> Server:
    """`python main.py` with its own ports, on the given database; returns once its REST
    port (opened after OCPP, so after migrations and the OCPP listener) accepts."""
    ocpp_port, rest_port, mcp_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "development",
        "DATABASE_URL": database_url,
        "OCPP_SERVER_HOST": HOST,
        "OCPP_SERVER_PORT": str(ocpp_port),
        "FASTAPI_HOST": HOST,
        "FASTAPI_PORT": str(rest_port),
        "MCP_SERVER_HOST": HOST,
        "MCP_SERVER_PORT": str(mcp_port),
        "API_TOKEN": API_TOKEN,
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": str(log_dir / f"data-{name}"),
        **extra_env,
    }
    log = log_dir / f"{name}.log"
    with log.open("ab") as out:
        popen = subprocess.Popen(
            [sys.executable, "main.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,  # SIGTERM: the CSMS stops in order if we die
        )
    server = Server(
        name,
        popen.pid,
        f"ws://{HOST}:{ocpp_port}",
        rest_url=f"http://{HOST}:{rest_port}",
        log=log,
        _popen=popen,
    )
    _wait_listening(server, rest_port)
    return server


def _wait_listening(server: Server, port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited while starting:\n{server.log_tail()}")
        if _listening(port):
            return
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{server.name} did not listen within {START_TIMEOUT_SECONDS:.0f} s")


def create_id_tags(server: Server, tags: list[str]) -> None:
    """Accepted id tags through the REST API (existing ones are left as they are)."""
    assert server.rest_url is not None
    for tag in tags:
        body = json.dumps({"id_tag": tag, "max_active_transactions": 100}).encode()
        request = urllib.request.Request(
            f"{server.rest_url}/api/id-tags",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30):
                pass
        except urllib.error.HTTPError as error:
            if error.code != 409:  # 409: the tag exists already
                raise RuntimeError(
                    f"creating id tag {tag}: HTTP {error.code} {error.read()[:300]!r}"
                ) from error


@contextlib.contextmanager
def postgres_database(admin_url: str, name: str) -> Iterator[str]:
    """A database of its own for the run (dropped first if a previous run left it, and
    dropped after); yields the SQLAlchemy URL the CSMS is given."""
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    user = info.get("user", "postgres")
    password = f":{info['password']}" if info.get("password") else ""
    host, port = info.get("host", HOST), info.get("port", 5432)
    try:
        yield f"postgresql+psycopg://{user}{password}@{host}:{port}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def nats_reachable(url: str) -> bool:
    """A TCP connect to the NATS server named by a nats://host:port URL."""
    rest = url.split("://", 1)[-1].rsplit("@", 1)[-1]
    host, _, port = rest.partition(":")
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((host or HOST, int(port.rstrip("/") or 4222))) == 0
