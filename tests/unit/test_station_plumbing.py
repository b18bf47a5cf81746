"""Small pure pieces of the station side: ids from paths, passwords, frames, liveness."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.exceptions import FormatViolationError

from ev_charging_system.business_logic.last_seen import LastSeenTracker
from ev_charging_system.business_logic.passwords import hash_password, verify_password
from ev_charging_system.core.frames import parse_timestamp, readable_message_id
from ev_charging_system.core.ocpp_server import station_id_from_path
from tests.unit.fakes import FakeStore, FakeUnitOfWork


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/CP-1", "CP-1"),
        ("/ocpp/CP-1", "CP-1"),
        ("/steve/websocket/CentralSystemService/CP%201", None),
        ("/CP%2F1", None),  # "CP/1" is no identity (and unreachable through REST paths)
        ("/CP%2D1", "CP-1"),
        ("/", None),
        ("/" + "x" * 49, None),
        ("/CP-1?token=abc", "CP-1"),
    ],
)
def test_the_station_id_is_the_last_path_segment(path: str, expected: str | None) -> None:
    assert station_id_from_path(path) == expected


def test_passwords_verify_only_against_their_own_hash() -> None:
    stored = hash_password("sixteen-chars-ok")
    assert verify_password("sixteen-chars-ok", stored)
    assert not verify_password("sixteen-chars-no", stored)
    assert not verify_password("sixteen-chars-ok", "garbage")
    assert hash_password("sixteen-chars-ok") != stored  # salted


@pytest.mark.parametrize(
    ("frame", "message_id"),
    [('[2, "abc", "Heartbeat"', "-1"), ('[2, "abc", 5]', "abc"), ("{}", "-1"), ("[2]", "-1")],
)
def test_the_message_id_of_a_broken_frame_is_read_when_possible(
    frame: str, message_id: str
) -> None:
    assert readable_message_id(frame) == message_id


def test_timestamps_without_offset_are_utc_and_garbage_is_a_format_violation() -> None:
    assert parse_timestamp("2026-03-01T10:00:00") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert parse_timestamp("2026-03-01T12:00:00+02:00") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    with pytest.raises(FormatViolationError):
        parse_timestamp("soon")


async def test_last_seen_is_flushed_in_a_batch_and_kept_when_the_flush_fails() -> None:
    tracker = LastSeenTracker()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    tracker.record("CP", at)
    tracker.record("CP", at - timedelta(seconds=5))  # older news never wins

    class BrokenUnitOfWork(FakeUnitOfWork):
        async def commit(self) -> None:
            raise ConnectionError("database went away")

    store = FakeStore()
    with pytest.raises(ConnectionError):
        await tracker.flush(lambda: BrokenUnitOfWork(store))
    assert tracker.pending("CP") == at
    assert await tracker.flush(lambda: FakeUnitOfWork(store)) == 1
    assert tracker.pending("CP") is None


async def test_a_large_last_seen_flush_is_written_in_chunks_and_gives_the_loop_back() -> None:
    tracker = LastSeenTracker(chunk=100)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for number in range(250):
        tracker.record(f"CP-{number:03d}", at + timedelta(seconds=number))
    written: list[int] = []  # stations per statement
    turns: list[int] = []  # stations written so far, each time another task got a turn

    class CountingUnitOfWork(FakeUnitOfWork):
        async def __aenter__(self) -> CountingUnitOfWork:
            await super().__aenter__()
            record = self.charge_points.record_last_seen

            async def counted(last_seen: Mapping[str, datetime]) -> None:
                written.append(len(last_seen))
                await record(last_seen)

            self.charge_points.record_last_seen = counted  # type: ignore[method-assign]
            return self

    async def station_messages() -> None:
        while True:
            turns.append(sum(written))
            await asyncio.sleep(0)

    other = asyncio.create_task(station_messages())
    await asyncio.sleep(0)
    assert await tracker.flush(lambda: CountingUnitOfWork(FakeStore())) == 250
    other.cancel()
    assert written == [100, 100, 50]
    assert {100, 200} <= set(turns), "other tasks ran between the chunks"


async def test_a_failed_chunk_keeps_it_and_every_later_one_for_the_next_flush() -> None:
    tracker = LastSeenTracker(chunk=2)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for name in ("CP-A", "CP-B", "CP-C", "CP-D", "CP-E"):
        tracker.record(name, at)
    commits = 0

    class FailingSecondCommit(FakeUnitOfWork):
        async def commit(self) -> None:
            nonlocal commits
            commits += 1
            if commits == 2:
                raise ConnectionError("database went away")
            await super().commit()

    store = FakeStore()
    with pytest.raises(ConnectionError):
        await tracker.flush(lambda: FailingSecondCommit(store))
    # The first chunk is stored; the failed one and the one never tried are kept.
    assert [tracker.pending(name) for name in ("CP-A", "CP-B")] == [None, None]
    assert all(tracker.pending(name) == at for name in ("CP-C", "CP-D", "CP-E"))
    assert await tracker.flush(lambda: FakeUnitOfWork(store)) == 3
