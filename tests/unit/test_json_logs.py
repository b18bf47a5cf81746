"""LOG_FORMAT=json: one parseable object per line, context fields kept, secrets redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from ev_charging_system.logs import QUIET_LIBRARIES, RepeatLimiter, configure_logging


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    stream = io.StringIO()
    configure_logging("DEBUG", stream, "json")
    try:
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, previous in quiet.items():
            logging.getLogger(name).setLevel(previous)


def test_every_line_is_one_object_with_its_context(json_log: io.StringIO) -> None:
    log = logging.getLogger("ev_charging_system.test")
    context = {"charge_point_id": "CP-1", "message_id": "m-7", "action": "Heartbeat"}
    log.info("answered\nover two lines", extra={**context, "latency_ms": 1.25})
    log.warning("no context here")
    try:
        raise RuntimeError("download ftp://user:Hunter2-secret@files.example/fw.bin failed")
    except RuntimeError:
        log.exception("firmware from %s", "https://fw:Pa55-secret@example.com/x")

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert len(lines) == 3
    first, second, third = lines
    assert first["message"] == "answered\nover two lines" and first["level"] == "INFO"
    assert {k: first[k] for k in context} == context and first["latency_ms"] == 1.25
    assert first["logger"] == "ev_charging_system.test" and first["time"].endswith("+00:00")
    assert "charge_point_id" not in second
    assert "Hunter2-secret" not in json_log.getvalue()
    assert "Pa55-secret" not in json_log.getvalue()
    assert "RuntimeError" in third["exception"] and "***" in third["message"]


def test_a_secret_in_a_context_field_is_redacted(json_log: io.StringIO) -> None:
    logging.getLogger("x").info("m", extra={"action": "url ftp://u:TopSecret-1@h/f"})
    [line] = [json.loads(text) for text in json_log.getvalue().splitlines()]
    assert "TopSecret-1" not in line["action"] and "***" in line["action"]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_repeated_warnings_are_limited_and_counted() -> None:
    clock = Clock()
    limiter = RepeatLimiter(per_minute=3, clock=clock)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(limiter)
    log = logging.getLogger("ev_charging_system.test.repeats")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.DEBUG)
    try:
        for n in range(10):
            log.warning("%s: refused frame", f"CP-{n}")
        log.info("info is never limited")
        log.error("another kind passes")
        clock.now = 61
        log.warning("%s: refused frame", "CP-LATE")
    finally:
        log.removeHandler(handler)
        log.propagate = True
        log.setLevel(logging.NOTSET)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "CP-0: refused frame",
        "CP-1: refused frame",
        "CP-2: refused frame",
        "info is never limited",
        "another kind passes",
        "CP-LATE: refused frame (7 similar left out)",
    ]
