"""The parts of the OCPP ingestion benchmark and the tables they print.

Every part measures the CSMS and the echo baseline in the same run, each server in a
process of its own and the load generator in others (worker.py).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from benchmarks.ocpp_load import stats, targets, worker
from benchmarks.ocpp_load.limits import CpuReading, cpu_reading, rss_kib
from benchmarks.ocpp_load.retry import RetryPolicy
from benchmarks.ocpp_load.targets import Server
from benchmarks.ocpp_load.worker import Job, WorkerResult
from ev_charging_system.data.secret_box import new_key

CLOSED_KINDS = ("heartbeat", "meter_values", "status", "session16", "session201")
PARTS = (*CLOSED_KINDS, "long_session", "storm", "steady", "cluster")
SPAWN = multiprocessing.get_context("spawn")


def closed_label(kind: str, values: int) -> str:
    return {
        "heartbeat": "Heartbeat",
        "meter_values": "MeterValues (2 sampled values, in a transaction)",
        "status": "StatusNotification",
        "session16": f"1.6 session: Boot, Status, Authorize, Start, MeterValues x{values}, Stop",
        "session201": f"2.0.1 session: Boot, Status, Authorize, TransactionEvent Started, "
        f"Updated x{values}, Ended",
    }[kind]


@dataclass(frozen=True, slots=True)
class Options:
    parts: tuple[str, ...]
    connections: int = 50
    workers: int = 2
    warmup: float = 2.0
    duration: float = 10.0
    meter_values_per_session: int = 10
    long_connections: int = 2
    long_limit: float = 150.0  # seconds a long session may run before it is cut short
    seq_points: tuple[int, ...] = (1, 100, 1000)
    seq_window: int = 10
    storm_stations: int = 2000
    storm_workers: int = 4
    storm_deadline: float = 90.0
    steady_stations: int = 10_000
    steady_workers: int = 4
    steady_duration: float = 60.0
    heartbeat_interval: float = 30.0
    meter_interval: float = 60.0
    connect_concurrency: int = 100  # per worker, when connecting the steady fleet
    connect_deadline: float = 240.0
    cluster_kinds: tuple[str, ...] = ("heartbeat", "meter_values")
    failover_stations: int = 2000
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    deflate: bool = False
    postgres_admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    database_name: str = ""  # "": bench_ocpp_<run id>
    nats_url: str = "nats://127.0.0.1:4222"
    csms_env: tuple[tuple[str, str], ...] = ()
    seed: int = 1


QUICK = {
    "connections": 10,
    "warmup": 1.0,
    "duration": 3.0,
    "meter_values_per_session": 3,
    "long_connections": 3,
    "seq_points": (1, 20, 100),
    "seq_window": 5,
    "storm_stations": 200,
    "storm_deadline": 60.0,
    "steady_stations": 300,
    "steady_duration": 10.0,
    "heartbeat_interval": 5.0,
    "meter_interval": 10.0,
    "cluster_kinds": ("heartbeat",),
    "failover_stations": 200,
}


def progress(message: str) -> None:
    """Progress goes to stderr: stdout is the report."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def split(count: int, workers: int) -> list[tuple[int, int]]:
    """(first index, count) per worker, as even as possible; no empty worker."""
    workers = max(1, min(workers, count))
    base, extra = divmod(count, workers)
    shares, first = [], 0
    for number in range(workers):
        size = base + (1 if number < extra else 0)
        shares.append((first, size))
        first += size
    return shares


