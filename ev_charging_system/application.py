"""Runs the wired system on one asyncio loop: listeners, background tasks, signals, and an
orderly stop. What is wired, and how, is bootstrap.py's job."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
from collections.abc import Iterator

import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ev_charging_system.api.http_guards import BodyLimit, SecurityHeaders
from ev_charging_system.bootstrap import System, utc_now
from ev_charging_system.business_logic.bounded import DeadlineExceededError, within
from ev_charging_system.cluster.node import ClusterStartError
from ev_charging_system.config.settings import Settings
from ev_charging_system.data.database import migrate_to_head
from ev_charging_system.energy.history_store import ForecastErrorKeeper, restore_history
from ev_charging_system.heap import CollectorPacing, CollectorPauses, freeze_startup_heap
from ev_charging_system.llm_integration.mcp_server import MCP_PATH
from ev_charging_system.models.errors import StorageUnavailableError

logger = logging.getLogger(__name__)


STOP_STEPS_AFTER_OCPP = 5.0  # seconds for HTTP servers, last flushes, the engine


class EmbeddedUvicornServer(uvicorn.Server):
    """uvicorn that leaves signal handling to the application that hosts it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class StartupError(Exception):
    """The system could not start; the message says why and what to check."""


def describe_startup_failure(error: Exception, settings: Settings) -> str:
    if isinstance(error, OSError) and error.errno in (errno.EADDRINUSE, errno.EACCES):
        return (
            f"a port is not available ({error.strerror}); check OCPP_SERVER_PORT="
            f"{settings.ocpp_server_port}, FASTAPI_PORT={settings.fastapi_port}, "
            f"MCP_SERVER_PORT={settings.mcp_server_port}"
        )
    if isinstance(error, ClusterStartError):
        return f"this node cannot join its cluster: {error}"
    if isinstance(error, SQLAlchemyError | OSError):
        database = make_url(settings.database_url).render_as_string(hide_password=True)
        return f"the database at {database} cannot be used: {error}"
    return f"{type(error).__name__}: {error}"


# How often the forecast error scores are stored when something was scored (a slot is
# scored every 15 minutes; a minute bounds what a crash loses).
FORECAST_ERRORS_EVERY_S = 60.0


