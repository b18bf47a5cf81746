"""The REST API keeps its OpenAPI contract, checked by schemathesis against the running
system (`python main.py`, real HTTP, a signed-in admin token):

- no server error for any generated request, valid or not;
- every status code it answers is documented, every answer matches its schema;
- every request the schema (and the rules across fields the descriptions state) allows
  is accepted.

Bounded and repeatable: a fixed seed and a fixed number of examples per operation.
The event stream (it never ends) and the chat (it needs the model service: without a key
it answers the documented 503) have their own tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ev_charging_system.data.database import PROJECT_ROOT
from tests.e2e.test_main_smoke import free_port, wait_for_port

TOKEN = "schemathesis-admin-token"
HERE = Path(__file__).resolve().parent
EXAMPLES_PER_OPERATION = 5
SEED = 20261207


@pytest.fixture(scope="module")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    workdir = tmp_path_factory.mktemp("contract")
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'contract.db'}",
        "DATA_DIR": str(workdir),
        "API_TOKEN": TOKEN,
        "FASTAPI_PORT": str(port),
        "OCPP_SERVER_PORT": str(free_port()),
        "MCP_SERVER_PORT": str(free_port()),
        "LOG_LEVEL": "WARNING",
    }
    environment.pop("ANTHROPIC_API_KEY", None)
    log = (workdir / "main.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "main.py"], cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=log
    )
    try:
        wait_for_port(port, process)  # type: ignore[arg-type]
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_the_api_keeps_its_openapi_contract(running_system: int) -> None:
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"http://127.0.0.1:{running_system}/openapi.json",
            "--header",
            f"Authorization: Bearer {TOKEN}",
            "--checks",
            "not_a_server_error,status_code_conformance,response_schema_conformance,"
            "content_type_conformance,positive_data_acceptance",
            "--exclude-path-regex",
            "^/api/(events|chat)",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            str(SEED),
            "--workers",
            "2",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.api_contract.hooks"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    report = finished.stdout[-20_000:] + finished.stderr[-5_000:]
    assert finished.returncode == 0, report