def merge(results: Sequence[WorkerResult]) -> WorkerResult:
    merged = WorkerResult()
    for result in results:
        for action, values in result.latencies.items():
            merged.latencies[action].extend(values)
        for point, values in result.by_seq.items():
            merged.by_seq[point].extend(values)
        merged.calls += result.calls
        merged.errors.update(result.errors)
        merged.server_calls.update(result.server_calls)
        merged.refusals.update(result.refusals)
        merged.silent.update(result.silent)
        merged.attempts += result.attempts
        merged.setup_attempts += result.setup_attempts
        merged.setup_refusals.update(result.setup_refusals)
        merged.setup_silent.update(result.setup_silent)
        merged.unbooted += result.unbooted
        merged.setup_booted_at.extend(result.setup_booted_at)
        merged.booted_at.extend(result.booted_at)
        merged.lag.extend(result.lag)
        merged.reached_seq.extend(result.reached_seq)
        merged.cpu_seconds += result.cpu_seconds
        merged.run_seconds = max(merged.run_seconds, result.run_seconds)
        if result.connect_started is not None:
            merged.connect_started = min(
                result.connect_started, merged.connect_started or result.connect_started
            )
        if result.failure and not merged.failure:
            merged.failure = result.failure
    return merged


def run_jobs(jobs: Sequence[Job], between: Callable[[], None] = lambda: None) -> WorkerResult:
    """Start one process per job, wait for all to be ready, call `between` (measure,
    kill a node), wait for all to be done; the merged result of all workers."""
    barrier = SPAWN.Barrier(len(jobs) + 1)
    results: multiprocessing.Queue[WorkerResult] = SPAWN.Queue()
    processes = [
        SPAWN.Process(target=worker.main, args=(job, barrier, results), daemon=True) for job in jobs
    ]
    for process in processes:
        process.start()
    timeout = max(job.sync_timeout for job in jobs)
    collected: list[WorkerResult] = []
    try:
        barrier.wait(timeout)
        between()
        barrier.wait(timeout)
        for _ in processes:
            collected.append(results.get(timeout=120))
        cpu = sum(r.cpu_seconds for r in collected)
        wall = max(r.run_seconds for r in collected)
        progress(f"  load generator: {len(jobs)} processes, {100 * cpu / max(wall, 1e-9):.0f}% CPU")
    except (threading.BrokenBarrierError, queue.Empty) as error:
        barrier.abort()
        for _ in range(len(processes) - len(collected)):
            with contextlib.suppress(queue.Empty):
                collected.append(results.get(timeout=10))
        failed = WorkerResult(failure=f"load generator out of step ({type(error).__name__})")
        collected.append(failed)
    finally:
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.kill()
    return merge(collected)


@dataclass(slots=True)
class Context:
    """What the parts share: options, logs, the database, a run id for station ids."""

    options: Options
    log_dir: Path
    database_url: str
    run_id: str
    sections: list[str] = field(default_factory=list)
    echo_closed: dict[str, ClosedRow] = field(default_factory=dict)
    id_tags: tuple[str, ...] = ()

    def job(self, **fields: object) -> Job:
        o = self.options
        base = Job(
            part="",
            urls=(),
            protocol="",
            prefix="",
            first=0,
            count=0,
            total=0,
            policy=o.policy,
            deflate=o.deflate,
            seed=o.seed,
            id_tags=self.id_tags,
        )
        return replace(base, **fields)  # type: ignore[arg-type]

    def csms(self, name: str, extra: dict[str, str] | None = None) -> Server:
        progress(f"starting the CSMS ({name})")
        env = dict(self.options.csms_env)
        env.update(extra or {})
        server = targets.start_csms(name, self.database_url, self.log_dir, env)
        if not self.id_tags:
            count = max(self.options.connections, self.options.long_connections)
            tags = [f"BENCH-{number}" for number in range(count)]
            targets.create_id_tags(server, tags)
            self.id_tags = tuple(tags)
        return server

    def publish(self, section: str) -> None:
        self.sections.append(section)
        print(f"\n{section}\n", flush=True)


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        server.stop()


def cpu_of(servers: Sequence[Server]) -> list[CpuReading]:
    now = time.monotonic()
    return [cpu_reading(server.pid, now) for server in servers]


def cpu_percent(before: list[CpuReading], after: list[CpuReading]) -> float:
    return sum(b.percent_until(a) for b, a in zip(before, after, strict=True))