class Application(System):
    """Everything `python main.py` runs. Tests start it on port 0 and read the real ports."""

    def __init__(self, settings: Settings, pace_garbage_collection: bool = False) -> None:
        """`pace_garbage_collection`: only for a process that runs nothing else (main.py),
        since it freezes the heap (heap.py)."""
        super().__init__(settings)
        self._pacing = CollectorPacing() if pace_garbage_collection else None
        self._collector_pauses = CollectorPauses(self._collection_finished)
        self._http_servers: list[tuple[EmbeddedUvicornServer, asyncio.Task[None]]] = []
        self._flush_task: asyncio.Task[None] | None = None
        self._forecast_task: asyncio.Task[None] | None = None
        # The dashboard's forecast errors, kept across restarts (energy/history_store.py).
        self.forecast_errors = ForecastErrorKeeper(
            self.coordinator.forecast_tracker, self.history_store
        )
        self._stopped = False
        self.rest_port = 0
        self.mcp_port = 0

    @property
    def ocpp_port(self) -> int:
        """The ws:// port (security profile 1)."""
        port = self.ocpp.port
        if port is None:
            raise RuntimeError("OCPP_PLAIN_ENABLED is off: there is no ws:// listener")
        return port

    @property
    def ocpp_tls_port(self) -> int | None:
        """The wss:// port (security profiles 2 and 3), None without OCPP_TLS_PORT."""
        return self.ocpp.tls_port

    async def start(self) -> None:
        settings = self.settings
        self._collector_pauses.install()
        if settings.migrate_on_start:
            await migrate_to_head(self.engine)
        if await self.site.restore():
            logger.info("energy: restored the stored site configuration")
        restored = await restore_history(
            self.coordinator.history,
            self.history_store,
            utc_now(),
            self.coordinator.settings.history_days,
        )
        if restored:
            logger.info("energy: forecasts start from %d stored 15-minute slots", restored)
        if await self.forecast_errors.restore():
            logger.info("energy: forecast errors restored from before the restart")
        if self.cluster is None:
            await self._lead()
        else:
            # The planner, alarm rules and meter retention are singletons: they run on
            # whichever node holds the leadership.
            await self.cluster.start(self._lead, self._follow)
        await self.ocpp.start()
        self.rest_port = await self._start_http(
            self.rest_app, settings.fastapi_host, settings.fastapi_port
        )
        mcp_app = BodyLimit(
            SecurityHeaders(self.mcp.asgi_app()),
            max_bytes=settings.mcp_max_request_body_bytes,
            setting="MCP_MAX_REQUEST_BODY_BYTES",
        )
        self.mcp_port = await self._start_http(
            mcp_app, settings.mcp_server_host, settings.mcp_server_port
        )
        self._flush_task = asyncio.create_task(self._flush_last_seen_periodically())
        self._forecast_task = asyncio.create_task(self._keep_forecast_errors_periodically())
        if self.ocpp.port is not None:
            logger.info(
                "OCPP server listening on ws://%s:%d/<charge_point_id> (ocpp1.6, ocpp2.0.1)",
                settings.ocpp_server_host,
                self.ocpp.port,
            )
        if self.ocpp.tls_port is not None:
            logger.info(
                "OCPP server listening on wss://%s:%d/<charge_point_id> (security profiles 2, 3)",
                settings.ocpp_server_host,
                self.ocpp.tls_port,
            )
        logger.info(
            "REST API on http://%s:%d (docs at /docs)", settings.fastapi_host, self.rest_port
        )
        logger.info(
            "MCP server on http://%s:%d%s", settings.mcp_server_host, self.mcp_port, MCP_PATH
        )
        if self.settings.anthropic_api_key is None:
            logger.info("ANTHROPIC_API_KEY is not set: the chat feature is unavailable")
        if self._pacing is not None:
            freeze_startup_heap()
            self._pacing.start()

    def _collection_finished(self, generation: int, seconds: float) -> None:
        self.metrics_observer.gc_paused(generation, seconds)
        if self._pacing is not None:
            self._pacing.collection_finished(generation)

    async def _lead(self) -> None:
        """Start the singletons: the planner, the alarm rules, meter retention."""
        if self.cluster is not None:
            # Whatever was configured through any node is in the database: start from it.
            try:
                await self.site.restore()
            except Exception:
                logger.exception("energy: could not restore the stored site configuration")
        self.coordinator.start()
        await self.alarms.start()
        self.meter_history.start()

    async def _follow(self) -> None:
        await self.coordinator.stop()
        await self.alarms.stop()
        await self.meter_history.stop()

    async def _start_http(self, app: object, host: str, port: int) -> int:
        sock = listening_socket(host, port)
        config = uvicorn.Config(
            app,  # type: ignore[arg-type]
            lifespan="on",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        server = EmbeddedUvicornServer(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError(f"HTTP server on {host}:{port} stopped during start-up")
            await asyncio.sleep(0.01)
        self._http_servers.append((server, task))
        return int(sock.getsockname()[1])

    async def _flush_last_seen_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.settings.last_seen_flush_seconds)
            await self._flush_last_seen("will retry")

    async def _flush_last_seen(self, then: str) -> None:
        """Bounded like any database wait; an outage is logged by the database's health."""
        try:
            await within(
                self.settings.database_timeout_seconds,
                self.services.last_seen.flush(self.uow_factory),
            )
        except DeadlineExceededError as error:
            self.database_health.failed(f"storing last-seen times: {error}")
        except StorageUnavailableError:
            pass  # DatabaseHealth logged the outage once; the times stay buffered
        except Exception:
            logger.exception("could not store last-seen times; %s", then)

    async def _keep_forecast_errors_periodically(self) -> None:
        while True:
            await asyncio.sleep(FORECAST_ERRORS_EVERY_S)
            await self._keep_forecast_errors("will retry")

    async def _keep_forecast_errors(self, then: str) -> None:
        """Bounded like any database wait; the scores stay in memory if it fails."""
        try:
            await within(self.settings.database_timeout_seconds, self.forecast_errors.keep())
        except DeadlineExceededError as error:
            self.database_health.failed(f"storing forecast errors: {error}")
        except StorageUnavailableError:
            pass  # DatabaseHealth logged the outage once
        except Exception:
            logger.exception("energy: could not store the forecast errors; %s", then)

    async def _abandon_start(self) -> None:
        """Release what a failed start already opened, without masking the failure."""
        with contextlib.suppress(Exception):
            await self.stop()

    async def stop(self) -> None:
        """Drain and close station sockets, stop HTTP servers, flush buffered state, close
        the DB; within SHUTDOWN_TIMEOUT_SECONDS (the OCPP drain takes all but a second)."""
        if self._stopped:
            return
        self._stopped = True
        if self.cluster is not None:
            await self.cluster.stop_singletons()  # another node takes the singletons over
        await self.coordinator.stop()
        await self.alarms.stop()
        await self.meter_history.stop()
        await self.webhooks.aclose()
        for task in (self._flush_task, self._forecast_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.ocpp.stop(drain_seconds=self.settings.shutdown_timeout_seconds - 1)
        if self.cluster is not None:
            # After the stations' sockets closed (forwarded calls answered "offline"):
            # give the lease back and leave NATS.
            await self.cluster.stop()
        for server, _task in self._http_servers:
            server.should_exit = True
        await asyncio.gather(*(task for _server, task in self._http_servers))
        self._http_servers.clear()
        if self.chat is not None:
            await self.chat.aclose()
        await self._flush_last_seen("lost at shutdown")
        await self._keep_forecast_errors("the last scores are lost")
        await self.engine.dispose()
        if self._pacing is not None:
            await self._pacing.stop()
        self._collector_pauses.uninstall()

    async def run_until_signalled(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await self.start()
        except Exception as error:
            await self._abandon_start()
            for sig in (signal.SIGINT, signal.SIGTERM):  # or Ctrl-C would be ignored after
                loop.remove_signal_handler(sig)
            raise StartupError(describe_startup_failure(error, self.settings)) from error
        try:
            await stop.wait()
            logger.info("shutting down")
        finally:
            # The stations' part ends within SHUTDOWN_TIMEOUT_SECONDS; HTTP servers, flushes
            # and the engine get a few seconds more before the process gives up on them.
            await asyncio.wait_for(
                self.stop(), self.settings.shutdown_timeout_seconds + STOP_STEPS_AFTER_OCPP
            )
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        logger.info("stopped")
