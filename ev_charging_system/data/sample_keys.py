"""The stored form of a meter sample's natural key (models.transaction.MeterSample).

One short, non-null column carries the whole key, so a single unique constraint enforces
it on both databases: NULL phases, locations, contexts or transactions (most samples have
some) would never compare equal inside a multi-column unique constraint.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from ev_charging_system.models.transaction import SampleKey

SAMPLE_KEY_LENGTH = 32  # hex digits of a 128-bit BLAKE2b digest
_SEPARATOR = "\x1f"  # the ASCII unit separator: no OCPP value of the key contains it


def sample_key(key: SampleKey) -> str:
    """128-bit digest of the natural key; timestamps in UTC to the microsecond.

    migrations/versions/0009_meter_dedupe.py computes the same digest for rows stored
    before the key existed (tests/integration/test_migrations.py checks they agree).
    """
    station, connector, transaction, timestamp, measurand, phase, location, context, fmt = key
    parts = (
        station,
        str(connector),
        "" if transaction is None else str(transaction),
        _utc(timestamp),
        measurand,
        phase or "",
        location or "",
        context or "",
        fmt,
    )
    text = _SEPARATOR.join(parts).encode()
    return hashlib.blake2b(text, digest_size=SAMPLE_KEY_LENGTH // 2).hexdigest()


def _utc(timestamp: datetime) -> str:
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    return timestamp.astimezone(UTC).isoformat(timespec="microseconds")