def failure_note(result: WorkerResult) -> str:
    if not result.failure:
        return ""
    last = result.failure.strip().splitlines()[-1]
    return f"\n\nA load-generator process failed: `{last}`"


# --- closed loop -----------------------------------------------------------------------


@dataclass(slots=True)
class ClosedRow:
    server: str
    rate: float
    summary: stats.Summary | None
    cpu: float
    errors: Counter[str]
    failure: str | None
    server_calls: Counter[str] = field(default_factory=Counter)


def closed_loop(ctx: Context, kind: str, servers: Sequence[Server], label: str) -> ClosedRow:
    """`connections` stations, each sending its next message when the last is answered.

    Against several servers the stations alternate between them (as a balancer would
    spread them)."""
    o = ctx.options
    code = {"heartbeat": "HB", "meter_values": "MV", "status": "ST"}.get(kind, kind[-3:])
    jobs = [
        ctx.job(
            part="closed",
            kind=kind,
            urls=tuple(server.ocpp_url for server in servers),
            protocol=worker.KINDS[kind],
            prefix=f"{code}{ctx.run_id}{label[:1]}{len(servers)}-",
            first=first,
            count=count,
            total=o.connections,
            warmup=o.warmup,
            duration=o.duration,
            meter_values_per_session=o.meter_values_per_session,
            connect_concurrency=50,
            deadline=60.0,
            sync_timeout=120.0 + o.warmup + o.duration,
        )
        for first, count in split(o.connections, o.workers)
    ]
    cpu: list[float] = []

    def measure() -> None:
        time.sleep(o.warmup)
        before = cpu_of(servers)
        time.sleep(o.duration)
        cpu.append(cpu_percent(before, cpu_of(servers)))

    progress(f"{kind}: {o.connections} connections on {label}")
    result = run_jobs(jobs, measure)
    every = [value for values in result.latencies.values() for value in values]
    return ClosedRow(
        server=label,
        rate=result.calls / o.duration,
        summary=stats.Summary.of(every),
        cpu=cpu[0] if cpu else 0.0,
        errors=result.errors,
        failure=result.failure,
        server_calls=result.server_calls,
    )


CLOSED_HEADERS = (
    "message kind",
    "server",
    "msg/s",
    "% of echo",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "server CPU %",
    "errors",
)


def closed_cells(kind: str, row: ClosedRow, echo: ClosedRow | None, values: int) -> list[str]:
    summary = row.summary
    rate = stats.rate(row.rate)
    if kind.startswith("session"):  # Boot, Status, Authorize, start, N values, end
        rate += f" ({row.rate / (values + 5):,.1f} sessions/s)"
    return [
        closed_label(kind, values) if row.server == "echo" or echo is None else "",
        row.server,
        rate,
        "100%" if row.server == "echo" else stats.share(row.rate, echo.rate if echo else None),
        stats.ms(summary.p50 if summary else None),
        stats.ms(summary.p95 if summary else None),
        stats.ms(summary.p99 if summary else None),
        f"{row.cpu:.0f}",
        stats.counts(row.errors) + (" (load generator failed)" if row.failure else ""),
    ]


def closed_loop_part(ctx: Context, kinds: Sequence[str], echo: Server, csms: Server) -> None:
    o = ctx.options
    rows: list[list[str]] = []
    asked: Counter[str] = Counter()
    for kind in kinds:
        echo_row = closed_loop(ctx, kind, [echo], "echo")
        ctx.echo_closed[kind] = echo_row
        csms_row = closed_loop(ctx, kind, [csms], "CSMS")
        asked.update(csms_row.server_calls)
        rows.append(closed_cells(kind, echo_row, None, o.meter_values_per_session))
        rows.append(closed_cells(kind, csms_row, echo_row, o.meter_values_per_session))
        if not csms.alive():
            raise RuntimeError(f"the CSMS died during {kind}:\n{csms.log_tail()}")
    ctx.publish(
        f"### Closed loop: {o.connections} connections, each sends its next message when "
        f"the last is answered ({o.duration:g} s measured after {o.warmup:g} s warm-up)\n\n"
        + stats.table(CLOSED_HEADERS, rows, numeric_from=2)
        + "\n\nServer CPU %: the server process over the measured seconds (100 = one core)."
        + (
            f" Calls the CSMS made to stations (answered Accepted): {stats.counts(asked)}."
            if asked
            else ""
        )
    )


