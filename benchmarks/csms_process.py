"""`python main.py` as a process of its own on a scratch database: the helpers the
station-list and event-stream benchmarks share (the OCPP load suite has its own,
benchmarks/ocpp_load/targets.py, with cluster nodes and an echo baseline)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_csms(database_url: str, rest_port: int = 0) -> tuple[subprocess.Popen[bytes], int]:
    """The CSMS on free ports; returns the process and its OCPP port once it listens."""
    ocpp_port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "OCPP_SERVER_PORT": str(ocpp_port),
        "OCPP_SERVER_HOST": "127.0.0.1",
        "FASTAPI_PORT": str(rest_port or free_port()),
        "MCP_SERVER_PORT": str(free_port()),
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", ocpp_port)) == 0:
                return process, ocpp_port
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the CSMS did not start")


def database(kind: str, workdir: str) -> str:
    """A SQLite file in workdir, or a new PostgreSQL database on 127.0.0.1:5432."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{workdir}/load.db"
    import psycopg

    name = f"evcs_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
