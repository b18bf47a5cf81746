"""Logging for the process: one line per record, with secrets redacted on the way out.

The redaction filter sits on the handlers, so whatever logs (our code, uvicorn, the ocpp
library, a traceback) passes through the same rule as every other output: passwords in
URLs and the values of credential configuration keys never reach the log.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from ev_charging_system.business_logic.redaction import redact_text

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


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


# Libraries that log whole frames (and so whatever a frame carries) speak up only for
# problems, whatever LOG_LEVEL says: protocol traces belong in a capture, not in the log.
QUIET_LIBRARIES = ("ocpp", "websockets", "httpcore", "httpx", "anthropic", "aiosqlite")
# Drivers that warn once per abandoned query while the database hangs ("query cancellation
# failed"): the outage is logged once, with its length, by data/database_health.py.
OUTAGE_REPEATERS = ("psycopg",)


def configure_logging(level: str, stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in OUTAGE_REPEATERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    return handler