# --- long session ------------------------------------------------------------------------


def long_session(
    ctx: Context, server: Server
) -> tuple[dict[int, stats.Summary | None], Counter[str]]:
    o = ctx.options
    jobs = [
        ctx.job(
            part="long",
            urls=(server.ocpp_url,),
            protocol=worker.KINDS["session201"],
            prefix=f"LS{ctx.run_id}{server.name[:1]}-",
            first=first,
            count=count,
            total=o.long_connections,
            seq_points=o.seq_points,
            seq_window=o.seq_window,
            run_limit=o.long_limit,
            connect_concurrency=50,
            deadline=60.0,
            sync_timeout=o.long_limit + 300,
        )
        for first, count in split(o.long_connections, min(o.workers, o.long_connections))
    ]
    progress(
        f"long session: {o.long_connections} sessions to seqNo "
        f"{max(o.seq_points) + o.seq_window} on {server.name}"
    )
    result = run_jobs(jobs)
    if result.failure:
        raise RuntimeError(f"long session on {server.name}: {result.failure}")
    summaries = {point: stats.Summary.of(result.by_seq.get(point, [])) for point in o.seq_points}
    last = max(o.seq_points) + o.seq_window - 1
    short = [seq for seq in result.reached_seq if seq < last]
    if short:
        result.errors[f"cut short by --long-limit {o.long_limit:g} s at seqNo"] = min(short)
    return summaries, result.errors


def long_session_part(ctx: Context, echo: Server, csms: Server) -> None:
    o = ctx.options
    on_echo, echo_errors = long_session(ctx, echo)
    on_csms, csms_errors = long_session(ctx, csms)
    rows = []
    for point in o.seq_points:
        c, e = on_csms[point], on_echo[point]
        rows.append(
            [
                f"{point} .. {point + o.seq_window - 1}",
                stats.ms(c.p50 if c else None),
                stats.ms(c.p95 if c else None),
                stats.ms(c.p99 if c else None),
                stats.ms(e.p50 if e else None),
            ]
        )
    first, last = on_csms[o.seq_points[0]], on_csms[o.seq_points[-1]]
    growth = stats.ratio(last.p50 if last else None, first.p50 if first else None)
    ctx.publish(
        f"### Long session: cost of a TransactionEvent Updated (energy and power) as the "
        f"session grows ({o.long_connections} sessions at once, closed loop, "
        f"{o.long_connections * o.seq_window} samples per row)\n\n"
        + stats.table(("seqNo", "CSMS p50 ms", "CSMS p95 ms", "CSMS p99 ms", "echo p50 ms"), rows)
        + f"\n\np50 at seqNo {o.seq_points[-1]} vs {o.seq_points[0]}: **{growth}**. "
        f"Errors: CSMS {stats.counts(csms_errors)}, echo {stats.counts(echo_errors)} "
        "(a session that meets one ends there)."
    )


# --- reconnect storm ---------------------------------------------------------------------


@dataclass(slots=True)
class StormRow:
    label: str
    stations: int
    all_after: float | None
    half_after: float | None
    result: WorkerResult


