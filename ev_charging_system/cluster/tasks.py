"""Stopping background tasks for sure, within a bound.

On Python 3.11 `asyncio.wait_for` can swallow a cancellation that arrives just as the
awaited operation completes (fixed in 3.12), leaving a loop task running after one
`cancel()`; awaiting it would then hang a node's shutdown. So: cancel again until done.
"""

from __future__ import annotations

import asyncio
import logging

logger = logging.getLogger(__name__)


async def cancel_and_wait(*tasks: asyncio.Task[None] | None, bound: float = 5.0) -> None:
    pending = {task for task in tasks if task is not None and not task.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.1)
        if pending and loop.time() > deadline:
            names = ", ".join(task.get_name() for task in pending)
            logger.warning("cluster: tasks still running after %g s: %s", bound, names)
            return
