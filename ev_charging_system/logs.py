"""Logging for the process: one line per record, with secrets redacted on the way out.

The redaction filter sits on the handlers, so whatever logs (our code, uvicorn, the ocpp
library, a traceback) passes through the same rule as every other output: passwords in
URLs and the values of credential configuration keys never reach the log.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal, TextIO

from ev_charging_system.business_logic.redaction import redact_text

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
LogFormat = Literal["text", "json"]

# Fields a log call may add (`extra=`) that the JSON lines carry: who, which message, how long.
CONTEXT_FIELDS = (
    "charge_point_id",
    "message_id",
    "action",
    "ocpp_version",
    "outcome",
    "latency_ms",
)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks carry the exception's text: format it here, redacted.
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class RepeatLimiter(logging.Filter):
    """At most `per_minute` warnings and errors of one kind (logger, level, message
    template) a minute; the rest are counted, and the next one let through says how many
    were left out. A station that retries a bad frame every second, or ten thousand
    stations refused at once, cannot flood the log; INFO and DEBUG pass untouched."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._limit = per_minute
        self._clock = clock
        self._windows: dict[tuple[str, int, str], tuple[float, int, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or self._limit <= 0:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        started, shown, suppressed = self._windows.get(key, (now, 0, 0))
        if now - started >= 60:
            started, shown = now, 0
        if shown >= self._limit:
            self._windows[key] = (started, shown, suppressed + 1)
            return False
        if suppressed:
            record.msg = f"{record.getMessage()} ({suppressed} similar left out)"
            record.args = None
        self._windows[key] = (started, shown + 1, 0)
        if len(self._windows) > MAX_REPEAT_KINDS:  # bounded memory: forget the oldest kinds
            for old in list(self._windows)[: MAX_REPEAT_KINDS // 2]:
                del self._windows[old]
        return True


MAX_REPEAT_KINDS = 10_000


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the context fields.

    Runs after RedactingFilter (a handler's filters come first), so the message and the
    traceback are already redacted; string context fields are redacted here too."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = redact_text(value) if isinstance(value, str) else value
        if record.exc_text:
            line["exception"] = record.exc_text
        elif record.exc_info:
            line["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


# Libraries that log whole frames (and so whatever a frame carries) speak up only for
# problems, whatever LOG_LEVEL says: protocol traces belong in a capture, not in the log.
QUIET_LIBRARIES = ("ocpp", "websockets", "httpcore", "httpx", "anthropic", "aiosqlite")
# Drivers that warn once per abandoned query while the database hangs ("query cancellation
# failed"): the outage is logged once, with its length, by data/database_health.py.
OUTAGE_REPEATERS = ("psycopg",)


def configure_logging(
    level: str,
    stream: TextIO | None = None,
    log_format: LogFormat = "text",
    repeats_per_minute: int = 0,
) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(FORMAT))
    if repeats_per_minute > 0:
        handler.addFilter(RepeatLimiter(repeats_per_minute))
    handler.addFilter(RedactingFilter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in OUTAGE_REPEATERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    return handler