def storm(ctx: Context, label: str, prefix: str, urls: tuple[str, ...]) -> StormRow:
    o = ctx.options
    jobs = [
        ctx.job(
            part="storm",
            urls=urls,
            protocol="ocpp1.6",
            prefix=prefix,
            first=first,
            count=count,
            total=o.storm_stations,
            deadline=o.storm_deadline,
            sync_timeout=o.storm_deadline + 120,
        )
        for first, count in split(o.storm_stations, o.storm_workers)
    ]
    started: list[float] = []
    progress(f"storm: {o.storm_stations} stations at once on {label}")
    result = run_jobs(jobs, lambda: started.append(time.monotonic()))
    return storm_row(label, o.storm_stations, started, result.booted_at, result)


def storm_row(
    label: str, stations: int, started: list[float], booted: list[float], result: WorkerResult
) -> StormRow:
    if not started or not booted:
        return StormRow(label, stations, None, None, result)
    times = sorted(at - started[0] for at in booted)
    all_after = times[-1] if len(times) == stations else None
    half = times[(stations + 1) // 2 - 1] if len(times) >= (stations + 1) // 2 else None
    return StormRow(label, stations, all_after, half, result)


STORM_HEADERS = (
    "server",
    "stations",
    "half booted after s",
    "all booted after s",
    "connection attempts",
    "explicit refusals",
    "failed without a refusal",
)


def storm_cells(row: StormRow, deadline: float) -> list[str]:
    r = row.result
    never = f"not all ({r.unbooted:,} not booted in {deadline:g} s)"
    return [
        row.label,
        f"{row.stations:,}",
        "-" if row.half_after is None else f"{row.half_after:.1f}",
        never if row.all_after is None else f"{row.all_after:.1f}",
        f"{r.attempts:,}",
        stats.counts(r.refusals),
        stats.counts(r.silent),
    ]


def storm_part(ctx: Context, echo: Server) -> None:
    o = ctx.options
    rows = [storm(ctx, "echo (answers BootNotification)", f"SE{ctx.run_id}-", (echo.ocpp_url,))]
    prefix = f"SC{ctx.run_id}-"
    with running(ctx.csms("csms-storm")) as csms:
        rows.append(storm(ctx, "CSMS, stations never seen before", prefix, (csms.ocpp_url,)))
    with running(ctx.csms("csms-restarted")) as csms:
        rows.append(storm(ctx, "CSMS restarted, the same stations", prefix, (csms.ocpp_url,)))
    p = o.policy
    ctx.publish(
        f"### Reconnect storm: {o.storm_stations:,} OCPP 1.6 stations connect at once and "
        "boot, each retrying like a charger until Accepted\n\n"
        + stats.table(STORM_HEADERS, [storm_cells(row, o.storm_deadline) for row in rows])
        + f"\n\nRetry policy: HTTP 503 Retry-After (or a BootNotification interval) honoured; "
        f"otherwise {p.wait_minimum:g} s doubling up to {p.doublings} times; plus 0-"
        f"{p.random_range:g} s at random; handshake timeout {p.open_timeout:g} s, "
        f"BootNotification answer timeout {p.reply_timeout:g} s. Explicit refusals: HTTP "
        "status during the handshake, close code, CALLERROR or a boot not Accepted. Failed "
        "without a refusal: timeouts, resets, sockets closed without a close frame."
    )


# --- 10,000 stations ---------------------------------------------------------------------


@dataclass(slots=True)
class SteadyRow:
    label: str
    result: WorkerResult
    connect_seconds: float | None
    rss_before_kib: int
    rss_connected_kib: int
    rss_end_kib: int
    cpu: float
    connected: int


def steady(ctx: Context, server: Server) -> SteadyRow:
    o = ctx.options
    jobs = [
        ctx.job(
            part="steady",
            urls=(server.ocpp_url,),
            protocol="ocpp1.6",
            prefix=f"ST{ctx.run_id}{server.name[:1]}-",
            first=first,
            count=count,
            total=o.steady_stations,
            duration=o.steady_duration,
            heartbeat_interval=o.heartbeat_interval,
            meter_interval=o.meter_interval,
            connect_concurrency=o.connect_concurrency,
            deadline=o.connect_deadline,
            sync_timeout=o.connect_deadline + o.steady_duration + 180,
        )
        for first, count in split(o.steady_stations, o.steady_workers)
    ]
    rss_before = rss_kib(server.pid)
    readings: dict[str, int] = {}
    cpu: list[float] = []

    def measure() -> None:
        readings["connected"] = rss_kib(server.pid)
        before = cpu_of([server])
        time.sleep(o.steady_duration)
        cpu.append(cpu_percent(before, cpu_of([server])))
        readings["end"] = rss_kib(server.pid)

    progress(f"steady: connecting {o.steady_stations:,} stations to {server.name}")
    result = run_jobs(jobs, measure)
    connected = len(result.setup_booted_at)
    connect_seconds = (
        max(result.setup_booted_at) - result.connect_started
        if result.setup_booted_at and result.connect_started is not None
        else None
    )
    return SteadyRow(
        label=server.name,
        result=result,
        connect_seconds=connect_seconds,
        rss_before_kib=rss_before,
        rss_connected_kib=readings.get("connected", rss_before),
        rss_end_kib=readings.get("end", rss_before),
        cpu=cpu[0] if cpu else 0.0,
        connected=connected,
    )


def steady_part(ctx: Context, echo: Server) -> None:
    o = ctx.options
    rows = [steady(ctx, echo)]
    with running(ctx.csms("csms-steady")) as csms:
        rows.append(steady(ctx, csms))
    latency_rows, resource_rows = [], []
    for row in rows:
        label = "echo" if row.label == "echo" else "CSMS"
        for action in ("Heartbeat", "MeterValues"):
            summary = stats.Summary.of(row.result.latencies.get(action, []))
            latency_rows.append(
                [
                    label,
                    action,
                    f"{summary.count:,}" if summary else "0",
                    stats.ms(summary.p50 if summary else None),
                    stats.ms(summary.p95 if summary else None),
                    stats.ms(summary.p99 if summary else None),
                    stats.ms(summary.max if summary else None),
                ]
            )
        grown = row.rss_connected_kib - row.rss_before_kib
        lag = stats.Summary.of(row.result.lag)
        resource_rows.append(
            [
                label,
                f"{row.connected:,} of {o.steady_stations:,}",
                "-" if row.connect_seconds is None else f"{row.connect_seconds:.1f}",
                f"{row.rss_before_kib / 1024:,.0f}",
                f"{row.rss_connected_kib / 1024:,.0f}",
                f"{grown / row.connected:.1f}" if row.connected else "-",
                f"{row.rss_end_kib / 1024:,.0f}",
                f"{row.cpu:.0f}",
                stats.ms(lag.p99 if lag else None),
                stats.counts(row.result.setup_refusals),
                stats.counts(row.result.setup_silent),
                stats.counts(row.result.errors),
            ]
        )
    rate = o.steady_stations * (1 / o.heartbeat_interval + 1 / o.meter_interval)
    ctx.publish(
        f"### {o.steady_stations:,} stations: Heartbeat every {o.heartbeat_interval:g} s, "
        f"MeterValues (2 sampled values) every {o.meter_interval:g} s, spread evenly "
        f"(about {rate:,.0f} msg/s), {o.steady_duration:g} s measured\n\n"
        + stats.table(
            ("server", "message", "answered", "p50 ms", "p95 ms", "p99 ms", "max ms"),
            latency_rows,
            numeric_from=2,
        )
        + "\n\n"
        + stats.table(
            (
                "server",
                "stations connected",
                "connect + boot s",
                "RSS before MiB",
                "RSS connected MiB",
                "KiB per connection",
                "RSS at end MiB",
                "CPU % (measured s)",
                "send lag p99 ms",
                "connect: refusals",
                "connect: failed without refusal",
                "errors",
            ),
            resource_rows,
        )
        + f"\n\nStations connect {o.connect_concurrency} handshakes at a time per load-"
        f"generator process ({o.steady_workers} processes). KiB per connection: (VmRSS once "
        "all are connected and booted - VmRSS before the first) / stations. Send lag: how "
        "late the generator sent a scheduled message (it kept up if this is small)."
    )


# --- two nodes ---------------------------------------------------------------------------


def cluster_part(ctx: Context, echo: Server) -> None:
    o = ctx.options
    if not targets.nats_reachable(o.nats_url):
        raise RuntimeError(f"NATS is not reachable at {o.nats_url} (--nats)")
    cluster = f"bench{ctx.run_id}"
    secret = new_key()  # the nodes share it (each data dir would make its own)

    def node(name: str) -> Server:
        return ctx.csms(
            name,
            {
                "CLUSTER_NATS_URL": o.nats_url,
                "CLUSTER_NAME": cluster,
                "NODE_ID": name,
                "SECRET_KEY": secret,
            },
        )

    rows: list[list[str]] = []
    with running(node("node-a")) as a:
        one = {kind: closed_loop(ctx, kind, [a], "1 node") for kind in o.cluster_kinds}
        with running(node("node-b")) as b:
            for kind in o.cluster_kinds:
                echo_row = ctx.echo_closed.get(kind) or closed_loop(ctx, kind, [echo], "echo")
                two = closed_loop(ctx, kind, [a, b], "2 nodes")
                rows.append(closed_cells(kind, echo_row, None, o.meter_values_per_session))
                rows.append(closed_cells(kind, one[kind], echo_row, o.meter_values_per_session))
                two_cells = closed_cells(kind, two, echo_row, o.meter_values_per_session)
                two_cells[1] = f"2 nodes ({stats.ratio(two.rate, one[kind].rate)} of 1 node)"
                rows.append(two_cells)
            failover = failover_storm(ctx, a, b)
    ctx.publish(
        f"### Two nodes (NATS, one PostgreSQL) against one, same closed loop "
        f"({o.connections} connections, alternating between the nodes)\n\n"
        + stats.table(CLOSED_HEADERS, rows, numeric_from=2)
        + "\n\nServer CPU %: both nodes together. Both nodes, the load generator and the "
        "echo server share the machine's cores."
    )
    moved = o.failover_stations // 2
    ctx.publish(
        f"### Node failure: {o.failover_stations:,} stations spread over two nodes, node B "
        f"killed (SIGKILL), its {moved:,} stations reconnect to node A\n\n"
        + stats.table(
            (
                "stations moved",
                "half served again after s",
                "all served again after s",
                "connection attempts",
                "explicit refusals",
                "failed without a refusal",
            ),
            [storm_cells(failover, o.storm_deadline)[1:]],
        )
        + "\n\nServed again: reconnected to node A and its BootNotification Accepted; "
        "times from the kill." + failure_note(failover.result)
    )


def failover_storm(ctx: Context, a: Server, b: Server) -> StormRow:
    o = ctx.options
    jobs = [
        ctx.job(
            part="failover",
            urls=(a.ocpp_url, b.ocpp_url),
            protocol="ocpp1.6",
            prefix=f"FO{ctx.run_id}-",
            first=first,
            count=count,
            total=o.failover_stations,
            failover_url=a.ocpp_url,
            connect_concurrency=o.connect_concurrency,
            deadline=o.storm_deadline,
            sync_timeout=o.connect_deadline + o.storm_deadline + 120,
        )
        for first, count in split(o.failover_stations, o.storm_workers)
    ]
    killed: list[float] = []

    def kill_b() -> None:
        killed.append(time.monotonic())
        b.kill()

    progress(f"node failure: {o.failover_stations:,} stations on two nodes, killing node B")
    result = run_jobs(jobs, kill_b)
    moved = sum(1 for index in range(o.failover_stations) if index % 2 == 1)
    return storm_row("node B killed", moved, killed, result.booted_at, result)
