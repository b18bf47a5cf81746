"""A load-generator process: simulated stations over raw OCPP-J frames on one event loop.

The parent starts several of these (multiprocessing, spawn), so that the generator never
shares a process or an event loop with the server it measures. Every job follows the
same protocol with the parent, two barriers:

    setup (connect, boot, open transactions)   -> barrier "ready"
    run (the measured part)                     -> barrier "done"
    close the sockets, send the WorkerResult on the queue

Between the barriers the parent reads the server's CPU and memory, or kills a node.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import signal
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from benchmarks.ocpp_load import client, frames
from benchmarks.ocpp_load.limits import die_with_parent, raise_open_files_limit
from benchmarks.ocpp_load.outcomes import Failure, classify
from benchmarks.ocpp_load.retry import RetryPolicy

Payload = frames.Payload


@dataclass(frozen=True, slots=True)
class Job:
    part: str  # "closed", "long", "storm", "steady" or "failover"
    urls: tuple[str, ...]  # station i connects to urls[i % len(urls)]
    protocol: str
    prefix: str  # station ids are prefix + index
    first: int  # global index of this worker's first station
    count: int
    total: int  # stations over all workers (spreads the steady schedule)
    kind: str = ""  # closed loop: heartbeat, meter_values, status, session16, session201
    id_tags: tuple[str, ...] = ()  # station i uses id_tags[i % len]
    warmup: float = 0.0
    duration: float = 0.0
    meter_values_per_session: int = 10
    seq_points: tuple[int, ...] = ()  # long session: where TransactionEvent cost is read
    seq_window: int = 10  # ... over seqNo point .. point + window - 1
    heartbeat_interval: float = 30.0
    meter_interval: float = 60.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    connect_concurrency: int = 0  # handshakes in flight at once; 0 = all at once (storm)
    deadline: float = 120.0  # seconds a connect phase or a storm may take
    failover_url: str = ""  # failover: where the killed node's stations reconnect
    run_limit: float = 0.0  # long session: seconds it may run (0: until the last seqNo)
    sync_timeout: float = 900.0
    deflate: bool = False
    seed: int = 0


@dataclass(slots=True)
class WorkerResult:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    calls: int = 0  # answers to calls sent within the measured window
    errors: Counter[str] = field(default_factory=Counter)
    server_calls: Counter[str] = field(default_factory=Counter)  # CALLs the server sent us
    by_seq: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    connect_started: float | None = None  # monotonic clock (system-wide on Linux)
    setup_booted_at: list[float] = field(default_factory=list)
    booted_at: list[float] = field(default_factory=list)  # boots during the run phase
    refusals: Counter[str] = field(default_factory=Counter)
    silent: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    # The same three for the setup's connections (before the "ready" barrier).
    setup_refusals: Counter[str] = field(default_factory=Counter)
    setup_silent: Counter[str] = field(default_factory=Counter)
    setup_attempts: int = 0
    unbooted: int = 0
    lag: list[float] = field(default_factory=list)  # steady: how late calls left
    reached_seq: list[int] = field(default_factory=list)  # long session: last seqNo sent
    cpu_seconds: float = 0.0  # this process's CPU time between the barriers
    run_seconds: float = 0.0  # wall time between the barriers
    failure: str | None = None

    def portable(self) -> WorkerResult:
        """Plain dicts instead of defaultdicts (whose factories do not pickle)."""
        self.latencies = dict(self.latencies)
        self.by_seq = dict(self.by_seq)
        return self


class CallRejectedError(Exception):
    """The server answered a CALL with a CALLERROR."""

    def __init__(self, action: str, code: str) -> None:
        super().__init__(f"{action}: CALLERROR {code}")
        self.code = code


class Link:
    """One station's socket: its CALLs out and their answers in.

    CALLs from the server (the CSMS may ask a station something after boot) are answered
    at once with a generic Accepted and counted, so they never block the station.
    """

    def __init__(self, ws: client.Connection, result: WorkerResult, reply_timeout: float) -> None:
        self.ws = ws
        self._result = result
        self._reply_timeout = reply_timeout
        self._ids = itertools.count(1)
        self.window: tuple[float, float] | None = None  # calls sent inside it are measured

    async def call(self, action: str, payload: Payload, count_error: bool = True) -> Payload:
        """Send a CALL, return its CALLRESULT payload; a CALLERROR raises (and is counted,
        unless the caller classifies it itself)."""
        message_id = str(next(self._ids))
        started = time.monotonic()
        await self.ws.send(json.dumps([2, message_id, action, payload], separators=(",", ":")))
        async with asyncio.timeout(self._reply_timeout):  # no task per call, unlike wait_for
            frame = await self._answer(message_id)
        elapsed = time.monotonic() - started
        if frame[0] == 4:
            if count_error:
                self._result.errors[f"{action}: CALLERROR {frame[2]}"] += 1
            raise CallRejectedError(action, str(frame[2]))
        if self.measured(started):
            self._result.latencies[action].append(elapsed)
            self._result.calls += 1
        answer: Payload = frame[2]
        return answer

    def measured(self, started: float) -> bool:
        """Whether a call sent at `started` falls inside the measured window."""
        return self.window is not None and self.window[0] <= started < self.window[1]

    async def _answer(self, message_id: str) -> list[Any]:
        while True:
            frame = json.loads(await self.ws.recv())
            if frame[0] == 2:
                self._result.server_calls[frame[2]] += 1
                await self.ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
            elif frame[1] == message_id:
                return list(frame)


@dataclass(slots=True)
class Station:
    """What a simulated station remembers between its messages."""

    index: int
    id: str
    link: Link
    id_tag: str
    clock: frames.StationClock = field(default_factory=frames.StationClock)
    meter_wh: int = 0
    sessions: int = 0
    transaction_id: int | None = None

    def tick_meter(self) -> int:
        self.meter_wh += frames.ENERGY_STEP_WH
        return self.meter_wh


async def open_station(
    url: str,
    station_id: str,
    job: Job,
    result: WorkerResult,
    rng: random.Random,
    deadline: float,
) -> Link | None:
    """Connect and boot like a charger: retry until Accepted or the deadline passes.

    A refusal that names a wait (HTTP 503 Retry-After, a BootNotification Pending or
    Rejected with its interval) is honoured; anything else backs off (RetryPolicy).
    """
    policy = job.policy
    failures = 0
    while time.monotonic() < deadline:
        result.attempts += 1
        failure: Failure
        ws: client.Connection | None = None
        try:
            ws = await client.connect(
                f"{url}/{station_id}", job.protocol, policy.open_timeout, job.deflate
            )
        except Exception as error:  # every way a handshake fails is counted by its kind
            failure = classify(error, "handshake")
        else:
            link = Link(ws, result, policy.reply_timeout)
            try:
                answer = await link.call(
                    "BootNotification", frames.boot(job.protocol), count_error=False
                )
            except CallRejectedError as error:
                failure = Failure(explicit=True, label=f"boot CALLERROR {error.code}")
            except Exception as error:
                failure = classify(error, "boot reply")
            else:
                if answer.get("status") == "Accepted":
                    return link
                interval = float(answer.get("interval") or 0) or None
                failure = Failure(True, f"boot {answer.get('status')}", retry_after=interval)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2)
        failures += 1
        (result.refusals if failure.explicit else result.silent)[failure.label] += 1
        wait = policy.delay(failures, failure.retry_after, rng)
        await asyncio.sleep(max(0.0, min(wait, deadline - time.monotonic())))
    return None


# --- closed loop: each connection sends its next call as soon as the last is answered ---


async def _heartbeats(station: Station, until: float) -> None:
    while time.monotonic() < until:
        await station.link.call("Heartbeat", {})


async def _statuses(station: Station, until: float) -> None:
    for status in itertools.cycle(frames.STATUS_CYCLE_16):
        if time.monotonic() >= until:
            return
        await station.link.call("StatusNotification", frames.status16(status, station.clock.tick()))


async def _open_transaction(station: Station) -> None:
    """Setup of the meter_values kind (not measured): the samples belong to a session."""
    started = await station.link.call(
        "StartTransaction",
        frames.start16(station.id_tag, station.meter_wh, station.clock.tick()),
    )
    station.transaction_id = started.get("transactionId")


async def _meter_values(station: Station, until: float) -> None:
    link, clock = station.link, station.clock
    while time.monotonic() < until:
        await link.call(
            "MeterValues",
            frames.meter_values16(station.transaction_id, station.tick_meter(), clock.tick()),
        )


async def _session16(station: Station, until: float, values: int) -> None:
    link, clock, tag = station.link, station.clock, station.id_tag
    while time.monotonic() < until:
        await link.call("BootNotification", frames.boot16())
        await link.call("StatusNotification", frames.status16("Preparing", clock.tick()))
        await link.call("Authorize", frames.authorize16(tag))
        started = await link.call(
            "StartTransaction", frames.start16(tag, station.meter_wh, clock.tick())
        )
        transaction_id = int(started.get("transactionId", 0))
        for _ in range(values):
            await link.call(
                "MeterValues",
                frames.meter_values16(transaction_id, station.tick_meter(), clock.tick()),
            )
        await link.call(
            "StopTransaction", frames.stop16(transaction_id, tag, station.meter_wh, clock.tick())
        )


async def _session201(station: Station, until: float, values: int) -> None:
    link, clock, tag = station.link, station.clock, station.id_tag
    while time.monotonic() < until:
        station.sessions += 1
        transaction = f"{station.id}-{station.sessions}"
        await link.call("BootNotification", frames.boot201())
        await link.call("StatusNotification", frames.status201("Occupied", clock.tick()))
        await link.call("Authorize", frames.authorize201(tag))
        for seq_no, event in enumerate(["Started"] + ["Updated"] * values + ["Ended"]):
            await link.call(
                "TransactionEvent",
                frames.transaction_event201(
                    event, transaction, seq_no, station.tick_meter(), clock.tick(), tag
                ),
            )


KINDS: dict[str, str] = {  # closed-loop kind -> the protocol its stations speak
    "heartbeat": frames.OCPP16,
    "meter_values": frames.OCPP16,
    "status": frames.OCPP16,
    "session16": frames.OCPP16,
    "session201": frames.OCPP201,
}


def _closed_loop(job: Job) -> Callable[[Station, float], Awaitable[None]]:
    values = job.meter_values_per_session
    scripts: dict[str, Callable[[Station, float], Awaitable[None]]] = {
        "heartbeat": _heartbeats,
        "status": _statuses,
        "meter_values": _meter_values,
        "session16": lambda station, until: _session16(station, until, values),
        "session201": lambda station, until: _session201(station, until, values),
    }
    return scripts[job.kind]


async def _run_until(station: Station, result: WorkerResult, script: Awaitable[None]) -> None:
    """One connection's loop; a CALLERROR is counted and the loop goes on, a dead
    connection or an unanswered call ends it (counted)."""
    try:
        await script
    except CallRejectedError:
        pass  # counted by Link.call
    except TimeoutError:
        result.errors["no answer within the reply timeout"] += 1
    except ConnectionClosed as error:
        code = error.rcvd.code if error.rcvd else "none"
        result.errors[f"connection closed (code {code})"] += 1


async def _closed_loop_station(
    station: Station, job: Job, result: WorkerResult, until: float
) -> None:
    script = _closed_loop(job)
    while time.monotonic() < until:
        before = sum(result.errors.values())
        await _run_until(station, result, script(station, until))
        if sum(result.errors.values()) == before or station.link.ws.state is not State.OPEN:
            return  # finished, or the connection is gone: nothing more to measure here


# --- long session: the cost of a TransactionEvent as the session grows ----------------


async def _long_session(station: Station, job: Job, result: WorkerResult) -> None:
    link, clock = station.link, station.clock
    transaction = f"{station.id}-long"
    last = max(job.seq_points) + job.seq_window - 1
    measured = {p + k for p in job.seq_points for k in range(job.seq_window)}
    await link.call(
        "TransactionEvent",
        frames.transaction_event201("Started", transaction, 0, 0, clock.tick(), station.id_tag),
    )
    stop_at = time.monotonic() + job.run_limit if job.run_limit else float("inf")
    sent = 0
    for seq_no in range(1, last + 1):
        if time.monotonic() >= stop_at:
            break
        payload = frames.transaction_event201(
            "Updated", transaction, seq_no, station.tick_meter(), clock.tick(), station.id_tag
        )
        started = time.monotonic()
        await link.call("TransactionEvent", payload)
        sent = seq_no
        if seq_no in measured:
            point = max(p for p in job.seq_points if p <= seq_no)
            result.by_seq[point].append(time.monotonic() - started)
    result.reached_seq.append(sent)
    await link.call(
        "TransactionEvent",
        frames.transaction_event201(
            "Ended", transaction, sent + 1, station.meter_wh, clock.tick(), station.id_tag
        ),
    )


# --- steady: 10,000 stations, heartbeats and meter values on a schedule ----------------


async def _steady_station(station: Station, job: Job, result: WorkerResult, start: float) -> None:
    """Heartbeat every heartbeat_interval, MeterValues every meter_interval, phases spread
    evenly over all stations so that the load is flat (open loop: late answers do not
    slow the schedule down, they show as latency and lag)."""
    share = station.index / job.total
    next_heartbeat = start + share * job.heartbeat_interval
    next_meter = start + ((station.index + 0.5) / job.total) * job.meter_interval
    end = start + job.duration
    link = station.link
    link.window = (start, end)
    while True:
        due = min(next_heartbeat, next_meter)
        if due >= end:
            return
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        result.lag.append(time.monotonic() - due)
        if due == next_heartbeat:
            next_heartbeat += job.heartbeat_interval
            await link.call("Heartbeat", {})
        else:
            next_meter += job.meter_interval
            await link.call(
                "MeterValues",
                frames.meter_values16(None, station.tick_meter(), station.clock.tick()),
            )


# --- the process ---------------------------------------------------------------------


async def _connect_all(
    job: Job, result: WorkerResult, rng: random.Random, indices: range, deadline: float
) -> dict[int, Link]:
    limit = asyncio.Semaphore(job.connect_concurrency or len(indices) or 1)
    links: dict[int, Link] = {}

    async def one(index: int) -> None:
        async with limit:
            url = job.urls[index % len(job.urls)]
            link = await open_station(url, f"{job.prefix}{index:05d}", job, result, rng, deadline)
        if link is None:
            result.unbooted += 1
        else:
            links[index] = link
            result.setup_booted_at.append(time.monotonic())

    await asyncio.gather(*(one(index) for index in indices))
    return links


def _station(job: Job, index: int, link: Link) -> Station:
    tag = job.id_tags[index % len(job.id_tags)] if job.id_tags else f"TAG{index}"
    return Station(index=index, id=f"{job.prefix}{index:05d}", link=link, id_tag=tag)


async def _gather_counted(result: WorkerResult, coroutines: list[Awaitable[None]]) -> None:
    for outcome in await asyncio.gather(*coroutines, return_exceptions=True):
        if isinstance(outcome, BaseException):
            result.errors[_describe(outcome)] += 1


def _describe(error: BaseException) -> str:
    if isinstance(error, ConnectionClosed):
        return f"connection closed (code {error.rcvd.code if error.rcvd else 'none'})"
    if isinstance(error, TimeoutError):
        return "no answer within the reply timeout"
    if isinstance(error, CallRejectedError):
        return str(error)
    return type(error).__name__


async def _storm(job: Job, result: WorkerResult, rng: random.Random) -> list[Link]:
    """Every station at once, each retrying on its own until booted."""
    deadline = time.monotonic() + job.deadline
    links: list[Link] = []

    async def one(index: int) -> None:
        url = job.urls[index % len(job.urls)]
        link = await open_station(url, f"{job.prefix}{index:05d}", job, result, rng, deadline)
        if link is None:
            result.unbooted += 1
        else:
            result.booted_at.append(time.monotonic())
            links.append(link)

    await asyncio.gather(*(one(i) for i in range(job.first, job.first + job.count)))
    return links


async def _failover(
    job: Job, result: WorkerResult, rng: random.Random, links: dict[int, Link]
) -> list[Link]:
    """Stations whose socket closes (their node was killed) reconnect to failover_url."""
    deadline = time.monotonic() + job.deadline
    moved: list[Link] = []

    async def one(index: int, link: Link) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(link.ws.wait_closed(), job.deadline)
        if time.monotonic() >= deadline:
            return
        sid = f"{job.prefix}{index:05d}"
        new = await open_station(job.failover_url, sid, job, result, rng, deadline)
        if new is None:
            result.unbooted += 1
        else:
            result.booted_at.append(time.monotonic())
            moved.append(new)

    victims = [
        (i, link) for i, link in links.items() if job.urls[i % len(job.urls)] != job.failover_url
    ]
    await asyncio.gather(*(one(i, link) for i, link in victims))
    return moved


async def _sync(barrier: Barrier, job: Job) -> None:
    await asyncio.to_thread(barrier.wait, job.sync_timeout)


async def _work(job: Job, barrier: Barrier, result: WorkerResult) -> None:
    rng = random.Random(job.seed * 1_000_003 + job.first)
    indices = range(job.first, job.first + job.count)
    links: dict[int, Link] = {}
    stations: list[Station] = []
    extra: list[Link] = []
    try:
        if job.part != "storm":
            result.connect_started = time.monotonic()
            links = await _connect_all(job, result, rng, indices, time.monotonic() + job.deadline)
        stations = [_station(job, index, link) for index, link in sorted(links.items())]
        if job.part == "closed" and job.kind == "meter_values":
            await asyncio.gather(*(_open_transaction(station) for station in stations))
    except Exception:
        result.failure = traceback.format_exc(limit=3)
    result.setup_refusals, result.refusals = result.refusals, Counter()
    result.setup_silent, result.silent = result.silent, Counter()
    result.setup_attempts, result.attempts = result.attempts, 0
    await _sync(barrier, job)  # ready
    start = time.monotonic()
    cpu_start = time.process_time()
    try:
        if result.failure is not None:
            pass
        elif job.part == "closed":
            window = (start + job.warmup, start + job.warmup + job.duration)
            for station in stations:
                station.link.window = window
            await _gather_counted(
                result, [_closed_loop_station(s, job, result, window[1]) for s in stations]
            )
        elif job.part == "long":
            await _gather_counted(result, [_long_session(s, job, result) for s in stations])
        elif job.part == "steady":
            await _gather_counted(
                result, [_steady_station(s, job, result, start) for s in stations]
            )
        elif job.part == "storm":
            extra = await _storm(job, result, rng)
        elif job.part == "failover":
            extra = await _failover(job, result, rng, links)
    except Exception:
        result.failure = traceback.format_exc(limit=3)
    result.cpu_seconds = time.process_time() - cpu_start
    result.run_seconds = time.monotonic() - start
    await _sync(barrier, job)  # done
    for link in [*links.values(), *extra]:
        link.ws.abort()  # no close handshakes: the next part starts a new server


def main(job: Job, barrier: Barrier, results: Queue[WorkerResult]) -> None:
    """Process entry point (multiprocessing target)."""
    die_with_parent(signal.SIGKILL)
    raise_open_files_limit()
    result = WorkerResult()
    try:
        asyncio.run(_work(job, barrier, result))
    except BaseException:  # the parent must hear from every worker, whatever happened
        result.failure = traceback.format_exc(limit=5)
    results.put(result.portable())
