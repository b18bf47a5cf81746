"""Writes that arrive while a commit is in flight share the next one; failures stay local."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from ev_charging_system.business_logic.group_commit import GroupCommit
from ev_charging_system.models.errors import StorageUnavailableError


class Database:
    """A flush that records its batches and holds each commit until released."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = asyncio.Event()
        self.refused: set[str] = set()
        self.down = False

    async def flush(self, items: Sequence[str]) -> list[str]:
        self.batches.append(list(items))
        await self.release.wait()
        if self.down:
            raise StorageUnavailableError("connection refused")
        if self.refused & set(items):
            raise ValueError(f"value too long: {sorted(self.refused & set(items))}")
        return [f"stored {item}" for item in items]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_the_first_write_goes_alone_and_those_arriving_meanwhile_share_the_next() -> None:
    database = Database()
    writes: GroupCommit[str, str] = GroupCommit(database.flush, timeout_seconds=5, in_flight=1)
    first = asyncio.create_task(writes.submit("a"))
    await settle()
    later = [asyncio.create_task(writes.submit(item)) for item in ("b", "c", "d")]
    await settle()
    assert database.batches == [["a"]]  # b, c and d wait for a's commit

    database.release.set()
    assert await first == "stored a"
    assert await asyncio.gather(*later) == ["stored b", "stored c", "stored d"]
    assert database.batches == [["a"], ["b", "c", "d"]]
    stats = writes.stats()
    assert (stats.batches, stats.writes, stats.largest) == (2, 4, 3)


async def submitted_after(writes: GroupCommit[str, str], item: str, turns: int) -> str:
    """A station message that becomes a write `turns` event-loop turns after it is read."""
    for _ in range(turns):
        await asyncio.sleep(0)
    return await writes.submit(item)


@pytest.mark.parametrize(
    ("gather_turns", "batches"), [(0, [["a"], ["b", "c"]]), (3, [["a", "b", "c"]])]
)
async def test_messages_read_in_the_same_turn_share_a_batch(
    gather_turns: int, batches: list[list[str]]
) -> None:
    database = Database()
    writes: GroupCommit[str, str] = GroupCommit(
        database.flush, timeout_seconds=5, in_flight=1, gather_turns=gather_turns
    )
    # Three frames read at once; their handlers reach the write after 0, 1 and 2 turns.
    sent = [asyncio.create_task(submitted_after(writes, x, n)) for n, x in enumerate("abc")]
    await settle()
    database.release.set()
    assert await asyncio.gather(*sent) == ["stored a", "stored b", "stored c"]
    assert database.batches == batches


async def test_a_refused_write_fails_alone_and_the_rest_of_its_batch_is_stored() -> None:
    database = Database()
    database.refused = {"odd"}
    writes: GroupCommit[str, str] = GroupCommit(database.flush, timeout_seconds=5, in_flight=1)
    blocker = asyncio.create_task(writes.submit("first"))
    await settle()
    batch = [asyncio.create_task(writes.submit(item)) for item in ("b", "odd", "c")]
    await settle()
    database.release.set()
    await blocker
    results = await asyncio.gather(*batch, return_exceptions=True)

    assert results[0] == "stored b" and results[2] == "stored c"
    assert isinstance(results[1], ValueError)
    assert database.batches[1:] == [["b", "odd", "c"], ["b"], ["odd"], ["c"]]
    assert writes.stats().split == 1


async def test_a_database_outage_fails_the_whole_batch_without_retrying_each_write() -> None:
    database = Database()
    database.down = True
    database.release.set()
    writes: GroupCommit[str, str] = GroupCommit(database.flush, timeout_seconds=5, in_flight=1)
    results = await asyncio.gather(writes.submit("a"), writes.submit("b"), return_exceptions=True)
    assert all(isinstance(result, StorageUnavailableError) for result in results)
    assert database.batches == [["a", "b"]]  # not retried one by one
    assert writes.stats().split == 0


async def test_a_hung_database_fails_the_batch_at_the_deadline() -> None:
    database = Database()  # never released
    writes: GroupCommit[str, str] = GroupCommit(database.flush, timeout_seconds=0.05, in_flight=1)
    with pytest.raises(StorageUnavailableError):
        await writes.submit("a")
    # The next write is not stuck behind the hung one.
    database.release.set()
    assert await writes.submit("b") == "stored b"


async def test_a_writer_that_gave_up_is_left_out_of_the_next_batch() -> None:
    database = Database()
    writes: GroupCommit[str, str] = GroupCommit(database.flush, timeout_seconds=5, in_flight=1)
    first = asyncio.create_task(writes.submit("a"))
    await settle()
    impatient = asyncio.create_task(writes.submit("gave up"))
    patient = asyncio.create_task(writes.submit("b"))
    await settle()
    impatient.cancel()
    await settle()
    database.release.set()
    await first
    assert await patient == "stored b"
    assert database.batches == [["a"], ["b"]]


async def test_with_two_in_flight_a_second_batch_goes_while_the_first_commits() -> None:
    database = Database()
    writes: GroupCommit[str, str] = GroupCommit(database.flush, timeout_seconds=5, in_flight=2)
    first = asyncio.create_task(writes.submit("a"))
    await settle()
    second = asyncio.create_task(writes.submit("b"))
    await settle()
    rest = [asyncio.create_task(writes.submit(item)) for item in ("c", "d")]
    await settle()
    assert database.batches == [["a"], ["b"]]  # both committing; c and d wait for either

    database.release.set()
    assert await asyncio.gather(first, second, *rest) == [f"stored {x}" for x in "abcd"]
    assert database.batches == [["a"], ["b"], ["c", "d"]]
