"""Waiting on the database from the OCPP side, with a bound that holds even when the
database hangs.

`asyncio.wait_for` / `asyncio.timeout` are not enough: on timeout they cancel the work and
then wait for the cancellation to finish, and that clean-up talks to the same hung
database (psycopg itself, on cancellation, asks the server to cancel the query and waits
for that; then come the rollback and the connection's return to the pool). Here the
caller gets its answer at the deadline; the cancelled work finishes in the background
whenever the database lets it. The price is one task per station message (about 25 us).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")

# Strong references: the event loop keeps only weak ones to tasks.
_abandoned: set[asyncio.Task[Any]] = set()


class DeadlineExceededError(TimeoutError):
    """The work did not finish within its bound (it was cancelled, left to clean up)."""


async def within(seconds: float, work: Awaitable[T]) -> T:
    """Run `work` for at most `seconds`, else raise DeadlineExceededError at once."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        _abandon(task)
        raise
    if task in done:
        return task.result()
    task.cancel()
    _abandon(task)
    raise DeadlineExceededError(f"no result within {seconds:g} s")


def abandoned_count() -> int:
    """Cancelled work still cleaning up (tests and diagnostics)."""
    return len(_abandoned)


def _abandon(task: asyncio.Task[Any]) -> None:
    _abandoned.add(task)
    task.add_done_callback(_forget)


def _forget(task: asyncio.Task[Any]) -> None:
    _abandoned.discard(task)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.exception()  # seen: the caller was already answered
