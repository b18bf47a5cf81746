"""Fault injection for tests: a database held locked by another client, and a TCP proxy
in front of the database that can stall.

While stalled, bytes are held (nothing is lost, nothing is refused) and new connections
are accepted but not connected through: to the application it looks exactly like a
paused PostgreSQL or a network that stopped delivering.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator

import psycopg
from sqlalchemy.engine import make_url

from tests.conftest import _admin_dsn


class StallingProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        """Listen on a free local port; returns it."""
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def stall(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    async def close(self) -> None:
        self.resume()
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        await self._flowing.wait()
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._upstream)
        self._writers.append(upstream_writer)
        for source, target in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(self._pump(source, target))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                await self._flowing.wait()  # held, not dropped, while stalled
                target.write(data)
                await target.drain()
        target.close()


@contextlib.contextmanager
def table_locked(database_url: str, table: str) -> Iterator[None]:
    """Another client holds `table` (PostgreSQL) or the whole database (SQLite) locked."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        with psycopg.connect(_admin_dsn(database_url), connect_timeout=5) as holder:
            holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            yield
            holder.rollback()
        return
    writer = sqlite3.connect(str(url.database), timeout=5, isolation_level=None)
    try:
        writer.execute("BEGIN EXCLUSIVE")  # SQLite locks writers out database-wide
        yield
        writer.execute("ROLLBACK")
    finally:
        writer.close()
